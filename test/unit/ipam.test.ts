import { fromInt, Ipam, parseSubnet, toInt } from '../../lib/ipam';
import * as v from '../../lib/validate';

const n = (ip: string) => toInt(v.ipBytes(ip, 4));

describe('IPAM (no kernel)', () => {
  it('hands out the subnet in order, skipping the gateway and what is leased, then ERR_SUBNET_EXHAUSTED', () => {
    const ipam = new Ipam(parseSubnet('10.9.0.0/29', undefined));
    ipam.reset([n('10.9.0.3')]);
    const got = Array.from({ length: 4 }, () => fromInt(ipam.allocate(undefined, 'net')));
    expect(got).toEqual(['10.9.0.2', '10.9.0.4', '10.9.0.5', '10.9.0.6']);
    expect(() => ipam.allocate(undefined, 'net')).toThrow(expect.objectContaining({ code: 'ERR_SUBNET_EXHAUSTED' }));
    ipam.release(n('10.9.0.4'));
    expect(fromInt(ipam.allocate(undefined, 'net'))).toBe('10.9.0.4');
  });

  it('rangeStart/rangeEnd bound what is handed out; a fixed address outside them is refused', () => {
    const ipam = new Ipam(parseSubnet('10.9.0.0/24', '10.9.0.254'), { start: '10.9.0.100', end: '10.9.0.101' });
    expect(fromInt(ipam.allocate(undefined, 'net'))).toBe('10.9.0.100');
    expect(fromInt(ipam.allocate(undefined, 'net'))).toBe('10.9.0.101');
    expect(() => ipam.allocate(undefined, 'net')).toThrow(/no free address left in 10.9.0.100-10.9.0.101/);
    expect(() => ipam.allocate('10.9.0.5', 'net')).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }));
    expect(() => new Ipam(parseSubnet('10.9.0.0/24', undefined), { start: '10.9.1.1' })).toThrow(/rangeStart 10.9.1.1 is not a host address/);
    expect(() => new Ipam(parseSubnet('10.9.0.0/24', undefined), { start: '10.9.0.9', end: '10.9.0.8' })).toThrow(/before rangeStart/);
  });

  it('a fixed address that is taken, or the gateway: ERR_ADDRESS_IN_USE', () => {
    const ipam = new Ipam(parseSubnet('10.9.0.0/24', undefined));
    expect(() => ipam.allocate('10.9.0.1', 'net')).toThrow(expect.objectContaining({ code: 'ERR_ADDRESS_IN_USE' }));
    ipam.allocate('10.9.0.7', 'net');
    expect(() => ipam.allocate('10.9.0.7', 'net')).toThrow(expect.objectContaining({ code: 'ERR_ADDRESS_IN_USE' }));
  });

  it('subnets: host bits (naming the one meant), too small, a gateway outside', () => {
    expect(() => parseSubnet('10.6.0.5/24', undefined)).toThrow(/did you mean 10.6.0.0\/24/);
    expect(() => parseSubnet('10.6.0.0/31', undefined)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_CIDR' }));
    expect(() => parseSubnet('10.6.0.0/24', '10.6.1.1')).toThrow(/not a host address/);
    expect(parseSubnet('10.6.0.0/24', undefined)).toEqual({ net: n('10.6.0.0'), prefixlen: 24, gateway: n('10.6.0.1'), text: '10.6.0.0/24' });
  });
});
