import { EventEmitter } from 'node:events';
import * as fs from 'node:fs';

import { addressInfo, type AddressInfo } from './address';
import { ErrorCodes as C, fromNative, kernel, NetplumbError } from './errors';
import { Link } from './link';
import { native, type NativeWatcher, type RawAddr, type RawEvent, type RawLink, type RawRoute } from './native';
import { Namespace } from './namespace';
import { routeInfo, type RouteInfo } from './route';
import * as v from './validate';

/** One change in a namespace, as the kernel announced it (`ip monitor`). */
export type WatchEvent =
  | { type: 'link'; action: 'new' | 'del'; link: Link }
  | { type: 'address'; action: 'new' | 'del'; address: AddressInfo }
  | { type: 'route'; action: 'new' | 'del'; route: RouteInfo }
  /** The kernel dropped notifications (the socket's buffer overflowed): re-read the state with a dump. */
  | { type: 'overrun' };

/** What `Watcher` reports (`ip monitor link address route neigh`): each kind of event on or off. */
export interface WatchOptions {
  /** Link added, changed (up/down, renamed, moved...) or deleted. Default true. */
  links?: boolean;
  /** Addresses added or deleted. Default true. */
  addresses?: boolean;
  /** Routes added or deleted (all tables). Default true. */
  routes?: boolean;
  /** Only IPv4 or IPv6 addresses and routes. Default both. */
  family?: 4 | 6;
}

const WATCH_KEYS: v.Keys<WatchOptions> = { links: true, addresses: true, routes: true, family: true };

// RTMGRP_* (linux/rtnetlink.h).
const RTMGRP_LINK = 0x1;
const RTMGRP_IPV4_IFADDR = 0x10;
const RTMGRP_IPV4_ROUTE = 0x40;
const RTMGRP_IPV6_IFADDR = 0x100;
const RTMGRP_IPV6_ROUTE = 0x400;

/**
 * `ip monitor link address route` for one namespace, as an EventEmitter:
 * 'event' for every change, and 'link', 'address', 'route', 'overrun' by type.
 * The kernel queues notifications on a socket of its own inside the namespace;
 * the JS thread reads them when libuv says there are some, never waiting.
 * An open watcher keeps the process alive, as a server does (`unref()` not to).
 */
export class Watcher extends EventEmitter {
  readonly namespace: Namespace;
  #native: NativeWatcher | undefined;

  private constructor(ns: Namespace) {
    super();
    this.namespace = ns;
  }

  /** Starts watching `ns`. Only changes made after the promise resolves are reported. */
  static async open(ns: Namespace, opts?: WatchOptions): Promise<Watcher> {
    if (!(ns instanceof Namespace)) throw new NetplumbError(C.INVALID_ARGUMENT, 'namespace must be a Namespace', { value: ns, argument: 'namespace' });
    const o = v.options<WatchOptions>(opts, WATCH_KEYS, 'Watcher.open');
    const on = (x: unknown, argument: string) => (x === undefined ? true : v.bool(x, argument));
    const links = on(o.links, 'links');
    const addresses = on(o.addresses, 'addresses');
    const routes = on(o.routes, 'routes');
    if (o.family !== undefined && o.family !== 4 && o.family !== 6)
      throw new NetplumbError(C.INVALID_ARGUMENT, 'family must be 4 or 6', { value: o.family, argument: 'family' });
    const four = o.family !== 6;
    const six = o.family !== 4;
    const groups =
      (links ? RTMGRP_LINK : 0) |
      (addresses && four ? RTMGRP_IPV4_IFADDR : 0) |
      (addresses && six ? RTMGRP_IPV6_IFADDR : 0) |
      (routes && four ? RTMGRP_IPV4_ROUTE : 0) |
      (routes && six ? RTMGRP_IPV6_ROUTE : 0);
    if (groups === 0) throw new NetplumbError(C.INVALID_ARGUMENT, 'nothing to watch: links, addresses and routes are all false', { argument: 'options' });
    ns.assertOpen();
    const fd = await kernel(ns.handle.socket({ netlinkGroups: groups }), `watch namespace ${ns}`);
    const w = new Watcher(ns);
    try {
      // Closed while the socket was being made: nothing to watch any more.
      ns.assertOpen();
      w.#native = new (native().Watcher)(fd, (events) => w.#deliver(events));
    } catch (e) {
      fs.closeSync(fd);
      throw fromNative(e, `watch namespace ${ns}`); // a native failure (uv_poll_init, memory) typed
    }
    w.#unregister = ns.closesWith(() => w.close());
    return w;
  }

  #unregister: (() => void) | undefined;

  #deliver(events: RawEvent[]): void {
    for (const e of events) {
      if (!this.#native) return; // a listener closed it
      let out: WatchEvent;
      if (e.type === 'link') out = { type: 'link', action: e.action as 'new' | 'del', link: Link.fromRaw(this.namespace, e.raw as RawLink) };
      else if (e.type === 'address') out = { type: 'address', action: e.action as 'new' | 'del', address: addressInfo(e.raw as RawAddr) };
      else if (e.type === 'route') {
        // Cached clones (RTM_F_CLONED) are left out, as Route.list and ip leave them out.
        if (((e.raw as RawRoute).flags & 0x200) !== 0) continue;
        out = { type: 'route', action: e.action as 'new' | 'del', route: routeInfo(e.raw as RawRoute, undefined) };
      } else out = { type: 'overrun' };
      this.emit('event', out);
      this.emit(out.type, out);
    }
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
