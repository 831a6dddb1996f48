/**
 * HTTP and UDP between containers, from one Node process. Three containers
 * hang off a bridge in the "host" namespace:
 *
 *   c1      10.60.0.11  an http.Server of THIS process, listening on a socket
 *                       made inside c1 (c1.listen): no child, no thread in c1
 *   c2      10.60.0.12  a separate node process started inside c2 (c2.spawn)
 *   client  10.60.0.20  fetches both with http.get(..., { agent: client.agent() }):
 *                       the agent's sockets are made inside `client`
 *
 * then a UDP datagram goes from `client` to c1 and back (createSocket).
 *
 * The same by hand:
 *
 *   ip netns add host; ip netns add c1; ip netns add c2; ip netns add client
 *   ip -n host link add br0 type bridge; ip -n host addr add 10.60.0.1/24 dev br0; ip -n host link set br0 up
 *   for c in c1 c2 client: ip -n host link add vh-$c master br0 up type veth peer name eth0 netns $c
 *                          ip -n $c addr add 10.60.0.X/24 dev eth0; ip -n $c link set eth0 up
 *   ip netns exec c1 node server.js &                    # (here: in-process, c1.listen)
 *   ip netns exec c2 node -e 'http.createServer(...).listen(8080)' &
 *   ip netns exec client curl http://10.60.0.11:8080/ http://10.60.0.12:8080/
 *   ip netns exec c1 socat UDP-RECV:5300 - ; ip netns exec client socat - UDP:10.60.0.11:5300
 *
 * Run it with `node bin/netplumb sandbox -- node dist/examples/http-across-namespaces.js`.
 */
import * as http from 'node:http';
import type * as dgram from 'node:dgram';
import { once } from 'node:events';
import { Bridge, Namespace, VethPair } from '../lib';
import { checks, run, step } from './support/run';

/** GET a URL; resolves with status and body, rejects on a network error or after 5 s. */
function get(url: string, agent?: http.Agent): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { agent, timeout: 5000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`timeout fetching ${url}`)));
    req.on('error', reject);
  });
}

/** The first datagram `sock` receives, or a rejection after `ms`. */
function receive(sock: dgram.Socket, ms = 3000): Promise<[Buffer, dgram.RemoteInfo]> {
  return Promise.race([
    once(sock, 'message') as Promise<[Buffer, dgram.RemoteInfo]>,
    new Promise<never>((_, reject) => setTimeout(() => reject(new Error('no datagram within ' + ms + ' ms')), ms).unref()),
  ]);
}

// The program c2 runs: a tiny HTTP server that says who it is, and tells us when it listens.
const C2_SERVER = `
const http = require('http');
const fs = require('fs');
const server = http.createServer((req, res) => {
  res.end('hello from c2: pid ' + process.pid + ' in ' + fs.readlinkSync('/proc/self/ns/net') + ', you are ' + req.socket.remoteAddress + '\\n');
});
server.listen(8080, '0.0.0.0', () => console.log('listening'));
process.on('SIGTERM', () => server.close(() => process.exit(0)));
`;

async function main(): Promise<number> {
  const { check, report } = checks();

  await using host = await Namespace.create('host');
  await using c1 = await Namespace.create('c1');
  await using c2 = await Namespace.create('c2');
  await using client = await Namespace.create('client');
  await Promise.all([host, c1, c2, client].map((ns) => ns.loopback.up()));
  await using br0 = await Bridge.create('br0', { namespace: host, address: '10.60.0.1/24', up: true });
  const wire = async (ns: Namespace, ip: string) => {
    const pair = await VethPair.create(`vh-${ns.name}`, { namespace: host, master: br0, up: true, peerIn: ns, peerName: 'eth0', peerUp: true });
    await pair.peer.addAddress(`${ip}/24`);
  };
  await Promise.all([wire(c1, '10.60.0.11'), wire(c2, '10.60.0.12'), wire(client, '10.60.0.20')]);
  step('host/br0 10.60.0.1/24; c1 .11, c2 .12, client .20 on veths into br0');

  // c1: an http.Server of this process, on a socket bound inside c1.
  const server1 = http.createServer((req, res) => {
    res.end(`hello from c1: pid ${process.pid} (in-process server), you are ${req.socket.remoteAddress}\n`);
  });
  await c1.listen(server1, { port: 8080 });
  step('c1.listen(http.createServer(...), { port: 8080 })   -> listening in c1, in this process');

  // c2: another node process, started inside c2.
  const child = c2.spawn(process.execPath, ['-e', C2_SERVER], { stdio: ['ignore', 'pipe', 'inherit'] });
  const childExit = once(child, 'exit');
  try {
    const [line] = (await Promise.race([once(child.stdout!, 'data'), childExit.then(() => ['(exited)'])])) as [Buffer | string];
    step(`c2.spawn(node, ['-e', server])                       -> pid ${child.pid}: ${String(line).trim()}`);
    check(String(line).trim() === 'listening', 'the server in c2 did not start');

    // The client: an agent whose connections are made inside `client`.
    const agent = client.agent();
    for (const [who, url] of [['c1', 'http://10.60.0.11:8080/'], ['c2', 'http://10.60.0.12:8080/']] as const) {
      try {
        const r = await get(url, agent);
        step(`ip netns exec client curl ${url}  -> ${r.status}`);
        console.log('    ' + r.body.trim());
        check(r.status === 200 && r.body.startsWith(`hello from ${who}`) && r.body.includes('you are 10.60.0.20') && (who === 'c1' || r.body.includes(`net:[${c2.inode}]`)), `unexpected answer from ${who}: ${r.body}`);
      } catch (e) {
        step(`GET ${url} from client failed: ${(e as Error).message}`);
        check(false, `GET ${url} from client: ${(e as Error).message}`);
      }
    }
    agent.destroy();

    // Without the agent, the request leaves from this process's own namespace, which has no route there.
    try {
      await get('http://10.60.0.11:8080/');
      check(false, 'a request from our own namespace reached c1');
    } catch (e) {
      step(`curl http://10.60.0.11:8080/ (no agent: from our own namespace) -> ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    }

    // UDP: client -> c1:5300, and c1 answers to the sender's address.
    const rx = await c1.createSocket('udp4', { port: 5300 });
    const tx = await client.createSocket('udp4');
    rx.on('message', (msg, rinfo) => rx.send(`pong (${msg.length} bytes from ${rinfo.address}:${rinfo.port})`, rinfo.port, rinfo.address));
    const reply = receive(tx);
    tx.send('ping from client', 5300, '10.60.0.11');
    try {
      const [msg, rinfo] = await reply;
      step(`udp client -> 10.60.0.11:5300, reply from ${rinfo.address}:${rinfo.port}: ${msg.toString()}`);
      check(rinfo.address === '10.60.0.11' && msg.toString().includes('from 10.60.0.20:'), `unexpected UDP reply ${msg.toString()} from ${rinfo.address}`);
    } catch (e) {
      step(`udp: ${(e as Error).message}`);
      check(false, `udp: ${(e as Error).message}`);
    }
    rx.close();
    tx.close();

    // Stop both servers.
    child.kill('SIGTERM');
    const [code, signal] = (await childExit) as [number | null, NodeJS.Signals | null];
    await new Promise<void>((resolve) => server1.close(() => resolve()));
    step(`servers stopped (c2's node exited with code ${code}, signal ${signal})`);
    check(code === 0, `c2's server exited with ${code}/${signal}`);
  } finally {
    // If anything above threw, neither server must keep this process alive.
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    if (server1.listening) server1.close();
  }

  // Leaving the block deletes br0, client, c2, c1 and host (await using), in reverse order.
  return report();
}

run(main);
