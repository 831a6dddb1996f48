// bridge: `ip link add NAME type bridge [stp_state 0|1] [vlan_filtering 0|1]`
// (native/rtnl/kinds/bridge.cpp: IFLA_BR_STP_STATE, IFLA_BR_VLAN_FILTERING).
import type { KindData } from '../native';
import * as v from '../validate';
import type { LinkKind } from './kind';

/** Options of a bridge's kind data (`Bridge.create` adds addresses on top). */
export interface BridgeKindOptions {
  /** Spanning tree protocol. Default false (the kernel's default). */
  stp?: boolean;
  /** VLAN filtering. Default false. */
  vlanFiltering?: boolean;
}

/** A bridge's read-back. */
export interface BridgeInfo {
  kind: 'bridge';
  stp: boolean;
  vlanFiltering: boolean;
}

/** The bridge kind. */
export const bridge: LinkKind<BridgeKindOptions, BridgeInfo> = {
  kind: 'bridge',
  keys: { stp: true, vlanFiltering: true },
  encode(o) {
    const data: KindData = {};
    if (o.stp !== undefined) data.stp = v.bool(o.stp, 'stp') ? 1 : 0;
    if (o.vlanFiltering !== undefined) data.vlanFiltering = v.bool(o.vlanFiltering, 'vlanFiltering') ? 1 : 0;
    return { data };
  },
  decode: (d) => ({ kind: 'bridge', stp: Number(d.stp ?? 0) > 0, vlanFiltering: Number(d.vlanFiltering ?? 0) > 0 }),
};
