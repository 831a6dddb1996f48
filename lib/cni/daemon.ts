// `netplumb cni-daemon`: the resident half of netplumb-cni. The plugin a
// runtime execs is a small native client (native/cni-client/client.c) that
// sends its request here over a unix socket — the environment, the
// configuration, and, as descriptors, its own network namespace and
// CNI_NETNS opened in the runtime's mount namespace — and prints what comes
// back. This process has Node started, the library loaded and the host
// namespace open already, so a request costs only its own work. It runs the
// same run() as the plugin; a request it should not run (a client in another
// network namespace, an IPAM delegated to another plugin) is handed back and
// the client runs the plugin itself. Peers other than root are refused by the
// socket side (SO_PEERCRED) before anything is read.
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { run } from './main';

/** Where the client looks unless NETPLUMB_CNI_SOCKET says otherwise. */
export const DEFAULT_SOCKET = '/run/netplumb/cni.sock';

/** Reply kinds (native/cni-client/protocol.h). */
const OUTCOME = 0;
const HAND_BACK = 1;

interface Event {
  kind: 'request' | 'refused' | 'failed';
  pid: number;
  uid: number;
  conn?: number;
  fds?: number[];
  env?: Buffer;
  input?: Buffer;
  error?: string;
}

interface Binding {
  Server: new (path: string, onEvent: (ev: Event) => void) => { close(): void };
  reply(conn: number, kind: number, status: number, body: Buffer): void;
}

export interface DaemonOptions {
  /** The socket's path: NETPLUMB_CNI_SOCKET, else DEFAULT_SOCKET. */
  socket?: string;
  /** One line per request (command, container, exit status, time). */
  verbose?: boolean;
  /** Where lines go; stderr by default. */
  log?: (line: string) => void;
}

export interface Daemon {
  readonly socket: string;
  /** Requests being run now. */
  readonly inFlight: number;
  /** Stops accepting, waits for the requests in flight, removes the socket. */
  close(): Promise<void>;
}

function environOf(block: Buffer): Record<string, string> {
  const env: Record<string, string> = {};
  for (const kv of block.toString('utf8').split('\0')) {
    const eq = kv.indexOf('=');
    if (eq > 0) env[kv.slice(0, eq)] = kv.slice(eq + 1);
  }
  return env;
}

/** Refuses a socket path where someone else could replace the socket, and an old daemon still answering. */
async function prepare(socket: string): Promise<void> {
  if (!path.isAbsolute(socket)) throw new Error(`the socket path ${socket} is not absolute`);
  const dir = path.dirname(socket);
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  const d = fs.statSync(dir);
  if (d.uid !== 0 || (d.mode & 0o022) !== 0)
    throw new Error(
      `the directory ${dir} is ${d.uid !== 0 ? `owned by uid ${d.uid}` : 'writable by group or others'}: anyone able to write there could stand in for the daemon`,
    );
  let st: fs.Stats;
  try {
    st = fs.lstatSync(socket);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw e;
  }
  if (!st.isSocket()) throw new Error(`${socket} exists and is not a socket: not replaced`);
  const live = await new Promise<boolean>((resolve) => {
    const c = net.connect(socket);
    c.once('connect', () => {
      c.destroy();
      resolve(true);
    });
    c.once('error', () => resolve(false));
  });
  if (live) throw new Error(`a daemon answers on ${socket} already`);
  fs.unlinkSync(socket); // left by a daemon that died
}

export async function startDaemon(opts: DaemonOptions = {}): Promise<Daemon> {
  const socket = opts.socket ?? (process.env.NETPLUMB_CNI_SOCKET || DEFAULT_SOCKET);
  const log = opts.log ?? ((line: string) => process.stderr.write(`netplumb cni-daemon: ${line}\n`));
  await prepare(socket);
  // Everything a request needs, loaded and opened now rather than by the first request.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  require('./commands');
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  await (require('../namespace') as typeof import('../namespace')).defaultNamespace();
  const me = fs.statSync('/proc/self/ns/net', { bigint: true });
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const binding = require('bindings')('netplumb_cni_daemon') as Binding;

  const pending = new Set<Promise<void>>();
  const handle = async (ev: Event): Promise<void> => {
    const conn = ev.conn as number;
    const fds = ev.fds ?? [];
    const t0 = process.hrtime.bigint();
    const env = environOf(ev.env ?? Buffer.alloc(0));
    let kind = OUTCOME;
    let status = 1;
    let body = '';
    try {
      const own = fs.fstatSync(fds[0] as number, { bigint: true });
      if (own.dev !== me.dev || own.ino !== me.ino) {
        // Its host namespace is not ours: the plugin, run by the client, acts where the client is.
        kind = HAND_BACK;
        body = 'the client runs in another network namespace';
      } else {
        const o = await run(
          env,
          (ev.input ?? Buffer.alloc(0)).toString('utf8'),
          fds.length > 1 ? { netnsFd: fds[1] as number, handBackDelegated: true } : { handBackDelegated: true },
        );
        if (o.handBack !== undefined) {
          kind = HAND_BACK;
          body = o.handBack;
        } else {
          status = o.status;
          body = o.stdout;
        }
      }
    } catch (e) {
      // Not run: the client runs the plugin itself.
      kind = HAND_BACK;
      body = `the daemon could not take the request: ${(e as Error).message}`;
    } finally {
      for (const fd of fds) fs.closeSync(fd);
      try {
        binding.reply(conn, kind, status, Buffer.from(body));
      } finally {
        fs.closeSync(conn);
      }
    }
    if (opts.verbose)
      log(
        `${env.CNI_COMMAND ?? '?'} ${env.CNI_CONTAINERID ?? '-'} ${env.CNI_IFNAME ?? '-'} pid ${ev.pid}: ${kind === HAND_BACK ? `handed back (${body})` : `exit ${status}`}, ${(Number(process.hrtime.bigint() - t0) / 1e6).toFixed(1)} ms`,
      );
  };

  const server = new binding.Server(socket, (ev) => {
    if (ev.kind === 'refused') return log(`refused pid ${ev.pid} (uid ${ev.uid}): only root is served`);
    if (ev.kind === 'failed') return log(`a request from pid ${ev.pid} was dropped: ${ev.error ?? 'unknown'}`);
    const p = handle(ev).catch((e: unknown) => log(`a request from pid ${ev.pid} failed: ${(e as Error)?.stack ?? String(e)}`));
    pending.add(p);
    void p.finally(() => pending.delete(p));
  });
  let closed = false;
  return {
    socket,
    get inFlight() {
      return pending.size;
    },
    async close() {
      if (closed) return;
      closed = true;
      server.close();
      fs.rmSync(socket, { force: true });
      await Promise.all([...pending]);
    },
  };
}

export const DAEMON_USAGE = `Usage: netplumb cni-daemon [--socket PATH] [--verbose]

Serves netplumb-cni requests from netplumb-cni-client (bin/netplumb-cni) on a
unix socket (default ${DEFAULT_SOCKET}, or NETPLUMB_CNI_SOCKET), mode 0600, root
peers only. Without a daemon the client runs the plugin itself. SIGTERM or
SIGINT: stops accepting, finishes the requests in flight, exits 0.`;

/** The command line: runs until SIGTERM/SIGINT. */
export async function main(argv: string[]): Promise<number> {
  const opts: DaemonOptions = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--socket' && argv[i + 1]) opts.socket = argv[++i] as string;
    else if (a === '--verbose' || a === '-v') opts.verbose = true;
    else if (a === '-h' || a === '--help') {
      process.stdout.write(`${DAEMON_USAGE}\n`);
      return 0;
    } else {
      process.stderr.write(`netplumb cni-daemon: unknown argument ${a}\n\n${DAEMON_USAGE}\n`);
      return 64;
    }
  }
  let d: Daemon;
  try {
    d = await startDaemon(opts);
  } catch (e) {
    process.stderr.write(`netplumb cni-daemon: ${(e as Error).message}\n`);
    return 1;
  }
  process.stderr.write(`netplumb cni-daemon: serving on ${d.socket} (pid ${process.pid})\n`);
  return new Promise<number>((resolve) => {
    const stop = () => void d.close().then(() => resolve(0));
    process.once('SIGTERM', stop);
    process.once('SIGINT', stop);
  });
}
