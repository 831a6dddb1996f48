// 2,000 operations in flight at once across 10 namespaces, started in a
// random (seeded) order: address add/delete (IPv4 and IPv6), route add/delete
// (with a Link, a name or an ifindex as dev), link up/down/mtu, neighbour add,
// and a few that must fail (duplicates, deleting what is not there). Every
// namespace has links of the same names (d0..d5, s0..s9, sp0..sp9), so a
// request that went to the wrong namespace, or a name resolved in the wrong
// one, shows. Afterwards every result is checked one by one, and each
// namespace's whole state is compared with `ip -j` (exact sets: nothing more,
// nothing less, nothing from a neighbour namespace).
//
// CONC_SEED=N replays another order.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

import { Address, Link, Namespace, Neighbor, NetlinkError, Route } from '../../lib';
import { ip, ipj, uniq } from '../helpers/oracle';
import { addrSetOf, pick, prng, randInt, shuffle } from '../helpers/reliability';

const SEED = Number(process.env.CONC_SEED ?? 20261127);
const NS = 10;
const DATA = 6; // veth pairs d<j>/dp<j>, both ends up: addresses, routes, neighbours
const STATE = 10; // veth pairs s<j>/sp<j>: up/down and mtu
const PER_NS = {
  addAddr: 44, delAddr: 30, addRoute: 44, delRoute: 30, neigh: 20, flag: 10, mtu: 10, negative: 12,
} as const;
const OPS_PER_NS = Object.values(PER_NS).reduce((a, b) => a + b, 0);

interface Expect {
  addrs: Set<string>; // 'dev addr/len'
  routes: Set<string>; // 'dst gateway|- dev'
  neigh: Set<string>; // 'dst dev lladdr'
  links: Map<string, { up: boolean; mtu: number }>;
}

interface Op {
  ns: number;
  what: string;
  /** Expected failure code, for the negative operations. */
  fails?: string;
  run: () => Promise<unknown>;
  /** Checks the resolved value (one by one), if there is something to check. */
  check?: (value: unknown) => void;
}

const made: Namespace[] = [];
afterAll(async () => {
  await Promise.allSettled(made.map((ns) => ns.delete()));
});

it(`${NS * OPS_PER_NS} concurrent operations across ${NS} namespaces in random order (seed ${SEED}): each result as expected, each namespace exactly as expected`, async () => {
  const rnd = prng(SEED);
  const names = Array.from({ length: NS }, () => uniq('cc'));
  const spaces = await Promise.all(names.map((n) => Namespace.create(n)));
  made.push(...spaces);

  // ---- setup with iproute2 (independent of the library): links, and what the ops delete or collide with.
  const expects: Expect[] = [];
  const deletableAddrs: { dev: string; cidr: string }[][] = [];
  const deletableRoutes: { dev: string; to: string; via: string }[][] = [];
  const keepAddrs: { dev: string; cidr: string }[][] = [];
  const keepRoutes: { dev: string; to: string; via: string }[][] = [];
  const keepNeigh: { dev: string; dst: string; lladdr: string }[][] = [];
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'np-conc-'));
  try {
    for (let i = 0; i < NS; i++) {
      const e: Expect = { addrs: new Set(), routes: new Set(), neigh: new Set(), links: new Map() };
      const lines: string[] = [];
      for (let j = 0; j < DATA; j++) {
        lines.push(`link add d${j} type veth peer name dp${j}`, `link set d${j} up`, `link set dp${j} up`, `addr add 10.${i}.${j}.1/24 dev d${j}`);
        e.links.set(`d${j}`, { up: true, mtu: 1500 });
        e.links.set(`dp${j}`, { up: true, mtu: 1500 });
        e.addrs.add(`d${j} 10.${i}.${j}.1/24`);
        e.routes.add(`10.${i}.${j}.0/24 - d${j}`);
      }
      for (let j = 0; j < STATE; j++) {
        lines.push(`link add s${j} type veth peer name sp${j}`);
        for (const n of [`s${j}`, `sp${j}`]) {
          const up = rnd() < 0.5;
          if (up) lines.push(`link set ${n} up`);
          e.links.set(n, { up, mtu: 1500 });
        }
      }
      const da: { dev: string; cidr: string }[] = [];
      for (let m = 0; m < PER_NS.delAddr; m++) da.push({ dev: `d${m % DATA}`, cidr: `10.${i}.${m % DATA}.${100 + m}/32` });
      const ka: { dev: string; cidr: string }[] = [];
      for (let m = 0; m < 4; m++) ka.push({ dev: `d${m % DATA}`, cidr: `10.${i}.${m % DATA}.${200 + m}/32` });
      for (const a of [...da, ...ka]) {
        lines.push(`addr add ${a.cidr} dev ${a.dev}`);
        e.addrs.add(`${a.dev} ${a.cidr}`);
      }
      const dr: { dev: string; to: string; via: string }[] = [];
      for (let m = 0; m < PER_NS.delRoute; m++) dr.push({ dev: `d${m % DATA}`, to: `172.${16 + i}.1.${m}`, via: `10.${i}.${m % DATA}.254` });
      const kr: { dev: string; to: string; via: string }[] = [];
      for (let m = 0; m < 4; m++) kr.push({ dev: `d${m % DATA}`, to: `172.${16 + i}.250.${m}`, via: `10.${i}.${m % DATA}.254` });
      for (const r of [...dr, ...kr]) {
        lines.push(`route add ${r.to}/32 via ${r.via} dev ${r.dev}`);
        e.routes.add(`${r.to} ${r.via} ${r.dev}`);
      }
      const kn: { dev: string; dst: string; lladdr: string }[] = [];
      for (let m = 0; m < 4; m++) kn.push({ dev: `d${m % DATA}`, dst: `10.${i}.${m % DATA}.${60 + m}`, lladdr: `02:aa:00:${i.toString(16).padStart(2, '0')}:00:${m.toString(16).padStart(2, '0')}` });
      for (const n of kn) {
        lines.push(`neigh add ${n.dst} lladdr ${n.lladdr} dev ${n.dev} nud permanent`);
        e.neigh.add(`${n.dst} ${n.dev} ${n.lladdr}`);
      }
      const file = path.join(tmp, `ns${i}.txt`);
      fs.writeFileSync(file, lines.join('\n') + '\n');
      ip(names[i], '-batch', file);
      expects.push(e);
      deletableAddrs.push(da);
      deletableRoutes.push(dr);
      keepAddrs.push(ka);
      keepRoutes.push(kr);
      keepNeigh.push(kn);
    }
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }

  // The library's view of each namespace's links (same names everywhere, different objects and indexes).
  const links = await Promise.all(spaces.map(async (ns) => new Map((await Link.list(ns)).map((l) => [l.name, l]))));
  const L = (i: number, name: string): Link => links[i]?.get(name) as Link;

  // ---- the operations
  const ops: Op[] = [];
  for (let i = 0; i < NS; i++) {
    const ns = spaces[i] as Namespace;
    const e = expects[i] as Expect;
    for (let m = 0; m < PER_NS.addAddr; m++) {
      const j = randInt(rnd, 0, DATA - 1);
      const six = rnd() < 0.3;
      // IPv6 in canonical text (RFC 5952, as inet_ntop and ip(8) write it), via the WHATWG URL parser.
      const cidr = six ? `${new URL(`http://[fd00:${i}:${j}::${(m + 1).toString(16)}]/`).hostname.slice(1, -1)}/128` : `10.${i}.${j}.${2 + m}/32`;
      e.addrs.add(`d${j} ${cidr}`);
      ops.push({
        ns: i, what: `addr add ${cidr} dev d${j}`,
        run: () => Address.add(L(i, `d${j}`), cidr, six ? { nodad: true } : undefined),
        check: (v) => expect(v).toMatchObject({ cidr, index: L(i, `d${j}`).index, family: six ? 6 : 4 }),
      });
    }
    for (const a of deletableAddrs[i] ?? []) {
      e.addrs.delete(`${a.dev} ${a.cidr}`);
      ops.push({ ns: i, what: `addr del ${a.cidr} dev ${a.dev}`, run: () => Address.delete(L(i, a.dev), a.cidr) });
    }
    for (let m = 0; m < PER_NS.addRoute; m++) {
      const j = randInt(rnd, 0, DATA - 1);
      const to = `172.${16 + i}.2.${m}`;
      const viaGw = rnd() < 0.6;
      const via = `10.${i}.${j}.254`;
      // dev as a Link, a name (resolved in `ns` by the library) or an ifindex.
      const devKind = pick(rnd, ['link', 'name', 'index'] as const);
      const dev = (): Link | string | number => (devKind === 'link' ? L(i, `d${j}`) : devKind === 'name' ? `d${j}` : L(i, `d${j}`).index);
      e.routes.add(`${to} ${viaGw ? via : '-'} d${j}`);
      ops.push({
        ns: i, what: `route add ${to}/32${viaGw ? ` via ${via}` : ''} dev d${j} (${devKind})`,
        run: () => Route.add({ namespace: ns, to: `${to}/32`, dev: dev(), ...(viaGw ? { via } : {}) }),
      });
    }
    for (const r of deletableRoutes[i] ?? []) {
      e.routes.delete(`${r.to} ${r.via} ${r.dev}`);
      ops.push({ ns: i, what: `route del ${r.to}/32 via ${r.via} dev ${r.dev}`, run: () => Route.delete({ namespace: ns, to: `${r.to}/32`, via: r.via, dev: r.dev }) });
    }
    for (let m = 0; m < PER_NS.neigh; m++) {
      const j = m % DATA;
      const dst = `10.${i}.${j}.${30 + m}`;
      const lladdr = `02:bb:${i.toString(16).padStart(2, '0')}:${j.toString(16).padStart(2, '0')}:00:${m.toString(16).padStart(2, '0')}`;
      e.neigh.add(`${dst} d${j} ${lladdr}`);
      ops.push({ ns: i, what: `neigh add ${dst} lladdr ${lladdr} dev d${j}`, run: () => Neighbor.add({ dev: L(i, `d${j}`), address: dst, lladdr }) });
    }
    const stateNames = Array.from({ length: STATE }, (_, j) => [`s${j}`, `sp${j}`]).flat();
    for (const n of shuffle(rnd, [...stateNames]).slice(0, PER_NS.flag)) {
      const cur = e.links.get(n) as { up: boolean; mtu: number };
      cur.up = !cur.up;
      const up = cur.up;
      ops.push({ ns: i, what: `link set ${n} ${up ? 'up' : 'down'}`, run: () => (up ? L(i, n).up() : L(i, n).down()) });
    }
    for (const n of shuffle(rnd, [...stateNames]).slice(0, PER_NS.mtu)) {
      const mtu = randInt(rnd, 1280, 9000);
      (e.links.get(n) as { up: boolean; mtu: number }).mtu = mtu;
      ops.push({ ns: i, what: `link set ${n} mtu ${mtu}`, run: () => L(i, n).setMtu(mtu) });
    }
    const negatives: (() => Op)[] = [
      () => {
        const a = pick(rnd, keepAddrs[i] ?? []);
        return { ns: i, what: `addr add ${a.cidr} dev ${a.dev} (exists)`, fails: 'EEXIST', run: () => Address.add(L(i, a.dev), a.cidr) };
      },
      () => {
        const j = randInt(rnd, 0, DATA - 1);
        return { ns: i, what: `addr del 10.${i}.${j}.250/32 dev d${j} (absent)`, fails: 'EADDRNOTAVAIL', run: () => Address.delete(L(i, `d${j}`), `10.${i}.${j}.250/32`) };
      },
      () => {
        const m = randInt(rnd, 0, 255);
        return { ns: i, what: `route del 172.${16 + i}.3.${m}/32 (absent)`, fails: 'ESRCH', run: () => Route.delete({ namespace: ns, to: `172.${16 + i}.3.${m}/32` }) };
      },
      () => {
        const r = pick(rnd, keepRoutes[i] ?? []);
        return { ns: i, what: `route add ${r.to}/32 via ${r.via} (exists)`, fails: 'EEXIST', run: () => Route.add({ namespace: ns, to: `${r.to}/32`, via: r.via, dev: L(i, r.dev) }) };
      },
      () => {
        const n = pick(rnd, keepNeigh[i] ?? []);
        return { ns: i, what: `neigh add ${n.dst} dev ${n.dev} (exists)`, fails: 'EEXIST', run: () => Neighbor.add({ dev: L(i, n.dev), address: n.dst, lladdr: '02:cc:00:00:00:01' }) };
      },
    ];
    for (let m = 0; m < PER_NS.negative; m++) ops.push(pick(rnd, negatives)());
  }
  expect(ops.length).toBe(NS * OPS_PER_NS);
  shuffle(rnd, ops);

  // ---- all at once, in the shuffled order
  const t0 = Date.now();
  const results = await Promise.allSettled(ops.map((op) => op.run()));
  const elapsed = Date.now() - t0;

  // ---- one by one
  const wrong: string[] = [];
  let failedAsExpected = 0;
  results.forEach((r, n) => {
    const op = ops[n] as Op;
    const tag = `#${n} ns${op.ns} ${op.what}`;
    if (op.fails) {
      if (r.status === 'fulfilled') wrong.push(`${tag}: succeeded, expected ${op.fails}`);
      else if (!(r.reason instanceof NetlinkError) || r.reason.code !== op.fails) wrong.push(`${tag}: ${String(r.reason)}, expected NetlinkError ${op.fails}`);
      else failedAsExpected++;
    } else if (r.status === 'rejected') {
      wrong.push(`${tag}: ${String((r.reason as Error)?.message ?? r.reason)}`);
    } else if (op.check) {
      try {
        op.check(r.value);
      } catch (e) {
        wrong.push(`${tag}: resolved to ${JSON.stringify(r.value)}: ${(e as Error).message.split('\n')[0]}`);
      }
    }
  });
  expect(wrong).toEqual([]);

  // ---- each namespace, per the oracle
  const diffs: string[] = [];
  const diff = (i: number, kind: string, want: Set<string>, got: string[]): void => {
    const g = new Set(got);
    for (const x of want) if (!g.has(x)) diffs.push(`ns${i} ${kind}: missing ${x}`);
    for (const x of g) if (!want.has(x)) diffs.push(`ns${i} ${kind}: unexpected ${x}`);
  };
  for (let i = 0; i < NS; i++) {
    const N = names[i] as string;
    const e = expects[i] as Expect;
    diff(i, 'addresses', e.addrs, addrSetOf(N).filter((a) => !a.startsWith('lo ')));
    const routes = (ipj(N, 'route', 'show') as { dst: string; gateway?: string; dev: string }[]).map((r) => `${r.dst} ${r.gateway ?? '-'} ${r.dev}`);
    diff(i, 'routes', e.routes, routes);
    const neigh = (ipj(N, '-4', 'neigh', 'show') as { dst: string; dev: string; lladdr?: string; state?: string[] }[])
      .filter((x) => x.state?.includes('PERMANENT'))
      .map((x) => `${x.dst} ${x.dev} ${x.lladdr ?? ''}`);
    diff(i, 'neighbours', e.neigh, neigh);
    const ls = ipj(N, 'link', 'show') as { ifname: string; flags: string[]; mtu: number }[];
    diff(i, 'links', new Set([...e.links.keys(), 'lo']), ls.map((l) => l.ifname));
    for (const l of ls) {
      const want = e.links.get(l.ifname);
      if (!want) continue;
      if (l.flags.includes('UP') !== want.up) diffs.push(`ns${i} ${l.ifname}: ${l.flags.includes('UP') ? 'up' : 'down'}, expected ${want.up ? 'up' : 'down'}`);
      if (l.mtu !== want.mtu) diffs.push(`ns${i} ${l.ifname}: mtu ${l.mtu}, expected ${want.mtu}`);
    }
  }
  const counts = Object.entries(PER_NS).map(([k, n]) => `${k} ${n * NS}`).join(', ');
  console.log(
    `concurrency: ${ops.length} operations (${counts}) across ${NS} namespaces, seed ${SEED}, all in flight at once: ` +
      `settled in ${elapsed} ms; ${ops.length - wrong.length} results as expected (${failedAsExpected} expected failures); ` +
      `${diffs.length} differences from the oracle`,
  );
  expect(diffs).toEqual([]);
  // Not vacuous: the kernel state does hold what the operations added.
  expect(expects.reduce((a, e) => a + e.addrs.size + e.routes.size + e.neigh.size, 0)).toBeGreaterThan(NS * (PER_NS.addAddr + PER_NS.addRoute + PER_NS.neigh));
});
