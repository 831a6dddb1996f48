import { ErrorCodes as C, NetplumbError } from './errors';
import type { Topology } from './topology';
import { topologyDot, topologyText } from './topology-render';

// The picture: the DOT of topology-render.ts laid out and drawn by Graphviz
// compiled to WebAssembly (@viz-js/viz, an optional dependency): no process
// forked, no `dot` binary. Loaded on the first drawing only, so that
// require('netplumb') does not pay for its 1.2 MB.

interface Renderer {
  renderString(src: string, opts: { format: 'svg'; engine?: string }): string;
}

let moduleId = '@viz-js/viz';
let loading: Promise<Renderer> | undefined;

/** @internal Test hook: the module the renderer is loaded from (a missing one shows the error users get). */
export function _setRendererModule(id: string): void {
  moduleId = id;
  loading = undefined;
}

function renderer(): Promise<Renderer> {
  loading ??= (async () => {
    let mod: { instance(): Promise<Renderer> };
    try {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      mod = require(moduleId) as typeof mod;
    } catch (e) {
      throw new NetplumbError(
        C.RENDERER_MISSING,
        `drawing the topology (svg, html) needs ${moduleId}, an optional dependency of netplumb that is not installed: npm install ${moduleId} (the text, json, mermaid and dot formats need nothing)`,
        { cause: e },
      );
    }
    return mod.instance();
  })().catch((e: unknown) => {
    loading = undefined;
    throw e;
  });
  return loading;
}

/**
 * The topology drawn as SVG (Graphviz's dot layout of {@link topologyDot}).
 * @throws NetplumbError ERR_RENDERER_MISSING when the optional dependency @viz-js/viz is not installed
 */
export async function topologySvg(t: Topology): Promise<string> {
  const viz = await renderer();
  return viz.renderString(topologyDot(t), { format: 'svg', engine: 'dot' });
}

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/**
 * The topology as one self-contained HTML page: the SVG inline (no external
 * URL, no script), a summary, and the text rendering below the picture.
 * @throws NetplumbError ERR_RENDERER_MISSING when the optional dependency @viz-js/viz is not installed
 */
export async function topologyHtml(t: Topology, opts: { title?: string } = {}): Promise<string> {
  const svg = (await topologySvg(t))
    // Inline in HTML: no XML prolog, no DOCTYPE (it names a DTD by URL), no namespace URIs.
    .replace(/<\?xml[^>]*\?>\s*/, '')
    .replace(/<!DOCTYPE[^>]*>\s*/, '')
    .replace(/\s+xmlns(:xlink)?="[^"]*"/g, '');
  const title = opts.title ?? 'netplumb topology';
  const summary = `${t.namespaces.length} namespaces, ${t.links.length} links, ${t.bridges.length} bridges, ${t.vethPairs.length} veth pairs, ${t.networks.length} netplumb networks, ${t.ports.length} published ports`;
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>${esc(title)}</title>
<style>
body { font-family: Helvetica, Arial, sans-serif; margin: 1.5em; color: #1f2937; }
h1 { font-size: 1.3em; margin: 0 0 0.3em; }
p.summary { color: #4b5563; margin: 0 0 1em; }
div.picture svg { max-width: 100%; height: auto; }
pre { background: #f4f6f8; padding: 1em; overflow: auto; font-size: 12px; }
</style>
</head>
<body>
<h1>${esc(title)}</h1>
<p class="summary">${esc(summary)}</p>
<div class="picture">
${svg.trim()}
</div>
<details><summary>As text</summary>
<pre>${esc(topologyText(t))}</pre>
</details>
</body>
</html>
`;
}
