// The quick hand-off (src/quick.cc): Route.add/delete({ to, dev }) and
// Address.add/delete(link, cidr) with no options hand an IPv4 CIDR to the
// addon as text. It must take exactly what lib/validate.ts takes as IPv4, with
// the same result in the kernel, and decline everything else (the full path
// then checks the call and says what is wrong): checked here on generated
// strings against validate.cidr, and call by call against the full path
// (the same call with one more option, which the quick hand-off does not
// take), with iproute2 as the oracle.
import { Address, type Link, Namespace, Route, VethPair } from '../../lib';
import type { NativeHandle } from '../../lib/native';
import * as v from '../../lib/validate';
import { inSandbox, ipj, uniq } from '../helpers/oracle';

if (!inSandbox()) throw new Error('integration tests must run inside `netplumb sandbox` as root');

const NS = uniq('qk');
let ns: Namespace;
let eth0: Link;

beforeAll(async () => {
  ns = await Namespace.create(NS);
  const pair = await VethPair.create('qk0', { namespace: ns, peerName: 'qk1', up: true, peerUp: true });
  eth0 = pair.link;
});

afterAll(async () => {
  await ns?.delete();
});

/** What the full path takes as a quick call: an IPv4 CIDR (bare where allowed), a route's without host bits. */
function jsTakes(s: string, what: 'route' | 'add' | 'del'): boolean {
  try {
    const c = v.cidr(s, 'x', what === 'add' ? undefined : v.BARE_OK);
    return c.family === 4 && !(what === 'route' && v.hostBitsSet(c.bytes, c.prefixlen));
  } catch {
    return false;
  }
}

/** Strings near and far from an IPv4 CIDR, the same every run. */
function corpus(): string[] {
  let seed = 12345;
  const rnd = (n: number): number => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    return (seed >>> 8) % n;
  };
  const out = new Set<string>([
    '10.1.2.0/24',
    '10.1.2.3',
    '10.1.2.3/32',
    '10.1.2.3/032',
    '255.255.255.255/032',
    '0.0.0.0/0',
    '0.0.0.0/00',
    '0.0.0.0/000',
    '10.1.2.3/24',
    '010.1.2.3/32',
    '10.01.2.3/32',
    '256.1.1.1/32',
    '1.2.3.4/33',
    '1.2.3.4/',
    '1.2.3/24',
    '1.2.3.4.5/32',
    '::1/128',
    '::ffff:1.2.3.4/128',
    'default',
    '',
    '/',
    '.',
    ' 10.1.2.3/32',
    '10.1.2.3/32 ',
    '1.2.3.4/-1',
    '1.2.3.4/1e1',
    '1.2.3.4/0032',
    '1.2.3.4/+8',
    '1.2.3.4\u0000/32',
    '1.2.3.\u0664/32',
    '1.2.3.4/3\u0662',
    '１.2.3.4/32',
    '1..3.4/32',
    '.1.2.3/32',
    '1.2.3.4//32',
    '10.1.2.3%eth0/32',
    '10.1.2.3/32/32',
    '0x1.2.3.4/32',
    '1.2.3.4 /32',
    'a'.repeat(40),
    '1.2.3.4/3'.padEnd(30, '2'),
  ]);
  // Around the addon's 19-character limit, and characters outside ASCII
  // where a byte of their UTF-8 could pass for a digit, a dot or a slash.
  for (const pad of ['', '0', '00', '000', '0000', ' ', '\u0000', '\u00a0', '\u00e9', '\ud800', '\u{1f600}']) {
    for (const base of ['255.255.255.255/32', '255.255.255.255', '1.2.3.4/32', '10.0.0.0/8']) {
      out.add(pad + base);
      out.add(base + pad);
      out.add(base.replace('.', `.${pad}`));
      out.add(base.replace('/', `${pad}/`));
    }
  }
  const parts = (): string => {
    const octet = (): string => {
      const r = rnd(10);
      if (r < 6) return String(rnd(256));
      if (r < 7) return `0${rnd(100)}`;
      if (r < 8) return String(250 + rnd(20));
      return r < 9 ? '' : String(rnd(1000));
    };
    const n = rnd(8) === 0 ? 3 + rnd(3) : 4;
    return Array.from({ length: n }, octet).join('.');
  };
  while (out.size < 20000) {
    const r = rnd(10);
    const p = rnd(5) === 0 ? '' : `/${rnd(6) === 0 ? `0${rnd(40)}` : rnd(40)}`;
    if (r < 8) out.add(parts() + p);
    else out.add(Array.from({ length: 1 + rnd(22) }, () => '0123456789./ :a'[rnd(15)]).join(''));
  }
  return [...out];
}

/**
 * Counts the calls the addon's quick method `name` takes (returns a promise
 * for) on `h`: an own property in front of the prototype's read-only method,
 * taken away by restore().
 */
function countTaken(h: NativeHandle, name: 'routeText' | 'addrText'): { taken: () => number; restore: () => void } {
  const real = h[name] as (...a: unknown[]) => Promise<unknown> | null;
  let n = 0;
  Object.defineProperty(h, name, {
    configurable: true,
    value(...a: unknown[]) {
      const p = real.apply(h, a);
      if (p !== null) n++;
      return p;
    },
  });
  return { taken: () => n, restore: () => Reflect.deleteProperty(h, name) };
}

describe('the quick hand-off takes what validate.cidr takes as IPv4, and declines the rest', () => {
  it('20,000 strings: accepted by the addon exactly when the full path takes them', async () => {
    // On a closed handle, a call the addon takes is rejected (EBADF), one it
    // declines returns null: its decision, with nothing sent.
    const probe = await Namespace.duplicate(ns);
    await probe.close();
    const h = probe.handle as NativeHandle;
    const differ: string[] = [];
    const taken = { route: 0, add: 0, del: 0 };
    const seen = async (p: Promise<unknown> | null): Promise<boolean> => {
      if (p === null) return false;
      await expect(p).rejects.toMatchObject({ errno: 9 }); // EBADF: taken, then refused by the closed handle
      return true;
    };
    for (const s of corpus()) {
      const got = {
        route: await seen(h.routeText(0, 0, eth0.index, s)),
        del: await seen(h.addrText(1, eth0.index, s)),
        add: await seen(h.addrText(0, eth0.index, s)),
      };
      for (const what of ['route', 'add', 'del'] as const) {
        if (got[what] !== jsTakes(s, what)) differ.push(`${what} ${JSON.stringify(s)}: addon ${got[what]}`);
        if (got[what]) taken[what]++;
      }
    }
    expect(differ).toEqual([]);
    // The corpus reaches both sides of every decision.
    expect(taken.route).toBeGreaterThan(300);
    expect(taken.add).toBeGreaterThan(1000);
    expect(taken.del).toBeGreaterThan(taken.add);
  });

  it('a route call: the same outcome and the same route as the full path, and the quick one is the one taken', async () => {
    const quick = countTaken(ns.handle, 'routeText');
    const outcome = (p: Promise<unknown>): Promise<string> =>
      p.then(
        () => 'ok',
        (e: { code?: string; message?: string }) => `${e.code}: ${e.message}`,
      );
    const routes = (): unknown[] => ipj(NS, 'route', 'show', 'dev', 'qk0');
    try {
      const cases = [
        '10.70.1.0/24',
        '10.70.2.3',
        '10.70.3.4/032',
        '10.70.4.0/24',
        '10.70.5.5/24',
        '010.70.6.0/24',
        '10.70.7.0/33',
        '::1/128',
        'default',
        '10.70.8.0/24 ',
      ];
      const oks: string[] = [];
      for (const to of cases) {
        const q = await outcome(Route.add({ to, dev: eth0 }));
        const kernelQuick = routes();
        const qd = await outcome(Route.delete({ to, dev: eth0 }));
        const f = await outcome(Route.add({ to, dev: eth0, namespace: ns }));
        const kernelFull = routes();
        const fd = await outcome(Route.delete({ to, dev: eth0, namespace: ns }));
        expect({ to, add: q, del: qd, kernel: kernelQuick }).toEqual({ to, add: f, del: fd, kernel: kernelFull });
        if (q === 'ok') oks.push(to);
      }
      expect(oks).toEqual(['10.70.1.0/24', '10.70.2.3', '10.70.3.4/032', '10.70.4.0/24', '::1/128', 'default']);
      expect(quick.taken()).toBe(2 * 4); // the IPv4 ones: add and delete each
      expect(routes()).toEqual([]);
    } finally {
      quick.restore();
    }
  });

  it('an address call: the same AddressInfo, the same address in the kernel, the same errors', async () => {
    const quick = countTaken(ns.handle, 'addrText');
    // IPv4 only: the link's own IPv6 addresses change state (DAD) between two looks.
    const addrs = (): unknown[] => ipj(NS, '-4', 'addr', 'show', 'dev', 'qk0').flatMap((l: { addr_info: unknown[] }) => l.addr_info);
    const outcome = (p: Promise<unknown>): Promise<unknown> =>
      p.then(
        (x) => x ?? 'ok',
        (e: { code?: string; message?: string }) => `${e.code}: ${e.message}`,
      );
    try {
      const cases = ['10.71.1.1/24', '127.0.0.9/8', '10.71.2.2/032', '10.71.3.3', '10.71.4.300/24', 'fd00:71::1/64', '10.71.5.5/24'];
      for (const c of cases) {
        const q = await outcome(Address.add(eth0, c));
        const kernelQuick = addrs();
        const qd = await outcome(Address.delete(eth0, c));
        const f = await outcome(Address.add(eth0, c, {}));
        const kernelFull = addrs();
        const fd = await outcome(Address.delete(eth0, c));
        expect({ c, add: q, del: qd, kernel: kernelQuick }).toEqual({ c, add: f, del: fd, kernel: kernelFull });
      }
      // Every IPv4 add with a prefix (4), and both deletes of each IPv4 case
      // (bare is fine for a delete): 4 + 2 * 5.
      expect(quick.taken()).toBe(14);
      // A bare address deletes the /32 only, as the full path did.
      await Address.add(eth0, '10.71.6.6/32');
      await Address.delete(eth0, '10.71.6.6');
      expect(addrs()).toEqual([]);
    } finally {
      quick.restore();
    }
  });

  it('Route.replace({ to, dev }): the same route as the full path', async () => {
    const show = (): unknown[] => ipj(NS, 'route', 'show', 'dev', 'qk0');
    await Route.add({ to: '10.73.0.0/24', dev: eth0 });
    await Route.replace({ to: '10.73.0.0/24', dev: eth0 }); // quick: replaces, no EEXIST
    const quick = show();
    await Route.replace({ to: '10.73.0.0/24', dev: eth0, namespace: ns }); // the full path
    expect(show()).toEqual(quick);
    await Route.delete({ to: '10.73.0.0/24', dev: eth0 });
    await Route.replace({ to: '10.73.1.0/24', dev: eth0 }); // creates
    expect(show()).toEqual([expect.objectContaining({ dst: '10.73.1.0/24', scope: 'link' })]);
    await Route.delete({ to: '10.73.1.0/24', dev: eth0 });
  });

  it('an option for-in does not see (getter, non-enumerable, inherited, Proxy) is still an option', async () => {
    const other = await Namespace.create(uniq('qko'));
    const route = (dst: string): Record<string, unknown> | undefined =>
      (ipj(NS, 'route', 'show', 'table', 'all', 'dev', 'qk0') as Record<string, unknown>[]).find((r) => r.dst === dst);
    const outcome = (p: Promise<unknown>): Promise<string> =>
      p.then(
        () => 'ok',
        (e: { code?: string }) => String(e.code),
      );
    try {
      class WithGetters {
        to = '10.74.1.0/24';
        dev = eth0;
        get metric(): number {
          return 77;
        }
        get table(): number {
          return 100;
        }
      }
      expect(await outcome(Route.add(new WithGetters()))).toBe('ok');
      expect(route('10.74.1.0/24')).toMatchObject({ metric: 77, table: '100' });
      await Route.delete(new WithGetters());

      const hidden = { to: '10.74.2.0/24', dev: eth0 };
      Object.defineProperty(hidden, 'metric', { value: 55, enumerable: false });
      expect(await outcome(Route.add(hidden))).toBe('ok');
      expect(route('10.74.2.0/24')).toMatchObject({ metric: 55 });
      await Route.delete(hidden);

      const inherited = Object.assign(Object.create({ metric: -1 }) as object, { to: '10.74.3.0/24', dev: eth0 });
      expect(await outcome(Route.add(inherited as never))).toBe('ERR_INVALID_ARGUMENT');

      const wrongNs = { to: '10.74.4.0/24', dev: eth0 };
      Object.defineProperty(wrongNs, 'namespace', { value: other, enumerable: false });
      expect(await outcome(Route.add(wrongNs as never))).toBe('ERR_WRONG_NAMESPACE');

      const proxied = new Proxy({ to: '10.74.5.0/24', dev: eth0 }, { get: (t, k) => (k === 'metric' ? 66 : Reflect.get(t, k)) });
      expect(await outcome(Route.add(proxied))).toBe('ok');
      expect(route('10.74.5.0/24')).toMatchObject({ metric: 66 });
      await Route.delete(proxied);
      for (const d of ['10.74.1.0/24', '10.74.2.0/24', '10.74.3.0/24', '10.74.4.0/24', '10.74.5.0/24']) expect(route(d)).toBeUndefined();
    } finally {
      await other.delete();
    }
  });

  it('a closed namespace or a damaged Link: the errors of the full path', async () => {
    const probe = await Namespace.duplicate(ns);
    const l = await probe.link('qk0');
    await probe.close();
    // The bad destination is named first, as the full path always did.
    await expect(Route.add({ to: '10.75.0.1/24', dev: l })).rejects.toMatchObject({ code: 'ERR_INVALID_CIDR' });
    await expect(Route.add({ to: '10.75.0.0/24', dev: l })).rejects.toMatchObject({ code: 'ERR_NAMESPACE_CLOSED' });
    // A Link whose index is no number: declined by the addon, then the kernel's typed answer.
    const bad = await ns.link('qk0');
    (bad as unknown as { index: unknown }).index = 'x';
    await expect(Route.add({ to: '10.75.1.0/24', dev: bad })).rejects.toMatchObject({ code: 'ENODEV' });
    await expect(Address.add(bad, '10.75.2.1/24')).rejects.toMatchObject({ code: 'ENODEV' });
  });

  it('a call the addon declines keeps its place behind a held burst, whichever Link a getter gives', async () => {
    const [a, b] = await Promise.all([Namespace.create(uniq('qka')), Namespace.create(uniq('qkb'))]);
    try {
      const la = (await VethPair.create('qa0', { namespace: a, peerName: 'qa1', up: true, peerUp: true })).link;
      const lb = (await VethPair.create('qb0', { namespace: b, peerName: 'qb1', up: true, peerUp: true })).link;
      // 3,000 adds in one loop: pace.ts holds most of them for later turns.
      const N = 3000;
      const adds = Array.from({ length: N }, (_, i) => Route.add({ to: `fd00:75:${i.toString(16)}::/64`, dev: lb }));
      let reads = 0;
      // IPv6 (the addon declines it); the first two reads of dev say A, the rest B.
      const last = {
        to: `fd00:75:${(N - 1).toString(16)}::/64`,
        get dev(): Link {
          return reads++ < 2 ? la : lb;
        },
      };
      const del = Route.delete(last);
      await Promise.all(adds);
      await expect(del).resolves.toBeUndefined(); // sent after its add, not before it (ESRCH)
      expect(reads).toBeGreaterThan(1);
    } finally {
      await Promise.all([a.delete(), b.delete()]);
    }
  });
});
