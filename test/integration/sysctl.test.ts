// ns.sysctl.get / set: the namespace's own net.* tree, checked against
// `ip netns exec NAME sysctl -n KEY` (procps) or, without procps,
// `ip netns exec NAME cat /proc/sys/...`.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';

import { type Namespace, NetlinkError, NetplumbError, VethPair } from '../../lib';
import { NsTracker, rejectionOf } from '../helpers/ns-link';

const t = new NsTracker();

const HAS_SYSCTL = spawnSync('sysctl', ['-n', 'net.ipv4.ip_forward'], { encoding: 'utf8' }).status === 0;
if (!HAS_SYSCTL) console.warn('procps sysctl missing: the oracle reads /proc/sys with `ip netns exec NAME cat` instead');

/** The oracle: the value of KEY as a process inside NAME sees it. */
function oracle(nsName: string, key: string): string {
  const path = `/proc/sys/${key.includes('/') ? key : key.replace(/\./g, '/')}`;
  const r = HAS_SYSCTL
    ? spawnSync('ip', ['netns', 'exec', nsName, 'sysctl', '-n', key], { encoding: 'utf8' })
    : spawnSync('ip', ['netns', 'exec', nsName, 'cat', path], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`oracle for ${key} in ${nsName}: ${r.stderr}`);
  return r.stdout.trim();
}

let a: Namespace;
let b: Namespace;
let A: string;
let B: string;

beforeAll(async () => {
  a = await t.create('sya');
  b = await t.create('syb');
  A = a.name as string;
  B = b.name as string;
});

afterAll(() => t.cleanup());

describe('ns.sysctl', () => {
  it('net.ipv4.ip_forward set to 1 in one namespace is 1 there, unchanged (0) elsewhere', async () => {
    const sandboxBefore = fs.readFileSync('/proc/sys/net/ipv4/ip_forward', 'utf8').trim();
    expect(oracle(A, 'net.ipv4.ip_forward')).toBe('0');
    expect(oracle(B, 'net.ipv4.ip_forward')).toBe('0');
    expect(await a.sysctl.get('net.ipv4.ip_forward')).toBe('0');

    await a.sysctl.set('net.ipv4.ip_forward', 1);
    expect(oracle(A, 'net.ipv4.ip_forward')).toBe('1');
    expect(await a.sysctl.get('net.ipv4.ip_forward')).toBe('1');
    expect(oracle(B, 'net.ipv4.ip_forward')).toBe('0');
    expect(await b.sysctl.get('net.ipv4.ip_forward')).toBe('0');
    // And this process's own namespace (the sandbox) is untouched.
    expect(fs.readFileSync('/proc/sys/net/ipv4/ip_forward', 'utf8').trim()).toBe(sandboxBefore);

    // Booleans and strings are accepted too.
    await a.sysctl.set('net.ipv4.ip_forward', false);
    expect(oracle(A, 'net.ipv4.ip_forward')).toBe('0');
    await a.sysctl.set('net.ipv4.ip_forward', '1');
    expect(oracle(A, 'net.ipv4.ip_forward')).toBe('1');
    await a.sysctl.set('net.ipv4.ip_forward', true);
    expect(oracle(A, 'net.ipv4.ip_forward')).toBe('1');
    await a.sysctl.set('net.ipv4.ip_forward', 0);
    expect(oracle(A, 'net.ipv4.ip_forward')).toBe('0');
  });

  it('a multi-value key reads like sysctl -n (net.ipv4.ip_local_port_range)', async () => {
    await a.sysctl.set('net.ipv4.ip_local_port_range', '20000 30000');
    const got = await a.sysctl.get('net.ipv4.ip_local_port_range');
    expect(got.split(/\s+/)).toEqual(['20000', '30000']);
    expect(oracle(A, 'net.ipv4.ip_local_port_range').split(/\s+/)).toEqual(['20000', '30000']);
    expect(oracle(B, 'net.ipv4.ip_local_port_range').split(/\s+/)).not.toEqual(['20000', '30000']);
  });

  it('per-interface key net.ipv4.conf.eth0.route_localnet', async () => {
    await VethPair.create('eth0', { namespace: a, peerName: 'peer0' });
    const key = 'net.ipv4.conf.eth0.route_localnet';
    expect(oracle(A, key)).toBe('0');
    expect(await a.sysctl.get(key)).toBe('0');
    await a.sysctl.set(key, 1);
    expect(oracle(A, key)).toBe('1');
    expect(await a.sysctl.get(key)).toBe('1');
    // Other interfaces of the same namespace are not affected.
    expect(oracle(A, 'net.ipv4.conf.peer0.route_localnet')).toBe('0');
    // B has no eth0: the key does not exist there.
    const e = await rejectionOf(b.sysctl.get(key));
    expect(e).toBeInstanceOf(NetplumbError);
    expect(e.code).toBe('ERR_UNKNOWN_SYSCTL');
  });

  it("the slash form 'net/ipv6/conf/all/disable_ipv6'", async () => {
    const key = 'net/ipv6/conf/all/disable_ipv6';
    expect(await a.sysctl.get(key)).toBe(oracle(A, key));
    await a.sysctl.set(key, 1);
    expect(oracle(A, key)).toBe('1');
    expect(oracle(A, 'net.ipv6.conf.all.disable_ipv6')).toBe('1');
    expect(await a.sysctl.get('net.ipv6.conf.all.disable_ipv6')).toBe('1');
    expect(oracle(B, key)).toBe('0');
    await a.sysctl.set(key, 0);
    expect(oracle(A, key)).toBe('0');
  });

  it('the slash form reaches an interface with a dot in its name (e.1)', async () => {
    await VethPair.create('e.1', { namespace: b, peerName: 'e.2' });
    const key = 'net/ipv4/conf/e.1/forwarding';
    expect(await b.sysctl.get(key)).toBe('0');
    await b.sysctl.set(key, 1);
    expect(oracle(B, key)).toBe('1');
    expect(oracle(B, 'net/ipv4/conf/e.2/forwarding')).toBe('0');
  });

  it('bad keys: ERR_INVALID_SYSCTL before anything is read', async () => {
    const badKeys = ['kernel.hostname', 'kernel/hostname', 'net.ipv4.../x', 'net/../etc', 'net/ipv4/../../kernel/hostname', 'net', '', 'net.ipv4..ip_forward', 'net/ipv4/conf/a b/forwarding', '/net/ipv4/ip_forward'];
    for (const key of badKeys) {
      const g = await rejectionOf(a.sysctl.get(key));
      expect({ key, name: g.name, code: g.code }).toEqual({ key, name: 'NetplumbError', code: 'ERR_INVALID_SYSCTL' });
      const s = await rejectionOf(a.sysctl.set(key, '1'));
      expect({ key, name: s.name, code: s.code }).toEqual({ key, name: 'NetplumbError', code: 'ERR_INVALID_SYSCTL' });
    }
  });

  it("unknown key 'net.ipv4.nope': ERR_UNKNOWN_SYSCTL (get and set)", async () => {
    const g = await rejectionOf(a.sysctl.get('net.ipv4.nope'));
    expect(g).toBeInstanceOf(NetplumbError);
    expect(g.code).toBe('ERR_UNKNOWN_SYSCTL');
    // The kernel's answer is kept as the cause.
    expect(g.cause).toBeInstanceOf(NetlinkError);
    expect((g.cause as NetlinkError).code).toBe('ENOENT');
    const s = await rejectionOf(a.sysctl.set('net.ipv4.nope', 1));
    expect(s).toBeInstanceOf(NetplumbError);
    expect(s.code).toBe('ERR_UNKNOWN_SYSCTL');
  });

  it('bad values: ERR_INVALID_ARGUMENT, nothing written', async () => {
    for (const value of ['1\n0', '1\0', NaN, Infinity, {}, null, undefined]) {
      // eslint-disable-next-line @typescript-eslint/no-explicit-any
      const e = await rejectionOf(a.sysctl.set('net.ipv4.ip_forward', value as any));
      expect({ value: String(value), name: e.name, code: e.code }).toEqual({ value: String(value), name: 'NetplumbError', code: 'ERR_INVALID_ARGUMENT' });
    }
    expect(oracle(A, 'net.ipv4.ip_forward')).toBe('0');
  });

  it('a value the kernel refuses is a NetlinkError (EINVAL), the value is kept', async () => {
    const e = await rejectionOf(a.sysctl.set('net.ipv4.ip_forward', 'abc'));
    expect(e).toBeInstanceOf(NetlinkError);
    expect(e.code).toBe('EINVAL');
    expect(oracle(A, 'net.ipv4.ip_forward')).toBe('0');
  });

  it('a closed namespace: ERR_NAMESPACE_CLOSED', async () => {
    const { Namespace } = await import('../../lib');
    const other = await Namespace.open(A);
    await other.close();
    const e = await rejectionOf(other.sysctl.get('net.ipv4.ip_forward'));
    expect(e).toBeInstanceOf(NetplumbError);
    expect(e.code).toBe('ERR_NAMESPACE_CLOSED');
  });
});
