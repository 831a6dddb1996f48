// The Watcher's read loop (src/addon.cc, Watcher::Read) against a fake kernel.
// Its decoding, nl::rtnl::parse_events, is fuzzed natively (fuzz_reply); what
// is not is the loop around it and the glue after it: non-blocking recvfrom
// into a 128 KiB buffer (no MSG_TRUNC check: a longer datagram is decoded
// from its first 128 KiB), the "only the kernel" sender check, at most 256
// datagrams per turn and the return to libuv, and the conversion of every
// decoded event to JS (from_link / from_addr / from_route, format_ip/mac)
// whatever the decoder let through.
//
// The real addon, in a child node, watches fd 3: one end of a
// socketpair(AF_UNIX, SOCK_SEQPACKET) made by native/test/feed_fd3, which
// writes thousands of datagrams to the other end — real kernel replies
// (native/fuzz/corpus/reply: links, addresses, routes) mutated at random
// (bytes, lengths and types overwritten, truncated, spliced, repeated), random
// bytes, and datagrams past 128 KiB — then a sentinel link event. Properties:
// the child neither crashes nor hangs, reaches the sentinel, and every event
// is well-formed ({type: link|address|route, action: new|del, raw}) with a
// raw object JSON can walk. Under `npm run test:asan` (scripts/test-asan.sh)
// the addon is built with ASan + UBSan and this runs there too.
//
// Needs the built addon (build/Release/netplumb.node: `npm install` or
// `npm run build`). WATCH_SEED=N and WATCH_DATAGRAMS=N replay or extend a run.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

import { prng } from '../helpers/reliability';

const ROOT = path.join(__dirname, '..', '..');
const ADDON = path.join(ROOT, 'build', 'Release', 'netplumb.node');
const CORPUS = path.join(ROOT, 'native', 'fuzz', 'corpus', 'reply');
const SEED = Number(process.env.WATCH_SEED ?? 0x77617463);
const DATAGRAMS = Number(process.env.WATCH_DATAGRAMS ?? 3000);
const RUNS = 3;

const RTM_NEWLINK = 16;

/** A netlink message: header (little-endian), payload padded to 4. */
function message(type: number, payload: Buffer, flags = 0): Buffer {
  const len = 16 + payload.length;
  const m = Buffer.alloc((len + 3) & ~3);
  m.writeUInt32LE(len, 0);
  m.writeUInt16LE(type, 4);
  m.writeUInt16LE(flags, 6);
  payload.copy(m, 16);
  return m;
}

/** RTM_NEWLINK for index 1 named `name` (ifinfomsg + IFLA_IFNAME). */
function linkEvent(name: string): Buffer {
  const ifi = Buffer.alloc(16);
  ifi.writeInt32LE(1, 4);
  const s = Buffer.from(`${name}\0`);
  const attr = Buffer.alloc((4 + s.length + 3) & ~3);
  attr.writeUInt16LE(4 + s.length, 0);
  attr.writeUInt16LE(3, 2); // IFLA_IFNAME
  s.copy(attr, 4);
  return message(RTM_NEWLINK, Buffer.concat([ifi, attr]));
}

/** Real datagrams that carry link, address and route messages. */
function seeds(): Buffer[] {
  const names = fs.readdirSync(CORPUS).filter((n) => /^(dump-(links|addrs|routes)|getlink|getroute|newlink|newaddr)/.test(n));
  return names.map((n) => fs.readFileSync(path.join(CORPUS, n))).filter((b) => b.length >= 16);
}

function mutate(rnd: () => number, pool: Buffer[]): Buffer {
  const int = (n: number) => Math.floor(rnd() * n);
  const r = rnd();
  if (r < 0.08) return Buffer.from(Array.from({ length: int(600) }, () => int(256))); // random bytes
  if (r < 0.1) {
    // Longer than the Watcher's 128 KiB buffer: real messages repeated, cut mid-message.
    const parts: Buffer[] = [];
    let n = 0;
    while (n < 140_000) {
      const p = pool[int(pool.length)]!;
      parts.push(p);
      n += p.length;
    }
    return Buffer.concat(parts).subarray(0, 131_072 + int(8192));
  }
  let b = Buffer.from(pool[int(pool.length)]!);
  if (rnd() < 0.2) b = Buffer.concat([b, pool[int(pool.length)]!]); // two datagrams as one
  const edits = rnd() < 0.15 ? 0 : 1 + int(6);
  const interesting = [0, 1, 3, 4, 15, 16, 17, 20, 0x7f, 0x80, 0xff, 0xffff, 0x7fffffff, 0x80000000, 0xffffffff];
  for (let e = 0; e < edits && b.length > 0; e++) {
    const k = rnd();
    const at = int(b.length);
    if (k < 0.35) b[at] = int(256);
    else if (k < 0.55 && at + 2 <= b.length) b.writeUInt16LE(interesting[int(interesting.length)]! & 0xffff, at & ~1);
    else if (k < 0.75 && (at & ~3) + 4 <= b.length) b.writeUInt32LE(interesting[int(interesting.length)]! >>> 0, at & ~3);
    else if (k < 0.85) b = b.subarray(0, at); // truncated
    else if (k < 0.92) {
      if (b.length >= 6) b.writeUInt16LE([16, 17, 20, 21, 24, 25, 2, 3, 1][int(9)]!, 4); // the first message's type
    } else b = Buffer.concat([b, b.subarray(at, at + int(64))]); // a repeated tail
  }
  return b;
}

function records(datagrams: Buffer[]): Buffer {
  return Buffer.concat(
    datagrams.flatMap((d) => {
      const h = Buffer.alloc(4);
      h.writeUInt32LE(d.length, 0);
      return [h, d];
    }),
  );
}

// The child: loads the addon, watches fd 3, checks each event, stops at the sentinel.
const CHILD = `
const addon = require(process.argv[1]);
const counts = { link: 0, address: 0, route: 0, overrun: 0 };
const bad = [];
const timer = setTimeout(() => { console.log(JSON.stringify({ timeout: true, counts, bad })); process.exit(3); }, 60000);
const w = new addon.Watcher(3, (evs) => {
  if (!Array.isArray(evs)) bad.push('not an array');
  for (const e of evs) {
    if (!(e.type in counts)) { bad.push('type ' + String(e.type)); continue; }
    counts[e.type]++;
    if (e.type === 'overrun') continue;
    if (e.action !== 'new' && e.action !== 'del') bad.push('action ' + String(e.action));
    if (typeof e.raw !== 'object' || e.raw === null) { bad.push('raw ' + typeof e.raw); continue; }
    JSON.stringify(e.raw); // every field readable
    if (e.type === 'link' && e.raw.name === 'np-sentinel') {
      w.close();
      clearTimeout(timer);
      console.log(JSON.stringify({ sentinel: true, counts, bad: bad.slice(0, 20) }));
    }
  }
});
`;

describe('Watcher read loop against a fake kernel (feed_fd3 + real addon)', () => {
  let dir: string;
  let feed: string;

  beforeAll(() => {
    if (!fs.existsSync(ADDON)) {
      throw new Error(`the addon is not built (${ADDON}): run npm install or npm run build first`);
    }
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'netplumb-watch-'));
    const r = spawnSync('make', ['-s', '-C', path.join(ROOT, 'native', 'test'), 'feed', `OUT=${dir}`], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`building feed_fd3 failed:\n${r.stdout}${r.stderr}`);
    feed = path.join(dir, 'feed_fd3');
  }, 120_000);

  afterAll(() => {
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  test(`${RUNS} runs of ${DATAGRAMS} mutated replies: no crash, no hang, well-formed events (seed ${SEED})`, () => {
    const pool = seeds();
    expect(pool.length).toBeGreaterThan(10);
    let events = 0;
    const total: Record<string, number> = { link: 0, address: 0, route: 0, overrun: 0 };
    for (let run = 0; run < RUNS; run++) {
      const rnd = prng(SEED + run);
      // Unmutated seeds first (real events must come out), then the mutants.
      const datagrams = [...pool, ...Array.from({ length: DATAGRAMS }, () => mutate(rnd, pool)), linkEvent('np-sentinel')];
      const input = path.join(dir, `records-${run}`);
      fs.writeFileSync(input, records(datagrams));
      const r = spawnSync(feed, [input, '--', process.execPath, '-e', CHILD, ADDON], {
        encoding: 'utf8',
        timeout: 120_000,
        maxBuffer: 16 << 20,
      });
      const out = `${r.stdout}`;
      const err = `${r.stderr}`;
      const context = `run ${run} (WATCH_SEED=${SEED + run}); input kept in ${input}\nstdout: ${out}\nstderr: ${err.slice(0, 4000)}`;
      if (r.status !== 0 || /AddressSanitizer|runtime error:/.test(err)) {
        // Keep the input for a reproduction.
        dir = '';
        throw new Error(`the child failed (status ${r.status}, signal ${r.signal}): ${context}`);
      }
      const res = JSON.parse(out.trim().split('\n').pop()!) as { sentinel?: boolean; counts: Record<string, number>; bad: string[] };
      expect({ sentinel: res.sentinel, bad: res.bad }).toEqual({ sentinel: true, bad: [] });
      events += res.counts.link! + res.counts.address! + res.counts.route!;
      for (const k of Object.keys(total)) total[k] = (total[k] ?? 0) + (res.counts[k] ?? 0);
    }
    console.log(`watcher fake kernel: ${RUNS} x ${pool.length + DATAGRAMS + 1} datagrams (seed ${SEED}): events ${JSON.stringify(total)}`);
    // Not vacuous: the real replies and many mutants decode to events.
    expect(events).toBeGreaterThan(RUNS * 200);
  }, 300_000);
});
