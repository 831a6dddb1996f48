import { ErrorCodes as C, NetplumbError } from './errors';
import * as v from './validate';

export interface PublishSpec {
  hostPort: number | [number, number];
  containerPort: number;
  protocol?: 'tcp' | 'udp';
  hostAddress?: string;
}

/** Parses Docker's -p syntax: [hostAddress:]hostPort[-end]:containerPort[-end][/proto]. */
export function parsePublish(spec: string | PublishSpec): PublishSpec {
  // Every number and address is checked here, so connect() refuses a bad spec before it changes anything.
  const port = (n: unknown, what: string) => v.uint(n, `${what} in publish spec ${v.describe(spec)}`, 65535, 1);
  if (typeof spec === 'object' && spec !== null) {
    const o: PublishSpec = { hostPort: spec.hostPort, containerPort: port(spec.containerPort, 'containerPort') };
    if (Array.isArray(spec.hostPort)) {
      const [h0, h1] = [port(spec.hostPort[0], 'hostPort[0]'), port(spec.hostPort[1], 'hostPort[1]')];
      if (h1 < h0) throw new NetplumbError(C.INVALID_ARGUMENT, `publish: hostPort range ${h0}-${h1} is empty`, { value: spec, argument: 'publish' });
      if (o.containerPort + (h1 - h0) > 65535) throw new NetplumbError(C.INVALID_ARGUMENT, 'publish: the container port range runs past 65535', { value: spec, argument: 'publish' });
    } else port(spec.hostPort, 'hostPort');
    if (spec.protocol !== undefined) {
      if (spec.protocol !== 'tcp' && spec.protocol !== 'udp')
        throw new NetplumbError(C.INVALID_ARGUMENT, `publish: invalid protocol ${v.describe(spec.protocol)}: 'tcp' or 'udp'`, { value: spec, argument: 'publish' });
      o.protocol = spec.protocol;
    }
    if (spec.hostAddress !== undefined) o.hostAddress = v.ip(spec.hostAddress, 'hostAddress', 4).text;
    return o;
  }
  const bad = () => new NetplumbError(C.INVALID_ARGUMENT, `invalid publish spec ${v.describe(spec)}: use [ADDR:]HOSTPORT:CONTAINERPORT[/tcp|udp]`, { value: spec, argument: 'publish' });
  if (typeof spec !== 'string') throw bad();
  const m = /^(?:(\d+\.\d+\.\d+\.\d+):)?(\d+)(?:-(\d+))?:(\d+)(?:-(\d+))?(?:\/(tcp|udp))?$/.exec(spec);
  if (!m) throw bad();
  const h0 = port(Number(m[2]), 'host port');
  const h1 = m[3] ? port(Number(m[3]), 'last host port') : h0;
  const c0 = port(Number(m[4]), 'container port');
  const c1 = m[5] ? port(Number(m[5]), 'last container port') : c0 + (h1 - h0);
  if (h1 < h0) throw new NetplumbError(C.INVALID_ARGUMENT, `publish ${spec}: the host port range is empty`, { value: spec, argument: 'publish' });
  if (c1 > 65535) throw new NetplumbError(C.INVALID_ARGUMENT, `publish ${spec}: the container port range runs past 65535`, { value: spec, argument: 'publish' });
  if (c1 - c0 !== h1 - h0) throw new NetplumbError(C.INVALID_ARGUMENT, `publish ${spec}: host and container ranges differ in size`, { value: spec, argument: 'publish' });
  const o: PublishSpec = { hostPort: h1 !== h0 ? [h0, h1] : h0, containerPort: c0, protocol: (m[6] as 'tcp' | 'udp' | undefined) ?? 'tcp' };
  if (m[1]) o.hostAddress = v.ip(m[1], 'host address', 4).text;
  return o;
}
