// Benchmark plumbing: timing, the iproute2 peers, the native floor, the oracle.
// The oracle and the `ip` peers are separate processes; netplumb never forks.
import { type ChildProcess, execFileSync, spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import { createInterface } from 'node:readline';

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

/** Runs a command, returns stdout; throws with its stderr on failure. */
export function run(cmd: string, args: string[], input?: string): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 512 * 1024 * 1024, ...(input !== undefined ? { input } : {}) });
  if (r.error) throw r.error;
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${r.status}: ${r.stderr.trim()}`);
  return r.stdout;
}

/** The oracle: `ip [-n NS] -j ARGS` parsed. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function ipj(ns: string | undefined, ...args: string[]): any[] {
  const out = run('ip', [...(ns ? ['-n', ns] : []), '-j', ...args]);
  return out.trim() ? JSON.parse(out) : [];
}

/**
 * The oracle from a helper process, started once: `ip -j ARGS` run there,
 * its output sent back over a pipe, so that the caller forks no more.
 */
export class Oracle {
  private readonly waiting: ((line: string) => void)[] = [];
  private constructor(private readonly child: ChildProcess) {
    createInterface({ input: child.stdout as NodeJS.ReadableStream }).on('line', (l) => this.waiting.shift()?.(l));
  }

  static async start(): Promise<Oracle> {
    const script =
      "const { spawnSync } = require('node:child_process');" +
      "require('node:readline').createInterface({ input: process.stdin }).on('line', (l) => {" +
      "  const r = spawnSync('ip', ['-j', ...JSON.parse(l)], { encoding: 'utf8', maxBuffer: 512 * 1024 * 1024 });" +
      "  process.stdout.write(JSON.stringify({ status: r.status, out: r.stdout, err: r.error ? String(r.error) : r.stderr }) + '\\n');" +
      '});';
    const o = new Oracle(spawn(process.execPath, ['-e', script], { stdio: ['pipe', 'pipe', 'inherit'] }));
    await o.ipj('link', 'show', 'lo'); // it answers
    return o;
  }

  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  ipj(...args: string[]): Promise<any[]> {
    return new Promise((resolve, reject) => {
      this.waiting.push((line) => {
        const r = JSON.parse(line) as { status: number | null; out: string; err: string };
        if (r.status !== 0) reject(new Error(`ip -j ${args.join(' ')} exited ${r.status}: ${r.err.trim()}`));
        else resolve(r.out.trim() ? JSON.parse(r.out) : []);
      });
      this.child.stdin!.write(JSON.stringify(args) + '\n');
    });
  }

  close(): void {
    this.child.stdin!.end();
  }
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
    const t0 = now();
    run('ip', [...(ns ? ['-n', ns] : []), '-batch', f]);
    return now() - t0;
  } finally {
    fs.rmSync(f, { force: true });
  }
}

/** One `ip` process per command, timed in total (ms). */
export function ipEach(cmds: string[][]): number {
  const t0 = now();
  for (const c of cmds) run('ip', c);
  return now() - t0;
}

/**
 * Runs the native floor with FLOOR_PAUSE=1: after its add phase it prints
 * the add timings and waits; `mid` verifies (with the oracle), then the
 * floor deletes. Resolves to every timing it printed (microseconds).
 */
export function floor(args: (string | number)[], mid: () => void | Promise<void>): Promise<Record<string, number>> {
  return new Promise((resolve, reject) => {
    const p = spawn(FLOOR, args.map(String), { env: { ...process.env, FLOOR_PAUSE: '1' }, stdio: ['pipe', 'pipe', 'pipe'] });
    let buf = '';
    let err = '';
    const lines: string[] = [];
    let midError: unknown;
    p.stdout.setEncoding('utf8');
    p.stdout.on('data', (d: string) => {
      buf += d;
      let i: number;
      while ((i = buf.indexOf('\n')) >= 0) {
        lines.push(buf.slice(0, i));
        buf = buf.slice(i + 1);
        if (lines.length === 1) {
          Promise.resolve()
            .then(mid)
            .catch((e: unknown) => {
              midError = e;
            })
            // Let it delete what it added either way.
            .finally(() => p.stdin.end('\n'));
        }
      }
    });
    p.stderr.on('data', (d: Buffer) => {
      err += d.toString();
    });
    p.on('error', reject);
    p.on('close', (code) => {
      if (midError) return reject(midError);
      if (code !== 0 || lines.length < 2) return reject(new Error(`native_floor ${args.join(' ')} exited ${code}: ${err.trim()}`));
      resolve({ ...JSON.parse(lines[0] as string), ...JSON.parse(lines[lines.length - 1] as string) });
    });
  });
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

/** Largest gap between ticks of a 1 ms interval, from start() to stop(). */
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
