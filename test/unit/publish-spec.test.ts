import { parsePublish, planPublish } from '../../lib/publish-spec';

describe("Docker's -p syntax (no kernel)", () => {
  it.each([
    ['8080:80', { hostPort: 8080, containerPort: 80, protocol: 'tcp' }, [{ protocol: 'tcp', hostPort: 8080, containerPort: 80 }]],
    ['127.0.0.1:8080:80/udp', { hostAddress: '127.0.0.1', hostPort: 8080, containerPort: 80, protocol: 'udp' }, [{ protocol: 'udp', hostPort: 8080, containerPort: 80, hostAddress: '127.0.0.1' }]],
    ['8000-8010:8000-8010', { hostPort: [8000, 8010], containerPort: [8000, 8010], protocol: 'tcp' }, [{ protocol: 'tcp', hostPort: [8000, 8010], containerPort: 8000 }]],
    ['8080-8090:80', { hostPort: [8080, 8090], containerPort: 80, protocol: 'tcp' }, [{ protocol: 'tcp', hostPort: { anyOf: [8080, 8090] }, containerPort: 80 }]],
    ['80', { containerPort: 80, protocol: 'tcp' }, [{ protocol: 'tcp', hostPort: 0, containerPort: 80 }]],
    [':80', { containerPort: 80, protocol: 'tcp' }, [{ protocol: 'tcp', hostPort: 0, containerPort: 80 }]],
    ['127.0.0.1::80', { hostAddress: '127.0.0.1', containerPort: 80, protocol: 'tcp' }, [{ protocol: 'tcp', hostPort: 0, containerPort: 80, hostAddress: '127.0.0.1' }]],
    ['[::1]:8080:80', { hostAddress: '::1', hostPort: 8080, containerPort: 80, protocol: 'tcp' }, [{ protocol: 'tcp', hostPort: 8080, containerPort: 80, hostAddress: '::1' }]],
    ['[::]:8080:80/udp', { hostAddress: '::', hostPort: 8080, containerPort: 80, protocol: 'udp' }, [{ protocol: 'udp', hostPort: 8080, containerPort: 80, hostAddress: '::' }]],
    ['[2001:DB8:0::1]:8000-8010:8000-8010', { hostAddress: '2001:db8::1', hostPort: [8000, 8010], containerPort: [8000, 8010], protocol: 'tcp' }, [{ protocol: 'tcp', hostPort: [8000, 8010], containerPort: 8000, hostAddress: '2001:db8::1' }]],
    ['[fd00::1]::80', { hostAddress: 'fd00::1', containerPort: 80, protocol: 'tcp' }, [{ protocol: 'tcp', hostPort: 0, containerPort: 80, hostAddress: 'fd00::1' }]],
    ['80-81/udp', { containerPort: [80, 81], protocol: 'udp' }, [{ protocol: 'udp', hostPort: 0, containerPort: 80 }, { protocol: 'udp', hostPort: 0, containerPort: 81 }]],
  ])('%s', (spec, parsed, plan) => {
    expect(parsePublish(spec)).toEqual(parsed);
    expect(planPublish(parsePublish(spec))).toEqual(plan);
  });

  it('objects read the same way', () => {
    expect(planPublish(parsePublish({ hostPort: [8080, 8090], containerPort: 80 }))).toEqual([{ protocol: 'tcp', hostPort: { anyOf: [8080, 8090] }, containerPort: 80 }]);
    expect(planPublish(parsePublish({ hostPort: [8080, 8090], containerPort: [80, 90] }))).toEqual([{ protocol: 'tcp', hostPort: [8080, 8090], containerPort: 80 }]);
    expect(planPublish(parsePublish({ hostPort: 0, containerPort: 80 }))).toEqual([{ protocol: 'tcp', hostPort: 0, containerPort: 80 }]);
  });

  it.each([
    ['70000:80', /host port/],
    ['8080:0', /container port/],
    ['8090-8080:80', /host port range is empty/],
    ['8080-8081:80-82', /differ in size/],
    ['1000-2999:3000-4999', /limited to 1024/],
    ['1000-3000', /at most 1024 container ports/],
    ['-5:80', /use \[ADDR:\]/],
    ['8080:80/sctp', /use \[ADDR:\]/],
    ['a:80', /use \[ADDR:\]/],
    ['::1:8080:80', /use \[ADDR:\]/], // IPv6 needs brackets
    ['[127.0.0.1]:8080:80', /is IPv4, expected IPv6/],
    ['[fd00::1:8080:80', /use \[ADDR:\]/],
  ])('%s is refused', (spec, why) => {
    expect(() => parsePublish(spec)).toThrow(why);
  });
});
