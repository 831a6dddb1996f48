/**
 * netplumb: Linux container networking from Node.js, over netlink (rtnetlink
 * and nf_tables), with no `ip` or `nft` process forked. Every method's comment
 * names the `ip`/`nft` command it stands for; input refused before the kernel
 * is a {@link NetplumbError} (its `code` one of {@link ErrorCodes}), a kernel
 * refusal a {@link NetlinkError} (its `code` the errno name, e.g. EEXIST).
 *
 * @packageDocumentation
 * @module netplumb
 */
export { NetplumbError, NetlinkError, BrokenNamespaceError, ErrorCodes, type BrokenEntry } from './errors';
export { Namespace, NETNS_RUN_DIR } from './namespace';
export { Link, type LinkRef, type LinkListOptions, type MoveOptions, type OperState } from './link';
export { VethPair, type VethPairOptions } from './veth-pair';
export { Bridge, type BridgeOptions } from './bridge';
export { Macvlan, type MacvlanMode, type MacvlanOptions } from './macvlan';
export { Vxlan, type VxlanOptions } from './vxlan';
// Link kinds (lib/kinds/, one file each): what Link.create takes and link.info reads back.
export type { LinkCreateOptions, LinkCommonOptions, LinkKindInfo } from './link';
export type { KindName, KindOptions, KindInfo } from './kinds';
export { BOND_MODES, type BondOptions, type BondInfo, type BondMode } from './kinds/bond';
export type { BridgeKindOptions, BridgeInfo } from './kinds/bridge';
export { IPVLAN_MODES, IPVLAN_FLAGS, type IpvlanOptions, type IpvlanInfo, type IpvlanMode, type IpvlanFlag } from './kinds/ipvlan';
export type { MacvlanKindOptions, MacvlanInfo } from './kinds/macvlan';
export { TUN_MODES, type TunOptions, type TunInfo, type TunMode } from './kinds/tun';
export { VLAN_PROTOCOLS, type VlanOptions, type VlanInfo, type VlanProtocol } from './kinds/vlan';
export type { VxlanKindOptions, VxlanInfo } from './kinds/vxlan';
export type { NoOptions } from './kinds/kind';
export { Address, type AddressInfo, type AddressOptions, type AddressListOptions } from './address';
export { Route, type RouteInfo, type RouteOptions, type RouteListOptions, type NexthopOptions, type NexthopInfo } from './route';
export { BridgePort, type BridgePortFlags, type BridgePortInfo, type BridgeVlan, type BridgeVlanOptions, type VlanId } from './bridge-port';
export { Neighbor, Fdb, type NeighborInfo, type NeighborOptions, type NeighborState, type FdbInfo, type FdbOptions } from './neighbor';
export { Rule, type RuleInfo, type RuleOptions } from './rule';
export { Sysctl, type ExecResult, type ExecOptions, type ListenOptions, type ConnectOptions, type UdpOptions } from './inside';
export { PortMapping, type PublishOptions } from './port-mapping';
export { type Finding, type FindingKind, type NftFamily, type DoctorWarning, WARNING_CODES, OUR_DNAT_PRIORITY } from './doctor';
export { Watcher, type WatchEvent, type WatchOptions } from './watcher';
export { trace, formatTrace, decodeDatagram, type TraceAttr, type TraceMessage, type TraceSink } from './trace';
export { Network, parsePublish, type BridgeNetworkOptions, type NetworkConnectOptions, type Endpoint, type EndpointInfo, type PublishSpec, type PublishedPort } from './network';
export type { Scope, RouteType, Protocol, Table } from './constants';
export { topology, CURRENT_NAMESPACE, type Topology, type TopologyNamespace, type TopologyLink, type TopologyEnd, type TopologyVethPair, type TopologyBridge, type TopologyAddress, type TopologyRoute, type TopologyNetwork, type TopologyEndpoint, type TopologyPublishedPort } from './topology';
export { topologyText, topologyMermaid, topologyDot, topologyEdges, TOPOLOGY_FORMATS, type TopologyFormat } from './topology-render';
export { topologySvg, topologyHtml } from './topology-svg';
