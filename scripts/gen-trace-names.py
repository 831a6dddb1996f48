#!/usr/bin/env python3
"""Writes lib/trace-names.ts: the attribute and message names the message trace
(lib/trace.ts) prints, read from the UAPI headers (/usr/include/linux). Rerun
after a kernel-headers upgrade: python3 scripts/gen-trace-names.py > lib/trace-names.ts
test/unit/trace.test.ts checks the file against the headers installed."""
import re
import sys

INC = sys.argv[1] if len(sys.argv) > 1 else '/usr/include/linux'

# table name in the TS file -> (header, name of the enum's first member, prefix stripped)
TABLES = [
    ('RTM', 'rtnetlink.h', 'RTM_BASE', 'RTM_'),
    ('IFLA', 'if_link.h', 'IFLA_UNSPEC', 'IFLA_'),
    ('IFLA_INFO', 'if_link.h', 'IFLA_INFO_UNSPEC', 'IFLA_INFO_'),
    ('IFLA_INET', 'if_link.h', 'IFLA_INET_UNSPEC', 'IFLA_INET_'),
    ('IFLA_INET6', 'if_link.h', 'IFLA_INET6_UNSPEC', 'IFLA_INET6_'),
    ('IFLA_BR', 'if_link.h', 'IFLA_BR_UNSPEC', 'IFLA_BR_'),
    ('IFLA_BRPORT', 'if_link.h', 'IFLA_BRPORT_UNSPEC', 'IFLA_BRPORT_'),
    ('IFLA_VLAN', 'if_link.h', 'IFLA_VLAN_UNSPEC', 'IFLA_VLAN_'),
    ('IFLA_MACVLAN', 'if_link.h', 'IFLA_MACVLAN_UNSPEC', 'IFLA_MACVLAN_'),
    ('IFLA_IPVLAN', 'if_link.h', 'IFLA_IPVLAN_UNSPEC', 'IFLA_IPVLAN_'),
    ('IFLA_VXLAN', 'if_link.h', 'IFLA_VXLAN_UNSPEC', 'IFLA_VXLAN_'),
    ('IFLA_BOND', 'if_link.h', 'IFLA_BOND_UNSPEC', 'IFLA_BOND_'),
    ('IFLA_VRF', 'if_link.h', 'IFLA_VRF_UNSPEC', 'IFLA_VRF_'),
    ('IFLA_XDP', 'if_link.h', 'IFLA_XDP_UNSPEC', 'IFLA_XDP_'),
    ('VETH_INFO', 'veth.h', 'VETH_INFO_UNSPEC', 'VETH_INFO_'),
    ('IFA', 'if_addr.h', 'IFA_UNSPEC', 'IFA_'),
    ('RTA', 'rtnetlink.h', 'RTA_UNSPEC', 'RTA_'),
    ('RTAX', 'rtnetlink.h', 'RTAX_UNSPEC', 'RTAX_'),
    ('NDA', 'neighbour.h', 'NDA_UNSPEC', 'NDA_'),
    ('FRA', 'fib_rules.h', 'FRA_UNSPEC', 'FRA_'),
    ('NETNSA', 'net_namespace.h', 'NETNSA_NONE', 'NETNSA_'),
    ('NLMSGERR_ATTR', 'netlink.h', 'NLMSGERR_ATTR_UNUSED', 'NLMSGERR_ATTR_'),
    ('NFT_MSG', 'netfilter/nf_tables.h', 'NFT_MSG_NEWTABLE', 'NFT_MSG_'),
    ('NFTA_LIST', 'netfilter/nf_tables.h', 'NFTA_LIST_UNSPEC', 'NFTA_LIST_'),
    ('NFTA_HOOK', 'netfilter/nf_tables.h', 'NFTA_HOOK_UNSPEC', 'NFTA_HOOK_'),
    ('NFTA_TABLE', 'netfilter/nf_tables.h', 'NFTA_TABLE_UNSPEC', 'NFTA_TABLE_'),
    ('NFTA_CHAIN', 'netfilter/nf_tables.h', 'NFTA_CHAIN_UNSPEC', 'NFTA_CHAIN_'),
    ('NFTA_RULE', 'netfilter/nf_tables.h', 'NFTA_RULE_UNSPEC', 'NFTA_RULE_'),
    ('NFTA_SET', 'netfilter/nf_tables.h', 'NFTA_SET_UNSPEC', 'NFTA_SET_'),
    ('NFTA_SET_ELEM_LIST', 'netfilter/nf_tables.h', 'NFTA_SET_ELEM_LIST_UNSPEC', 'NFTA_SET_ELEM_LIST_'),
    ('NFTA_SET_ELEM', 'netfilter/nf_tables.h', 'NFTA_SET_ELEM_UNSPEC', 'NFTA_SET_ELEM_'),
    ('NFTA_DATA', 'netfilter/nf_tables.h', 'NFTA_DATA_UNSPEC', 'NFTA_DATA_'),
    ('NFTA_VERDICT', 'netfilter/nf_tables.h', 'NFTA_VERDICT_UNSPEC', 'NFTA_VERDICT_'),
    ('NFTA_EXPR', 'netfilter/nf_tables.h', 'NFTA_EXPR_UNSPEC', 'NFTA_EXPR_'),
    ('NFTA_IMMEDIATE', 'netfilter/nf_tables.h', 'NFTA_IMMEDIATE_UNSPEC', 'NFTA_IMMEDIATE_'),
    ('NFTA_BITWISE', 'netfilter/nf_tables.h', 'NFTA_BITWISE_UNSPEC', 'NFTA_BITWISE_'),
    ('NFTA_BYTEORDER', 'netfilter/nf_tables.h', 'NFTA_BYTEORDER_UNSPEC', 'NFTA_BYTEORDER_'),
    ('NFTA_CMP', 'netfilter/nf_tables.h', 'NFTA_CMP_UNSPEC', 'NFTA_CMP_'),
    ('NFTA_RANGE', 'netfilter/nf_tables.h', 'NFTA_RANGE_UNSPEC', 'NFTA_RANGE_'),
    ('NFTA_LOOKUP', 'netfilter/nf_tables.h', 'NFTA_LOOKUP_UNSPEC', 'NFTA_LOOKUP_'),
    ('NFTA_DYNSET', 'netfilter/nf_tables.h', 'NFTA_DYNSET_UNSPEC', 'NFTA_DYNSET_'),
    ('NFTA_PAYLOAD', 'netfilter/nf_tables.h', 'NFTA_PAYLOAD_UNSPEC', 'NFTA_PAYLOAD_'),
    ('NFTA_META', 'netfilter/nf_tables.h', 'NFTA_META_UNSPEC', 'NFTA_META_'),
    ('NFTA_CT', 'netfilter/nf_tables.h', 'NFTA_CT_UNSPEC', 'NFTA_CT_'),
    ('NFTA_LIMIT', 'netfilter/nf_tables.h', 'NFTA_LIMIT_UNSPEC', 'NFTA_LIMIT_'),
    ('NFTA_COUNTER', 'netfilter/nf_tables.h', 'NFTA_COUNTER_UNSPEC', 'NFTA_COUNTER_'),
    ('NFTA_LOG', 'netfilter/nf_tables.h', 'NFTA_LOG_UNSPEC', 'NFTA_LOG_'),
    ('NFTA_REJECT', 'netfilter/nf_tables.h', 'NFTA_REJECT_UNSPEC', 'NFTA_REJECT_'),
    ('NFTA_NAT', 'netfilter/nf_tables.h', 'NFTA_NAT_UNSPEC', 'NFTA_NAT_'),
    ('NFTA_MASQ', 'netfilter/nf_tables.h', 'NFTA_MASQ_UNSPEC', 'NFTA_MASQ_'),
    ('NFTA_REDIR', 'netfilter/nf_tables.h', 'NFTA_REDIR_UNSPEC', 'NFTA_REDIR_'),
    ('NFTA_FIB', 'netfilter/nf_tables.h', 'NFTA_FIB_UNSPEC', 'NFTA_FIB_'),
    ('NFTA_GEN', 'netfilter/nf_tables.h', 'NFTA_GEN_UNSPEC', 'NFTA_GEN_'),
    ('NFTA_OBJ', 'netfilter/nf_tables.h', 'NFTA_OBJ_UNSPEC', 'NFTA_OBJ_'),
]


def enums(text):
    """Every enum of a header: {first member: [(name, value)]}."""
    text = re.sub(r'/\*.*?\*/', '', text, flags=re.S)
    text = re.sub(r'//.*', '', text)
    text = re.sub(r'^\s*#.*$', '', text, flags=re.M)
    out = {}
    for m in re.finditer(r'enum\s*\w*\s*\{(.*?)\}', text, re.S):
        val, names = -1, []
        for item in m.group(1).split(','):
            mm = re.match(r'\s*(\w+)\s*(?:=\s*(.+?))?\s*$', item, re.S)
            if not mm:
                continue
            name, expr = mm.group(1), mm.group(2)
            if expr is None:
                val += 1
            else:
                known = dict(names)
                expr = re.sub(r'\b([A-Z_][A-Z0-9_]*)\b', lambda x: str(known.get(x.group(1), x.group(1))), expr)
                expr = re.sub(r'\b(0x[0-9a-fA-F]+|\d+)[uUlL]+\b', r'\1', expr)
                try:
                    val = int(eval(expr, {}))  # integer literals and earlier members only
                except Exception:
                    break  # not one of ours (a macro the header defines elsewhere)
            names.append((name, val))
        if names:
            out[names[0][0]] = names
    return out


def main():
    cache = {}
    print('// Generated by scripts/gen-trace-names.py from the UAPI headers; do not edit.')
    print('// Each table: the names of an enum by value, prefix stripped ("-" where none).')
    print('// prettier-ignore')
    print('export const NAMES: Record<string, string[]> = {')
    for table, header, first, prefix in TABLES:
        if header not in cache:
            cache[header] = enums(open(f'{INC}/{header}').read())
        members = [(n, v) for n, v in cache[header][first] if not n.startswith('__') and not n.endswith(('_MAX', '_BASE')) and n.startswith(prefix)]
        top = max(v for _, v in members)
        names = [''] * (top + 1)
        for n, v in members:
            if not names[v]:
                names[v] = n[len(prefix):]
        print(f"  {table}: '{' '.join(x or '-' for x in names)}'.split(' '),")
    print('};')


main()
