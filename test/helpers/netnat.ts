// Helpers for the NAT / Network integration tests: the nftables oracle
// (`nft -j list ruleset`, run in a named namespace) and real traffic
// (HTTP over TCP, a UDP echo) between namespaces.
import type * as dgram from 'node:dgram';
import * as http from 'node:http';
import type { Namespace } from '../../lib';
import { run } from './oracle';

/* eslint-disable @typescript-eslint/no-explicit-any */

export interface NftRule {
  family: string;
  table: string;
  chain: string;
  handle: number;
  comment?: string;
  expr: any[];
}

/** Every rule of the namespace's ruleset, per `ip netns exec NS nft -j list ruleset`. */
export function nftRules(ns: string): NftRule[] {
  const out = run('ip', ['netns', 'exec', ns, 'nft', '-j', 'list', 'ruleset']);
  const doc = JSON.parse(out) as { nftables: Record<string, any>[] };
  return doc.nftables.filter((o) => 'rule' in o).map((o) => o.rule as NftRule);
}

/** Rules of `table <family> netplumb`. */
export function netplumbRules(ns: string, family: 'ip' | 'ip6' | 'bridge' = 'ip'): NftRule[] {
  return nftRules(ns).filter((r) => r.family === family && r.table === 'netplumb');
}

/** Rules whose comment starts with `netplumb publish ID `. */
export function publishRules(ns: string, id: string): NftRule[] {
  return netplumbRules(ns).filter((r) => (r.comment ?? '').startsWith(`netplumb publish ${id} `));
}

/** Chains (names) of `table ip netplumb` etc., per the oracle. */
export function nftChains(ns: string): { family: string; table: string; name: string; hook?: string; type?: string }[] {
  const doc = JSON.parse(run('ip', ['netns', 'exec', ns, 'nft', '-j', 'list', 'ruleset'])) as { nftables: Record<string, any>[] };
  return doc.nftables.filter((o) => 'chain' in o).map((o) => o.chain);
}

/** The `right` of the rule's `match` whose left is `{payload: {protocol, field}}` (and its op), or undefined. */
export function payloadMatch(r: NftRule, protocol: string, field: string): { op: string; right: any } | undefined {
  for (const e of r.expr) {
    const m = e.match;
    if (m && m.left?.payload?.protocol === protocol && m.left.payload.field === field) return { op: m.op, right: m.right };
  }
  return undefined;
}

/** The `right` of the rule's `match` on `meta KEY`, or undefined. */
export function metaMatch(r: NftRule, key: string): { op: string; right: any } | undefined {
  for (const e of r.expr) {
    const m = e.match;
    if (m && m.left?.meta?.key === key) return { op: m.op, right: m.right };
  }
  return undefined;
}

/** The dnat statement of the rule ({addr, port}), or undefined. */
export function dnatOf(r: NftRule): { addr: string; port: number } | undefined {
  return r.expr.find((e) => 'dnat' in e)?.dnat;
}

export function hasMasquerade(r: NftRule): boolean {
  return r.expr.some((e) => 'masquerade' in e);
}

export function counterPackets(r: NftRule): number {
  return r.expr.find((e) => 'counter' in e)?.counter?.packets ?? 0;
}

/** GET url through agent; resolves the body, rejects on error or timeout. */
export function httpGet(url: string, agent: http.Agent, timeoutMs = 2000): Promise<string> {
  return new Promise<string>((resolve, reject) => {
    const req = http.get(url, { agent, timeout: timeoutMs, headers: { connection: 'close' } }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve(body));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.on('timeout', () => req.destroy(new Error(`timeout fetching ${url}`)));
  });
}

/** The error of a GET that must fail; throws if it succeeds. */
export async function httpFailure(url: string, agent: http.Agent, timeoutMs = 1500): Promise<Error> {
  let body: string;
  try {
    body = await httpGet(url, agent, timeoutMs);
  } catch (e) {
    return e as Error;
  }
  throw new Error(`expected GET ${url} to fail, but it answered ${JSON.stringify(body)}`);
}

/** An HTTP server in `ns` on `port` answering "TAG PORT REMOTEADDR". */
export async function tagServer(ns: Namespace, port: number, tag: string): Promise<http.Server> {
  const srv = http.createServer((req, res) => {
    res.setHeader('connection', 'close');
    res.end(`${tag} ${port} ${req.socket.remoteAddress ?? '?'}`);
  });
  await ns.listen(srv, { port });
  return srv;
}

/** A UDP echo in `ns` on `port` answering "TAG PORT REMOTEADDR PAYLOAD". */
export async function udpEcho(ns: Namespace, port: number, tag: string): Promise<dgram.Socket> {
  const s = await ns.createSocket('udp4', { port });
  s.on('message', (msg, rinfo) => s.send(`${tag} ${port} ${rinfo.address} ${msg.toString()}`, rinfo.port, rinfo.address));
  return s;
}

/**
 * Sends `payload` from a fresh UDP socket in `ns` (bound to `fromPort`, if
 * given: one flow for conntrack) to host:port and resolves
 * the first answer; a few tries (UDP may lose the first datagram while ARP
 * resolves). Rejects if nothing comes back.
 */
export async function udpAsk(ns: Namespace, host: string, port: number, payload: string, tries = 3, timeoutMs = 700, fromPort?: number): Promise<string> {
  const s = await ns.createSocket('udp4', fromPort !== undefined ? { port: fromPort } : {});
  try {
    return await new Promise<string>((resolve, reject) => {
      let n = 0;
      let timer: NodeJS.Timeout | undefined;
      const send = (): void => {
        if (n++ >= tries) {
          reject(new Error(`no UDP answer from ${host}:${port}`));
          return;
        }
        s.send(payload, port, host);
        timer = setTimeout(send, timeoutMs);
      };
      s.on('message', (m) => {
        if (timer) clearTimeout(timer);
        resolve(m.toString());
      });
      s.on('error', (e) => {
        if (timer) clearTimeout(timer);
        reject(e);
      });
      send();
    });
  } finally {
    s.close();
  }
}

export function closeServer(s: http.Server | undefined): Promise<void> {
  return new Promise((resolve) => {
    if (!s) return resolve();
    s.closeAllConnections?.();
    s.close(() => resolve());
  });
}

/** `ip netns exec NS cat /proc/sys/KEY` (KEY with slashes). */
export function sysctlOf(ns: string, key: string): string {
  return run('ip', ['netns', 'exec', ns, 'cat', `/proc/sys/${key}`]).trim();
}

/** `bridge -n NS -j -d link show` entries by name. */
export function bridgePorts(ns: string): Map<string, any> {
  const out = run('bridge', ['-n', ns, '-j', '-d', 'link', 'show']);
  const arr = out.trim() ? (JSON.parse(out) as any[]) : [];
  return new Map(arr.map((p) => [p.ifname as string, p]));
}
