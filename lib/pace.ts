// Pacing: a burst of address and route calls (a thousand in one loop) does
// not hold the event loop for its whole length. Each call's checks run when it
// is made, as always; its hand-off to the addon (packing, the request, its
// promise) runs in the turn it was made only while that turn's synchronous
// request work is under TURN_BUDGET_MS. The rest waits, in order, and goes in
// slices of the same budget from the next turns (setImmediate), with timers
// and I/O running in between. An awaited call, or a few calls at once, never
// waits.
//
// Order is kept: a call made while others for its handle wait queues behind
// them (another handle's calls need not: a burst in one namespace does not
// hold up an awaited call in another), and any
// other request (a link, a rule, close()) first lets everything waiting go
// (the addon calls catchUp() before it makes one: Handle.pace in native.ts).
//
// A turn is counted by the addon (TURNS, from Handle.pace: it changes at every
// check phase), not by a setImmediate per turn, which an awaited loop would
// pay for in every turn. setImmediate (for the held slices) and the clock are
// node:timers' and node:perf_hooks', not the globals: a test's fake timers
// (jest.useFakeTimers, sinon) replace those, and a faked setImmediate that
// never ran would leave the held requests, and every call after them,
// waiting for good.
import { performance } from 'node:perf_hooks';
import * as timers from 'node:timers';

/** Synchronous request work allowed per turn of the event loop, ms. */
const TURN_BUDGET_MS = 2;
/** Calls between two looks at the clock. */
const EVERY = 16;

const immediate = timers.setImmediate;
const now = performance.now.bind(performance);

/** flag[0] is 1 while requests wait: the addon reads it before every other request. */
export const PACE_FLAG = new Int32Array(1);

/** [0]: the event loop's turn, from the addon (countTurns); a turn of its own until then. */
let TURNS: Int32Array = new Int32Array(1);

/** The addon's turn counter (Handle.pace's answer). */
export function countTurns(turns: Int32Array): void {
  TURNS = turns;
}

const waiting: (() => void)[] = [];
let head = 0;
let calls = 0;
/** The turn whose budget is being counted, from turnStart. */
let armedTurn = -1;
let turnStart = 0;
let scheduled = false;
let running = false;

/** How many requests wait, per handle: a handle with none need not queue behind another's. */
const heldFor = new Map<object, number>();

/**
 * True when the caller must hand its request for handle `h` to later() rather
 * than make it now: requests for `h` wait already (they go first), or this
 * turn has spent its budget. Another handle's held burst does not hold it up:
 * the order kept is each handle's (two handles' requests go to two sockets,
 * served in no set order).
 */
export function mustWait(h: object): boolean {
  if (head < waiting.length && heldFor.has(h)) return true;
  if (++calls % EVERY !== 0) return false;
  if (TURNS[0] !== armedTurn) {
    // A burst, maybe: time it from here, until the event loop turns.
    armedTurn = TURNS[0] as number;
    turnStart = now();
    return false;
  }
  return now() - turnStart > TURN_BUDGET_MS;
}

/**
 * Runs start(h, spec) (a request for handle `h`) in a later turn, after
 * everything that waits already; settles as its promise does. The function
 * and its argument, not a closure over them: a caller that made one would
 * allocate its context on every call, held or not.
 */
export function later<H extends object, S, T>(h: H, start: (h: H, spec: S) => Promise<T>, spec: S): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    heldFor.set(h, (heldFor.get(h) ?? 0) + 1);
    waiting.push(() => {
      const n = (heldFor.get(h) as number) - 1;
      if (n === 0) heldFor.delete(h);
      else heldFor.set(h, n);
      try {
        start(h, spec).then(resolve, reject);
      } catch (e) {
        reject(e);
      }
    });
    PACE_FLAG[0] = 1;
    if (!scheduled) {
      scheduled = true;
      immediate(slice);
    }
  });
}

/** Runs waiting requests until the budget is spent; the rest in the next turn. */
function slice(): void {
  scheduled = false;
  const t0 = now();
  run(() => now() - t0 > TURN_BUDGET_MS);
  if (head < waiting.length) {
    scheduled = true;
    immediate(slice);
  }
  // This turn spent its budget on the slice: calls made in it (the settled
  // requests' continuations) are timed from its start.
  armedTurn = TURNS[0] as number;
  turnStart = t0;
}

function run(stop: () => boolean): void {
  // A request made by a job (a multipath route is not an address or route
  // request to the addon) calls catchUp(): it is the one in line already.
  if (running) return;
  running = true;
  let n = 0;
  try {
    while (head < waiting.length) {
      const job = waiting[head] as () => void;
      waiting[head++] = undefined as unknown as () => void;
      job();
      if (++n % EVERY === 0 && stop()) break;
    }
  } finally {
    running = false;
  }
  if (head === waiting.length) {
    waiting.length = 0;
    head = 0;
    PACE_FLAG[0] = 0;
  }
}

/** Makes every waiting request now (the addon calls it before any other request). */
export function catchUp(): void {
  run(() => false);
}
