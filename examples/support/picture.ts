// The ending every demo shares: the picture of what it built, as
// `netplumb show` draws it. The text goes to the output; the SVG and the
// self-contained HTML page are saved next to the compiled example
// (dist/examples/NAME.topology.svg / .html).
import * as fs from 'node:fs';
import * as path from 'node:path';

import { topology, topologyHtml, topologySvg, topologyText, type Namespace, type Topology } from '../../lib';

/** Prints the topology of `namespaces` (default: every one) and saves its picture as NAME.topology.svg/.html; resolves to the model. */
export async function picture(name: string, namespaces: 'all' | Namespace[] = 'all'): Promise<Topology> {
  const t = await topology(namespaces);
  console.log(`\nthe topology (netplumb show):\n${topologyText(t)}`);
  const base = path.join(__dirname, '..', `${name}.topology`);
  try {
    fs.writeFileSync(`${base}.svg`, await topologySvg(t));
    fs.writeFileSync(`${base}.html`, await topologyHtml(t, { title: `netplumb example: ${name}` }));
    console.log(`picture: ${base}.svg, ${base}.html`);
  } catch (e) {
    // Without the optional renderer (@viz-js/viz) the text above is the picture.
    if ((e as { code?: string }).code !== 'ERR_RENDERER_MISSING') throw e;
    console.log(`picture: not drawn (${(e as Error).message})`);
  }
  return t;
}
