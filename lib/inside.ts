// Working inside a namespace from this process: child processes, Node
// sockets and sysctls. None of it forks an `ip netns exec` or `nsenter`.
import * as child_process from 'node:child_process';
import * as dgram from 'node:dgram';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as net from 'node:net';
import { ErrorCodes as C, kernel, NetlinkError, NetplumbError } from './errors';
import { native } from './native';
import type { Namespace } from './namespace';
import * as v from './validate';

/** What `Namespace.exec` returns once the command has ended (`ip netns exec NS CMD`): its output and how it ended. */
export interface ExecResult {
  stdout: string;
  stderr: string;
  /** Exit code, or null when a signal ended the process. */
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** Options of `Namespace.exec`: Node's spawn options (without `stdio`) plus the child's input and an output limit. */
export interface ExecOptions extends Omit<child_process.SpawnOptions, 'stdio'> {
  /** Written to the child's stdin, which is then closed. */
  input?: string | Buffer;
  /** Largest stdout/stderr kept, each (bytes). Default 16 MiB. */
  maxBuffer?: number;
}

function checkCommand(command: unknown, args: unknown): string[] {
  if (typeof command !== 'string' || command.length === 0 || command.includes('\0'))
    throw new NetplumbError(C.INVALID_ARGUMENT, 'command must be a non-empty string', { value: command, argument: 'command' });
  if (args === undefined) return [];
  if (!Array.isArray(args) || !args.every((a) => typeof a === 'string' && !a.includes('\0')))
    throw new NetplumbError(C.INVALID_ARGUMENT, 'args must be an array of strings', { value: args, argument: 'args' });
  return args as string[];
}

/**
 * child_process.spawn with the child born inside `ns`: the calling thread
 * enters the namespace for the instant of the fork (the child inherits the
 * forking thread's namespace) and is always back in its own before this
 * returns or throws.
 */
export function spawnIn(ns: Namespace, command: string, args?: readonly string[], options?: child_process.SpawnOptions): child_process.ChildProcess {
  ns.assertOpen();
  const argv = checkCommand(command, args);
  if (options !== undefined) v.options(options);
  const saved = native().enterNamespace(ns.ref);
  if (typeof saved !== 'number') throw new NetlinkError(saved, `enter namespace ${ns} to spawn ${command}`);
  try {
    return child_process.spawn(command, argv, options ?? {});
  } finally {
    const err = native().restoreNamespace(saved);
    if (err) {
      // The JS thread could not return to its namespace: nothing it does from
      // here on would mean what it says. Fail loudly rather than carry on.
      const e = new NetlinkError(err, `return from namespace ${ns}`);
      process.emitWarning(e);
      // eslint-disable-next-line no-unsafe-finally -- deliberate: this error replaces the spawn's result
      throw e;
    }
  }
}

/** Runs a command inside `ns` to completion: `ip netns exec NS cmd...` without the ip. */
export function execIn(ns: Namespace, command: string, args?: readonly string[], options?: ExecOptions): Promise<ExecResult> {
  const o = v.options<ExecOptions>(options);
  const { input, maxBuffer = 16 << 20, ...spawnOpts } = o;
  return new Promise((resolve, reject) => {
    let child: child_process.ChildProcess;
    try {
      child = spawnIn(ns, command, args, { ...spawnOpts, stdio: ['pipe', 'pipe', 'pipe'] });
    } catch (e) {
      reject(e);
      return;
    }
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let outLen = 0;
    let errLen = 0;
    child.stdout?.on('data', (d: Buffer) => {
      if (outLen < maxBuffer) out.push(d);
      outLen += d.length;
    });
    child.stderr?.on('data', (d: Buffer) => {
      if (errLen < maxBuffer) err.push(d);
      errLen += d.length;
    });
    child.on('error', reject);
    child.on('close', (code, signal) => {
      resolve({ stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8'), code, signal });
    });
    if (input !== undefined) child.stdin?.end(input);
    else child.stdin?.end();
  });
}

function hostOf(host: unknown, family: 4 | 6 | undefined, argument: string): v.ParsedIp {
  return v.ip(host, argument, family);
}

/** Options of `Namespace.listen`: where a server listens inside the namespace (as if started under `ip netns exec NS`). */
export interface ListenOptions {
  port: number;
  /** Address to bind, an IP literal. Default '0.0.0.0'. */
  host?: string;
  backlog?: number;
}

const LISTEN_KEYS: v.Keys<ListenOptions> = { port: true, host: true, backlog: true };

/** Binds a socket inside `ns` and makes `server` (net.Server, http.Server...) listen on it. */
export async function listenIn<S extends net.Server>(ns: Namespace, server: S, opts: ListenOptions): Promise<S> {
  ns.assertOpen();
  if (!(server instanceof net.Server))
    throw new NetplumbError(C.INVALID_ARGUMENT, 'server must be a net.Server (or http.Server...)', { argument: 'server' });
  const o = v.options<ListenOptions>(opts, LISTEN_KEYS, 'listen');
  const port = v.uint(o.port, 'port', 65535);
  const host = hostOf(o.host ?? '0.0.0.0', undefined, 'host');
  const backlog = o.backlog !== undefined ? v.uint(o.backlog, 'backlog', 65535, 1) : 511;
  const fd = await kernel(ns.handle.socket({ domain: host.family, type: 'stream', bind: host.bytes, port }), `listen on ${host.text}:${port} in namespace ${ns}`);
  await new Promise<void>((resolve, reject) => {
    const onError = (e: Error) => {
      server.off('listening', onListening);
      reject(e);
    };
    const onListening = () => {
      server.off('error', onError);
      resolve();
    };
    server.once('error', onError);
    server.once('listening', onListening);
    try {
      server.listen({ fd, backlog });
    } catch (e) {
      fs.closeSync(fd);
      server.off('error', onError);
      server.off('listening', onListening);
      reject(e);
    }
  });
  return server;
}

/** Options of `Namespace.connect`: a TCP connection made from inside the namespace. */
export interface ConnectOptions {
  /** An IP literal: names would be resolved outside the namespace. */
  host: string;
  port: number;
}

const CONNECT_KEYS: v.Keys<ConnectOptions> = { host: true, port: true };

/** A TCP connection made from inside `ns`: a net.Socket, connecting. */
export async function connectIn(ns: Namespace, opts: ConnectOptions): Promise<net.Socket> {
  ns.assertOpen();
  const o = v.options<ConnectOptions>(opts, CONNECT_KEYS, 'connect');
  const host = hostOf(o.host, undefined, 'host');
  const port = v.uint(o.port, 'port', 65535, 1);
  const fd = await kernel(ns.handle.socket({ domain: host.family, type: 'stream' }), `connect to ${host.text}:${port} from namespace ${ns}`);
  const sock = new net.Socket({ fd, readable: true, writable: true });
  sock.connect(port, host.text);
  return sock;
}

/** An http.Agent whose connections are made from inside `ns` (for http.get/request). */
export function agentIn(ns: Namespace, options?: http.AgentOptions): http.Agent {
  class NamespaceAgent extends http.Agent {
    override createConnection(o: http.ClientRequestArgs, cb?: (err: Error | null, stream: import('node:stream').Duplex) => void): undefined {
      connectIn(ns, { host: o.host ?? o.hostname ?? '127.0.0.1', port: Number(o.port ?? 80) }).then(
        (s) => cb?.(null, s),
        (e: Error) => cb?.(e, undefined as unknown as import('node:stream').Duplex),
      );
      return undefined;
    }
  }
  return new NamespaceAgent(options);
}

/** Options of `Namespace.createSocket`: a UDP socket bound inside the namespace. */
export interface UdpOptions {
  /** Port to bind. Default 0 (any). */
  port?: number;
  /** Address to bind. Default the wildcard of the family. */
  address?: string;
}

const UDP_KEYS: v.Keys<UdpOptions> = { port: true, address: true };

/** A dgram socket living inside `ns`, bound and ready. */
export async function createSocketIn(ns: Namespace, type: 'udp4' | 'udp6', opts?: UdpOptions): Promise<dgram.Socket> {
  ns.assertOpen();
  if (type !== 'udp4' && type !== 'udp6') throw new NetplumbError(C.INVALID_ARGUMENT, "type must be 'udp4' or 'udp6'", { value: type, argument: 'type' });
  const family = type === 'udp4' ? 4 : 6;
  const o = v.options<UdpOptions>(opts, UDP_KEYS, 'createSocket');
  const port = o.port !== undefined ? v.uint(o.port, 'port', 65535) : 0;
  const addr = hostOf(o.address ?? (family === 4 ? '0.0.0.0' : '::'), family, 'address');
  const fd = await kernel(ns.handle.socket({ domain: family, type: 'dgram', bind: addr.bytes, port }), `udp socket on ${addr.text}:${port} in namespace ${ns}`);
  const sock = dgram.createSocket(type);
  await new Promise<void>((resolve, reject) => {
    sock.once('error', reject);
    sock.bind({ fd }, () => {
      sock.off('error', reject);
      resolve();
    });
  });
  return sock;
}

/** Sysctl keys of the namespace's net.* tree: 'net.ipv4.ip_forward' or 'net/ipv4/conf/eth0.100/forwarding'. */
export function sysctlPath(key: unknown): string {
  const bad = (why: string) => new NetplumbError(C.INVALID_SYSCTL, `invalid sysctl key ${v.describe(key)}: ${why}`, { value: key, argument: 'key' });
  if (typeof key !== 'string' || key.length === 0 || key.length > 512) throw bad('must be a non-empty string');
  const parts = key.includes('/') ? key.split('/') : key.split('.');
  if (parts[0] !== 'net') throw bad("must be in the net.* tree (e.g. 'net.ipv4.ip_forward')");
  if (parts.length < 2) throw bad('names no setting');
  for (const p of parts) {
    if (p === '' || p === '.' || p === '..') throw bad('has an empty or relative component');
    if (!/^[A-Za-z0-9_\-.:@+]+$/.test(p)) throw bad(`component ${JSON.stringify(p)} has characters outside [A-Za-z0-9_-.:@+]`);
  }
  return parts.slice(1).join('/');
}

/** net.* sysctls as seen from inside a namespace. */
export class Sysctl {
  readonly #ns: Namespace;
  constructor(ns: Namespace) {
    this.#ns = ns;
  }

  /** `sysctl -n KEY` inside the namespace. */
  async get(key: string): Promise<string> {
    const path = sysctlPath(key);
    this.#ns.assertOpen();
    return unknownKey(key, kernel(this.#ns.handle.sysctl({ path }), `sysctl ${key} in namespace ${this.#ns}`));
  }

  /** `sysctl -w KEY=VALUE` inside the namespace. */
  async set(key: string, value: string | number | boolean): Promise<void> {
    const path = sysctlPath(key);
    const text = typeof value === 'boolean' ? (value ? '1' : '0') : typeof value === 'number' && Number.isFinite(value) ? String(value) : value;
    if (typeof text !== 'string' || /[\n\0]/.test(text))
      throw new NetplumbError(C.INVALID_ARGUMENT, `invalid value for sysctl ${key}`, { value, argument: 'value' });
    this.#ns.assertOpen();
    await unknownKey(key, kernel(this.#ns.handle.sysctl({ path, write: text }), `sysctl ${key}=${text} in namespace ${this.#ns}`));
  }
}

async function unknownKey<T>(key: string, p: Promise<T>): Promise<T> {
  try {
    return await p;
  } catch (e) {
    if (e instanceof NetlinkError && e.code === 'ENOENT')
      throw new NetplumbError(C.UNKNOWN_SYSCTL, `unknown sysctl ${key}`, { value: key, argument: 'key', cause: e });
    if (e instanceof NetlinkError && e.code === 'EISDIR')
      throw new NetplumbError(C.INVALID_SYSCTL, `sysctl ${key} names a directory, not a setting`, { value: key, argument: 'key', cause: e });
    throw e;
  }
}
