import type { Topology, TopologyEnd, TopologyLink, TopologyPublishedPort } from './topology';

// Text, Mermaid and Graphviz DOT renderings of a Topology: pure functions of
// the model (same model, same bytes), no dependency. The drawing (SVG, HTML)
// is lib/topology-svg.ts, which lays the DOT out.

/** The formats `netplumb show --format` prints. */
export type TopologyFormat = 'text' | 'json' | 'mermaid' | 'dot' | 'svg' | 'html';

/** Every {@link TopologyFormat}, in the order `netplumb show --help` lists them. */
export const TOPOLOGY_FORMATS: readonly TopologyFormat[] = ['text', 'json', 'mermaid', 'dot', 'svg', 'html'];

const endKey = (e: { namespace: string; index: number }): string => `${e.namespace}\0${e.index}`;

/** The node ids of a model's links and published ports: n<namespace>_<ifindex>, p<namespace>_<k>. */
function ids(t: Topology): { link: (e: { namespace: string; index: number }) => string; port: (p: TopologyPublishedPort) => string } {
  const nsIndex = new Map(t.namespaces.map((n, i) => [n.name, i]));
  const portIds = new Map<TopologyPublishedPort, string>();
  const counts = new Map<string, number>();
  for (const p of t.ports) {
    const k = counts.get(p.namespace) ?? 0;
    counts.set(p.namespace, k + 1);
    portIds.set(p, `p${nsIndex.get(p.namespace) ?? 0}_${k}`);
  }
  return { link: (e) => `n${nsIndex.get(e.namespace) ?? 0}_${e.index}`, port: (p) => portIds.get(p) ?? 'p' };
}

/** The published port's text: 'tcp *:8080 -> 172.17.0.2:80' (ranges as first-last). */
function portText(p: TopologyPublishedPort): string {
  const span = p.hostPortEnd - p.hostPort;
  const host = span ? `${p.hostPort}-${p.hostPortEnd}` : String(p.hostPort);
  const to = span ? `${p.port}-${p.port + span}` : String(p.port);
  return `${p.protocol} ${p.hostAddress}:${host} -> ${p.address}:${to}`;
}

/** The link a published port leads to: the container end of the endpoint with that address. */
function portTarget(t: Topology, p: TopologyPublishedPort): TopologyEnd | undefined {
  for (const n of t.networks) {
    if (n.namespace !== p.namespace) continue;
    const e = n.endpoints.find((x) => x.ip === p.address);
    if (e?.container) return e.container;
  }
  return undefined;
}

/** The edges of the picture: bridge (master) ports, veth pairs, published ports. DOT, Mermaid and the tests count the same. */
export function topologyEdges(t: Topology): { from: string; to: string; kind: 'port' | 'master' | 'veth' | 'publish'; label: string }[] {
  const id = ids(t);
  const out: ReturnType<typeof topologyEdges> = [];
  const byName = new Map(t.links.map((l) => [`${l.namespace}\0${l.name}`, l]));
  // In drawing order: with ordering=out, a bridge lists its ports in the order of their containers.
  for (const l of t.namespaces.flatMap((n) => drawOrder(t, n.name))) {
    if (l.master === undefined) continue;
    const m = byName.get(`${l.namespace}\0${l.master}`);
    if (m) out.push({ from: id.link(m), to: id.link(l), kind: m.kind === 'bridge' ? 'port' : 'master', label: m.kind === 'bridge' ? '' : 'master' });
  }
  const ported = new Set(t.links.filter((l) => l.master !== undefined).map(endKey));
  for (const v of t.vethPairs) {
    // Drawn from the end on a bridge (the host side) to the other: bridge, host ends, containers, left to right.
    const [a, b] = ported.has(endKey(v.b)) && !ported.has(endKey(v.a)) ? [v.b, v.a] : [v.a, v.b];
    out.push({ from: id.link(a), to: id.link(b), kind: 'veth', label: 'veth' });
  }
  for (const p of t.ports) {
    const to = portTarget(t, p);
    if (to) out.push({ from: id.port(p), to: id.link(to), kind: 'publish', label: `${p.protocol} ${p.port}` });
  }
  return out;
}

/** Addresses drawn on a link: all but link-local scope (fe80::, 169.254/16), which every link has. */
function shownAddresses(t: Topology, l: TopologyLink): string[] {
  return t.addresses.filter((a) => a.namespace === l.namespace && a.link === l.name && a.scope !== 'link').map((a) => a.cidr);
}

/** The lines of a link's box: name, kind/state/mtu, MAC, addresses. */
function linkLines(t: Topology, l: TopologyLink): string[] {
  const lines = [l.name, `${l.kind || 'device'} · ${l.up ? l.state : 'down'} · mtu ${l.mtu}`];
  if (l.mac && l.mac !== '00:00:00:00:00:00') lines.push(l.mac);
  return [...lines, ...shownAddresses(t, l)];
}

/**
 * A namespace's links in drawing order: by ifindex, except the veths, which
 * follow in the order of the namespaces of their peers (so that a bridge's
 * ports line up with their containers instead of crossing).
 */
function drawOrder(t: Topology, ns: string): TopologyLink[] {
  const nsIndex = new Map(t.namespaces.map((n, i) => [n.name, i]));
  const rank = (l: TopologyLink): number => (l.peer && l.peer.namespace !== ns ? 1 + (nsIndex.get(l.peer.namespace) ?? 0) : 0);
  return t.links
    .filter((x) => x.namespace === ns)
    .sort((a, b) => rank(a) - rank(b) || (a.peer && b.peer ? a.peer.index - b.peer.index : 0) || a.index - b.index);
}

function nsTitle(t: Topology, name: string): string {
  const n = t.namespaces.find((x) => x.name === name);
  return `namespace ${name}${n?.current && name !== '(current)' ? ' (current)' : ''}`;
}

/**
 * `netplumb show --format text`: per namespace its links (with addresses,
 * master, veth peer), routes and published ports; then the netplumb networks
 * with their endpoints, and the veth pairs.
 */
export function topologyText(t: Topology): string {
  const out: string[] = [];
  const w = Math.max(4, ...t.links.map((l) => l.name.length));
  for (const n of t.namespaces) {
    out.push(
      `${nsTitle(t, n.name)}${
        Object.keys(n.nsids).length
          ? `  nsids: ${Object.entries(n.nsids)
              .map(([k, v]) => `${k}=${v}`)
              .join(' ')}`
          : ''
      }`,
    );
    for (const l of t.links.filter((x) => x.namespace === n.name)) {
      const bits = [`${String(l.index).padStart(3)}: ${l.name.padEnd(w)}`, (l.kind || 'device').padEnd(7), (l.up ? l.state : 'down').padEnd(7), `mtu ${l.mtu}`];
      if (l.mac) bits.push(l.mac);
      if (l.master) bits.push(`master ${l.master}`);
      if (l.peer) bits.push(`peer ${l.peer.namespace === l.namespace ? '' : `${l.peer.namespace}:`}${l.peer.name}`);
      else if (l.peerIndex !== undefined) bits.push(`peer #${l.peerIndex}${l.peerNetnsId !== undefined ? ` nsid ${l.peerNetnsId}` : ''} (not in the model)`);
      out.push(`  ${bits.join('  ')}`);
      for (const a of t.addresses.filter((x) => x.namespace === n.name && x.link === l.name))
        out.push(`       ${a.family === 4 ? 'inet ' : 'inet6'} ${a.cidr}${a.scope !== 'global' ? ` scope ${a.scope}` : ''}`);
    }
    const routes = t.routes.filter((r) => r.namespace === n.name);
    if (routes.length) out.push('  routes:');
    for (const r of routes) {
      const bits = [r.type !== 'unicast' ? `${r.type} ${r.to}` : r.to];
      if (r.via) bits.push(`via ${r.via}`);
      if (r.dev) bits.push(`dev ${r.dev}`);
      if (r.src) bits.push(`src ${r.src}`);
      if (r.metric) bits.push(`metric ${r.metric}`);
      out.push(`    ${bits.join(' ')}`);
    }
    const ports = t.ports.filter((p) => p.namespace === n.name);
    if (ports.length) out.push('  published ports:');
    for (const p of ports) out.push(`    ${portText(p)}`);
    out.push('');
  }
  if (t.networks.length) out.push('netplumb networks:');
  for (const net of t.networks) {
    out.push(`  ${net.name} (namespace ${net.namespace})  ${net.subnets.join(' ')}${net.gateways.length ? `  gateway ${net.gateways.join(' ')}` : ''}`);
    for (const e of net.endpoints) {
      const where = e.container ? `${e.container.namespace}:${e.container.name}` : e.ifname;
      out.push(`    ${e.id || '-'}  ${e.ip}  ${where} <-> ${e.hostIfname}${e.ports.length ? `  publishes ${e.ports.map(portText).join(', ')}` : ''}`);
    }
  }
  if (t.networks.length) out.push('');
  if (t.vethPairs.length) out.push('veth pairs:');
  for (const v of t.vethPairs) out.push(`  ${v.a.namespace}:${v.a.name} <-> ${v.b.namespace}:${v.b.name}`);
  if (t.vethPairs.length) out.push('');
  for (const warning of t.warnings) out.push(`warning: ${warning}`);
  return `${out.join('\n').replace(/\n+$/, '')}\n`;
}

/** Mermaid label text: its quotes and markup characters as entity codes. */
function mm(s: string): string {
  return s.replace(/[#"<>]/g, (c) => `#${c.charCodeAt(0)};`);
}

/** `netplumb show --format mermaid`: a flowchart, a subgraph per namespace, for Markdown that renders Mermaid. */
export function topologyMermaid(t: Topology): string {
  const id = ids(t);
  const out = ['flowchart LR'];
  t.namespaces.forEach((n, i) => {
    out.push(`  subgraph ns${i}["${mm(nsTitle(t, n.name))}"]`);
    for (const l of drawOrder(t, n.name)) out.push(`    ${id.link(l)}["${linkLines(t, l).map(mm).join('<br/>')}"]`);
    for (const p of t.ports.filter((x) => x.namespace === n.name))
      out.push(`    ${id.port(p)}>"${mm(`${p.protocol} ${p.hostAddress}:${p.hostPort}${p.hostPortEnd !== p.hostPort ? `-${p.hostPortEnd}` : ''}`)}"]`);
    out.push('  end');
  });
  for (const e of topologyEdges(t)) {
    if (e.kind === 'veth') out.push(`  ${e.from} <-->|veth| ${e.to}`);
    else if (e.kind === 'publish') out.push(`  ${e.from} -.->|${mm(e.label)}| ${e.to}`);
    else out.push(`  ${e.from} ---${e.label ? `|${e.label}|` : ''} ${e.to}`);
  }
  return `${out.join('\n')}\n`;
}

/** A DOT double-quoted string. */
function q(s: string): string {
  return `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`;
}

const FILL: Record<string, string> = { bridge: '#fde9b8', veth: '#ffffff', '': '#eef0f3' };
const EDGE_STYLE: Record<string, string> = {
  port: 'color="#8a6d1f", penwidth=1.4',
  master: 'color="#8a6d1f", style=dotted',
  veth: 'color="#2563eb", penwidth=2',
  publish: 'color="#c2410c", style=dashed, dir=forward, arrowsize=0.7',
};

/**
 * `netplumb show --format dot`: Graphviz DOT, a cluster per namespace, a node
 * per link (and per published port), an edge per bridge port, veth pair and
 * published port. Laid out left to right: bridges, their ports, then the
 * containers one under the other, so a bridge with many containers grows
 * downwards and stays readable.
 */
export function topologyDot(t: Topology): string {
  const id = ids(t);
  const out = [
    'digraph topology {',
    '  graph [rankdir=LR, ordering=out, fontname="Helvetica", fontsize=12, nodesep=0.12, ranksep=0.9, pad=0.2, labeljust=l];',
    '  node [shape=box, style="rounded,filled", fontname="Helvetica", fontsize=10, margin="0.12,0.04"];',
    '  edge [dir=none, fontname="Helvetica", fontsize=9];',
  ];
  // The namespaces with bridges first (leftmost), then the others in the model's order.
  const hosts = new Set(t.bridges.map((b) => b.namespace));
  const order = [...t.namespaces.keys()].sort(
    (a, b) => Number(!hosts.has(t.namespaces[a]?.name ?? '')) - Number(!hosts.has(t.namespaces[b]?.name ?? '')) || a - b,
  );
  order.forEach((i) => {
    const n = t.namespaces[i] as Topology['namespaces'][number];
    out.push(`  subgraph cluster_${i} {`);
    out.push(`    label=${q(nsTitle(t, n.name))}; style="rounded,filled"; fillcolor=${n.current ? '"#e8f0fe"' : '"#f4f6f8"'}; color="#94a3b8";`);
    for (const l of drawOrder(t, n.name))
      out.push(
        `    ${id.link(l)} [label=${q(linkLines(t, l).join('\n'))}, fillcolor=${q(FILL[l.kind] ?? '#e6f4ea')}${l.up ? '' : ', fontcolor="#6b7280", color="#9ca3af"'}];`,
      );
    for (const p of t.ports.filter((x) => x.namespace === n.name))
      out.push(
        `    ${id.port(p)} [shape=cds, style=filled, fillcolor="#fed7aa", label=${q(`${p.protocol} ${p.hostAddress}:${p.hostPort}${p.hostPortEnd !== p.hostPort ? `-${p.hostPortEnd}` : ''}`)}];`,
      );
    out.push('  }');
  });
  for (const e of topologyEdges(t)) out.push(`  ${e.from} -> ${e.to} [${EDGE_STYLE[e.kind]}${e.label && e.kind !== 'veth' ? `, label=${q(e.label)}` : ''}];`);
  // Layout only (drawn as nothing, class "layout" in the SVG): in a namespace without bridges, its
  // other links sit to the right of the one a veth joins, so that each container is one row high.
  for (const n of t.namespaces) {
    if (hosts.has(n.name)) continue;
    const links = drawOrder(t, n.name);
    const joined = links.find((l) => l.peer && l.peer.namespace !== n.name);
    if (joined)
      for (const l of links)
        if (l !== joined && !l.peer && l.master === undefined) out.push(`  ${id.link(joined)} -> ${id.link(l)} [style=invis, class="layout"];`);
  }
  out.push('}');
  return `${out.join('\n')}\n`;
}
