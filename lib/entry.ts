// The package's runtime entry (package.json "main"): the exports of
// lib/index.ts (which stays the source of the types and the docs), each
// module loaded the first time one of its exports is used, so that
// `require('netplumb')` costs next to nothing and a program pays only for what
// it calls (Node's net, http, child_process and crypto come with the few
// parts that use them). test/unit/entry.test.ts checks that this file exports
// exactly what lib/index.ts does, the same objects.
//
// An export added to lib/index.ts needs its line here too (twice: the getter
// and the defineProperty). The defineProperty lines keep the shape
// `get: function () { return a.b; }`, which Node's CommonJS export scanner
// (cjs-module-lexer) recognizes: `import { Namespace } from 'netplumb'` in ESM
// depends on it.
/* eslint-disable @typescript-eslint/no-require-imports */

// Loads a module of lib/. Link and Address register themselves with the
// modules below them when they load (namespace.ts, link.ts), so they come
// first, whatever was asked for.
function load(id: string): Record<string, unknown> {
  require('./address');
  return require(id) as Record<string, unknown>;
}

const lazy_netplumb = {
  get NetplumbError(): unknown {
    return load('./errors').NetplumbError;
  },
  get NetlinkError(): unknown {
    return load('./errors').NetlinkError;
  },
  get BrokenNamespaceError(): unknown {
    return load('./errors').BrokenNamespaceError;
  },
  get ErrorCodes(): unknown {
    return load('./errors').ErrorCodes;
  },
  get Namespace(): unknown {
    return load('./namespace').Namespace;
  },
  get NETNS_RUN_DIR(): unknown {
    return load('./namespace').NETNS_RUN_DIR;
  },
  get Link(): unknown {
    return load('./link').Link;
  },
  get VethPair(): unknown {
    return load('./veth-pair').VethPair;
  },
  get Bridge(): unknown {
    return load('./bridge').Bridge;
  },
  get Macvlan(): unknown {
    return load('./macvlan').Macvlan;
  },
  get Vxlan(): unknown {
    return load('./vxlan').Vxlan;
  },
  get BOND_MODES(): unknown {
    return load('./kinds/bond').BOND_MODES;
  },
  get IPVLAN_MODES(): unknown {
    return load('./kinds/ipvlan').IPVLAN_MODES;
  },
  get IPVLAN_FLAGS(): unknown {
    return load('./kinds/ipvlan').IPVLAN_FLAGS;
  },
  get TUN_MODES(): unknown {
    return load('./kinds/tun').TUN_MODES;
  },
  get VLAN_PROTOCOLS(): unknown {
    return load('./kinds/vlan').VLAN_PROTOCOLS;
  },
  get Address(): unknown {
    return load('./address').Address;
  },
  get Route(): unknown {
    return load('./route').Route;
  },
  get BridgePort(): unknown {
    return load('./bridge-port').BridgePort;
  },
  get Neighbor(): unknown {
    return load('./neighbor').Neighbor;
  },
  get Fdb(): unknown {
    return load('./neighbor').Fdb;
  },
  get Rule(): unknown {
    return load('./rule').Rule;
  },
  get Sysctl(): unknown {
    return load('./inside').Sysctl;
  },
  get PortMapping(): unknown {
    return load('./port-mapping').PortMapping;
  },
  get WARNING_CODES(): unknown {
    return load('./doctor').WARNING_CODES;
  },
  get OUR_DNAT_PRIORITY(): unknown {
    return load('./doctor').OUR_DNAT_PRIORITY;
  },
  get Watcher(): unknown {
    return load('./watcher').Watcher;
  },
  get trace(): unknown {
    return load('./trace').trace;
  },
  get formatTrace(): unknown {
    return load('./trace').formatTrace;
  },
  get decodeDatagram(): unknown {
    return load('./trace').decodeDatagram;
  },
  get Network(): unknown {
    return load('./network').Network;
  },
  get parsePublish(): unknown {
    return load('./network').parsePublish;
  },
  get topology(): unknown {
    return load('./topology').topology;
  },
  get CURRENT_NAMESPACE(): unknown {
    return load('./topology').CURRENT_NAMESPACE;
  },
  get topologyText(): unknown {
    return load('./topology-render').topologyText;
  },
  get topologyMermaid(): unknown {
    return load('./topology-render').topologyMermaid;
  },
  get topologyDot(): unknown {
    return load('./topology-render').topologyDot;
  },
  get topologyEdges(): unknown {
    return load('./topology-render').topologyEdges;
  },
  get TOPOLOGY_FORMATS(): unknown {
    return load('./topology-render').TOPOLOGY_FORMATS;
  },
  get topologySvg(): unknown {
    return load('./topology-svg').topologySvg;
  },
  get topologyHtml(): unknown {
    return load('./topology-svg').topologyHtml;
  },
};

Object.defineProperty(exports, 'NetplumbError', {
  enumerable: true,
  get: function () {
    return lazy_netplumb.NetplumbError;
  },
});
Object.defineProperty(exports, 'NetlinkError', {
  enumerable: true,
  get: function () {
    return lazy_netplumb.NetlinkError;
  },
});
Object.defineProperty(exports, 'BrokenNamespaceError', {
  enumerable: true,
  get: function () {
    return lazy_netplumb.BrokenNamespaceError;
  },
});
Object.defineProperty(exports, 'ErrorCodes', {
  enumerable: true,
  get: function () {
    return lazy_netplumb.ErrorCodes;
  },
});
Object.defineProperty(exports, 'Namespace', {
  enumerable: true,
  get: function () {
    return lazy_netplumb.Namespace;
  },
});
Object.defineProperty(exports, 'NETNS_RUN_DIR', {
  enumerable: true,
  get: function () {
    return lazy_netplumb.NETNS_RUN_DIR;
  },
});
Object.defineProperty(exports, 'Link', {
  enumerable: true,
  get: function () {
    return lazy_netplumb.Link;
  },
});
Object.defineProperty(exports, 'VethPair', {
  enumerable: true,
  get: function () {
    return lazy_netplumb.VethPair;
  },
});
Object.defineProperty(exports, 'Bridge', {
  enumerable: true,
  get: function () {
    return lazy_netplumb.Bridge;
  },
});
Object.defineProperty(exports, 'Macvlan', {
  enumerable: true,
  get: function () {
    return lazy_netplumb.Macvlan;
  },
});
Object.defineProperty(exports, 'Vxlan', {
  enumerable: true,
  get: function () {
    return lazy_netplumb.Vxlan;
  },
});
Object.defineProperty(exports, 'BOND_MODES', {
  enumerable: true,
  get: function () {
    return lazy_netplumb.BOND_MODES;
  },
});
Object.defineProperty(exports, 'IPVLAN_MODES', {
  enumerable: true,
  get: function () {
    return lazy_netplumb.IPVLAN_MODES;
  },
});
Object.defineProperty(exports, 'IPVLAN_FLAGS', {
  enumerable: true,
  get: function () {
    return lazy_netplumb.IPVLAN_FLAGS;
  },
});
Object.defineProperty(exports, 'TUN_MODES', {
  enumerable: true,
  get: function () {
    return lazy_netplumb.TUN_MODES;
  },
});
Object.defineProperty(exports, 'VLAN_PROTOCOLS', {
  enumerable: true,
  get: function () {
    return lazy_netplumb.VLAN_PROTOCOLS;
  },
});
Object.defineProperty(exports, 'Address', {
  enumerable: true,
  get: function () {
    return lazy_netplumb.Address;
  },
});
Object.defineProperty(exports, 'Route', {
  enumerable: true,
  get: function () {
    return lazy_netplumb.Route;
  },
});
Object.defineProperty(exports, 'BridgePort', {
  enumerable: true,
  get: function () {
    return lazy_netplumb.BridgePort;
  },
});
Object.defineProperty(exports, 'Neighbor', {
  enumerable: true,
  get: function () {
    return lazy_netplumb.Neighbor;
  },
});
Object.defineProperty(exports, 'Fdb', {
  enumerable: true,
  get: function () {
    return lazy_netplumb.Fdb;
  },
});
Object.defineProperty(exports, 'Rule', {
  enumerable: true,
  get: function () {
    return lazy_netplumb.Rule;
  },
});
Object.defineProperty(exports, 'Sysctl', {
  enumerable: true,
  get: function () {
    return lazy_netplumb.Sysctl;
  },
});
Object.defineProperty(exports, 'PortMapping', {
  enumerable: true,
  get: function () {
    return lazy_netplumb.PortMapping;
  },
});
Object.defineProperty(exports, 'WARNING_CODES', {
  enumerable: true,
  get: function () {
    return lazy_netplumb.WARNING_CODES;
  },
});
Object.defineProperty(exports, 'OUR_DNAT_PRIORITY', {
  enumerable: true,
  get: function () {
    return lazy_netplumb.OUR_DNAT_PRIORITY;
  },
});
Object.defineProperty(exports, 'Watcher', {
  enumerable: true,
  get: function () {
    return lazy_netplumb.Watcher;
  },
});
Object.defineProperty(exports, 'trace', {
  enumerable: true,
  get: function () {
    return lazy_netplumb.trace;
  },
});
Object.defineProperty(exports, 'formatTrace', {
  enumerable: true,
  get: function () {
    return lazy_netplumb.formatTrace;
  },
});
Object.defineProperty(exports, 'decodeDatagram', {
  enumerable: true,
  get: function () {
    return lazy_netplumb.decodeDatagram;
  },
});
Object.defineProperty(exports, 'Network', {
  enumerable: true,
  get: function () {
    return lazy_netplumb.Network;
  },
});
Object.defineProperty(exports, 'parsePublish', {
  enumerable: true,
  get: function () {
    return lazy_netplumb.parsePublish;
  },
});
Object.defineProperty(exports, 'topology', {
  enumerable: true,
  get: function () {
    return lazy_netplumb.topology;
  },
});
Object.defineProperty(exports, 'CURRENT_NAMESPACE', {
  enumerable: true,
  get: function () {
    return lazy_netplumb.CURRENT_NAMESPACE;
  },
});
Object.defineProperty(exports, 'topologyText', {
  enumerable: true,
  get: function () {
    return lazy_netplumb.topologyText;
  },
});
Object.defineProperty(exports, 'topologyMermaid', {
  enumerable: true,
  get: function () {
    return lazy_netplumb.topologyMermaid;
  },
});
Object.defineProperty(exports, 'topologyDot', {
  enumerable: true,
  get: function () {
    return lazy_netplumb.topologyDot;
  },
});
Object.defineProperty(exports, 'topologyEdges', {
  enumerable: true,
  get: function () {
    return lazy_netplumb.topologyEdges;
  },
});
Object.defineProperty(exports, 'TOPOLOGY_FORMATS', {
  enumerable: true,
  get: function () {
    return lazy_netplumb.TOPOLOGY_FORMATS;
  },
});
Object.defineProperty(exports, 'topologySvg', {
  enumerable: true,
  get: function () {
    return lazy_netplumb.topologySvg;
  },
});
Object.defineProperty(exports, 'topologyHtml', {
  enumerable: true,
  get: function () {
    return lazy_netplumb.topologyHtml;
  },
});
