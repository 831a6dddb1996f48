// The bench's helper process (bench/util.ts, Forker): runs the commands the
// bench asks for, so that the bench process itself never forks once it has
// started it. Requests come one JSON line at a time on the FIFO argv[2];
// each answer is a 4-byte little-endian length and a JSON body on argv[3].
//   {op: 'run', cmd, args, input?, env?}     -> {status, stdout, stderr, error?, ms}
//   {op: 'floor', cmd, args, env}            -> {line} once the floor prints its first line (or {status, stderr} if it ends first)
//   {op: 'continue'}                         -> {status, stdout, stderr}: the floor let go on and ended
// `ms` is the command's wall time as this process saw it (fork, exec, run, exit).
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import { performance } from 'node:perf_hooks';
import { createInterface } from 'node:readline';

interface Request {
  op: 'run' | 'floor' | 'continue';
  cmd?: string;
  args?: string[];
  input?: string;
  env?: Record<string, string>;
}

const [reqPath, resPath] = process.argv.slice(2) as [string, string];
// Opened in the bench's order (requests, then answers): each open of a FIFO
// waits for the other end's.
const requests = createInterface({ input: fs.createReadStream('', { fd: fs.openSync(reqPath, 'r') }) });
const res = fs.openSync(resPath, 'w');

function answer(body: unknown): void {
  const b = Buffer.from(JSON.stringify(body));
  const h = Buffer.alloc(4);
  h.writeUInt32LE(b.length, 0);
  const all = Buffer.concat([h, b]);
  for (let at = 0; at < all.length;) at += fs.writeSync(res, all, at);
}

let floor: { p: ChildProcess; out: string; err: string; ended?: number | null; onEnd?: () => void } | undefined;

function startFloor(m: Request): void {
  const p = spawn(m.cmd as string, m.args ?? [], { env: { ...process.env, ...m.env }, stdio: ['pipe', 'pipe', 'pipe'] });
  const f: NonNullable<typeof floor> = { p, out: '', err: '' };
  floor = f;
  let told = false;
  // Not started (no such file): answered like an exit before the first line.
  p.on('error', (e) => {
    f.err += String(e);
    if (!told) {
      told = true;
      answer({ status: null, stderr: f.err });
      floor = undefined;
    }
  });
  // It may have ended before the bench lets it go on: its stdin is then closed.
  p.stdin!.on('error', () => {});
  p.stdout!.setEncoding('utf8');
  p.stdout!.on('data', (d: string) => {
    f.out += d;
    const i = f.out.indexOf('\n');
    if (!told && i >= 0) {
      told = true;
      answer({ line: f.out.slice(0, i) });
      f.out = f.out.slice(i + 1);
    }
  });
  p.stderr!.on('data', (d: Buffer) => {
    f.err += d.toString();
  });
  p.on('close', (code) => {
    f.ended = code;
    if (!told) {
      told = true;
      answer({ status: code, stderr: f.err });
      floor = undefined;
    }
    f.onEnd?.();
  });
}

function continueFloor(): void {
  const f = floor;
  if (!f) return answer({ status: null, stderr: 'no floor is running' });
  floor = undefined;
  const done = () => answer({ status: f.ended, stdout: f.out, stderr: f.err });
  if (f.ended !== undefined) return done();
  f.onEnd = done;
  f.p.stdin!.end('\n');
}

requests.on('line', (l) => {
  try {
    serve(JSON.parse(l) as Request);
  } catch (e) {
    // Every request gets its one answer, or the bench would wait for good.
    answer({ status: null, stdout: '', stderr: String(e), error: String(e), ms: 0 });
  }
});

function serve(m: Request): void {
  if (m.op === 'floor') return startFloor(m);
  if (m.op === 'continue') return continueFloor();
  const t = performance.now();
  const r = spawnSync(m.cmd as string, m.args ?? [], {
    encoding: 'utf8',
    maxBuffer: 512 * 1024 * 1024,
    ...(m.input !== undefined ? { input: m.input } : {}),
    ...(m.env ? { env: { ...process.env, ...m.env } } : {}),
  });
  const ms = performance.now() - t;
  answer({ status: r.status, stdout: r.stdout, stderr: r.stderr, ...(r.error ? { error: String(r.error) } : {}), ms });
}
// The bench closed its end: done.
requests.on('close', () => process.exit(0));
