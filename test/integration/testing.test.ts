// netplumb/testing against the real kernel: withNamespaces, ipJson and
// skipUnlessKind, each checked with `ip` run here, apart from the helper.
import { spawn, spawnSync } from 'node:child_process';

import { Namespace, VethPair } from '../../lib';
import { ipJson, requireSandbox, skipUnlessKind, withNamespaces } from '../../lib/testing';

function netnsList(): string[] {
  const r = spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' });
  return r.stdout.split('\n').filter(Boolean).map((l) => l.split(' ')[0]);
}

describe('netplumb/testing', () => {
  it('requireSandbox() passes here (the integration tier runs in the sandbox)', () => {
    expect(() => requireSandbox()).not.toThrow();
  });

  it('withNamespaces creates named namespaces and deletes them after fn', async () => {
    const before = netnsList();
    const seen = await withNamespaces(3, async (a, b, c) => {
      expect(new Set([a.name, b.name, c.name]).size).toBe(3);
      return netnsList();
    });
    expect(seen.filter((n) => !before.includes(n))).toHaveLength(3);
    expect(netnsList()).toEqual(before);
  });

  it('withNamespaces deletes them when fn throws, and passes the error on', async () => {
    const before = netnsList();
    let names: (string | undefined)[] = [];
    await expect(
      withNamespaces(2, async (a, b) => {
        names = [a.name, b.name];
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    expect(names.every((n) => n !== undefined)).toBe(true);
    expect(netnsList()).toEqual(before);
  });

  it('ipJson reads a namespace by Namespace, by name, and by path (unnamed)', async () => {
    await withNamespaces(1, async (ns) => {
      await VethPair.create('tv0', { namespace: ns, peerName: 'tv1' });
      const byNs = (ipJson(ns, 'link', 'show') as { ifname: string }[]).map((l) => l.ifname).sort();
      expect(byNs).toEqual(['lo', 'tv0', 'tv1']);
      const [tv0] = ipJson(ns.name, 'link', 'show', 'dev', 'tv0') as { ifname: string; linkinfo: { info_kind: string } }[];
      expect(tv0.linkinfo.info_kind).toBe('veth'); // -d: details are there
    });
    // An unnamed namespace: a child's, reached through /proc/PID/ns/net.
    const child = spawn('unshare', ['--net', '--', 'sleep', '30'], { stdio: 'ignore' });
    try {
      await new Promise((r) => setTimeout(r, 200));
      const ns = await Namespace.fromPid(child.pid!);
      try {
        expect(ns.name).toBeUndefined();
        expect((ipJson(ns, 'link', 'show') as { ifname: string }[]).map((l) => l.ifname)).toEqual(['lo']);
      } finally {
        await ns.close();
      }
    } finally {
      child.kill('SIGKILL');
    }
  });

  it('ipJson throws with ip\'s message', () => {
    expect(() => ipJson(undefined, 'link', 'show', 'dev', 'no-such-dev0')).toThrow(/no-such-dev0.*does not exist/);
  });

  it('skipUnlessKind: undefined for kinds this kernel makes, its words for one it refuses; leaves nothing', () => {
    const before = netnsList();
    expect(skipUnlessKind('veth', 'peer', 'name', 'p1')).toBeUndefined();
    expect(skipUnlessKind('bridge')).toBeUndefined();
    expect(skipUnlessKind('macvlan')).toBeUndefined();
    expect(skipUnlessKind('vxlan')).toBeUndefined();
    expect(skipUnlessKind('nosuchkind')).toMatch(/Unknown device type|not supported|No such/i);
    // Refused by the kernel for its arguments, in its words.
    expect(skipUnlessKind('vxlan', 'id', '99999999')).toMatch(/id/i);
    expect(netnsList()).toEqual(before);
  });
});
