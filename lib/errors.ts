import * as util from 'node:util';

/**
 * Input refused by netplumb before anything reached the kernel: a bad
 * interface name, a malformed CIDR, a closed namespace... `code` is stable
 * and documented ('ERR_INVALID_IFNAME', 'ERR_INVALID_CIDR', ...).
 */
export class NetplumbError extends Error {
  override readonly name = 'NetplumbError' as const;
  readonly code: string;
  /** The offending value or argument, where there is one. */
  readonly value?: unknown;
  readonly argument?: string;

  constructor(code: string, message: string, extra: { value?: unknown; argument?: string; cause?: unknown } = {}) {
    super(message, extra.cause !== undefined ? { cause: extra.cause } : undefined);
    this.code = code;
    if ('value' in extra) this.value = extra.value;
    if (extra.argument !== undefined) this.argument = extra.argument;
  }
}

/** An entry of /run/netns that is not a namespace one can open (Namespace.listBroken). */
export interface BrokenEntry {
  name: string;
  /**
   * 'symlink': a symbolic link (never followed: it could lead anywhere, e.g. /proc/1/ns/net);
   * 'empty-file': an empty regular file, what a create killed before its mount leaves;
   * 'not-a-namespace': anything else that is not a mounted namespace (a file with data, a directory...);
   * 'invalid-name': a name Namespace.open refuses (control characters, e.g. a newline).
   */
  broken: 'symlink' | 'empty-file' | 'not-a-namespace' | 'invalid-name';
  /** For a symlink: where it points (read, not followed). */
  target?: string;
}

/** Namespace.open of a /run/netns entry that is not a network namespace: `entry` says what it is. */
export class BrokenNamespaceError extends NetplumbError {
  readonly entry: BrokenEntry;
  constructor(entry: BrokenEntry, message: string, cause?: unknown) {
    super('ERR_NOT_A_NAMESPACE', message, { value: entry.name, argument: 'name', cause });
    this.entry = entry;
  }
}

/** Codes of NetplumbError, for `switch` and documentation. */
export const ErrorCodes = {
  INVALID_ARGUMENT: 'ERR_INVALID_ARGUMENT',
  INVALID_IFNAME: 'ERR_INVALID_IFNAME',
  INVALID_NAMESPACE_NAME: 'ERR_INVALID_NAMESPACE_NAME',
  INVALID_CIDR: 'ERR_INVALID_CIDR',
  INVALID_IP: 'ERR_INVALID_IP',
  INVALID_MAC: 'ERR_INVALID_MAC',
  INVALID_MTU: 'ERR_INVALID_MTU',
  INVALID_PID: 'ERR_INVALID_PID',
  INVALID_PATH: 'ERR_INVALID_PATH',
  FAMILY_MISMATCH: 'ERR_FAMILY_MISMATCH',
  NAMESPACE_NOT_FOUND: 'ERR_NAMESPACE_NOT_FOUND',
  NAMESPACE_CLOSED: 'ERR_NAMESPACE_CLOSED',
  LINK_NOT_FOUND: 'ERR_LINK_NOT_FOUND',
  NOT_A_BRIDGE: 'ERR_NOT_A_BRIDGE',
  WRONG_NAMESPACE: 'ERR_WRONG_NAMESPACE',
  INVALID_SYSCTL: 'ERR_INVALID_SYSCTL',
  UNKNOWN_SYSCTL: 'ERR_UNKNOWN_SYSCTL',
  INVALID_LLADDR: 'ERR_INVALID_LLADDR',
  PORT_CONFLICT: 'ERR_PORT_CONFLICT',
  SUBNET_EXHAUSTED: 'ERR_SUBNET_EXHAUSTED',
  ADDRESS_IN_USE: 'ERR_ADDRESS_IN_USE',
  INVALID_MODE: 'ERR_INVALID_MODE',
  TIMEOUT: 'ERR_TIMEOUT',
  NOT_A_NAMESPACE: 'ERR_NOT_A_NAMESPACE',
  NAMESPACE_NOT_OURS: 'ERR_NAMESPACE_NOT_OURS',
  WATCHER_CLOSED: 'ERR_WATCHER_CLOSED',
  FOREIGN_TABLE: 'ERR_FOREIGN_TABLE',
  IFNAME_IN_USE: 'ERR_IFNAME_IN_USE',
  LOCK_TIMEOUT: 'ERR_LOCK_TIMEOUT',
  ENDPOINT_EXISTS: 'ERR_ENDPOINT_EXISTS',
  SUBNET_OVERLAP: 'ERR_SUBNET_OVERLAP',
  UNKNOWN_OPTION: 'ERR_UNKNOWN_OPTION',
  INVALID_NEXTHOP: 'ERR_INVALID_NEXTHOP',
  INVALID_VLAN: 'ERR_INVALID_VLAN',
  RENDERER_MISSING: 'ERR_RENDERER_MISSING',
} as const;

export interface NativeErrorShape {
  native: true;
  errno: number;
  syscall: string;
  extack?: string;
  offset?: number;
  attribute?: string;
  missingAttribute?: string;
  detail?: string;
  dumpInterrupted?: boolean;
  malformedReply?: boolean;
}

/**
 * The kernel (or a system call on our I/O thread) said no. Shaped like Node's
 * own system errors: `code` 'EEXIST', `errno` negative (-17, as in fs errors),
 * `syscall` the operation ('RTM_NEWLINK', 'setns'...). `extack` is the
 * kernel's own explanation when it gave one, `attribute` the attribute of our
 * request it pointed at, `object` what the request was about.
 */
export class NetlinkError extends Error {
  override readonly name = 'NetlinkError' as const;
  readonly code: string;
  readonly errno: number;
  readonly syscall: string;
  readonly object: string;
  readonly extack?: string;
  readonly attribute?: string;
  readonly missingAttribute?: string;
  readonly detail?: string;
  /** A dump kept being interrupted by concurrent changes (NLM_F_DUMP_INTR). */
  readonly dumpInterrupted?: boolean;
  /**
   * A reply message could not be decoded (an attribute of the wrong width, a
   * length out of bounds): the request fails (ERR_MALFORMED_REPLY, errno
   * EBADMSG) rather than return a list without it; `attribute` names it.
   */
  readonly malformedReply?: boolean;

  constructor(e: NativeErrorShape, object: string) {
    const code = e.dumpInterrupted ? 'ERR_DUMP_INTERRUPTED' : e.malformedReply ? 'ERR_MALFORMED_REPLY' : errnoName(e.errno);
    const parts = [`${e.syscall} ${object}: ${errnoText(e.errno)} (${code})`];
    if (e.extack) parts.push(`kernel: ${e.extack}`);
    if (e.attribute) parts.push(`attribute: ${e.attribute}`);
    if (e.missingAttribute) parts.push(`missing attribute: ${e.missingAttribute}`);
    if (e.detail) parts.push(e.detail);
    const cap = missingCapability(e);
    if (cap) parts.push(cap);
    super(parts.join(' — '));
    this.code = code;
    this.errno = -Math.abs(e.errno);
    this.syscall = e.syscall;
    this.object = object;
    if (e.extack) this.extack = e.extack;
    if (e.attribute) this.attribute = e.attribute;
    if (e.missingAttribute) this.missingAttribute = e.missingAttribute;
    if (e.detail) this.detail = e.detail;
    if (e.dumpInterrupted) this.dumpInterrupted = true;
    if (e.malformedReply) this.malformedReply = true;
  }
}

// Linux's names where libuv's differ (95 is EOPNOTSUPP to the kernel; libuv says ENOTSUP).
const LINUX_NAMES: Record<number, string> = { 85: 'ERESTART', 95: 'EOPNOTSUPP' };

function errnoName(errno: number): string {
  const n = Math.abs(errno);
  if (LINUX_NAMES[n]) return LINUX_NAMES[n];
  const entry = util.getSystemErrorMap().get(-n);
  return entry ? entry[0] : `E${n}`;
}

function errnoText(errno: number): string {
  const entry = util.getSystemErrorMap().get(-Math.abs(errno));
  if (entry) return entry[1];
  // Kernel-internal codes that still reach userspace.
  if (Math.abs(errno) === 524) return 'operation not supported (kernel ENOTSUPP)';
  if (Math.abs(errno) === 85) return 'interrupted system call should be restarted';
  return `errno ${Math.abs(errno)}`;
}

/** For EPERM/EACCES: which capability the operation needs, in words. */
function missingCapability(e: NativeErrorShape): string | undefined {
  const n = Math.abs(e.errno);
  if (n !== 1 && n !== 13) return undefined;
  if (/^(setns|unshare|mount|umount2)$/.test(e.syscall))
    return 'needs CAP_SYS_ADMIN (entering, creating or mounting network namespaces)';
  if (e.detail?.startsWith('/proc/sys/')) return 'needs CAP_NET_ADMIN in the namespace to change its sysctls (run as root)';
  // A namespace file elsewhere (fromPath, fromPid): another process's needs ptrace access to it.
  if (e.syscall === 'open' && e.detail !== undefined && e.detail.startsWith('/') && !e.detail.startsWith('/run/netns/'))
    return "needs read access to the namespace file (another process's: root, or its user with ptrace access)";
  if (e.syscall === 'open' || e.syscall === 'mkdir' || e.syscall === 'unlink')
    return 'needs write access to /run/netns (root) and CAP_SYS_ADMIN';
  if (/^(RTM_|NFT_|NFNL_|socket|bind|sendmsg|write)/.test(e.syscall))
    return 'needs CAP_NET_ADMIN in the namespace (run as root, or grant the capability)';
  return undefined;
}

function isNativeError(e: unknown): e is NativeErrorShape {
  return typeof e === 'object' && e !== null && (e as { native?: unknown }).native === true;
}

/**
 * Awaits a native call and, if it fails, rethrows a NetlinkError created here,
 * in the caller's async frame, so the stack shows the user's own code.
 */
export async function kernel<T>(p: Promise<T>, object: string | (() => string)): Promise<T> {
  try {
    return await p;
  } catch (e) {
    throw typed(e, object);
  }
}

/**
 * kernel() for a request whose answer is not needed: resolves to undefined.
 * The object's text is text(a, b), made only on failure. kernelThen without
 * a result: its rejection handler alone holds the context (route calls).
 */
export function kernelDone<A, B>(p: Promise<unknown>, text: (a: A, b: B) => string, a: A, b: B): Promise<void> {
  if (otherRealm(p)) return kernelThenAwaited(p, nothing, text, a, b, undefined);
  return p.then(nothing, (e: unknown) => {
    throw aboutText(e, text, a, b, undefined);
  });
}

/**
 * Resolves to ok(a, b, c) once `p` (a native request) has; a native failure
 * rejects as a NetlinkError about text(a, b, c), made only then. Not an async
 * function (a generator, its register file and a promise per call, on every
 * address and route request): the rejection handler makes the error, and V8
 * follows the derived promise to whoever awaits it, so the stack still shows
 * the caller's own async frames (test/unit/errors.test.ts).
 */
export function kernelThen<T, A, B, C>(p: Promise<unknown>, ok: (a: A, b: B, c: C) => T, text: (a: A, b: B, c: C) => string, a: A, b: B, c: C): Promise<T> {
  if (otherRealm(p)) return kernelThenAwaited(p, ok, text, a, b, c);
  return p.then(
    () => ok(a, b, c),
    (e: unknown) => {
      throw aboutText(e, text, a, b, c);
    },
  );
}

/** A native error shape as a NetlinkError about text(a, b, c); anything else unchanged. */
function aboutText<A, B, C>(e: unknown, text: (a: A, b: B, c: C) => string, a: A, b: B, c: C): unknown {
  return isNativeError(e) ? new NetlinkError(e, text(a, b, c)) : e;
}

/**
 * A promise made in another realm than this module's: the addon's, when it
 * was loaded outside the vm context the library runs in (as jest loads native
 * addons). A caller's await then takes an extra job, which can run after a
 * rejection handler of ours (when the request was refused during the call),
 * and V8 finds no async frames above that handler: kernelThen awaits such a
 * promise in an async function instead (kernel-errors.test).
 */
const otherRealm = (p: Promise<unknown>): boolean => p.constructor !== Promise;

async function kernelThenAwaited<T, A, B, C>(p: Promise<unknown>, ok: (a: A, b: B, c: C) => T, text: (a: A, b: B, c: C) => string, a: A, b: B, c: C): Promise<T> {
  try {
    await p;
  } catch (e) {
    throw aboutText(e, text, a, b, c);
  }
  return ok(a, b, c);
}

const nothing = (): void => undefined;

/**
 * A native error shape (or an Error carrying one, thrown synchronously by the
 * addon) as a NetlinkError about `object`; anything else unchanged.
 */
export function fromNative(e: unknown, object: string | (() => string)): unknown {
  return typed(e, object);
}

function typed(e: unknown, object: string | (() => string)): unknown {
  return isNativeError(e) ? new NetlinkError(e, typeof object === 'function' ? object() : object) : e;
}
