// The link kinds with data of their own: one line each, KIND(c++ name, "kind").
// Included with KIND defined (kinds.cpp); a kind without IFLA_INFO_DATA
// (dummy, ifb, wireguard) needs no line.
KIND(veth)
KIND(bridge)
KIND(macvlan)
KIND(macvtap)
KIND(vxlan)
KIND(vlan)
KIND(ipvlan)
KIND(bond)
KIND(tun)
