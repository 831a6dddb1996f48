'use strict';
// `netplumb show [--ns NAME...] [--format F] [--output FILE]`: the topology
// (lib/topology.ts) of this process's namespace and every named one, or of
// the namespaces named, printed as text, JSON, Mermaid or DOT, or drawn as
// SVG or a self-contained HTML page. Reads only.
//
// Exit codes: 0 printed; 1 could not be read or drawn; 2 usage;
// 5 the renderer (optional dependency @viz-js/viz) is missing (svg, html).

const EXIT_UNREADABLE = 1;
const EXIT_USAGE = 2;
const EXIT_NO_RENDERER = 5;
const FORMATS = ['text', 'json', 'mermaid', 'dot', 'svg', 'html'];

const SHOW_USAGE = `Usage: netplumb show [--ns NAME]... [--format text|json|mermaid|dot|svg|html] [--output FILE]

Prints what the kernel holds across namespaces: links (kind, state, MTU, MAC),
veth pairs joined across namespaces, bridges and their ports, addresses,
routes, netplumb networks with their endpoints, and published ports.
Without --ns: this process's namespace, every named namespace (/run/netns)
and the namespaces netplumb's networks lead to. Changes nothing.

  --ns NAME        only this named namespace (repeat for several)
  --format F       text (default), json (the model), mermaid (a flowchart
                   for Markdown), dot (Graphviz), svg (the picture), html
                   (one self-contained page: the picture and the text)
  --output FILE    write to FILE instead of standard output

svg and html are drawn in-process by @viz-js/viz (Graphviz compiled to
WebAssembly), an optional dependency: without it they exit ${EXIT_NO_RENDERER}.

Exit: 0 printed; 1 could not be read or drawn; 2 usage; ${EXIT_NO_RENDERER} renderer missing.`;

function parse(argv) {
  const o = { ns: [], format: 'text', output: undefined };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = (name) => (a === name && i + 1 < argv.length ? argv[++i] : a.startsWith(`${name}=`) ? a.slice(name.length + 1) : undefined);
    let v;
    if ((v = value('--ns')) !== undefined) o.ns.push(v);
    else if ((v = value('--format')) !== undefined) o.format = v;
    else if ((v = value('--output')) !== undefined || (v = value('-o')) !== undefined) o.output = v;
    else if (a === '-h' || a === '--help') o.help = true;
    else return { error: `unexpected argument '${a}'` };
  }
  if (!FORMATS.includes(o.format)) return { error: `unknown format '${o.format}' (one of ${FORMATS.join(', ')})` };
  return o;
}

async function runShow(argv, out = process.stdout, err = process.stderr) {
  const o = parse(argv);
  if (o.error) {
    err.write(`netplumb show: ${o.error}\n\n${SHOW_USAGE}\n`);
    return EXIT_USAGE;
  }
  if (o.help) {
    out.write(`${SHOW_USAGE}\n`);
    return 0;
  }
  const np = require('../dist/lib');
  let text;
  try {
    const t = await np.topology(o.ns.length ? o.ns : 'all');
    if (o.format === 'json') text = `${JSON.stringify(t, null, 2)}\n`;
    else if (o.format === 'mermaid') text = np.topologyMermaid(t);
    else if (o.format === 'dot') text = np.topologyDot(t);
    else if (o.format === 'svg') text = await np.topologySvg(t);
    else if (o.format === 'html') text = await np.topologyHtml(t);
    else text = np.topologyText(t);
  } catch (e) {
    err.write(`netplumb show: ${e && e.message ? e.message : e}\n`);
    return e && e.code === 'ERR_RENDERER_MISSING' ? EXIT_NO_RENDERER : EXIT_UNREADABLE;
  }
  if (o.output !== undefined) {
    try {
      require('node:fs').writeFileSync(o.output, text);
    } catch (e) {
      err.write(`netplumb show: ${e.message}\n`);
      return EXIT_UNREADABLE;
    }
  } else out.write(text);
  return 0;
}

module.exports = { runShow, SHOW_USAGE, FORMATS };
