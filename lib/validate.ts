// Every argument is checked here, before anything native runs. A refusal is
// a NetplumbError with a stable code; nothing reaches a system call.
import type * as NetModule from 'node:net';
import { ErrorCodes as C, NetplumbError } from './errors';

// node:net (and the streams it brings) is loaded the first time an address is
// not a plain dotted quad: an IPv4-only program never loads it.
let netModule: typeof NetModule | undefined;
// eslint-disable-next-line @typescript-eslint/no-require-imports
const net = (): typeof NetModule => (netModule ??= require('node:net') as typeof NetModule);

const IFNAMSIZ = 16;

/** A short, safe rendering of any value for error messages (never throws). */
export function describe(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v.length > 64 ? v.slice(0, 64) + '…' : v);
  if (typeof v === 'number' || typeof v === 'bigint' || typeof v === 'boolean') return String(v);
  if (v === null) return 'null';
  if (v === undefined) return 'undefined';
  return typeof v;
}

/** Interface names: 1–15 bytes, no '/', ':', whitespace or control characters, not '.' or '..'. */
export function ifname(v: unknown, argument = 'name'): string {
  const bad = (why: string) =>
    new NetplumbError(C.INVALID_IFNAME, `invalid interface name ${describe(v)} (${argument}): ${why}`, { value: v, argument });
  if (typeof v !== 'string') throw bad('must be a string');
  if (v.length === 0) throw bad('must not be empty');
  if (Buffer.byteLength(v) >= IFNAMSIZ) throw bad(`must be at most ${IFNAMSIZ - 1} bytes`);
  if (v === '.' || v === '..') throw bad("must not be '.' or '..'");
  // eslint-disable-next-line no-control-regex
  if (/[\s/:\u0000-\u001f\u007f]/.test(v)) throw bad("must not contain '/', ':', whitespace or control characters");
  // The kernel's isspace() also counts byte 0xa0 (it reads names byte by byte).
  // eslint-disable-next-line no-control-regex
  if (/[^\u0000-\u007f]/.test(v) && Buffer.from(v, 'utf8').includes(0xa0)) throw bad('must not contain byte 0xa0 (whitespace to the kernel)');
  return v;
}

/** IPv4 address labels ('eth0:1'): like an interface name, but ':' is allowed. */
export function label(v: unknown, argument = 'label'): string {
  const bad = (why: string) =>
    new NetplumbError(C.INVALID_IFNAME, `invalid address label ${describe(v)}: ${why}`, { value: v, argument });
  if (typeof v !== 'string' || v.length === 0) throw bad('must be a non-empty string');
  if (Buffer.byteLength(v) >= IFNAMSIZ) throw bad(`must be at most ${IFNAMSIZ - 1} bytes`);
  // eslint-disable-next-line no-control-regex
  if (/[\s/\u0000-\u001f\u007f]/.test(v)) throw bad("must not contain '/', whitespace or control characters");
  return v;
}

/** Namespace names as iproute2 stores them: a file name under /run/netns. */
export function namespaceName(v: unknown, argument = 'name'): string {
  return fileName(v, argument, (name, bad) => {
    // eslint-disable-next-line no-control-regex
    if (/[\u0000-\u001f\u007f]/.test(name)) throw bad('must not contain control characters');
  });
}

/** A file name under /run/netns: the checks namespaceName and namespaceEntry share, `extra` between them and the Unicode one. */
function fileName(v: unknown, argument: string, extra: (name: string, bad: (why: string) => NetplumbError) => void): string {
  const bad = (why: string) =>
    new NetplumbError(C.INVALID_NAMESPACE_NAME, `invalid namespace name ${describe(v)}: ${why}`, { value: v, argument });
  if (typeof v !== 'string') throw bad('must be a string');
  if (v.length === 0) throw bad('must not be empty');
  if (Buffer.byteLength(v) > 255) throw bad('must be at most 255 bytes');
  if (v === '.' || v === '..') throw bad("must not be '.' or '..'");
  if (v.includes('/')) throw bad("must not contain '/'");
  extra(v, bad);
  // A lone surrogate would reach the file system as U+FFFD: another name.
  if (!isWellFormed(v)) throw bad('must be well-formed Unicode (no lone surrogates)');
  return v;
}

function isWellFormed(v: string): boolean {
  return !/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/.test(v);
}

/**
 * A /run/netns entry to remove (Namespace.delete): any file name, including
 * ones namespaceName refuses for new namespaces (control characters, as
 * `ip netns add` allows): what can be listed can be deleted.
 */
export function namespaceEntry(v: unknown, argument = 'name'): string {
  return fileName(v, argument, (name, bad) => {
    if (name.includes('\0')) throw bad('must not contain NUL');
  });
}

export function path(v: unknown, argument = 'path'): string {
  const bytes = typeof v === 'string' ? Buffer.byteLength(v) : 0;
  if (typeof v !== 'string' || v.length === 0 || v.includes('\0') || bytes > 4095)
    throw new NetplumbError(C.INVALID_PATH, `invalid path ${describe(v)}`, { value: v, argument });
  // NAME_MAX: the kernel's ENAMETOOLONG for one component, said before any system call.
  if (bytes > 255 && v.split('/').some((c) => Buffer.byteLength(c) > 255))
    throw new NetplumbError(C.INVALID_PATH, `invalid path ${describe(v)}: a component is longer than 255 bytes`, { value: v, argument });
  return v;
}

export function pid(v: unknown, argument = 'pid'): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 1 || v > 4194304)
    throw new NetplumbError(C.INVALID_PID, `invalid pid ${describe(v)}: must be an integer from 1 to 4194304`, { value: v, argument });
  return v;
}

export function uint(v: unknown, argument: string, max = 0xffffffff, min = 0): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max)
    throw new NetplumbError(C.INVALID_ARGUMENT, `invalid ${argument} ${describe(v)}: must be an integer from ${min} to ${max}`, {
      value: v,
      argument,
    });
  return v;
}

export function bool(v: unknown, argument: string): boolean {
  if (typeof v !== 'boolean')
    throw new NetplumbError(C.INVALID_ARGUMENT, `invalid ${argument} ${describe(v)}: must be a boolean`, { value: v, argument });
  return v;
}

/**
 * The keys an options object may have, as an object literal `{ key: true }`:
 * the compiler checks it against the interface both ways (a key missing from
 * the list, or one the interface lacks, does not compile).
 */
export type Keys<T> = { readonly [K in keyof Required<T>]: true };

/** An options object (undefined: {}), whose keys are all in `keys` (ERR_UNKNOWN_OPTION otherwise). */
export function options<T extends object>(v: unknown, keys?: Keys<T>, what = 'options'): Partial<T> {
  if (v === undefined) return {};
  if (typeof v !== 'object' || v === null || Array.isArray(v))
    throw new NetplumbError(C.INVALID_ARGUMENT, `invalid ${what}: must be an object`, { value: v, argument: 'options' });
  if (keys) known(v, keys as Record<string, true>, what);
  return v as Partial<T>;
}

/**
 * ERR_UNKNOWN_OPTION for the first key of `o` not in `keys`, naming the
 * nearest valid key: `Route.add({ metrc: 5 })` is a typo, not a plain route.
 */
export function known(o: object, keys: Record<string, true>, what: string): void {
  // for-in rather than Object.keys(): no array per call (Object.keys' own
  // enumerable string keys are the ones for-in visits that pass the own check).
  for (const k in o) {
    if (!Object.prototype.hasOwnProperty.call(o, k) || Object.prototype.hasOwnProperty.call(keys, k)) continue;
    const valid = Object.keys(keys);
    const near = nearest(k, valid);
    throw new NetplumbError(
      C.UNKNOWN_OPTION,
      `unknown option ${JSON.stringify(k)} for ${what}${near ? `: did you mean ${JSON.stringify(near)}?` : ''} (valid: ${valid.join(', ')})`,
      { value: k, argument: k },
    );
  }
}

/** The valid key closest to `k` by edit distance (case-insensitive), if close enough to be a typo. */
function nearest(k: string, valid: string[]): string | undefined {
  const a = k.toLowerCase();
  let best: string | undefined;
  let bestD = Infinity;
  for (const cand of valid) {
    const b = cand.toLowerCase();
    const row = Array.from({ length: b.length + 1 }, (_, j) => j);
    for (let i = 1; i <= a.length; i++) {
      let prev = row[0] as number;
      row[0] = i;
      for (let j = 1; j <= b.length; j++) {
        const cur = row[j] as number;
        row[j] = Math.min(cur + 1, (row[j - 1] as number) + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
        prev = cur;
      }
    }
    const d = row[b.length] as number;
    if (d < bestD) [best, bestD] = [cand, d];
  }
  return best !== undefined && bestD <= Math.max(2, Math.floor(k.length / 3)) ? best : undefined;
}

export function mtu(v: unknown, argument = 'mtu'): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 68 || v > 65535)
    throw new NetplumbError(C.INVALID_MTU, `invalid MTU ${describe(v)}: must be an integer from 68 to 65535`, { value: v, argument });
  return v;
}

/** 'aa:bb:cc:dd:ee:ff' (or '-' separated) -> 6 bytes; unicast only. */
export function mac(v: unknown, argument = 'mac'): Uint8Array {
  const bad = (why: string) => new NetplumbError(C.INVALID_MAC, `invalid MAC address ${describe(v)}: ${why}`, { value: v, argument });
  if (typeof v !== 'string') throw bad('must be a string like "02:42:ac:11:00:02"');
  const m = /^([0-9a-fA-F]{2})([:-])([0-9a-fA-F]{2})\2([0-9a-fA-F]{2})\2([0-9a-fA-F]{2})\2([0-9a-fA-F]{2})\2([0-9a-fA-F]{2})$/.exec(v);
  if (!m) throw bad('must be six hex octets separated by ":"');
  const bytes = Uint8Array.from([m[1], m[3], m[4], m[5], m[6], m[7]].map((x) => parseInt(x as string, 16)));
  if ((bytes[0] as number) & 1) throw bad('must be a unicast address (lowest bit of the first octet clear)');
  if (bytes.every((b) => b === 0)) throw bad('must not be all zeros');
  return bytes;
}

export interface ParsedIp {
  family: 4 | 6;
  bytes: Uint8Array;
  text: string;
}

export function ipBytes(text: string, family: 4 | 6): Uint8Array {
  if (family === 4) return Uint8Array.from(text.split('.').map(Number));
  // IPv6 (already checked by net.isIP): an embedded IPv4 tail becomes two words.
  let s = text;
  const m = /^(.*:)(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(s);
  if (m) {
    const [a, b, c, d] = [m[2], m[3], m[4], m[5]].map(Number) as [number, number, number, number];
    s = `${m[1]}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const split = (x: string) => (x ? x.split(':') : []);
  const dbl = s.indexOf('::');
  let words: string[];
  if (dbl >= 0) {
    const head = split(s.slice(0, dbl));
    const tail = split(s.slice(dbl + 2));
    words = [...head, ...new Array<string>(8 - head.length - tail.length).fill('0'), ...tail];
  } else {
    words = split(s);
  }
  const out = new Uint8Array(16);
  words.forEach((w, i) => {
    const n = parseInt(w, 16);
    out[i * 2] = (n >> 8) & 0xff;
    out[i * 2 + 1] = n & 0xff;
  });
  return out;
}

/**
 * `s` as a dotted-quad IPv4 address, exactly as net.isIPv4 accepts it (four
 * decimal parts 0-255, no leading zeros), parsed; undefined if it is not one.
 * The common case, without net.isIP's regular expression and ipBytes' split.
 */
export function parseIpv4(s: string): Uint8Array | undefined {
  const out = new Uint8Array(4);
  let part = 0;
  let val = 0;
  let digits = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 46 /* . */) {
      if (digits === 0 || part === 3) return undefined;
      out[part++] = val;
      val = 0;
      digits = 0;
    } else if (c >= 48 && c <= 57) {
      if (digits === 1 && val === 0) return undefined; // a leading zero
      val = val * 10 + (c - 48);
      if (val > 255) return undefined;
      digits++;
    } else return undefined;
  }
  if (digits === 0 || part !== 3) return undefined;
  out[3] = val;
  return out;
}

export function ip(v: unknown, argument = 'address', family?: 4 | 6): ParsedIp {
  const v4 = typeof v === 'string' && family !== 6 ? parseIpv4(v) : undefined;
  if (v4) return { family: 4, bytes: v4, text: v as string };
  const fam = typeof v === 'string' ? net().isIP(v) : 0;
  if (typeof v !== 'string' || (fam !== 4 && fam !== 6) || v.includes('%'))
    throw new NetplumbError(C.INVALID_IP, `invalid IP address ${describe(v)} (${argument})`, { value: v, argument });
  if (family && fam !== family)
    throw new NetplumbError(C.FAMILY_MISMATCH, `${argument} ${v} is IPv${fam}, expected IPv${family}`, { value: v, argument });
  return { family: fam, bytes: ipBytes(v, fam), text: v };
}

export interface ParsedCidr extends ParsedIp {
  prefixlen: number;
}

const NO_CIDR_OPTS: { bareOk?: boolean; family?: 4 | 6 } = Object.freeze({});
/** `cidr()`'s options for a bare address taken with the full prefix, made once. */
export const BARE_OK: { bareOk: boolean } = Object.freeze({ bareOk: true });

function badCidr(v: unknown, argument: string, why: string): NetplumbError {
  return new NetplumbError(C.INVALID_CIDR, `invalid CIDR ${describe(v)} (${argument}): ${why}`, { value: v, argument });
}

/** '172.17.0.2/16' or 'fd00::1/64'. A bare address is taken with the full prefix only when `bareOk`. */
export function cidr(v: unknown, argument = 'cidr', opts: { bareOk?: boolean; family?: 4 | 6 } = NO_CIDR_OPTS): ParsedCidr {
  if (typeof v !== 'string') throw badCidr(v, argument, 'must be a string like "172.17.0.2/16"');
  const slash = v.indexOf('/');
  if (slash < 0 && !opts.bareOk) throw badCidr(v, argument, 'missing "/prefix"');
  const addr = slash < 0 ? v : v.slice(0, slash);
  const v4 = parseIpv4(addr);
  const fam = v4 ? 4 : net().isIP(addr);
  if ((fam !== 4 && fam !== 6) || addr.includes('%')) throw badCidr(v, argument, 'not an IPv4 or IPv6 address');
  const max = fam === 4 ? 32 : 128;
  let prefixlen = max;
  if (slash >= 0) {
    // 1 to 3 decimal digits.
    const n = v.length - slash - 1;
    prefixlen = 0;
    for (let i = slash + 1; i < v.length; i++) {
      const c = v.charCodeAt(i);
      if (c < 48 || c > 57 || n > 3) throw badCidr(v, argument, 'prefix length must be a decimal number');
      prefixlen = prefixlen * 10 + (c - 48);
    }
    if (n === 0) throw badCidr(v, argument, 'prefix length must be a decimal number');
    if (prefixlen > max) throw badCidr(v, argument, `prefix length must be at most ${max}`);
  }
  if (opts.family && fam !== opts.family)
    throw new NetplumbError(C.FAMILY_MISMATCH, `${argument} ${v} is IPv${fam}, expected IPv${opts.family}`, { value: v, argument });
  return { family: fam, bytes: v4 ?? ipBytes(addr, fam), text: addr, prefixlen };
}

/** 224.0.0.0/4 or ff00::/8. */
export function isMulticast(bytes: Uint8Array): boolean {
  return bytes.length === 4 ? ((bytes[0] as number) & 0xf0) === 0xe0 : bytes[0] === 0xff;
}

/** True if `bytes` has a bit set past its first `prefixlen` (a host address, not a network). Allocates nothing. */
export function hostBitsSet(bytes: Uint8Array, prefixlen: number): boolean {
  for (let i = 0; i < bytes.length; i++) {
    const keep = Math.max(0, Math.min(8, prefixlen - i * 8));
    if (((bytes[i] as number) & (0xff >> keep)) !== 0) return true;
  }
  return false;
}

/** The network part of an address: host bits cleared. */
export function networkOf(bytes: Uint8Array, prefixlen: number): Uint8Array {
  const out = new Uint8Array(bytes);
  for (let i = 0; i < out.length; i++) {
    const keep = Math.max(0, Math.min(8, prefixlen - i * 8));
    out[i] = (out[i] as number) & ((0xff << (8 - keep)) & 0xff);
  }
  return out;
}

export function formatIp(bytes: Uint8Array): string {
  if (bytes.length === 4) return `${bytes[0] as number}.${bytes[1] as number}.${bytes[2] as number}.${bytes[3] as number}`;
  const words: string[] = [];
  for (let i = 0; i < 16; i += 2) words.push((((bytes[i] as number) << 8) | (bytes[i + 1] as number)).toString(16));
  // Compress the longest run of zeros, as inet_ntop does.
  let best = -1, bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (words[i] !== '0') { i++; continue; }
    let j = i;
    while (j < 8 && words[j] === '0') j++;
    if (j - i > bestLen && j - i > 1) { best = i; bestLen = j - i; }
    i = j;
  }
  // IPv4-mapped (::ffff:a.b.c.d) and -compatible (::a.b.c.d) forms, as inet_ntop writes them.
  if (best === 0 && (bestLen === 6 || (bestLen === 5 && words[5] === 'ffff')))
    return `::${bestLen === 5 ? 'ffff:' : ''}${Array.from(bytes.slice(12)).join('.')}`;
  if (best < 0) return words.join(':');
  return words.slice(0, best).join(':') + '::' + words.slice(best + bestLen).join(':');
}
