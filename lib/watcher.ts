import { EventEmitter } from 'node:events';
import * as fs from 'node:fs';
import { performance } from 'node:perf_hooks';
import { setImmediate as nextTurn, setTimeout as later } from 'node:timers';

import { addressInfo, type AddressInfo } from './address';
import { ErrorCodes as C, fromNative, kernel, NetplumbError } from './errors';
import { Link } from './link';
import {
  native,
  sendAddr,
  sendRoute,
  type NativeWatcher,
  type RawAddr,
  type RawEvent,
  type RawLink,
  type RawNeigh,
  type RawRoute,
  type RawRule,
} from './native';
import { Namespace } from './namespace';
import { neighInfo, type NeighborInfo } from './neighbor';
import { routeInfo, type RouteInfo } from './route';
import { ruleInfo, type RuleInfo } from './rule';
import * as v from './validate';

// The watcher's own scheduling uses node:timers' setImmediate and a resolved
// promise, not the globals: a test's fake timers replace setImmediate and
// queueMicrotask, and a snapshot or a refresh scheduled on a fake that never
// ran was never delivered.
const resolved = Promise.resolve();

/** One change in a namespace, as the kernel announced it (`ip monitor`). */
export type WatchEvent =
  | { type: 'link'; action: 'new' | 'del'; link: Link }
  | { type: 'address'; action: 'new' | 'del'; address: AddressInfo }
  | { type: 'route'; action: 'new' | 'del'; route: RouteInfo }
  | { type: 'neighbor'; action: 'new' | 'del'; neighbor: NeighborInfo }
  | { type: 'rule'; action: 'new' | 'del'; rule: RuleInfo }
  /** The kernel dropped notifications (the socket's buffer overflowed): re-read the state with a dump (with `snapshot`, the watcher does). */
  | { type: 'overrun' }
  /** With `snapshot`: the current state has been delivered (as 'new' events); what follows are changes. */
  | { type: 'synced' }
  /** With `snapshot`: after an overrun, the state was read again and what changed meanwhile was delivered as events. */
  | { type: 'resync' };

/** What `Watcher` reports (`ip monitor link address route neigh rule`): each kind of event on or off. */
export interface WatchOptions {
  /** Link added, changed (up/down, renamed, moved...) or deleted. Default true. */
  links?: boolean;
  /** Addresses added or deleted. Default true. */
  addresses?: boolean;
  /** Routes added or deleted (all tables). Default true. */
  routes?: boolean;
  /** Neighbour (ARP/NDP) entries added, changed or deleted (`ip monitor neigh`; bridge fdb and NOARP entries are left out, as `ip neigh show` leaves them out). Default false. */
  neighbors?: boolean;
  /** Policy routing rules added or deleted (`ip monitor rule`). Default false. */
  rules?: boolean;
  /** Only IPv4 or IPv6 addresses, routes, neighbours and rules. Default both. */
  family?: 4 | 6;
  /**
   * Start with the current state: every link, address, route, neighbour and rule
   * watched is delivered as a 'new' event, then a 'synced' event, then every
   * change after it, with no gap and no duplicate (the socket subscribes before
   * the dump; events that race with it are merged). After an overrun the watcher
   * reads the state again by itself, delivers what changed meanwhile as events,
   * and then a 'resync' event. Default false.
   */
  snapshot?: boolean;
  /** Events `for await` buffers before the watcher stops reading the socket (back-pressure). Default 1024. */
  highWaterMark?: number;
  /** The monitor socket's receive buffer in bytes (SO_RCVBUF; the kernel doubles it). Default 4 MiB. */
  receiveBuffer?: number;
}

const WATCH_KEYS: v.Keys<WatchOptions> = {
  links: true,
  addresses: true,
  routes: true,
  neighbors: true,
  rules: true,
  family: true,
  snapshot: true,
  highWaterMark: true,
  receiveBuffer: true,
};

// RTMGRP_* and RTNLGRP_* (linux/rtnetlink.h): a group n is the bit 1 << (n - 1).
const RTMGRP_LINK = 0x1;
const RTMGRP_NEIGH = 0x4;
const RTMGRP_IPV4_IFADDR = 0x10;
const RTMGRP_IPV4_ROUTE = 0x40;
const RTMGRP_IPV4_RULE = 1 << (8 - 1); // RTNLGRP_IPV4_RULE = 8
const RTMGRP_IPV6_IFADDR = 0x100;
const RTMGRP_IPV6_ROUTE = 0x400;
const RTMGRP_IPV6_RULE = 1 << (19 - 1); // RTNLGRP_IPV6_RULE = 19
const RTM_F_CLONED = 0x200;
const IFF_UP = 0x1;
const NUD_NOARP = 0x40;

type Kind = 'link' | 'address' | 'route' | 'neighbor' | 'rule';
type Change = Extract<WatchEvent, { action: 'new' | 'del' }>;
/** A raw kernel object with what identifies it and what it holds, for the snapshot's merge. */
interface Entry {
  kind: Kind;
  key: string;
  content: string;
  raw: RawLink | RawAddr | RawRoute | RawNeigh | RawRule;
}

/** The identity of an object (what a later message about the same object repeats) and its content. */
function entryOf(kind: Kind, raw: Entry['raw']): Entry {
  let key: string;
  let content: string;
  if (kind === 'link') {
    const r = raw as RawLink;
    key = `link ${r.index}`;
    content = JSON.stringify(r);
  } else if (kind === 'address') {
    // The remaining lifetimes count down: not part of what changed.
    const { validLft: _v, preferredLft: _p, ...r } = raw as RawAddr;
    key = `address ${r.family} ${r.index} ${r.local || r.address}/${r.prefixlen}`;
    content = JSON.stringify(r);
  } else if (kind === 'route') {
    // The kernel's own key: table, destination, source, tos, metric; for IPv6
    // also the next hop (one fe80::/64 per device can share all the rest).
    const r = raw as RawRoute;
    key = `route ${r.family} ${r.table} ${r.dst}/${r.dstLen} from ${r.src ?? ''}/${r.srcLen ?? 0} metric ${r.priority ?? 0}`;
    if (r.family === 6 && !r.multipath) key += ` via ${r.gateway ?? ''} dev ${r.oif ?? 0}`;
    content = JSON.stringify(r);
  } else if (kind === 'neighbor') {
    const r = raw as RawNeigh;
    key = `neighbor ${r.family} ${r.index} ${r.dst}`;
    content = JSON.stringify(r);
  } else {
    // A rule has no identity but its whole content.
    content = JSON.stringify(raw);
    key = `rule ${content}`;
  }
  return { kind, key, content, raw };
}

/** How long a watcher keeps reading again a state whose dumps concurrent changes interrupt (#dumpPatiently). */
const DUMP_PATIENCE_MS = 10_000;

/**
 * `ip monitor link address route neigh rule` for one namespace, as an
 * EventEmitter ('event' for every change, and 'link', 'address', 'route',
 * 'neighbor', 'rule', 'overrun', 'synced', 'resync' by type) and as an async
 * iterable (`for await (const e of watcher)`, with back-pressure).
 * The kernel queues notifications on a socket of its own inside the namespace;
 * the JS thread reads them when libuv says there are some, never waiting.
 * An open watcher keeps the process alive, as a server does (`unref()` not to).
 */
export class Watcher extends EventEmitter {
  readonly namespace: Namespace;
  #native: NativeWatcher | undefined;
  #kinds: Set<Kind>;
  #families: (4 | 6)[];
  #highWaterMark = 1024;
  // Snapshot mode: the state as delivered so far (undefined: not in snapshot mode).
  #model: Map<string, Entry> | undefined;
  // While a dump runs, what the socket delivered meanwhile (merged after it).
  #pending: RawEvent[] | undefined;
  #resyncAgain = false;
  #refreshKinds = new Set<Kind>();
  #refreshScheduled = false;
  // for await: the buffered events and the waiting consumer.
  #queue: WatchEvent[] = [];
  #iterating = false;
  #wake: (() => void) | undefined;
  #paused = false;
  #failure: unknown;

  private constructor(ns: Namespace, kinds: Set<Kind>, families: (4 | 6)[]) {
    super();
    this.namespace = ns;
    this.#kinds = kinds;
    this.#families = families;
  }

  /**
   * Starts watching `ns`. Only changes made after the promise resolves are
   * reported, unless `snapshot` is set: then the current state comes first.
   */
  static async open(ns: Namespace, opts?: WatchOptions): Promise<Watcher> {
    if (!(ns instanceof Namespace)) throw new NetplumbError(C.INVALID_ARGUMENT, 'namespace must be a Namespace', { value: ns, argument: 'namespace' });
    const o = v.options<WatchOptions>(opts, WATCH_KEYS, 'Watcher.open');
    const on = (x: unknown, argument: string, dflt = true) => (x === undefined ? dflt : v.bool(x, argument));
    const links = on(o.links, 'links');
    const addresses = on(o.addresses, 'addresses');
    const routes = on(o.routes, 'routes');
    const neighbors = on(o.neighbors, 'neighbors', false);
    const rules = on(o.rules, 'rules', false);
    const snapshot = on(o.snapshot, 'snapshot', false);
    const hwm = o.highWaterMark === undefined ? 1024 : v.uint(o.highWaterMark, 'highWaterMark', 2 ** 31 - 1, 1);
    const rcvbuf = o.receiveBuffer === undefined ? undefined : v.uint(o.receiveBuffer, 'receiveBuffer', 2 ** 30, 1024);
    if (o.family !== undefined && o.family !== 4 && o.family !== 6)
      throw new NetplumbError(C.INVALID_ARGUMENT, 'family must be 4 or 6', { value: o.family, argument: 'family' });
    const four = o.family !== 6;
    const six = o.family !== 4;
    const groups =
      (links ? RTMGRP_LINK : 0) |
      (addresses && four ? RTMGRP_IPV4_IFADDR : 0) |
      (addresses && six ? RTMGRP_IPV6_IFADDR : 0) |
      (routes && four ? RTMGRP_IPV4_ROUTE : 0) |
      (routes && six ? RTMGRP_IPV6_ROUTE : 0) |
      (neighbors ? RTMGRP_NEIGH : 0) |
      (rules && four ? RTMGRP_IPV4_RULE : 0) |
      (rules && six ? RTMGRP_IPV6_RULE : 0);
    if (groups === 0)
      throw new NetplumbError(C.INVALID_ARGUMENT, 'nothing to watch: links, addresses, routes, neighbors and rules are all false', { argument: 'options' });
    ns.assertOpen();
    const spec: { netlinkGroups: number; rcvbuf?: number } = { netlinkGroups: groups };
    if (rcvbuf !== undefined) spec.rcvbuf = rcvbuf;
    const fd = await kernel(ns.handle.socket(spec), `watch namespace ${ns}`);
    const kinds = new Set<Kind>();
    if (links) kinds.add('link');
    if (addresses) kinds.add('address');
    if (routes) kinds.add('route');
    if (neighbors) kinds.add('neighbor');
    if (rules) kinds.add('rule');
    const w = new Watcher(
      ns,
      kinds,
      [four && 4, six && 6].filter((f): f is 4 | 6 => f !== false),
    );
    w.#highWaterMark = hwm;
    // Subscribed first, dumped next: what changes during the dump is held and merged after it.
    if (snapshot) {
      w.#model = new Map();
      w.#pending = [];
    }
    try {
      // Closed while the socket was being made: nothing to watch any more.
      ns.assertOpen();
      w.#native = new (native().Watcher)(fd, (events) => w.#deliver(events));
    } catch (e) {
      fs.closeSync(fd);
      throw fromNative(e, `watch namespace ${ns}`); // a native failure (uv_poll_init, memory) typed
    }
    w.#unregister = ns.closesWith(() => w.close());
    if (snapshot) {
      const all = [...kinds];
      let fresh: Map<string, Entry>;
      try {
        fresh = await w.#dumpPatiently(all);
      } catch (e) {
        w.close();
        throw e;
      }
      // Delivered once the caller has its watcher (and its listeners or loop):
      // the changes meanwhile stay in #pending, merged after the state.
      nextTurn(() => w.#apply(fresh, all, 'synced'));
    }
    return w;
  }

  #unregister: (() => void) | undefined;

  #deliver(events: RawEvent[]): void {
    if (this.#pending) {
      this.#pending.push(...events);
      if (events.some((e) => e.type === 'overrun')) this.#resyncAgain = true;
      return;
    }
    for (let i = 0; i < events.length; i++) {
      const e = events[i] as RawEvent;
      if (!this.#native) return; // a listener closed it
      if (e.type === 'overrun') {
        this.#emit({ type: 'overrun' });
        if (this.#model) {
          this.#startResync();
          return;
        }
        continue;
      }
      if (this.#model) this.#merge(e);
      else {
        const out = this.#typed(e);
        if (out) this.#emit(out);
      }
    }
  }

  /** The typed event of a raw one; undefined for what is left out (cached clones, fdb entries). */
  #typed(e: RawEvent): Change | undefined {
    const action = e.action as 'new' | 'del';
    if (e.type === 'link') return { type: 'link', action, link: Link.fromRaw(this.namespace, e.raw as RawLink) };
    if (e.type === 'address') return { type: 'address', action, address: addressInfo(e.raw as RawAddr) };
    if (e.type === 'route') {
      // Cached clones (RTM_F_CLONED) are left out, as Route.list and ip leave them out.
      if (((e.raw as RawRoute).flags & RTM_F_CLONED) !== 0) return undefined;
      return { type: 'route', action, route: routeInfo(e.raw as RawRoute, undefined) };
    }
    if (e.type === 'neighbor') {
      // Bridge fdb entries (AF_BRIDGE) come on the same group: not neighbours.
      // NOARP entries (multicast and broadcast mappings) the kernel makes
      // without announcing them: left out, as `ip neigh show` leaves them out.
      const r = e.raw as RawNeigh;
      if ((r.family !== 4 && r.family !== 6) || (r.state & NUD_NOARP) !== 0) return undefined;
      return { type: 'neighbor', action, neighbor: neighInfo(e.raw as RawNeigh) };
    }
    if (e.type === 'rule') return { type: 'rule', action, rule: ruleInfo(e.raw as RawRule) };
    return undefined;
  }

  /** Snapshot mode: applies a change to the model; emits it unless it changes nothing (a duplicate). */
  #merge(e: RawEvent): void {
    const out = this.#typed(e);
    if (!out) return;
    const entry = entryOf(e.type as Kind, e.raw as Entry['raw']);
    const had = (this.#model as Map<string, Entry>).get(entry.key);
    if (e.action === 'del') {
      if (!had) return;
      this.#model?.delete(entry.key);
    } else {
      if (had?.content === entry.content) return;
      this.#model?.set(entry.key, entry);
    }
    this.#emit(out);
    // What was on a deleted link went with it, not always announced.
    if (e.type === 'link' && e.action === 'del') this.#dropIndex((e.raw as RawLink).index);
    // The kernel drops IPv4 routes (and flushes neighbours) of a link going down
    // or away without announcing it: read those again.
    if (e.type === 'link') {
      const gone = e.action === 'del' || (had && ((had.raw as RawLink).flags & IFF_UP) !== 0 && ((e.raw as RawLink).flags & IFF_UP) === 0);
      if (gone) this.#refresh(['route', 'neighbor']);
    }
  }

  /** Snapshot mode: removes (with 'del' events) the addresses, routes and neighbours of a deleted link. */
  #dropIndex(index: number): void {
    const model = this.#model as Map<string, Entry>;
    for (const [key, had] of model) {
      const on =
        had.kind === 'address'
          ? (had.raw as RawAddr).index
          : had.kind === 'neighbor'
            ? (had.raw as RawNeigh).index
            : had.kind === 'route'
              ? (had.raw as RawRoute).oif
              : undefined;
      if (on !== index) continue;
      model.delete(key);
      const out = this.#typed({ type: had.kind, action: 'del', raw: had.raw });
      if (out) this.#emit(out);
    }
  }

  /** Re-reads some kinds after a silent change (see #merge): no 'resync' event. */
  #refresh(kinds: Kind[]): void {
    for (const k of kinds) if (this.#kinds.has(k)) this.#refreshKinds.add(k);
    this.#scheduleRefresh();
  }

  #scheduleRefresh(): void {
    if (this.#refreshScheduled || this.#refreshKinds.size === 0) return;
    this.#refreshScheduled = true;
    void resolved.then(() => {
      this.#refreshScheduled = false;
      // Closed; or a dump is running: it calls this again when it is done.
      if (!this.#native || this.#pending) return;
      this.#pending = [];
      this.#resync(undefined);
    });
  }

  /**
   * After an overrun: what the socket still holds, and what came with the
   * overrun, happened before notifications were lost. Merged after a fresh
   * read, it would bring back a state the lost ones changed: it is dropped,
   * and only what arrives once the read has started is merged after it.
   */
  #startResync(): void {
    this.#native?.drain();
    this.#pending = [];
    this.#resync('resync');
  }

  #resync(marker: 'resync' | undefined): void {
    this.#sync(marker).catch((err: unknown) => {
      if (!this.#native) return; // closed meanwhile
      this.#failure = err;
      this.#wake?.();
      if (this.listenerCount('error') > 0) this.emit('error', err);
      this.close();
    });
  }

  /** Reads the current state (all watched kinds, or the ones #refresh asked for), then #apply. */
  async #sync(marker: 'resync' | undefined): Promise<void> {
    this.#resyncAgain = false;
    const kinds = marker === undefined ? [...this.#refreshKinds] : [...this.#kinds];
    this.#refreshKinds.clear();
    this.#apply(await this.#dumpPatiently(kinds), kinds, marker);
  }

  /**
   * #dump, read again while changes made meanwhile keep interrupting it (the
   * addon has retried 5 times at once already): after a pause of 5 ms,
   * doubling up to 0.5 s, for up to DUMP_PATIENCE_MS in all. A burst of
   * changes (10,000 from an `ip -batch`) ends; the watcher need not fail for
   * it. The pauses do not keep the process alive (the watcher's socket does,
   * unless unref'd).
   */
  async #dumpPatiently(kinds: Kind[]): Promise<Map<string, Entry>> {
    const t0 = performance.now();
    for (let pause = 5; ; pause = Math.min(pause * 2, 500)) {
      try {
        return await this.#dump(kinds);
      } catch (e) {
        if ((e as { code?: unknown }).code !== 'ERR_DUMP_INTERRUPTED' || !this.#native || performance.now() - t0 + pause > DUMP_PATIENCE_MS) throw e;
        await new Promise<void>((r) => later(r, pause).unref());
      }
    }
  }

  /** Emits the difference between the model and a fresh dump of `kinds`, then merges what the socket delivered meanwhile. */
  #apply(fresh: Map<string, Entry>, kinds: Kind[], marker: 'synced' | 'resync' | undefined): void {
    if (!this.#native) return;
    const model = this.#model as Map<string, Entry>;
    for (const [key, had] of model) {
      if (!kinds.includes(had.kind) || fresh.has(key)) continue;
      model.delete(key);
      const out = this.#typed({ type: had.kind, action: 'del', raw: had.raw });
      if (out) this.#emit(out);
    }
    for (const [key, entry] of fresh) {
      if (model.get(key)?.content === entry.content) continue;
      model.set(key, entry);
      const out = this.#typed({ type: entry.kind, action: 'new', raw: entry.raw });
      if (out) this.#emit(out);
    }
    if (marker) this.#emit({ type: marker });
    const pending = this.#pending ?? [];
    // Overrun again while reading: read again (the events since are kept).
    if (this.#resyncAgain && marker !== undefined) {
      this.#emit({ type: 'overrun' });
      this.#startResync();
      return;
    }
    this.#pending = undefined;
    this.#deliver(marker === undefined ? pending : pending.filter((e) => e.type !== 'overrun'));
    this.#scheduleRefresh();
  }

  async #dump(kinds: Kind[]): Promise<Map<string, Entry>> {
    const h = this.namespace.assertOpen().handle;
    const what = `the state of namespace ${this.namespace}`;
    const all: Promise<Entry[]>[] = [];
    const add = <R extends Entry['raw']>(kind: Kind, p: Promise<R[]>, keep: (r: R) => boolean = () => true) =>
      all.push(kernel(p, what).then((rs) => rs.filter(keep).map((r) => entryOf(kind, r))));
    for (const kind of kinds) {
      if (kind === 'link') add('link', h.link({ op: 'dump' }));
      for (const family of this.#families) {
        if (kind === 'address') add('address', sendAddr(h, { op: 'dump', index: 0, family }));
        else if (kind === 'route') add('route', sendRoute(h, { op: 'dump', family, table: 0, oif: 0 }), (r: RawRoute) => (r.flags & RTM_F_CLONED) === 0);
        else if (kind === 'neighbor') add('neighbor', h.neigh({ op: 'dump', family, index: 0 }), (r: RawNeigh) => (r.state & NUD_NOARP) === 0);
        else if (kind === 'rule') add('rule', h.rule({ op: 'dump', family }));
      }
    }
    const lists = await Promise.all(all);
    return new Map(lists.flat().map((e) => [e.key, e]));
  }

  #emit(out: WatchEvent): void {
    this.emit('event', out);
    this.emit(out.type, out);
    if (this.#iterating) {
      this.#queue.push(out);
      if (this.#queue.length >= this.#highWaterMark && !this.#paused && this.#native) {
        this.#paused = true;
        this.#native.pause();
      }
      this.#wake?.();
    }
  }

  /**
   * `for await (const e of watcher)`: every event from now on, in order. At most
   * `highWaterMark` events wait for a slow consumer; beyond that the watcher
   * stops reading, the kernel's socket buffer fills and overruns, and (with
   * `snapshot`) the watcher reads the state again when the consumer catches up,
   * so its view converges. Leaving the loop closes the watcher. One loop at a time.
   */
  [Symbol.asyncIterator](): AsyncIterableIterator<WatchEvent> {
    if (this.#iterating) throw new NetplumbError(C.INVALID_ARGUMENT, 'this watcher is already being iterated', { argument: 'watcher' });
    this.#iterating = true;
    const next = async (): Promise<IteratorResult<WatchEvent>> => {
      for (;;) {
        const e = this.#queue.shift();
        if (e) {
          if (this.#paused && this.#queue.length <= this.#highWaterMark >> 1) {
            this.#paused = false;
            this.#native?.resume();
          }
          return { value: e, done: false };
        }
        if (this.#failure !== undefined) throw this.#failure;
        if (!this.#native) return { value: undefined, done: true };
        await new Promise<void>((resolve) => (this.#wake = resolve));
        this.#wake = undefined;
      }
    };
    const stop = async (): Promise<IteratorResult<WatchEvent>> => {
      this.#iterating = false;
      this.#queue = [];
      this.close();
      return { value: undefined, done: true };
    };
    return {
      next,
      return: stop,
      [Symbol.asyncIterator]() {
        return this;
      },
    };
  }

  /**
   * The next event (from now on) for which `match` holds; rejects with
   * ERR_TIMEOUT after `timeoutMs`, or ERR_WATCHER_CLOSED if the watcher closes.
   */
  next(match: (e: WatchEvent) => boolean = () => true, timeoutMs = 5000): Promise<WatchEvent> {
    if (typeof match !== 'function') return Promise.reject(new NetplumbError(C.INVALID_ARGUMENT, 'match must be a function', { argument: 'match' }));
    try {
      v.uint(timeoutMs, 'timeoutMs', 2 ** 31 - 1);
    } catch (e) {
      return Promise.reject(e);
    }
    if (!this.#native) return Promise.reject(new NetplumbError(C.WATCHER_CLOSED, `the watcher of namespace ${this.namespace} is closed`));
    return new Promise((resolve, reject) => {
      const done = () => {
        clearTimeout(timer);
        this.off('event', onEvent);
        this.off('close', onClose);
      };
      const onEvent = (e: WatchEvent) => {
        let hit: boolean;
        try {
          hit = match(e);
        } catch (err) {
          done();
          reject(err);
          return;
        }
        if (hit) {
          done();
          resolve(e);
        }
      };
      const onClose = () => {
        done();
        reject(new NetplumbError(C.WATCHER_CLOSED, `the watcher of namespace ${this.namespace} closed`));
      };
      const timer = setTimeout(() => {
        done();
        reject(new NetplumbError(C.TIMEOUT, `no matching change in namespace ${this.namespace} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.on('event', onEvent);
      this.on('close', onClose);
    });
  }

  /** Stops watching and closes the socket. Closing (or deleting) its Namespace does this too. */
  close(): void {
    if (!this.#native) return;
    this.#native.close();
    this.#native = undefined;
    this.#unregister?.();
    this.#wake?.();
    this.emit('close');
  }

  /** True once `close()` ran, or the watcher's namespace closed: no more events come. */
  get closed(): boolean {
    return this.#native === undefined;
  }

  /** Lets the process exit while this watcher is open. */
  unref(): this {
    this.#native?.unref();
    return this;
  }

  /** Keeps the process alive while this watcher is open (the default; undoes `unref()`). */
  ref(): this {
    this.#native?.ref();
    return this;
  }

  /** `using w = ns.watch()`: closes the watcher at the end of the block. */
  [Symbol.dispose](): void {
    this.close();
  }
}
