// The CNI request, checked before anything touches the system: the environment
// (CNI_*), the network configuration on stdin, and the runtime's extras
// (runtimeConfig, prevResult, cni.dev/valid-attachments). Pure: no addon, no
// kernel; every refusal is a CniError with the spec's code and a message that
// names the field and the value.
import { NetplumbError } from '../errors';
import { fromBig, fromInt, Ipam, Ipam6, parseSubnet, parseSubnet6 } from '../ipam';

import * as v from '../validate';
import { CniCode as K, CniError } from './errors';

export const SUPPORTED_VERSIONS = ['0.4.0', '1.0.0', '1.1.0'] as const;
export type CniVersion = (typeof SUPPORTED_VERSIONS)[number];
export const COMMANDS = ['ADD', 'DEL', 'CHECK', 'VERSION', 'STATUS', 'GC'] as const;
export type Command = (typeof COMMANDS)[number];

/** The spec's container id: a letter or digit, then letters, digits, '_', '.', '-'. */
const CONTAINER_ID = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;
/** netplumb keeps the id in the host veth's alias (IFALIASZ): at most 128 bytes. */
const MAX_ID = 128;
const NETWORK_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;

export interface CniEnv {
  command: Command;
  containerId: string;
  netns: string;
  ifname: string;
  /** CNI_ARGS as key/value pairs. */
  args: Map<string, string>;
  /** CNI_PATH's directories. */
  path: string[];
  /** The whole environment the request came with (a delegated plugin gets it). */
  environ: Readonly<Record<string, string | undefined>>;
  /**
   * CNI_NETNS already opened by whoever sent the request (the daemon: by the
   * client, in the runtime's mount namespace): used instead of the path, which
   * is then only a name. Not closed by the commands.
   */
  netnsFd?: number;
}

export interface PortMappingEntry {
  hostPort: number;
  containerPort: number;
  protocol: 'tcp' | 'udp';
  hostIP?: string;
}

export interface RouteEntry {
  dst: string;
  gw?: string;
}

export interface DnsEntry {
  nameservers?: string[];
  domain?: string;
  search?: string[];
  options?: string[];
}

/** One range of host-local's `ranges` (own IPAM): one per family. */
export interface IpamRange {
  subnet: string;
  gateway: string;
  rangeStart?: string;
  rangeEnd?: string;
}

export interface IpamConfig {
  /** 'netplumb' (own IPAM) or the delegate plugin's type. */
  type: string;
  delegated: boolean;
  /** Own IPAM only: the first range's (IPv4 on dual stack). */
  subnet?: string;
  gateway?: string;
  rangeStart?: string;
  rangeEnd?: string;
  /** Own IPAM only: every range, one per family, IPv4 first. */
  ranges?: IpamRange[];
  routes: RouteEntry[];
}

export interface NetConf {
  cniVersion: CniVersion;
  name: string;
  type: string;
  bridge: string;
  isGateway: boolean;
  isDefaultGateway: boolean;
  ipMasq: boolean;
  hairpinMode: boolean;
  promiscMode: boolean;
  mtu?: number;
  ipam: IpamConfig;
  dns?: DnsEntry;
  portMappings: PortMappingEntry[];
  /** The whole object as it came, for delegates and chained plugins. */
  raw: Record<string, unknown>;
  /** prevResult as it came (CHECK, DEL). */
  prevResult?: Record<string, unknown>;
  /** GC: the attachments to keep. */
  validAttachments?: { containerID: string; ifname: string }[];
}

const bad = (msg: string, details = ''): CniError => new CniError(K.INVALID_CONFIG, msg, details);
const unsupported = (key: string, value: unknown, why: string): CniError =>
  new CniError(K.UNSUPPORTED_FIELD, `unsupported field ${key}=${JSON.stringify(value)}: ${why}`);

function typeName(x: unknown): string {
  return x === null ? 'null' : Array.isArray(x) ? 'array' : typeof x;
}

function str(o: Record<string, unknown>, key: string, path: string, required: boolean): string | undefined {
  const x = o[key];
  if (x === undefined) {
    if (required) throw bad(`${path} is required`);
    return undefined;
  }
  if (typeof x !== 'string') throw bad(`${path} must be a string, not ${typeName(x)} ${JSON.stringify(x)}`);
  return x;
}

function bool(o: Record<string, unknown>, key: string, path: string, dflt: boolean): boolean {
  const x = o[key];
  if (x === undefined) return dflt;
  if (typeof x !== 'boolean') throw bad(`${path} must be true or false, not ${typeName(x)} ${JSON.stringify(x)}`);
  return x;
}

function obj(x: unknown, path: string): Record<string, unknown> {
  if (typeof x !== 'object' || x === null || Array.isArray(x)) throw bad(`${path} must be an object, not ${typeName(x)}`);
  return x as Record<string, unknown>;
}

function arr(x: unknown, path: string): unknown[] {
  if (!Array.isArray(x)) throw bad(`${path} must be an array, not ${typeName(x)}`);
  return x;
}

/** Runs a netplumb validator; its refusal becomes code 7 naming the field. */
function check<T>(path: string, fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if (e instanceof NetplumbError) throw bad(`${path}: ${e.message}`);
    throw e;
  }
}

function ipv4(x: unknown, path: string): string {
  if (typeof x !== 'string') throw bad(`${path} must be a string (an IPv4 address), not ${typeName(x)} ${JSON.stringify(x)}`);
  if (x.includes(':')) throw unsupported(path, x, 'an IPv6 address is not taken here');
  return check(path, () => v.ip(x, path, 4).text);
}

/** An address of `family` (a range's gateway or bounds), in canonical text. */
function ipOf(x: unknown, path: string, family: 4 | 6): string {
  if (typeof x !== 'string') throw bad(`${path} must be a string (an IPv${family} address), not ${typeName(x)} ${JSON.stringify(x)}`);
  return check(path, () => v.formatIp(v.ip(x, path, family).bytes));
}

/** Parses CNI_ARGS: 'K=V;K2=V2'. */
export function parseArgs(s: string | undefined): Map<string, string> {
  const m = new Map<string, string>();
  if (!s) return m;
  for (const part of s.split(';')) {
    if (part === '') continue;
    const eq = part.indexOf('=');
    if (eq <= 0) throw new CniError(K.INVALID_ENV, `CNI_ARGS: ${JSON.stringify(part)} is not KEY=VALUE (CNI_ARGS is KEY=VALUE pairs separated by ';')`);
    m.set(part.slice(0, eq), part.slice(eq + 1));
  }
  return m;
}

/** The environment of one invocation, checked for what `command` needs. */
export function parseEnv(env: Readonly<Record<string, string | undefined>>): CniEnv {
  const command = env.CNI_COMMAND;
  if (command === undefined || command === '') throw new CniError(K.INVALID_ENV, `CNI_COMMAND is not set: one of ${COMMANDS.join(', ')}`);
  if (!(COMMANDS as readonly string[]).includes(command)) throw new CniError(K.INVALID_ENV, `CNI_COMMAND ${JSON.stringify(command)} is unknown: one of ${COMMANDS.join(', ')}`);
  const cmd = command as Command;
  const perContainer = cmd === 'ADD' || cmd === 'DEL' || cmd === 'CHECK';
  const containerId = env.CNI_CONTAINERID ?? '';
  const netns = env.CNI_NETNS ?? '';
  const ifname = env.CNI_IFNAME ?? '';
  if (perContainer) {
    if (containerId === '') throw new CniError(K.INVALID_ENV, `CNI_CONTAINERID is required for ${cmd}`);
    if (!CONTAINER_ID.test(containerId))
      throw new CniError(K.INVALID_ENV, `CNI_CONTAINERID ${JSON.stringify(containerId)} is invalid: a letter or digit, then letters, digits, '_', '.' or '-'`);
    if (Buffer.byteLength(containerId) > MAX_ID) throw new CniError(K.INVALID_ENV, `CNI_CONTAINERID is ${Buffer.byteLength(containerId)} bytes long: netplumb-cni takes at most ${MAX_ID}`);
    if (ifname === '') throw new CniError(K.INVALID_ENV, `CNI_IFNAME is required for ${cmd}`);
    checkIfname(ifname, 'CNI_IFNAME', K.INVALID_ENV);
    // DEL may come without a namespace (it is gone): clean up what the host holds.
    if (netns === '' && cmd !== 'DEL') throw new CniError(K.INVALID_ENV, `CNI_NETNS is required for ${cmd}`);
    if (netns !== '' && !netns.startsWith('/')) throw new CniError(K.INVALID_ENV, `CNI_NETNS ${JSON.stringify(netns)} is not an absolute path`);
  }
  const args = parseArgs(env.CNI_ARGS);
  const path = (env.CNI_PATH ?? '').split(':').filter(Boolean);
  return { command: cmd, containerId, netns, ifname, args, path, environ: env };
}

/** An interface name as the spec and the kernel take it: 1-15 bytes, not '.' or '..', no '/', ':' or whitespace. */
export function checkIfname(name: string, what: string, code: number = K.INVALID_CONFIG): string {
  const why =
    name === '' ? 'it is empty'
    : Buffer.byteLength(name) > 15 ? `it is ${Buffer.byteLength(name)} bytes long, the kernel takes at most 15`
    : name === '.' || name === '..' ? 'it cannot be "." or ".."'
    : /[/:\s]/.test(name) ? "it contains '/', ':' or whitespace"
    : undefined;
  if (why) throw new CniError(code, `${what} ${JSON.stringify(name)} is not a valid interface name: ${why}`);
  return name;
}

/** Parses stdin: JSON, an object. */
export function decode(text: string): Record<string, unknown> {
  let x: unknown;
  try {
    x = JSON.parse(text);
  } catch (e) {
    throw new CniError(K.DECODE, `the network configuration on stdin is not JSON: ${(e as Error).message}`);
  }
  if (typeof x !== 'object' || x === null || Array.isArray(x)) throw new CniError(K.DECODE, `the network configuration on stdin must be a JSON object, not ${typeName(x)}`);
  return x as Record<string, unknown>;
}

/** cniVersion of a configuration: present and one netplumb-cni speaks (else code 1). */
export function versionOf(raw: Record<string, unknown>): CniVersion {
  const ver = raw.cniVersion;
  if (ver === undefined) throw bad('cniVersion is required');
  if (typeof ver !== 'string') throw bad(`cniVersion must be a string, not ${typeName(ver)} ${JSON.stringify(ver)}`);
  if (!(SUPPORTED_VERSIONS as readonly string[]).includes(ver))
    throw new CniError(K.INCOMPATIBLE_VERSION, `incompatible CNI version ${JSON.stringify(ver)}: netplumb-cni supports ${SUPPORTED_VERSIONS.join(', ')}`, `supportedVersions: ${SUPPORTED_VERSIONS.join(', ')}`);
  return ver as CniVersion;
}

function parseIpam(x: unknown): IpamConfig {
  if (x === undefined) throw bad('ipam is required (e.g. {"type": "netplumb", "subnet": "10.88.0.0/16"})');
  const o = obj(x, 'ipam');
  const type = str(o, 'type', 'ipam.type', true) as string;
  if (type === '' || /[/\\]/.test(type)) throw bad(`ipam.type ${JSON.stringify(type)} is not a plugin name`);
  const routes = o.routes === undefined ? [] : arr(o.routes, 'ipam.routes').map((r, i) => parseRoute(r, `ipam.routes[${i}]`));
  if (type !== 'netplumb') return { type, delegated: true, routes };
  // Own IPAM: 'subnet' (with rangeStart/rangeEnd/gateway), or host-local's 'ranges': one range set
  // per family (dual stack: one IPv4 and one IPv6), each of exactly one range.
  const given: [Record<string, unknown>, string][] = [];
  if (o.ranges !== undefined) {
    if (o.subnet !== undefined) throw bad('ipam: give "subnet" or "ranges", not both');
    const sets = arr(o.ranges, 'ipam.ranges');
    if (sets.length === 0) throw bad('ipam.ranges is empty');
    if (sets.length > 2) throw unsupported('ipam.ranges', o.ranges, 'netplumb-cni takes one range set per family (at most an IPv4 and an IPv6 one)');
    sets.forEach((x, i) => {
      const set = arr(x, `ipam.ranges[${i}]`);
      if (set.length === 0) throw bad(`ipam.ranges[${i}] is empty`);
      // A range set is one pool: ranges of two families in it are a mistake, whatever else.
      const fams = new Set(set.map((r) => (typeof (r as Record<string, unknown>)?.subnet === 'string' && ((r as Record<string, unknown>).subnet as string).includes(':') ? 6 : 4)));
      if (fams.size > 1) throw bad(`ipam.ranges[${i}] mixes IPv4 and IPv6 ranges: give each family its own range set`);
      if (set.length !== 1) throw unsupported(`ipam.ranges[${i}]`, set, 'netplumb-cni takes exactly one range in a set');
      given.push([obj(set[0], `ipam.ranges[${i}][0]`), `ipam.ranges[${i}][0]`]);
    });
  } else given.push([o, 'ipam']);
  const ranges: IpamRange[] = given.map(([range, rpath]) => {
    const subnet = str(range, 'subnet', `${rpath}.subnet`, true) as string;
    const family = subnet.includes(':') ? 6 : 4;
    const gateway = range.gateway !== undefined ? ipOf(range.gateway, `${rpath}.gateway`, family) : undefined;
    const rangeStart = range.rangeStart !== undefined ? ipOf(range.rangeStart, `${rpath}.rangeStart`, family) : undefined;
    const rangeEnd = range.rangeEnd !== undefined ? ipOf(range.rangeEnd, `${rpath}.rangeEnd`, family) : undefined;
    const bounds = { ...(rangeStart ? { start: rangeStart } : {}), ...(rangeEnd ? { end: rangeEnd } : {}) };
    // Checked here as the network will (host bits, /30 or /64 at most, gateway and range inside), before any system call.
    let text: string, gw: string;
    if (family === 6) {
      const s = check(`${rpath}.subnet`, () => parseSubnet6(subnet, gateway));
      check(rpath, () => new Ipam6(s, bounds));
      [text, gw] = [s.text, fromBig(s.gateway)];
    } else {
      const s = check(`${rpath}.subnet`, () => parseSubnet(subnet, gateway));
      check(rpath, () => new Ipam(s, bounds));
      [text, gw] = [s.text, fromInt(s.gateway)];
    }
    return { subnet: text, gateway: gw, ...(rangeStart ? { rangeStart } : {}), ...(rangeEnd ? { rangeEnd } : {}) };
  });
  if (ranges.length === 2 && ranges[0]!.subnet.includes(':') === ranges[1]!.subnet.includes(':'))
    throw unsupported('ipam.ranges', o.ranges, 'netplumb-cni takes one range set per family (two of one family given)');
  ranges.sort((a, b) => Number(a.subnet.includes(':')) - Number(b.subnet.includes(':')));
  const first = ranges[0] as IpamRange;
  return { type, delegated: false, ...first, ranges, routes };
}

function parseRoute(x: unknown, path: string): RouteEntry {
  const o = obj(x, path);
  const dst = str(o, 'dst', `${path}.dst`, true) as string;
  const family = dst.includes(':') ? 6 : 4;
  const c = check(`${path}.dst`, () => v.cidr(dst, `${path}.dst`, { family }));
  if (v.hostBitsSet(c.bytes, c.prefixlen)) throw bad(`${path}.dst ${dst} has host bits set: did you mean ${v.formatIp(v.networkOf(c.bytes, c.prefixlen))}/${c.prefixlen}?`);
  const gw = o.gw !== undefined ? ipOf(o.gw, `${path}.gw`, family) : undefined;
  return { dst: `${v.formatIp(c.bytes)}/${c.prefixlen}`, ...(gw ? { gw } : {}) };
}

function parseDns(x: unknown): DnsEntry {
  const o = obj(x, 'dns');
  const list = (key: string): string[] | undefined => {
    if (o[key] === undefined) return undefined;
    return arr(o[key], `dns.${key}`).map((s, i) => {
      if (typeof s !== 'string') throw bad(`dns.${key}[${i}] must be a string, not ${typeName(s)}`);
      return s;
    });
  };
  const d: DnsEntry = {};
  const ns = list('nameservers');
  if (ns) d.nameservers = ns.map((s, i) => check(`dns.nameservers[${i}]`, () => v.ip(s, `dns.nameservers[${i}]`).text));
  const domain = str(o, 'domain', 'dns.domain', false);
  if (domain !== undefined) d.domain = domain;
  const search = list('search');
  if (search) d.search = search;
  const options = list('options');
  if (options) d.options = options;
  return d;
}

function parsePortMappings(x: unknown): PortMappingEntry[] {
  const list = arr(x, 'runtimeConfig.portMappings');
  return list.map((e, i) => {
    const path = `runtimeConfig.portMappings[${i}]`;
    const o = obj(e, path);
    const port = (key: string): number => {
      const n = o[key];
      if (typeof n !== 'number' || !Number.isInteger(n) || n < 1 || n > 65535) throw bad(`${path}.${key} must be a port number (1-65535), not ${typeName(n)} ${JSON.stringify(n)}`);
      return n;
    };
    const protocol = (str(o, 'protocol', `${path}.protocol`, false) ?? 'tcp').toLowerCase();
    if (protocol === 'sctp') throw unsupported(`${path}.protocol`, o.protocol, 'netplumb publishes tcp and udp');
    if (protocol !== 'tcp' && protocol !== 'udp') throw bad(`${path}.protocol ${JSON.stringify(o.protocol)} is not "tcp" or "udp"`);
    const m: PortMappingEntry = { hostPort: port('hostPort'), containerPort: port('containerPort'), protocol };
    const hostIP = str(o, 'hostIP', `${path}.hostIP`, false);
    if (hostIP !== undefined && hostIP !== '' && hostIP !== '0.0.0.0') m.hostIP = ipv4(hostIP, `${path}.hostIP`);
    return m;
  });
}

/**
 * The network configuration for `command`, checked field by field (the
 * reference bridge plugin's fields where the concept is the same). Fields a
 * plugin does not know are ignored, as the spec asks; the bridge plugin's
 * fields netplumb does not implement are refused (code 2) when set to
 * something other than their default.
 */
export function parseConfig(raw: Record<string, unknown>, command: Command): NetConf {
  const cniVersion = versionOf(raw);
  const name = str(raw, 'name', 'name', true) as string;
  if (!NETWORK_NAME.test(name)) throw bad(`name ${JSON.stringify(name)} is invalid: a letter or digit, then letters, digits, '_', '.' or '-'`);
  const type = str(raw, 'type', 'type', true) as string;
  const bridge = checkIfname(str(raw, 'bridge', 'bridge', false) ?? 'cni0', 'bridge');
  const isDefaultGateway = bool(raw, 'isDefaultGateway', 'isDefaultGateway', false);
  // As the bridge plugin: isDefaultGateway implies isGateway.
  const isGateway = bool(raw, 'isGateway', 'isGateway', false) || isDefaultGateway;
  const ipMasq = bool(raw, 'ipMasq', 'ipMasq', false);
  const hairpinMode = bool(raw, 'hairpinMode', 'hairpinMode', false);
  const promiscMode = bool(raw, 'promiscMode', 'promiscMode', false);
  const mtu = raw.mtu !== undefined ? check('mtu', () => v.mtu(raw.mtu, 'mtu')) : undefined;
  for (const [key, dflt] of [['vlan', 0], ['vlanTrunk', undefined], ['macspoofchk', false], ['enabledad', false], ['disableContainerInterface', false], ['preserveDefaultVlan', true]] as const) {
    const x = raw[key];
    if (x !== undefined && JSON.stringify(x) !== JSON.stringify(dflt) && !(key === 'vlanTrunk' && Array.isArray(x) && x.length === 0))
      throw unsupported(key, x, 'netplumb-cni does not implement it');
  }
  const ipam = parseIpam(raw.ipam);
  if (!ipam.delegated && !isGateway && ipMasq)
    throw bad('ipMasq needs isGateway: true with netplumb IPAM (the masquerade is for traffic routed through the bridge\'s address)');
  const dns = raw.dns !== undefined ? parseDns(raw.dns) : undefined;
  let portMappings: PortMappingEntry[] = [];
  if (raw.runtimeConfig !== undefined) {
    const rc = obj(raw.runtimeConfig, 'runtimeConfig');
    if (rc.portMappings !== undefined) portMappings = parsePortMappings(rc.portMappings);
  }
  const conf: NetConf = { cniVersion, name, type, bridge, isGateway, isDefaultGateway, ipMasq, hairpinMode, promiscMode, ipam, portMappings, raw, ...(mtu !== undefined ? { mtu } : {}), ...(dns ? { dns } : {}) };
  if (raw.prevResult !== undefined) conf.prevResult = obj(raw.prevResult, 'prevResult');
  if (command === 'CHECK' && !conf.prevResult) throw bad('CHECK needs prevResult (the result of the ADD)');
  if (command === 'GC') {
    const list = raw['cni.dev/valid-attachments'];
    if (list === undefined) throw bad('GC needs cni.dev/valid-attachments (the attachments to keep; [] for none)');
    conf.validAttachments = arr(list, 'cni.dev/valid-attachments').map((a, i) => {
      const o = obj(a, `cni.dev/valid-attachments[${i}]`);
      return { containerID: str(o, 'containerID', `cni.dev/valid-attachments[${i}].containerID`, true) as string, ifname: str(o, 'ifname', `cni.dev/valid-attachments[${i}].ifname`, true) as string };
    });
  }
  return conf;
}
