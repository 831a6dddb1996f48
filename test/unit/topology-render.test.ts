// The renderings of a fixed topology model (test/unit/golden/topology-model.json:
// a bridge network with two containers and a published port, a veth pair
// between two namespaces): text, Mermaid and DOT compared with golden files,
// the SVG drawn in-process counted node by node and edge by edge, the HTML
// checked to be self-contained, and the missing renderer's typed error.
// No root, no kernel: the integration test (test/integration/topology.test.ts)
// checks the model against `ip -j`.
//
// Golden files are rewritten with UPDATE_GOLDEN=1 (then reviewed in the diff).
import * as fs from 'node:fs';
import * as path from 'node:path';

import { topologyDot, topologyEdges, topologyHtml, topologyMermaid, topologySvg, topologyText, type Topology } from '../../lib';
import { _setRendererModule } from '../../lib/topology-svg';
import { main } from '../../bin/cli';
import { runShow } from '../../bin/show';

const GOLDEN = path.join(__dirname, 'golden');
const model = JSON.parse(fs.readFileSync(path.join(GOLDEN, 'topology-model.json'), 'utf8')) as Topology;

function golden(file: string, actual: string): void {
  const p = path.join(GOLDEN, file);
  if (process.env.UPDATE_GOLDEN === '1') fs.writeFileSync(p, actual);
  expect(actual).toBe(fs.readFileSync(p, 'utf8'));
}

/** The `<title>`s of the SVG's groups of one class (node, edge, cluster), unescaped. */
function titles(svg: string, cls: string): string[] {
  const re = new RegExp(`<g id="[^"]*" class="${cls}">\\s*<title>([^<]*)</title>`, 'g');
  return [...svg.matchAll(re)].map((m) => (m[1] as string).replace(/&#45;/g, '-').replace(/&gt;/g, '>').replace(/&lt;/g, '<').replace(/&amp;/g, '&'));
}

describe('topology renderings of a fixed model', () => {
  test('text, mermaid and dot match their golden files', () => {
    golden('topology.txt', topologyText(model));
    golden('topology.mmd', topologyMermaid(model));
    golden('topology.dot', topologyDot(model));
  });

  test('the edges: every bridge port, veth pair and published port, once', () => {
    const edges = topologyEdges(model);
    expect(edges.filter((e) => e.kind === 'port')).toHaveLength(model.bridges.reduce((n, b) => n + b.ports.length, 0));
    expect(edges.filter((e) => e.kind === 'veth')).toHaveLength(model.vethPairs.length);
    expect(edges.filter((e) => e.kind === 'publish')).toHaveLength(model.ports.length);
    expect(edges).toHaveLength(2 + 3 + 1);
  });

  test('the SVG has a node per link and published port, an edge per port, veth pair and mapping, a cluster per namespace', async () => {
    const svg = await topologySvg(model);
    const nodes = titles(svg, 'node');
    expect(nodes).toHaveLength(model.links.length + model.ports.length);
    const ns = new Map(model.namespaces.map((n, i) => [n.name, i]));
    for (const l of model.links) expect(nodes).toContain(`n${ns.get(l.namespace)}_${l.index}`);
    const edges = titles(svg, 'edge');
    expect(edges.sort()).toEqual(
      topologyEdges(model)
        .map((e) => `${e.from}->${e.to}`)
        .sort(),
    );
    // The bridge's ports are edges from the bridge's node: each one named.
    expect(edges).toEqual(expect.arrayContaining(['n3_3->n3_4', 'n3_3->n3_5']));
    expect(titles(svg, 'cluster')).toHaveLength(model.namespaces.length);
    const texts = [...svg.matchAll(/<text[^>]*>([^<]*)<\/text>/g)].map((m) => m[1]);
    for (const l of model.links) expect(texts).toContain(l.name);
    for (const n of model.namespaces) expect(texts).toContain(`namespace ${n.name}`);
  });

  test('the HTML is one self-contained file: the SVG inline, no URL, no script', async () => {
    const html = await topologyHtml(model, { title: 'fixed model' });
    expect(html.startsWith('<!DOCTYPE html>')).toBe(true);
    expect(html).toContain('<svg');
    expect(html).not.toMatch(/https?:\/\//);
    expect(html).not.toMatch(/<script|<link|\bsrc=|xlink:href|@import|url\(/i);
    expect(html).toContain('<title>fixed model</title>');
  });

  test('without the renderer: svg and html reject with ERR_RENDERER_MISSING, the text formats work', async () => {
    _setRendererModule('netplumb-test-no-such-renderer');
    try {
      await expect(topologySvg(model)).rejects.toMatchObject({ name: 'NetplumbError', code: 'ERR_RENDERER_MISSING' });
      await expect(topologyHtml(model)).rejects.toMatchObject({
        code: 'ERR_RENDERER_MISSING',
        message: expect.stringContaining('npm install netplumb-test-no-such-renderer'),
      });
      expect(topologyDot(model)).toContain('digraph topology');
    } finally {
      _setRendererModule('@viz-js/viz');
    }
    await expect(topologySvg(model)).resolves.toContain('<svg');
  });

  test('netplumb show: usage errors exit 2 before anything is read; --help prints the usage', async () => {
    const io = () => {
      const o = { out: '', err: '' };
      return { o, io: { stdout: { write: (s: string) => (o.out += s) }, stderr: { write: (s: string) => (o.err += s) } } };
    };
    const bad = io();
    expect(await runShow(['--format', 'png'], bad.io.stdout, bad.io.stderr)).toBe(2);
    expect(bad.o.err).toContain("unknown format 'png' (one of text, json, mermaid, dot, svg, html)");
    const extra = io();
    expect(await runShow(['c1'], extra.io.stdout, extra.io.stderr)).toBe(2);
    expect(extra.o.err).toContain("unexpected argument 'c1'");
    const help = io();
    expect(await main(['help', 'show'], help.io)).toBe(0);
    expect(help.o.out).toContain('Usage: netplumb show [--ns NAME]... [--format text|json|mermaid|dot|svg|html] [--output FILE]');
  });
});
