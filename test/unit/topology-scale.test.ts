// A bridge with 20 containers stays readable: drawn in-process from a
// synthetic model (no root, no kernel), the SVG's link boxes do not overlap,
// every name is there at the renderer's own font size, and the picture grows
// downwards, not sideways (its width is that of a bridge with two).
import { topologySvg, type Topology } from '../../lib';

/** A host namespace with a bridge and `n` containers, each joined by a veth pair. */
function bridgeWith(n: number): Topology {
  const ns = (name: string, i: number) => ({ name, current: false, dev: 4, inode: 4026532100 + i, nsids: {} });
  const link = (namespace: string, index: number, name: string, kind: string, extra: object = {}) => ({
    namespace,
    index,
    name,
    kind,
    state: 'up',
    up: true,
    mtu: 1500,
    mac: '02:42:ac:1e:00:02',
    ...extra,
  });
  const m = {
    namespaces: [ns('host', 0)],
    links: [link('host', 1, 'lo', ''), link('host', 3, 'docker0', 'bridge')],
    vethPairs: [] as unknown[],
    bridges: [{ namespace: 'host', name: 'docker0', index: 3, ports: [] as string[] }],
    addresses: [],
    routes: [],
    networks: [],
    ports: [],
    warnings: [],
  };
  for (let i = 1; i <= n; i++) {
    const c = `c${i}`;
    const host = `veth${String(i).padStart(7, '0')}`;
    m.namespaces.push(ns(c, i));
    m.links.push(link(c, 1, 'lo', ''));
    m.links.push(link(c, 2, 'eth0', 'veth', { peer: { namespace: 'host', name: host, index: 10 + i } }));
    m.links.push(link('host', 10 + i, host, 'veth', { master: 'docker0', peer: { namespace: c, name: 'eth0', index: 2 } }));
    m.vethPairs.push({ a: { namespace: c, name: 'eth0', index: 2 }, b: { namespace: 'host', name: host, index: 10 + i } });
    m.bridges[0]!.ports.push(host);
  }
  return m as unknown as Topology;
}

interface Box {
  title: string;
  x0: number;
  y0: number;
  x1: number;
  y1: number;
}

/** Each node's bounding box, from the coordinates of its shape. */
function boxes(svg: string): Box[] {
  const out: Box[] = [];
  for (const g of svg.matchAll(/<g id="[^"]*" class="node">\s*<title>([^<]*)<\/title>([\s\S]*?)<\/g>/g)) {
    const shape = /(?:points|d)="([^"]+)"/.exec(g[2] as string);
    const nums = (shape?.[1] ?? '').match(/-?\d+(?:\.\d+)?/g)?.map(Number) ?? [];
    const xs = nums.filter((_, i) => i % 2 === 0);
    const ys = nums.filter((_, i) => i % 2 === 1);
    out.push({ title: g[1] as string, x0: Math.min(...xs), y0: Math.min(...ys), x1: Math.max(...xs), y1: Math.max(...ys) });
  }
  return out;
}

const size = (svg: string): { w: number; h: number } => {
  const m = /<svg width="(\d+(?:\.\d+)?)pt" height="(\d+(?:\.\d+)?)pt"/.exec(svg);
  return { w: Number(m?.[1]), h: Number(m?.[2]) };
};

test('a bridge with 20 containers: no box overlaps another, every name drawn, the picture grows downwards', async () => {
  const two = await topologySvg(bridgeWith(2));
  const twenty = await topologySvg(bridgeWith(20));
  const b = boxes(twenty);
  expect(b).toHaveLength(2 + 20 * 3);
  const overlaps: string[] = [];
  for (let i = 0; i < b.length; i++)
    for (let j = i + 1; j < b.length; j++) {
      const [p, q] = [b[i]!, b[j]!];
      if (p.x0 < q.x1 && q.x0 < p.x1 && p.y0 < q.y1 && q.y0 < p.y1) overlaps.push(`${p.title} / ${q.title}`);
    }
  expect(overlaps).toEqual([]);
  const texts = new Set([...twenty.matchAll(/<text[^>]*>([^<]*)<\/text>/g)].map((m) => m[1]));
  for (let i = 1; i <= 20; i++) {
    expect(texts).toContain(`veth${String(i).padStart(7, '0')}`);
    expect(texts).toContain(`namespace c${i}`);
  }
  // The renderer's font size, not shrunk to fit.
  expect([...twenty.matchAll(/font-size="([\d.]+)"/g)].every((m) => Number(m[1]) >= 9)).toBe(true);
  const [s2, s20] = [size(two), size(twenty)];
  expect(s20.w).toBeLessThanOrEqual(s2.w * 1.25);
  expect(s20.h).toBeGreaterThan(s2.h * 5);
});
