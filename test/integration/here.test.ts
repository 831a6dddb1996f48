// Address and route requests run on the JS thread when their namespace's
// handle is idle (src/spinner.hpp Spinner::here, nl::Handle::run_here): rtnetlink
// answers them inside sendmsg, so an awaited call costs the kernel's work and
// no hand-off to an I/O thread and back. Checked here:
//   - an awaited call is answered before the event loop turns (a setImmediate
//     queued before it has not run when it settles); NETPLUMB_HERE=0 turns it off;
//   - an awaited loop still lets the event loop turn (after 1 ms of such calls
//     in one turn, counted from its check phase, the next is settled from the
//     next check phase, and lib/pace.ts defers calls after 2 ms of them), and
//     its call made from there runs here again, not on an I/O thread; it
//     makes no setImmediate for that;
//   - a burst (a loop building a Promise.all) runs its first call here; the
//     rest goes to an I/O thread as before (one sendmsg for many);
//   - order: a request staged earlier in the same turn (a link going up) goes
//     to the kernel first, so a route on that link made right after it is
//     not refused as "device not up";
//   - a slow kernel: while another process keeps taking the RTNL lock for
//     tens of milliseconds (a link with 20,000 addresses going down and up,
//     in another namespace), a call that waited over 5 ms turns running here
//     off for 250 ms (longer after several in a row): the next calls go to an
//     I/O thread.
import { createHook } from 'node:async_hooks';
import { spawn, spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { Address, Namespace, Route, VethPair, type Link } from '../../lib';
import { inSandbox, ipj, uniq } from '../helpers/oracle';

if (!inSandbox()) throw new Error('integration tests must run inside `netplumb sandbox` as root');

const NS = uniq('here');
const BUSY = uniq('hbsy');
let ns: Namespace;
let link: Link;
const ipOf = (i: number): string => `10.${80 + (i >> 16)}.${(i >> 8) & 255}.${i & 255}/32`;

beforeAll(async () => {
  ns = await Namespace.create(NS);
  link = (await VethPair.create('hr0', { namespace: ns, peerName: 'hr0p', up: true, peerUp: true })).link;
});

afterAll(async () => {
  await ns?.delete();
  await (await Namespace.open(BUSY).catch(() => undefined))?.delete({ force: true });
});

/**
 * Waits (at most 10 s) until three awaited calls in a row are answered in
 * their turn: the kernel's own work after a link is made (or another test
 * file's namespaces going away) takes the RTNL lock, and a call it kept over
 * 5 ms turns running here off for a while.
 */
async function untilHere(): Promise<void> {
  const t0 = performance.now();
  for (let inARow = 0; inARow < 3 && performance.now() - t0 < 10_000;) {
    let turned = false;
    setImmediate(() => {
      turned = true;
    });
    await Route.add({ to: ipOf(65000), dev: link });
    inARow = turned ? 0 : inARow + 1;
    await Route.delete({ to: ipOf(65000), dev: link });
    await new Promise((r) => setTimeout(r, turned ? 20 : 1));
  }
}

/**
 * Runs `work` while a setImmediate that queues the next counts the event
 * loop's turns. Returns how many turns there were and a quantile of the
 * times between them (ms).
 */
async function watchTurns(work: () => Promise<void>): Promise<{ turns: number; q: (p: number) => number }> {
  const turns: number[] = [];
  let on = true;
  const turn = (): void => {
    turns.push(performance.now());
    if (on) setImmediate(turn);
  };
  setImmediate(turn);
  try {
    await work();
  } finally {
    on = false;
  }
  const gaps = turns
    .slice(1)
    .map((t, i) => t - (turns[i] as number))
    .sort((x, y) => x - y);
  return { turns: turns.length, q: (p: number): number => gaps[Math.floor(p * (gaps.length - 1))] as number };
}

/** How many of `calls` settled before a setImmediate queued just before each ran. */
async function answeredInTurn(calls: (() => Promise<unknown>)[]): Promise<number> {
  let n = 0;
  for (const call of calls) {
    let turned = false;
    setImmediate(() => {
      turned = true;
    });
    await call();
    if (!turned) n++;
    await new Promise((r) => setImmediate(r)); // each call starts a turn of its own
  }
  return n;
}

it('an awaited address or route call is answered before the event loop turns', async () => {
  const N = 20;
  // Each kind after untilHere(), best of up to 5 tries: a call the kernel
  // kept over 5 ms (the previous test files' namespaces going away take the
  // RTNL lock) turns running here off for 250 ms, the rest of its 20 with it.
  const kind = async (f: (i: number) => Promise<unknown>, undo: (i: number) => Promise<unknown>): Promise<number> => {
    let best = 0;
    for (let t = 0; t < 5 && best < N; t++) {
      await untilHere();
      best = Math.max(best, await answeredInTurn(Array.from({ length: N }, (_, i) => () => f(i))));
      if (best < N) await Promise.all(Array.from({ length: N }, (_, i) => undo(i)));
    }
    return best;
  };
  const got = {
    addrAdd: await kind(
      (i) => Address.add(link, ipOf(i)),
      (i) => Address.delete(link, ipOf(i)),
    ),
    addrDel: await kind(
      (i) => Address.delete(link, ipOf(i)),
      (i) => Address.add(link, ipOf(i)),
    ),
    routeAdd: await kind(
      (i) => Route.add({ to: ipOf(i), dev: link }),
      (i) => Route.delete({ to: ipOf(i), dev: link }),
    ),
    routeDel: await kind(
      (i) => Route.delete({ to: ipOf(i), dev: link }),
      (i) => Route.add({ to: ipOf(i), dev: link }),
    ),
  };
  console.log(`here: of ${N} awaited calls each, answered in the turn they were made (best of up to 5 tries): ${JSON.stringify(got)}`);
  for (const v of Object.values(got)) expect(v).toBe(N);
  expect(ipj(NS, 'addr', 'show', 'dev', 'hr0').flatMap((l: { addr_info: { family: string }[] }) => l.addr_info.filter((a) => a.family === 'inet'))).toEqual([]);
});

it('NETPLUMB_HERE=0: every call goes to an I/O thread', () => {
  // A child on dist/ (the compiled package), in this test's namespace.
  const child = `
    const np = require(${JSON.stringify(path.join(__dirname, '../../dist/lib/entry'))});
    (async () => {
      const ns = await np.Namespace.open(${JSON.stringify(NS)});
      const link = await ns.link('hr0');
      let here = 0;
      for (let i = 0; i < 10; i++) {
        const p = np.Route.add({ to: '10.90.0.' + i + '/32', dev: link });
        if (ns.handle.pending === 0) here++; // answered during the call: nothing in flight
        await p;
        await np.Route.delete({ to: '10.90.0.' + i + '/32', dev: link });
        await new Promise((r) => setImmediate(r)); // each call starts a turn of its own
      }
      await ns.close();
      process.stdout.write(JSON.stringify({ here }));
    })();`;
  const run = (env: Record<string, string>): number => {
    const r = spawnSync(process.execPath, ['-e', child], { encoding: 'utf8', env: { ...process.env, ...env }, timeout: 30_000 });
    expect({ status: r.status, stderr: r.stderr }).toEqual({ status: 0, stderr: '' });
    return (JSON.parse(r.stdout) as { here: number }).here;
  };
  // Best of up to 3 children: a call the kernel kept over 5 ms turns running here off for the rest.
  let on = 0;
  for (let t = 0; t < 3 && on < 10; t++) on = Math.max(on, run({}));
  const off = run({ NETPLUMB_HERE: '0' });
  console.log(`here: of 10 awaited route adds in a child, answered during the call: ${on} by default, ${off} with NETPLUMB_HERE=0`);
  expect(on).toBe(10);
  expect(off).toBe(0);
});

it('an awaited loop of route adds lets the event loop turn about every millisecond', async () => {
  const N = 3000;
  // Whatever is there (after a failure, not all of them are).
  const clean = () => Promise.all(Array.from({ length: N }, (_, i) => Route.delete({ to: ipOf(1000 + i), dev: link }).catch(() => undefined)));
  // Best of up to 3 loops: a call the kernel kept over 5 ms (the cleanup of a
  // namespace the previous test file deleted holds the RTNL lock) turns
  // running here off for the rest of the loop, which then waits for a turn
  // on every call; and the VM, or a full collection of the test process's
  // heap, can hold one turn for 20-30 ms (CI on 6e7649d: 29 ms once).
  const good = (g: { turns: number; q: (p: number) => number }) => g.turns < N / 10 && g.q(1) < 20;
  let got: { turns: number; q: (p: number) => number; ms: number } | undefined;
  try {
    for (let t = 0; t < 3 && (got === undefined || !good(got)); t++) {
      if (got !== undefined) await clean();
      await untilHere();
      const t0 = performance.now();
      const w = await watchTurns(async () => {
        for (let i = 0; i < N; i++) await Route.add({ to: ipOf(1000 + i), dev: link });
      });
      got = { ...w, ms: performance.now() - t0 };
    }
    const { turns, q, ms } = got as { turns: number; q: (p: number) => number; ms: number };
    console.log(
      `here: ${N} awaited route adds in ${ms.toFixed(1)} ms, ${turns} turns of the event loop; ` +
        `ms between turns: median ${q(0.5).toFixed(2)}, p75 ${q(0.75).toFixed(2)}, p90 ${q(0.9).toFixed(2)}, max ${q(1).toFixed(2)}`,
    );
    expect(ipj(NS, 'route', 'show', 'dev', 'hr0').length).toBe(N);
    // About 1 ms of calls, then a turn (lib/pace.ts alone, 2 ms looked at every
    // 16 calls, makes it 2-3 ms); the VM adds its own pauses now and then.
    expect(q(0.75)).toBeLessThan(1.8);
    // ...and most calls settled without one (off, every call would wait for a turn).
    expect(turns).toBeLessThan(N / 10);
    expect(q(1)).toBeLessThan(20);
  } finally {
    // Also when a check fails: the tests after this one count the routes on hr0.
    await clean();
  }
});

it('an awaited loop runs every call here: the one settled in the next turn starts a new millisecond', async () => {
  // After the turn's 1 ms a call runs here and is settled from the next check phase;
  // the loop's next call, made from there (the check phase), starts the next
  // turn's instead of going to an I/O thread. Each call is classed right after
  // it returns: nothing pending (answered), or pending and already in the
  // kernel (ran here, settled later), or pending and not there (handed to an
  // I/O thread). `ip` is asked only about the pending ones.
  const N = 300;
  let best: { now: number; later: number; handed: number } | undefined;
  for (let t = 0; t < 3 && (best === undefined || best.handed > 0); t++) {
    await untilHere();
    // Start from the poll phase, as a loop after any request an I/O thread answered does.
    await link.refresh();
    const got = { now: 0, later: 0, handed: 0 };
    for (let i = 0; i < N; i++) {
      const to = ipOf(20000 + i);
      const p = Route.add({ to, dev: link });
      if (ns.handle.pending === 0) got.now++;
      else if (ipj(NS, 'route', 'show', to).length === 1) got.later++;
      else got.handed++;
      await p;
    }
    await Promise.all(Array.from({ length: N }, (_, i) => Route.delete({ to: ipOf(20000 + i), dev: link })));
    if (best === undefined || got.handed < best.handed) best = got;
  }
  console.log(`here: ${N} awaited route adds (best of up to 3 loops): ${JSON.stringify(best)}`);
  expect(best?.later).toBeGreaterThan(0);
  expect(best?.handed).toBe(0);
});

it('an awaited loop makes no setImmediate: its late settlements come from the check phase', async () => {
  // The call after a turn's 1 ms is settled from the addon's own check handle
  // (src/spinner.hpp Spinner::settle_at_check), and lib/pace.ts counts turns
  // by the addon's counter: however many turns the loop spans, it makes no
  // Immediate (a JS object and an async_hooks resource each).
  const N = 600;
  let immediates = 0;
  const hook = createHook({
    init(_id, type) {
      if (type === 'Immediate') immediates++;
    },
  });
  let later = 0;
  await untilHere();
  try {
    hook.enable();
    for (let i = 0; i < N; i++) {
      const p = Route.add({ to: ipOf(30000 + i), dev: link });
      if (ns.handle.pending !== 0) later++;
      await p;
    }
  } finally {
    hook.disable();
    await Promise.all(Array.from({ length: N }, (_, i) => Route.delete({ to: ipOf(30000 + i), dev: link }).catch(() => undefined)));
  }
  console.log(`here: ${N} awaited route adds, ${later} of them settled in a later turn, ${immediates} Immediates made`);
  expect(later).toBeGreaterThan(0);
  expect(immediates).toBe(0);
});

it('awaited loops over many namespace handles share the turn budget', async () => {
  // 40 handles on the namespace, an awaited loop of address adds on each, all
  // at once. After the turn's 1 ms, one call more runs here and the rest go to
  // I/O threads: were the limit per handle, each loop settled from
  // setImmediate would run its next call here too, 40 address adds a turn.
  const H = 40;
  const PER = 30;
  // Whatever is there (after a failure, not all of them are).
  const clean = () => Promise.all(Array.from({ length: H * PER }, (_, i) => Address.delete(link, ipOf(30000 + i)).catch(() => undefined)));
  const handles = await Promise.all(Array.from({ length: H }, () => Namespace.open(NS)));
  try {
    const links = await Promise.all(handles.map((h) => h.link('hr0')));
    // Best of up to 3 rounds: a pause of the VM in one of them moves the p90
    // (CI on 6e7649d: 2.10 ms once). Shared per handle, the budget gave 40
    // calls a turn, far over it.
    let w: { turns: number; q: (p: number) => number } | undefined;
    for (let t = 0; t < 3 && (w === undefined || w.q(0.9) >= 2); t++) {
      if (w !== undefined) await clean();
      await untilHere();
      w = await watchTurns(async () => {
        await Promise.all(
          links.map(async (l, k) => {
            for (let i = 0; i < PER; i++) await Address.add(l, ipOf(30000 + k * PER + i));
          }),
        );
      });
    }
    const { turns, q } = w as { turns: number; q: (p: number) => number };
    console.log(
      `here: ${H} awaited loops of ${PER} address adds, ${turns} turns; ms between turns: median ${q(0.5).toFixed(2)}, p90 ${q(0.9).toFixed(2)}, max ${q(1).toFixed(2)}`,
    );
    expect(q(0.9)).toBeLessThan(2);
  } finally {
    // Also when a check fails: the tests after this one count what is on hr0.
    await clean();
    await Promise.all(handles.map((h) => h.close()));
  }
});

it('a burst runs its first call here, the rest goes to an I/O thread', async () => {
  // 12 calls: lib/pace.ts first looks at the clock at the 16th, so none is held for a later turn.
  const N = 12;
  for (let round = 0; round < 3; round++) {
    await untilHere();
    const ps = Array.from({ length: N }, (_, i) => Route.add({ to: ipOf(10000 + i), dev: link }));
    // In flight (staged for an I/O thread), right after the loop: all but the first.
    const pending = ns.handle.pending;
    await Promise.all(ps);
    console.log(`here: a burst of ${N} route adds, ${pending} pending right after it`);
    expect(pending).toBe(N - 1);
    expect(ipj(NS, 'route', 'show', 'dev', 'hr0').length).toBe(N);
    await Promise.all(Array.from({ length: N }, (_, i) => Route.delete({ to: ipOf(10000 + i), dev: link })));
  }
});

it('a route made in the same turn as a link going up waits for it (order per handle)', async () => {
  await link.down();
  for (let i = 0; i < 5; i++) {
    // The link's request is staged (one turn of JS goes to the I/O thread together);
    // the route, run at once, would reach the kernel first and be refused (ENETDOWN).
    const up = link.up();
    const route = Route.add({ to: ipOf(5000 + i), dev: link });
    await Promise.all([up, route]);
    expect(ipj(NS, 'route', 'show', 'dev', 'hr0').map((r: { dst: string }) => r.dst)).toEqual([ipOf(5000 + i).replace('/32', '')]);
    await link.down(); // takes the route with it
  }
  await link.up();
});

it('after a call the kernel kept over 5 ms, none runs here for 250 ms', async () => {
  const busy = await Namespace.create(BUSY);
  const { link: bl } = await VethPair.create('hb0', { namespace: busy, peerName: 'hb1', up: true });
  await Promise.all(Array.from({ length: 20000 }, (_, i) => Address.add(bl, `10.${120 + (i >> 16)}.${(i >> 8) & 255}.${i & 255}/32`)));
  await busy.close();
  // Another process takes the RTNL lock (global, every namespace) for 5–40 ms at a time.
  const toggler = spawn('sh', ['-c', `while :; do ip -n ${BUSY} link set hb0 down; ip -n ${BUSY} link set hb0 up; done`], { stdio: 'ignore' });
  const calls: { at: number; syncMs: number; here: boolean }[] = [];
  try {
    // Until two calls ran here and were kept waiting, and 400 ms after the second (or 15 s).
    let end = performance.now() + 15_000;
    for (let i = 0, seen = 0; performance.now() < end; i++) {
      const at = performance.now();
      const p = Route.add({ to: ipOf(20000 + (i % 500)), dev: link });
      const syncMs = performance.now() - at;
      // Nothing pending right after the call: it ran here (each call starts a turn of its own).
      const here = ns.handle.pending === 0;
      await p;
      await Route.delete({ to: ipOf(20000 + (i % 500)), dev: link });
      calls.push({ at, syncMs, here });
      if (here && syncMs > 6 && ++seen === 2) end = Math.min(end, performance.now() + 400);
      await new Promise((r) => setTimeout(r, 2));
    }
  } finally {
    toggler.kill('SIGKILL');
  }
  // A call that ran here and took over 6 ms: the kernel made it wait (the JS of a call is tens of µs).
  const slow = calls.map((c, i) => ({ ...c, i })).filter((c) => c.here && c.syncMs > 6);
  const after = slow.map((c) => calls.slice(c.i + 1).filter((d) => d.at - c.at < 200));
  const hereAfter = after.map((xs) => xs.filter((d) => d.here).length);
  const resumed = slow.map((c) => calls.some((d) => d.at - c.at > 250 && d.here));
  console.log(
    `here: ${calls.length} calls while another process took the RTNL lock; ${calls.filter((c) => c.here).length} ran here; ` +
      `${slow.length} ran here and took > 6 ms (${slow.map((c) => c.syncMs.toFixed(1)).join(', ')}); ` +
      `of the calls in the 200 ms after each, ran here: ${hereAfter.join(', ')}; running here again after 250 ms: ${resumed.join(', ')}`,
  );
  expect(slow.length).toBeGreaterThan(0);
  for (const [k, xs] of after.entries()) {
    expect(xs.length).toBeGreaterThan(0);
    expect(hereAfter[k]).toBe(0);
  }
  expect(resumed.filter((x) => x).length).toBeGreaterThan(0);
}, 60_000);
