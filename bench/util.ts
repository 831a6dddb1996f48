// Benchmark plumbing: timing, the iproute2 peers, the native floor, the oracle.
// The oracle and the `ip` peers are separate processes; netplumb never forks.
import { execFileSync, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';

/** The repository root (this file runs as dist/bench/util.js). */
export const ROOT = path.resolve(__dirname, '..', '..');
export const FLOOR = path.join(ROOT, 'dist', 'bench', 'native_floor');

export const now = (): number => performance.now();
export const range = (n: number): number[] => Array.from({ length: n }, (_, i) => i);
export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
}

/** Same addresses as bench/native_floor.cpp's ip_of(i). */
export function ipOf(i: number): string {
  return `10.${200 + (i >> 16)}.${(i >> 8) & 255}.${i & 255}`;
}

/**
 * The commands of W1-W4, of the event-loop probe and of W6 (the oracle, the
 * `ip` peers, the floor, W6's fresh processes) go through one small helper
 * process (bench/forker-child.ts), started by run.ts before any workload (or
 * by the first command, by startForker()), so that the
 * bench process does not fork between netplumb's timed runs. (W5 still
 * starts the CNI plugins and the daemon itself, after W1-W4: both sides of
 * its comparison are started the same way.) A fork write-protects every page of the forking
 * process, and its next writes then fault one page at a time: on this VM, a
 * burst of 1,000 route adds and deletes took 19.8 ms right after an `ip`
 * check from this process and 10.2 ms without one (addresses 28.4 and 22.3).
 * That was the harness's cost in netplumb's timed runs. The helper also times
 * the commands itself (`ms`): from a small process, as a shell would start them.
 */
class Forker {
  private constructor(
    private readonly req: number,
    private readonly res: number,
  ) {}

  static start(): Forker {
    const child = path.join(__dirname, 'forker-child.js');
    // The opens below wait for the helper's: it must be there to make them.
    if (!fs.existsSync(child)) throw new Error(`bench: no ${child} (tsc -p bench/tsconfig.json)`);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'netplumb-bench-'));
    const reqPath = path.join(dir, 'req');
    const resPath = path.join(dir, 'res');
    try {
      execFileSync('mkfifo', [reqPath, resPath]);
      // Not waited for: it ends when this process does (its requests FIFO closes).
      spawn(process.execPath, [child, reqPath, resPath], { stdio: ['ignore', 'inherit', 'inherit'] }).unref();
      // Both sides open the request FIFO first, then the answer FIFO.
      const req = fs.openSync(reqPath, 'w');
      const res = fs.openSync(resPath, 'r');
      return new Forker(req, res);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }

  /** One request, its answer (synchronous: the bench's checks are). */
  call(m: object): Record<string, unknown> {
    const line = Buffer.from(JSON.stringify(m) + '\n');
    for (let at = 0; at < line.length; ) at += fs.writeSync(this.req, line, at);
    const head = this.read(4);
    return JSON.parse(this.read(head.readUInt32LE(0)).toString('utf8')) as Record<string, unknown>;
  }

  private read(n: number): Buffer {
    const b = Buffer.alloc(n);
    for (let at = 0; at < n; ) {
      const k = fs.readSync(this.res, b, at, n - at, null);
      if (k === 0) throw new Error('bench helper process ended');
      at += k;
    }
    return b;
  }
}

let forker: Forker | undefined;

/** Starts the helper (the last fork of this process): every command from now on runs there. */
export function startForker(): void {
  forker ??= Forker.start();
}

interface Ran {
  status: number | null;
  stdout: string;
  stderr: string;
  error?: string;
  /** Wall time of the command, as the process that started it saw it. */
  ms: number;
}

/** Runs a command in the helper (started now if it is not yet); its stdout and wall time (ms); throws with its stderr on failure. */
export function runTimed(cmd: string, args: string[], input?: string): { out: string; ms: number } {
  startForker();
  const r = (forker as Forker).call({ op: 'run', cmd, args, input }) as unknown as Ran;
  if (r.error) throw new Error(`${cmd} ${args.join(' ')}: ${r.error}`);
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${r.status}: ${r.stderr.trim()}`);
  return { out: r.stdout, ms: r.ms };
}

/** Runs a command, returns stdout; throws with its stderr on failure. */
export function run(cmd: string, args: string[], input?: string): string {
  return runTimed(cmd, args, input).out;
}

/** The oracle: `ip [-n NS] -j ARGS` parsed. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function ipj(ns: string | undefined, ...args: string[]): any[] {
  const out = run('ip', [...(ns ? ['-n', ns] : []), '-j', ...args]);
  return out.trim() ? JSON.parse(out) : [];
}

/** Named namespaces under /run/netns, by the oracle (`ip netns list`; its nsid warnings ignored). */
export function netnsNames(): Set<string> {
  return new Set(run('ip', ['netns', 'list']).split('\n').filter(Boolean).map((l) => l.split(' ')[0] as string));
}

let batchSeq = 0;
/** Writes a batch file (untimed); returns its path. */
export function batchFile(lines: string[]): string {
  const f = path.join(os.tmpdir(), `netplumb-bench-${process.pid}-${++batchSeq}.batch`);
  fs.writeFileSync(f, lines.join('\n') + '\n');
  return f;
}

/** `ip [-n NS] -batch FILE`, timed (ms), the file written beforehand. */
export function ipBatch(ns: string | undefined, lines: string[]): number {
  const f = batchFile(lines);
  try {
    return runTimed('ip', [...(ns ? ['-n', ns] : []), '-batch', f]).ms;
  } finally {
    fs.rmSync(f, { force: true });
  }
}

/** One `ip` process per command, timed in total (ms). */
export function ipEach(cmds: string[][]): number {
  let ms = 0;
  for (const c of cmds) ms += runTimed('ip', c).ms;
  return ms;
}

/**
 * Runs the native floor with FLOOR_PAUSE=1: after its add phase it prints
 * the add timings and waits; `mid` verifies (with the oracle), then the
 * floor deletes. Resolves to every timing it printed (microseconds).
 */
export async function floor(args: (string | number)[], mid: () => void | Promise<void>): Promise<Record<string, number>> {
  startForker();
  const what = `native_floor ${args.join(' ')}`;
  const first = (forker as Forker).call({ op: 'floor', cmd: FLOOR, args: args.map(String), env: { FLOOR_PAUSE: '1' } });
  if (typeof first.line !== 'string') throw new Error(`${what} exited ${String(first.status)}: ${String(first.stderr).trim()}`);
  let midError: unknown;
  try {
    await mid();
  } catch (e) {
    midError = e; // let it delete what it added either way
  }
  const end = (forker as Forker).call({ op: 'continue' });
  if (midError) throw midError;
  const lines = [first.line, ...String(end.stdout).split('\n').filter(Boolean)];
  if (end.status !== 0 || lines.length < 2) throw new Error(`${what} exited ${String(end.status)}: ${String(end.stderr).trim()}`);
  return { ...JSON.parse(lines[0] as string), ...JSON.parse(lines[lines.length - 1] as string) };
}

/** Builds dist/bench/native_floor when missing or older than its sources. */
export function ensureFloor(): void {
  // native/nl, native/rtnl and its link kinds (rtnl/kinds/: link.cpp encodes every kind through them).
  const files = ['nl', 'rtnl', 'rtnl/kinds'].flatMap((d) =>
    fs
      .readdirSync(path.join(ROOT, 'native', d))
      .filter((f) => /\.(cpp|hpp)$/.test(f))
      .map((f) => `native/${d}/${f}`),
  );
  const sources = ['bench/native_floor.cpp', ...files];
  const newest = Math.max(...sources.map((f) => fs.statSync(path.join(ROOT, f)).mtimeMs));
  const built = fs.existsSync(FLOOR) ? fs.statSync(FLOOR).mtimeMs : 0;
  if (built > newest) return;
  process.stdout.write('building the native floor (g++ -O2)... ');
  fs.mkdirSync(path.dirname(FLOOR), { recursive: true });
  execFileSync('g++', ['-std=c++20', '-O2', '-o', FLOOR, ...sources.filter((f) => f.endsWith('.cpp'))], { cwd: ROOT, stdio: 'inherit' });
  process.stdout.write('done\n');
}

/** The largest gap between two ticks of a 1 ms interval, and where it fell (from, to: now() times). */
export function gapMonitor(): { stop(): { max: number; from: number; to: number } } {
  let last = now();
  let max = 0;
  let from = last;
  let to = last;
  const tick = (n: number): void => {
    if (n - last > max) {
      max = n - last;
      from = last;
      to = n;
    }
    last = n;
  };
  const t = setInterval(() => tick(now()), 1);
  return {
    stop() {
      tick(now());
      clearInterval(t);
      return { max, from, to };
    },
  };
}

export function check(cond: boolean, what: string): void {
  if (!cond) throw new Error(`verification failed: ${what}`);
}

export function gc(): void {
  const g = (globalThis as { gc?: () => void }).gc;
  if (g) {
    g();
    g();
  }
}

// ---------------------------------------------------------------------------
// Results

export interface Series {
  workload: string;
  phase: string;
  peer: string;
  /** Operations per sample (for per-op figures); for W1 pairs, W3 containers. */
  ops: number;
  unit: string;
  ms: number[];
  note?: string;
}

export class Results {
  readonly series = new Map<string, Series>();
  add(workload: string, phase: string, peer: string, ops: number, ms: number, unit = 'op', note?: string): void {
    const k = `${workload}|${phase}|${peer}`;
    let s = this.series.get(k);
    if (!s) {
      s = { workload, phase, peer, ops, unit, ms: [], ...(note ? { note } : {}) };
      this.series.set(k, s);
    }
    s.ms.push(ms);
  }
  get(workload: string, phase: string, peer: string): Series | undefined {
    return this.series.get(`${workload}|${phase}|${peer}`);
  }
  /** Median per-op time in µs. */
  perOp(workload: string, phase: string, peer: string): number | undefined {
    const s = this.get(workload, phase, peer);
    return s && s.ms.length ? (median(s.ms) * 1000) / s.ops : undefined;
  }
}
