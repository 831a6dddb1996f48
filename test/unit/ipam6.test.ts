// IPv6 IPAM (lib/ipam.ts: Ipam6, parseSubnet6) and the mapping-identity codec
// (lib/port-mapping.ts: encodeMapping / decodeMapping), no kernel.
import { fromBig, Ipam6, parseSubnet6, toBig } from '../../lib/ipam';
import { decodeMapping, encodeMapping, type MappingIdentity } from '../../lib/port-mapping';
import * as v from '../../lib/validate';

const n = (ip: string) => toBig(v.ipBytes(ip, 6));

describe('IPv6 IPAM (no kernel)', () => {
  it('hands out a /64 in order past the gateway and the leases, in 128-bit arithmetic', () => {
    const ipam = new Ipam6(parseSubnet6('fd00:18::/64', undefined));
    expect(fromBig(ipam.gateway)).toBe('fd00:18::1');
    ipam.reset([n('fd00:18::3')]);
    const got = Array.from({ length: 3 }, () => fromBig(ipam.allocate(undefined, 'net')));
    expect(got).toEqual(['fd00:18::2', 'fd00:18::4', 'fd00:18::5']);
    expect(fromBig(ipam.last)).toBe('fd00:18::ffff:ffff:ffff:ff7f'); // the top 128 (RFC 2526) are not handed out
    expect(ipam.free).toBe((1n << 64n) - 128n - 1n - 1n - 4n);
  });

  it('a lease set near the top of a /64 wraps to the bottom without a scan of the subnet', () => {
    const ipam = new Ipam6(parseSubnet6('2001:db8::/48', '2001:db8::1'), { start: '2001:db8::ffff:ffff:ffff:fffe' });
    expect(fromBig(ipam.allocate(undefined, 'net'))).toBe('2001:db8::ffff:ffff:ffff:fffe');
    expect(fromBig(ipam.allocate(undefined, 'net'))).toBe('2001:db8::ffff:ffff:ffff:ffff');
    // 2^80 addresses: a linear scan would never end; the allocation is immediate.
    const t = Date.now();
    for (let i = 0; i < 1000; i++) ipam.allocate(undefined, 'net');
    expect(Date.now() - t).toBeLessThan(2000);
  });

  it('exhaustion is counted, not scanned: ERR_SUBNET_EXHAUSTED; a fixed address is checked', () => {
    const ipam = new Ipam6(parseSubnet6('fd00:1::/64', undefined), { start: 'fd00:1::2', end: 'fd00:1::3' });
    ipam.allocate(undefined, 'net');
    expect(() => ipam.allocate('fd00:1::2', 'net')).toThrow(expect.objectContaining({ code: 'ERR_ADDRESS_IN_USE' }));
    expect(fromBig(ipam.allocate(undefined, 'net'))).toBe('fd00:1::3');
    expect(() => ipam.allocate(undefined, 'net')).toThrow(expect.objectContaining({ code: 'ERR_SUBNET_EXHAUSTED' }));
    expect(() => ipam.allocate('fd00:1::9', 'net')).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }));
    expect(() => ipam.allocate('10.0.0.1', 'net')).toThrow(expect.objectContaining({ code: 'ERR_FAMILY_MISMATCH' }));
  });

  it.each([
    ['fd00::/80', 'ERR_INVALID_CIDR', /longer than \/64/],
    ['fd00::1/64', 'ERR_INVALID_CIDR', /did you mean fd00::\/64/],
    ['10.0.0.0/24', 'ERR_FAMILY_MISMATCH', /IPv4/],
  ])('subnet %s is refused (%s)', (subnet, code, why) => {
    expect(() => parseSubnet6(subnet, undefined)).toThrow(expect.objectContaining({ code, message: expect.stringMatching(why) }));
  });

  it('the gateway must be a host address of the subnet, of its family', () => {
    expect(() => parseSubnet6('fd00::/64', 'fd01::1')).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }));
    expect(() => parseSubnet6('fd00::/64', '10.0.0.1')).toThrow(expect.objectContaining({ code: 'ERR_FAMILY_MISMATCH' }));
  });
});

describe("a mapping's identity codec (no kernel)", () => {
  const m = (o: Partial<MappingIdentity>): MappingIdentity => ({
    id: '0123abcd',
    protocol: 'tcp',
    hostAddress: '*',
    hostPort: 8080,
    hostPortEnd: 8080,
    address: '172.17.0.2',
    port: 80,
    localhost: false,
    ...o,
  });

  it.each([
    [m({}), 'netplumb publish 0123abcd tcp *:8080 -> 172.17.0.2:80'],
    [m({ hostAddress: '127.0.0.1', localhost: true, protocol: 'udp' }), 'netplumb publish 0123abcd udp 127.0.0.1:8080 -> 172.17.0.2:80 lo'],
    [m({ hostPortEnd: 8090, address: 'fd00:18::2' }), 'netplumb publish 0123abcd tcp *:8080-8090 -> [fd00:18::2]:80'],
    [m({ hostAddress: '2001:db8::1', address: 'fd00::ffff:2' }), 'netplumb publish 0123abcd tcp [2001:db8::1]:8080 -> [fd00::ffff:2]:80'],
    [m({ hostAddress: '2001:db8::8080', address: 'fd00::80', port: 8080 }), 'netplumb publish 0123abcd tcp [2001:db8::8080]:8080 -> [fd00::80]:8080'],
  ])('%j round-trips as %s', (id, text) => {
    expect(encodeMapping(id)).toBe(text);
    expect(decodeMapping(text)).toEqual(id);
  });

  it.each([
    'netplumb publish 0123abcd tcp fd00::1:8080 -> 172.17.0.2:80', // an unbracketed IPv6 address
    'netplumb publish 0123abcd tcp *:8080 -> fd00::2:80',
    'netplumb publish 0123abcd tcp [10.0.0.1]:8080 -> 172.17.0.2:80', // brackets are for IPv6
    'netplumb publish 0123abcd tcp [::1]:8080 -> 172.17.0.2:80', // host and target of two families
    'netplumb publish 0123abcd tcp *:8080 -> [FD00::2]:80', // not canonical
    'netplumb publish 0123abcd tcp *:8080 -> 172.17.0.2:80 xx',
    'netplumb publish 0123abcd sctp *:8080 -> 172.17.0.2:80',
    'netplumb masquerade br0 172.17.0.0/16',
  ])('%s is not an identity', (text) => {
    expect(decodeMapping(text)).toBeUndefined();
  });
});
