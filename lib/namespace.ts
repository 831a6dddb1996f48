import * as fs from 'node:fs';
import type * as FsPromises from 'node:fs/promises';
import { type BrokenEntry, BrokenNamespaceError, ErrorCodes as C, fromNative, kernel, NetlinkError, NetplumbError } from './errors';
import type * as child_process from 'node:child_process';
import type * as dgram from 'node:dgram';
import type * as http from 'node:http';
import type * as net from 'node:net';
import type * as InsideModule from './inside';
import type { ConnectOptions, ExecOptions, ExecResult, ListenOptions, Sysctl, UdpOptions } from './inside';
import type { Link, LinkListOptions } from './link';
import { native, type NativeHandle, type RawLink } from './native';
import * as v from './validate';

/**
 * What a Namespace asks of Link (`loopback`, `links()`, `link()`). link.ts sits
 * above this module (a Link belongs to a Namespace, and imports it), so it
 * hands these down when it loads instead of this module importing it back:
 * lib/ has no import cycle (test/unit/structure.test.ts). lib/index.ts loads both.
 */
export interface LinkAccess {
  fromRaw(ns: Namespace, raw: RawLink): Link;
  list(ns: Namespace, opts?: LinkListOptions): Promise<Link[]>;
  get(ns: Namespace, ref: string | number): Promise<Link>;
}
let linkAccess: LinkAccess | undefined;
/** @internal Called by link.ts when it loads. */
export function provideLinks(access: LinkAccess): void {
  linkAccess = access;
}
function linkClass(): LinkAccess {
  if (linkAccess === undefined) throw new Error('netplumb: lib/link was not loaded (import the package, not lib/namespace alone)');
  return linkAccess;
}

// Loaded on first use, not with the package: what runs programs and sockets
// inside a namespace (and Node's child_process, net, http and dgram with it),
// and node:fs/promises (which brings Node's streams).
let insideModule: typeof InsideModule | undefined;
let fsPromises: typeof FsPromises | undefined;
// eslint-disable-next-line @typescript-eslint/no-require-imports
const inside = (): typeof InsideModule => (insideModule ??= require('./inside') as typeof InsideModule);
// eslint-disable-next-line @typescript-eslint/no-require-imports
const fsp = (): typeof FsPromises => (fsPromises ??= require('node:fs/promises') as typeof FsPromises);

/** Where iproute2 keeps named namespaces (`ip netns add NAME`). */
export const NETNS_RUN_DIR = '/run/netns';

// A Namespace dropped without close() still releases its socket and fd.
const finalizer = new FinalizationRegistry<NativeHandle>((h) => {
  h.close().catch(() => undefined);
});

/** nsfs, statfs(2)'s f_type of a mounted namespace. */
const NSFS_MAGIC = 0x6e736673;

// 'attached': the name was made by attach(); delete() may remove it.
type Origin = 'created' | 'opened' | 'attached';

export interface DeleteOptions {
  /** Remove the name of a namespace this object only opened (someone else's). Default false. */
  force?: boolean;
}

const DELETE_KEYS: v.Keys<DeleteOptions> = { force: true };

/**
 * A network namespace and the netlink socket that talks to it, made inside
 * it. A few native I/O threads, shared by every namespace, serve the sockets;
 * neither the main thread nor libuv's pool ever changes namespace.
 *
 * Named namespaces are files under /run/netns, bind-mounted exactly as
 * `ip netns add` does, so `ip netns list` / `ip netns exec NAME` see ours and
 * we can open theirs.
 */
export class Namespace {
  /** The name under /run/netns, for named namespaces. */
  readonly name: string | undefined;
  /** The file this namespace was opened from. */
  readonly path: string;
  /** Identity of the namespace (st_dev, st_ino of its nsfs inode), as `readlink /proc/PID/ns/net` shows it. */
  readonly dev: number;
  readonly inode: number;
  /**
   * @internal The fd that stands for the namespace, owned by the native
   * handle from open to close: its netlink socket, which holds the namespace
   * (one fd per open namespace). A request that needs an fd of the namespace
   * (IFLA_NET_NS_FD, NETNSA_FD, setns, a bind mount) takes its own from it
   * synchronously as it is built (ioctl SIOCGSKNS), after assertOpen() and
   * before any await, and closes it after. Where the kernel refuses that
   * ioctl (no CAP_NET_ADMIN over the namespace) it is the namespace's own fd.
   */
  readonly ref: number;
  /** @internal */
  readonly handle: NativeHandle;
  readonly #origin: Origin;
  #closed = false;
  #deleted = false;

  private constructor(h: NativeHandle, info: { ref: number; dev: number; ino: number }, path: string, name: string | undefined, origin: Origin) {
    this.handle = h;
    this.ref = info.ref;
    this.dev = info.dev;
    this.inode = info.ino;
    this.path = path;
    this.name = name;
    this.#origin = origin;
    finalizer.register(this, h, this);
  }

  /**
   * @internal An fd of the namespace (nsfs), made from `ref` on first access
   * and kept until close() (then -1). The library itself never uses it (its
   * requests take their own, see `ref`): an open namespace holds a second fd
   * only once this has been read.
   */
  get fd(): number {
    const fd = this.handle.nsFd();
    if (typeof fd !== 'number') throw new NetlinkError(fd, `an fd of namespace ${this}`);
    return fd;
  }

  /**
   * Opens (or creates) on an I/O thread. `notFound`: the message of the
   * NAMESPACE_NOT_FOUND a missing `path` is (ENOENT, ENOTDIR, ESRCH from the
   * open itself: no separate stat, which took a libuv threadpool round trip,
   * and starting that pool cost a fresh process about 4 ms).
   */
  private static async start(
    mode: 'path' | 'name' | 'create' | 'current' | 'fd' | 'ref',
    path: string,
    name: string | undefined,
    what: string,
    fd = -1,
    notFound?: string,
  ): Promise<Namespace> {
    let h: NativeHandle;
    try {
      h = mode === 'fd' || mode === 'ref' ? new (native().Handle)(mode, path, fd) : new (native().Handle)(mode, path);
    } catch (e) {
      throw fromNative(e, what); // out of memory before anything was opened
    }
    try {
      const info = await kernel(h.ready(), what);
      return new Namespace(h, info, path, name, mode === 'create' ? 'created' : 'opened');
    } catch (e) {
      await h.close().catch(() => undefined);
      throw (notFound !== undefined && e instanceof NetlinkError && e.syscall === 'open' && missing(e.code, path, notFound, mode === 'path', e)) || e;
    }
  }

  /** `ip netns add NAME`: a new, empty namespace (only a down loopback), named under /run/netns. */
  static async create(name: string): Promise<Namespace> {
    v.namespaceName(name);
    return Namespace.start('create', `${NETNS_RUN_DIR}/${name}`, name, `namespace ${name}`);
  }

  /**
   * Opens a named namespace (`ip netns exec NAME`), whoever created it. An
   * entry that is not a network namespace — a symbolic link (never followed),
   * an empty file left by a killed create, anything else — is refused with a
   * BrokenNamespaceError (ERR_NOT_A_NAMESPACE) whose `entry` says what it is.
   */
  static async open(name: string): Promise<Namespace> {
    v.namespaceName(name);
    const path = `${NETNS_RUN_DIR}/${name}`;
    mustExist(path, `no namespace named ${v.describe(name)} in ${NETNS_RUN_DIR}`, true);
    try {
      return await Namespace.start('name', path, name, `namespace ${name}`, -1, `no namespace named ${v.describe(name)} in ${NETNS_RUN_DIR}`);
    } catch (e) {
      // The checks were made on the opened fd; now say what the entry is.
      if (e instanceof NetlinkError && (e.code === 'ELOOP' || (e.code === 'EINVAL' && /^(fstatfs|ioctl)$/.test(e.syscall)))) {
        const entry = (await classify(name)) ?? { name, broken: 'not-a-namespace' as const };
        throw new BrokenNamespaceError(entry, `${path} is not a network namespace: ${describeEntry(entry, e)}; not opened`, e);
      }
      throw e;
    }
  }

  /** The namespace of a running process, like `ip link set DEV netns PID` names it. */
  static async fromPid(pid: number): Promise<Namespace> {
    v.pid(pid);
    const path = `/proc/${pid}/ns/net`;
    mustExist(path, `no process ${pid}`);
    return Namespace.start('path', path, undefined, `namespace of pid ${pid}`, -1, `no process ${pid}`);
  }

  /** A namespace by its file: /proc/PID/ns/net, /var/run/docker/netns/ID, a bind mount... */
  static async fromPath(path: string): Promise<Namespace> {
    v.path(path);
    return Namespace.start('path', path, undefined, `namespace ${path}`, -1, `no such file ${path}`);
  }

  /**
   * The namespace an open file descriptor refers to — one this process was
   * given (SCM_RIGHTS, an inherited fd) rather than a path to resolve. The fd
   * is dup'd before this returns and the dup is checked like any opened path
   * (nsfs, by fstatfs; a network namespace, by NS_GET_NSTYPE): anything else
   * is refused (ERR EINVAL). The caller keeps `fd` and may close it at once.
   * `path` is only the name shown in messages and `ns.path`.
   */
  static async fromFd(fd: number, path = `fd ${fd}`): Promise<Namespace> {
    v.uint(fd, 'fd', 0x7fffffff);
    if (typeof path !== 'string') throw new NetplumbError(C.INVALID_ARGUMENT, 'path must be a string', { value: path, argument: 'path' });
    return Namespace.start('fd', path, undefined, `namespace ${path}`, fd);
  }

  /**
   * A second, independent handle on the namespace of `ns` (its own socket).
   * The namespace is pinned synchronously, by an fd of it taken from `ns`'s
   * socket before this returns: `ns` may be closed right after, and its fd
   * numbers reused, without changing which namespace this opens.
   * Use it instead of `fromPath('/proc/self/fd/' + fd)`, which opens
   * whatever that number is by the time the path is resolved.
   */
  static async duplicate(ns: Namespace): Promise<Namespace> {
    if (!(ns instanceof Namespace)) throw new NetplumbError(C.INVALID_ARGUMENT, 'ns must be a Namespace', { value: ns, argument: 'ns' });
    ns.assertOpen();
    return Namespace.start('ref', ns.path, undefined, `namespace ${ns}`, ns.ref);
  }

  /** The namespace this process runs in. */
  static async current(): Promise<Namespace> {
    return Namespace.start('current', '/proc/self/ns/net', undefined, 'current namespace');
  }

  /**
   * `ip netns attach NAME PID`: names the namespace of a running process
   * under /run/netns (visible to `ip netns list`), and opens it.
   */
  static async attach(name: string, pid: number): Promise<Namespace> {
    v.namespaceName(name);
    v.pid(pid);
    // The process's namespace is opened first and held by our own handle for
    // the whole operation: the name is mounted from an fd of it taken from
    // that handle (synchronously, as the call is made), not from
    // /proc/PID/ns/net (the pid could exit and be reused meanwhile), and the
    // result is that handle, not the name opened again.
    const src = await Namespace.fromPid(pid);
    const path = `${NETNS_RUN_DIR}/${name}`;
    try {
      src.assertOpen();
      await kernel(native().attachNamespace(path, src.ref), `namespace ${name} (attach pid ${pid})`);
    } catch (e) {
      await src.close();
      throw e;
    }
    // The same I/O thread, now under its name.
    finalizer.unregister(src);
    src.#closed = true;
    return new Namespace(src.handle, { ref: src.ref, dev: src.dev, ino: src.inode }, path, name, 'attached');
  }

  /**
   * `ip netns list`: the names under /run/netns that are namespaces, sorted.
   * Entries that are not (symbolic links, empty files left by a killed
   * create, names with control characters...) are left out: see listBroken().
   */
  static async list(): Promise<string[]> {
    const names = await readRunDir();
    const kinds = await Promise.all(names.map((n) => classify(n)));
    return names.filter((_, i) => kinds[i] === undefined);
  }

  /**
   * The entries of /run/netns that are not namespaces one can open, with
   * what each is; Namespace.delete(name) removes any of them (a symbolic link
   * is unlinked, never followed).
   */
  static async listBroken(): Promise<BrokenEntry[]> {
    const names = await readRunDir();
    const kinds = await Promise.all(names.map((n) => classify(n)));
    return kinds.filter((k): k is BrokenEntry => k !== undefined && k !== null);
  }

  /**
   * `ip netns delete NAME`, for a namespace we hold no object for. Also
   * removes a broken entry (listBroken): a symbolic link is unlinked, never
   * followed; an empty file or directory removed.
   */
  static async delete(name: string): Promise<void> {
    v.namespaceEntry(name);
    const path = `${NETNS_RUN_DIR}/${name}`;
    mustExist(path, `no namespace named ${v.describe(name)} in ${NETNS_RUN_DIR}`, true);
    await kernel(native().removeNamespace(path), `namespace ${v.describe(name)}`);
  }

  /** True once `close()` or `delete()` ran: every operation on this namespace then throws ERR_NAMESPACE_CLOSED. */
  get closed(): boolean {
    return this.#closed;
  }

  /** @internal Throws unless open. */
  assertOpen(): this {
    if (this.#closed) throw new NetplumbError(C.NAMESPACE_CLOSED, `namespace ${this} is closed`);
    return this;
  }

  /** Same namespace (same nsfs inode)? */
  equals(other: Namespace): boolean {
    return other instanceof Namespace && other.dev === this.dev && other.inode === this.inode;
  }

  /**
   * The id under which this namespace knows `other` (RTM_GETNSID), as links
   * report it in `peerNetnsId`; undefined if none is assigned. The kernel
   * assigns one when a link here gets its peer in `other`.
   */
  async idOf(other: Namespace): Promise<number | undefined> {
    this.assertOpen();
    if (!(other instanceof Namespace)) throw new NetplumbError(C.INVALID_ARGUMENT, 'other must be a Namespace', { argument: 'other' });
    other.assertOpen();
    const id = await kernel(this.handle.nsid(other.ref), () => `id of namespace ${other} in namespace ${this}`);
    return id >= 0 ? id : undefined;
  }

  /** `ip netns set NAME ID` seen from here: gives `other` the id `id` in this namespace. */
  async setId(other: Namespace, id: number): Promise<void> {
    this.assertOpen();
    if (!(other instanceof Namespace)) throw new NetplumbError(C.INVALID_ARGUMENT, 'other must be a Namespace', { argument: 'other' });
    other.assertOpen();
    v.uint(id, 'id', 0x7fffffff);
    await kernel(this.handle.setNsid(other.ref, id), () => `id ${id} for namespace ${other} in namespace ${this}`);
  }

  /**
   * Starts a process inside this namespace: child_process.spawn semantics
   * (stdio, exit codes, signals), no `ip netns exec` or `nsenter` in between.
   * Note: like a plain setns, /sys still shows the caller's view.
   */
  spawn(command: string, args?: readonly string[], options?: child_process.SpawnOptions): child_process.ChildProcess {
    return inside().spawnIn(this, command, args, options);
  }

  /** Runs a command inside this namespace to completion. A missing program rejects with Node's ENOENT spawn error. */
  exec(command: string, args?: readonly string[], options?: ExecOptions): Promise<ExecResult> {
    return inside().execIn(this, command, args, options);
  }

  /** Makes `server` listen on a socket created inside this namespace. */
  listen<S extends net.Server>(server: S, opts: ListenOptions): Promise<S> {
    return inside().listenIn(this, server, opts);
  }

  /** A TCP connection from inside this namespace. */
  connect(opts: ConnectOptions): Promise<net.Socket> {
    return inside().connectIn(this, opts);
  }

  /** An http.Agent connecting from inside this namespace: `http.get(url, { agent: ns.agent() })`. */
  agent(options?: http.AgentOptions): http.Agent {
    return inside().agentIn(this, options);
  }

  /** A UDP socket bound inside this namespace. */
  createSocket(type: 'udp4' | 'udp6', opts?: UdpOptions): Promise<dgram.Socket> {
    return inside().createSocketIn(this, type, opts);
  }

  /** The namespace's net.* sysctls: `await ns.sysctl.set('net.ipv4.ip_forward', 1)`. */
  get sysctl(): Sysctl {
    return new (inside().Sysctl)(this);
  }

  /** The loopback device: ifindex 1 in every namespace. */
  get loopback(): Link {
    return linkClass().fromRaw(this, {
      index: 1, name: 'lo', kind: '', slaveKind: '', flags: 0, type: 772, mtu: 65536, minMtu: 0, maxMtu: 0,
      mac: '00:00:00:00:00:00', broadcast: '00:00:00:00:00:00', operstate: 0, master: 0, link: 0, linkNetnsid: -1,
      group: 0, txqlen: 1000, alias: '',
    });
  }

  /**
   * The links in this namespace: `ip -n NS link show`. Same as `Link.list(ns, opts)`.
   * @throws NetplumbError ERR_NAMESPACE_CLOSED, ERR_INVALID_ARGUMENT, ERR_UNKNOWN_OPTION, ERR_INVALID_IFNAME (a bad `kind`), ERR_LINK_NOT_FOUND (`master`)
   */
  links(opts?: LinkListOptions): Promise<Link[]> {
    return linkClass().list(this, opts);
  }

  /**
   * One link of this namespace by name or ifindex: `ip -n NS link show DEV`. Same as `Link.get(ns, ref)`.
   * @throws NetplumbError ERR_NAMESPACE_CLOSED, ERR_INVALID_IFNAME, ERR_INVALID_ARGUMENT (a bad ifindex), ERR_LINK_NOT_FOUND
   */
  link(ref: string | number): Promise<Link> {
    return linkClass().get(this, ref);
  }

  /**
   * Removes the name (for a named namespace) and closes our handle. The kernel
   * frees the namespace, and every link in it, when nothing else holds it.
   * A namespace this object only opened (Namespace.open: someone else's) is
   * not ours to remove: ERR_NAMESPACE_NOT_OURS, unless `{ force: true }`.
   * The name is removed only while it still refers to this namespace: if it
   * was deleted and reused meanwhile, the new one is left alone.
   */
  async delete(options?: DeleteOptions): Promise<void> {
    const o = v.options<DeleteOptions>(options, DELETE_KEYS, 'ns.delete');
    const force = o.force !== undefined ? v.bool(o.force, 'force') : false;
    if (this.name !== undefined && this.#origin === 'opened' && !force)
      throw new NetplumbError(
        C.NAMESPACE_NOT_OURS,
        `namespace ${this.name} was opened, not created, by this object: delete() would remove someone else's namespace; close() it, or delete({ force: true })`,
        { value: this.name, argument: 'this' },
      );
    if (this.name !== undefined && !this.#deleted) {
      // Removing the name needs no open handle: it works after close() too.
      await kernel(native().removeNamespace(this.path, this.dev, this.inode), `namespace ${this.name}`).catch((e: unknown) => {
        // ENOENT: the name is gone, or names another namespace now (left alone).
        if ((e as { code?: string }).code !== 'ENOENT') throw e;
      });
      this.#deleted = true;
    }
    await this.close();
  }

  /** Closes the netlink socket (and the namespace's watchers). The namespace itself stays. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    finalizer.unregister(this);
    if (this.#dependents) for (const close of [...this.#dependents]) close();
    await this.handle.close();
  }

  // Made on first use: most namespaces never have one (10,000 open namespaces, 10,000 empty Sets).
  #dependents: Set<() => void> | undefined;
  /** @internal Something that must close with this namespace (a Watcher): `close` runs in close(); returns the unregistration. */
  closesWith(close: () => void): () => void {
    const set = (this.#dependents ??= new Set());
    set.add(close);
    return () => set.delete(close);
  }

  /** `await using ns = await Namespace.create(...)`: deletes what we created, closes what we opened. */
  async [Symbol.asyncDispose](): Promise<void> {
    if (this.#origin === 'created') await this.delete();
    else await this.close();
  }

  /** The namespace's name (as `ip netns list` shows it), or its path when it has none. */
  toString(): string {
    return this.name ?? this.path;
  }
}

let shared: Promise<Namespace> | undefined;

/** @internal The process's own namespace, opened once and kept for the default `namespace` option. */
export function defaultNamespace(): Promise<Namespace> {
  shared ??= Namespace.current().catch((e: unknown) => {
    shared = undefined;
    throw e;
  });
  return shared;
}

/** @internal The namespace an option names, or the process's own. */
export async function resolveNamespace(ns: unknown, argument = 'namespace'): Promise<Namespace> {
  if (ns === undefined) return defaultNamespace();
  if (!(ns instanceof Namespace))
    throw new NetplumbError(C.INVALID_ARGUMENT, `${argument} must be a Namespace`, { value: ns, argument });
  return ns.assertOpen();
}

async function readRunDir(): Promise<string[]> {
  try {
    return (await fsp().readdir(NETNS_RUN_DIR)).sort();
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw e;
  }
}

/**
 * What /run/netns/NAME is: undefined for a namespace, null if it is gone,
 * else the broken entry. Looks, never follows: lstat first, statfs only on
 * what is not a symbolic link.
 */
async function classify(name: string): Promise<BrokenEntry | null | undefined> {
  const path = `${NETNS_RUN_DIR}/${name}`;
  try {
    const st = await fsp().lstat(path);
    if (st.isSymbolicLink()) {
      const target = await fsp().readlink(path).catch(() => undefined);
      return target !== undefined ? { name, broken: 'symlink', target } : { name, broken: 'symlink' };
    }
    let ok = true;
    try {
      v.namespaceName(name);
    } catch {
      ok = false;
    }
    if (!ok) return { name, broken: 'invalid-name' };
    if ((await fsp().statfs(path)).type === NSFS_MAGIC) return undefined;
    if (st.isFile() && st.size === 0) return { name, broken: 'empty-file' };
    return { name, broken: 'not-a-namespace' };
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw e;
  }
}

function describeEntry(entry: BrokenEntry, e: NetlinkError): string {
  switch (entry.broken) {
    case 'symlink':
      return `a symbolic link${entry.target !== undefined ? ` to ${entry.target}` : ''} (not followed)`;
    case 'empty-file':
      return 'an empty file (a create killed before its mount leaves one; Namespace.delete(name) removes it)';
    case 'invalid-name':
      return 'an entry with an invalid name';
    default:
      return e.detail ?? 'not a mounted namespace';
  }
}

/**
 * The NetplumbError of a path that is not there (ENOENT, ENOTDIR, ESRCH) or is
 * not a usable path (ENAMETOOLONG; ELOOP where links are followed: a
 * /run/netns entry's link is refused as such by Namespace.open), from a stat
 * or from the open itself; undefined for any other errno.
 */
function missing(code: string | undefined, path: string, what: string, follows: boolean, cause: unknown): NetplumbError | undefined {
  if (code === 'ENOENT' || code === 'ENOTDIR' || code === 'ESRCH') return new NetplumbError(C.NAMESPACE_NOT_FOUND, what, { value: path, cause });
  if (code === 'ENAMETOOLONG' || (code === 'ELOOP' && follows))
    return new NetplumbError(C.INVALID_PATH, `${what}: ${code === 'ELOOP' ? 'too many symbolic links' : 'name too long'}`, { value: path, cause });
  return undefined;
}

/**
 * Throws NAMESPACE_NOT_FOUND (or INVALID_PATH) unless `path` exists. Only for
 * /proc/PID/ns/net and /run/netns entries: in-memory filesystems, where a
 * synchronous stat never waits for I/O, and no libuv threadpool is started
 * for it (about 4 ms in a fresh process). Any other path (fromPath) is
 * checked by the open itself, on an I/O thread (see missing()).
 */
function mustExist(path: string, what: string, entry = false): void {
  try {
    // A /run/netns entry is looked at, not followed: a dangling symbolic link exists.
    if (entry) fs.lstatSync(path);
    else fs.statSync(path);
  } catch (e) {
    const known = missing((e as NodeJS.ErrnoException).code, path, what, true, e);
    if (known) throw known;
    const errno = (e as NodeJS.ErrnoException).errno;
    if (typeof errno === 'number') throw new NetlinkError({ native: true, errno, syscall: 'stat', detail: path }, what);
    throw e;
  }
}
