// The message trace's decoder on bytes written here from the UAPI headers
// (no kernel), and its name tables against the headers installed.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

import { decodeDatagram, formatTrace } from '../../lib/trace';

/** An attribute: len, type, data, padded to 4. */
function attr(type: number, data: Buffer): Buffer {
  const len = 4 + data.length;
  const b = Buffer.alloc((len + 3) & ~3);
  b.writeUInt16LE(len, 0);
  b.writeUInt16LE(type, 2);
  data.copy(b, 4);
  return b;
}
const str = (s: string) => Buffer.from(s + '\0');
const u32 = (n: number) => {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(n);
  return b;
};
function msg(type: number, flags: number, seq: number, body: Buffer): Buffer {
  const h = Buffer.alloc(16);
  h.writeUInt32LE(16 + body.length, 0);
  h.writeUInt16LE(type, 4);
  h.writeUInt16LE(flags, 6);
  h.writeUInt32LE(seq, 8);
  h.writeUInt32LE(1234, 12);
  return Buffer.concat([h, body]);
}
function ifinfomsg(index: number): Buffer {
  const b = Buffer.alloc(16);
  b.writeInt32LE(index, 4);
  return b;
}

describe('trace decoder', () => {
  it('RTM_NEWLINK veth with a peer in another namespace: names, nesting, the peer ifinfomsg, flags', () => {
    // IFLA_IFNAME 3, IFLA_LINKINFO 18 { IFLA_INFO_KIND 1 'veth', IFLA_INFO_DATA 2 { VETH_INFO_PEER 1 { ifinfomsg, IFLA_IFNAME, IFLA_NET_NS_FD 28 } } }
    const peer = Buffer.concat([ifinfomsg(0), attr(3, str('eth0')), attr(28, u32(7))]);
    const linkinfo = Buffer.concat([attr(1, str('veth')), attr(2 | 0x8000, attr(1 | 0x8000, peer))]);
    const body = Buffer.concat([ifinfomsg(0), attr(3, str('veth0')), attr(18 | 0x8000, linkinfo)]);
    // RTM_NEWLINK 16, REQUEST|ACK|EXCL|CREATE
    const [m] = decodeDatagram(msg(16, 0x1 | 0x4 | 0x200 | 0x400, 9, body), 0, 'send', 'ns1');
    expect(m).toMatchObject({
      type: 'RTM_NEWLINK',
      flags: ['REQUEST', 'ACK', 'EXCL', 'CREATE'],
      seq: 9,
      portid: 1234,
      namespace: 'ns1',
      header: { family: 0, index: 0 },
      attrs: [
        { name: 'IFLA_IFNAME', value: 'veth0' },
        {
          name: 'IFLA_LINKINFO',
          attrs: [
            { name: 'IFLA_INFO_KIND', value: 'veth' },
            {
              name: 'IFLA_INFO_DATA',
              attrs: [
                {
                  name: 'VETH_INFO_PEER',
                  header: { index: 0 },
                  attrs: [
                    { name: 'IFLA_IFNAME', value: 'eth0' },
                    { name: 'IFLA_NET_NS_FD', value: 7 },
                  ],
                },
              ],
            },
          ],
        },
      ],
    });
    expect(formatTrace(m!)).toContain('RTM_NEWLINK seq 9 flags REQUEST,ACK,EXCL,CREATE');
    expect(formatTrace(m!)).toContain('VETH_INFO_PEER {family 0 type 0 index 0 flags 0 change 0} { IFLA_IFNAME eth0 IFLA_NET_NS_FD 7 }');
  });

  it('NLMSG_ERROR: errno, the request it answers, the extended ACK message and offset', () => {
    // error -17, the capped request header, then NLMSGERR_ATTR_MSG 1 and NLMSGERR_ATTR_OFFS 2
    const e = Buffer.alloc(4);
    e.writeInt32LE(-17);
    const req = msg(16, 0x5, 9, Buffer.alloc(0));
    const body = Buffer.concat([e, req, attr(1, str('File exists')), attr(2, u32(36))]);
    const [m] = decodeDatagram(msg(2, 0x100 | 0x200, 9, body), 0, 'recv', 'ns1');
    expect(m).toMatchObject({
      type: 'NLMSG_ERROR',
      flags: ['CAPPED', 'ACK_TLVS'],
      header: { request_type: 16, request_seq: 9 },
      error: { errno: 17, code: 'EEXIST', message: 'File exists', offset: 36 },
    });
    const ack = Buffer.concat([Buffer.alloc(4), req]);
    expect(decodeDatagram(msg(2, 0x100, 9, ack), 0, 'recv', 'ns1')[0]).toMatchObject({ type: 'ACK', ack: true });
  });

  it('nf_tables: batch begin, a rule with expressions decoded by their name (big-endian numbers), several messages per datagram', () => {
    const nfgen = Buffer.from([2, 0, 0, 10]); // NFPROTO_IPV4, version 0, res_id NFNL_SUBSYS_NFTABLES (be16)
    const be32 = (n: number) => {
      const b = Buffer.alloc(4);
      b.writeUInt32BE(n);
      return b;
    };
    // expression: NFTA_EXPR_NAME 1 'cmp', NFTA_EXPR_DATA 2 { NFTA_CMP_SREG 1 be32 1, NFTA_CMP_OP 2 be32 0, NFTA_CMP_DATA 3 { NFTA_DATA_VALUE 1 0x0006 } }
    const cmp = Buffer.concat([attr(1, be32(1)), attr(2, be32(0)), attr(3 | 0x8000, attr(1, Buffer.from([0, 6])))]);
    const expr = Buffer.concat([attr(1, str('cmp')), attr(2 | 0x8000, cmp)]);
    // NFTA_RULE_TABLE 1, NFTA_RULE_CHAIN 2, NFTA_RULE_EXPRESSIONS 4 { NFTA_LIST_ELEM 1 { expr } }
    const rule = Buffer.concat([nfgen, attr(1, str('netplumb')), attr(2, str('prerouting')), attr(4 | 0x8000, attr(1 | 0x8000, expr))]);
    const dgram = Buffer.concat([msg(0x10, 0x1, 1, nfgen), msg((10 << 8) | 6, 0x1 | 0x4 | 0x400, 2, rule), msg(0x11, 0x1, 3, nfgen)]);
    const ms = decodeDatagram(dgram, 12, 'send', 'host');
    expect(ms.map((m) => m.type)).toEqual(['NFNL_MSG_BATCH_BEGIN', 'NFT_MSG_NEWRULE', 'NFNL_MSG_BATCH_END']);
    expect(ms[1]).toMatchObject({
      protocol: 'netfilter',
      header: { family: 2, version: 0, res_id: 10 },
      attrs: [
        { name: 'NFTA_RULE_TABLE', value: 'netplumb' },
        { name: 'NFTA_RULE_CHAIN', value: 'prerouting' },
        {
          name: 'NFTA_RULE_EXPRESSIONS',
          attrs: [
            {
              name: 'NFTA_LIST_ELEM',
              attrs: [
                { name: 'NFTA_EXPR_NAME', value: 'cmp' },
                {
                  name: 'NFTA_EXPR_DATA',
                  attrs: [
                    { name: 'NFTA_CMP_SREG', value: 1 },
                    { name: 'NFTA_CMP_OP', value: 0 },
                    { name: 'NFTA_CMP_DATA', attrs: [{ name: 'NFTA_DATA_VALUE', value: 6 }] },
                  ],
                },
              ],
            },
          ],
        },
      ],
    });
  });

  it('addresses, rules and neighbours: IPs, MACs, names', () => {
    // RTM_NEWADDR 20: ifaddrmsg { AF_INET 2, /24, 0, 0, index 3 }, IFA_LOCAL 2 10.0.0.1
    const ifa = Buffer.from([2, 24, 0, 0, 3, 0, 0, 0]);
    const [a] = decodeDatagram(msg(20, 0x5, 1, Buffer.concat([ifa, attr(2, Buffer.from([10, 0, 0, 1]))])), 0, 'send', 'x');
    expect(a).toMatchObject({ type: 'RTM_NEWADDR', header: { family: 2, prefixlen: 24, index: 3 }, attrs: [{ name: 'IFA_LOCAL', value: '10.0.0.1' }] });
    // RTM_NEWNEIGH 28: ndmsg, NDA_DST 1 fe80::9, NDA_LLADDR 2
    const nd = Buffer.alloc(12);
    nd.writeUInt8(10, 0);
    const dst = Buffer.alloc(16);
    dst.writeUInt16BE(0xfe80, 0);
    dst.writeUInt8(9, 15);
    const [n] = decodeDatagram(msg(28, 0x5, 2, Buffer.concat([nd, attr(1, dst), attr(2, Buffer.from([2, 0, 0, 0, 0, 0xb]))])), 0, 'recv', 'x');
    expect(n!.attrs).toEqual([
      { name: 'NDA_DST', value: 'fe80::9' },
      { name: 'NDA_LLADDR', value: '02:00:00:00:00:0b' },
    ]);
    // RTM_NEWRULE 32: fib_rule_hdr, FRA_PRIORITY 6, FRA_TABLE 15
    const [r] = decodeDatagram(msg(32, 0x5, 3, Buffer.concat([Buffer.alloc(12), attr(6, u32(100)), attr(15, u32(7))])), 0, 'send', 'x');
    expect(r!.attrs).toEqual([
      { name: 'FRA_PRIORITY', value: 100 },
      { name: 'FRA_TABLE', value: 7 },
    ]);
  });

  it('truncated and garbage input: no throw, what cannot be read is shown as hex', () => {
    const good = msg(16, 0x5, 9, Buffer.concat([ifinfomsg(0), attr(3, str('veth0'))]));
    for (let cut = 0; cut < good.length; cut++) expect(() => decodeDatagram(good.subarray(0, cut), 0, 'send', 'x')).not.toThrow();
    const bad = Buffer.from(good);
    bad.writeUInt16LE(200, 32); // an attribute longer than the message
    expect(JSON.stringify(decodeDatagram(bad, 0, 'send', 'x'))).toContain('TRUNCATED');
  });

  const headers = '/usr/include/linux/rtnetlink.h';
  (fs.existsSync(headers) && spawnSync('python3', ['--version']).status === 0 ? it : it.skip)(
    'lib/trace-names.ts is what scripts/gen-trace-names.py makes from the installed headers',
    () => {
      const root = path.join(__dirname, '..', '..');
      const r = spawnSync('python3', [path.join(root, 'scripts', 'gen-trace-names.py')], { encoding: 'utf8' });
      expect(r.stderr).toBe('');
      expect(r.stdout).toBe(fs.readFileSync(path.join(root, 'lib', 'trace-names.ts'), 'utf8'));
    },
  );
});
