// The must-show of "work inside a namespace": a bridge in a host namespace,
// two containers (c1, c2) and a client (cl) on it. c1 runs an HTTP server as a
// child process (c1.spawn), c2 one in THIS process (c2.listen); cl fetches
// both from this same process through cl.agent(). Plus UDP, raw TCP, and the
// negative control that without the agent the sandbox cannot reach them.
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as net from 'node:net';
import * as dgram from 'node:dgram';

import { Bridge, type Namespace, NetplumbError, Route, VethPair } from '../../lib';
import { oracle, ping } from '../helpers/oracle';
import { NsTracker, rejectionOf } from '../helpers/ns-link';
import { alive, Children, exited, until } from '../helpers/inside';

const t = new NsTracker();
const kids = new Children();

const BR = '172.31.0.1';
const C1 = '172.31.0.11';
const C2 = '172.31.0.12';
const CL = '172.31.0.13';

let host: Namespace;
let c1: Namespace;
let c2: Namespace;
let cl: Namespace;

async function container(prefix: string, hostVeth: string, br: Bridge, addr: string): Promise<Namespace> {
  const c = await t.create(prefix);
  await c.loopback.up();
  const pair = await VethPair.create(hostVeth, { namespace: host, peerIn: c, peerName: 'eth0', master: br, up: true, peerUp: true });
  await pair.peer.addAddress(`${addr}/24`);
  await Route.add({ namespace: c, to: 'default', via: BR });
  return c;
}

beforeAll(async () => {
  host = await t.create('sh');
  await host.loopback.up();
  const br = await Bridge.create('br0', { namespace: host, address: `${BR}/24`, up: true });
  c1 = await container('sc1', 'vc1', br, C1);
  c2 = await container('sc2', 'vc2', br, C2);
  cl = await container('scl', 'vcl', br, CL);
  // The wiring itself, checked with the oracle and real traffic.
  for (const [c, a] of [[c1, C1], [c2, C2], [cl, CL]] as const) {
    const routes = oracle.routes(c.name, 'default') as { gateway?: string; dev?: string }[];
    expect(routes).toEqual([expect.objectContaining({ gateway: BR, dev: 'eth0' })]);
    expect(ping(cl.name as string, a)).toBe(true);
  }
});

afterAll(async () => {
  await kids.reap();
  await t.cleanup();
});

/** GET http://host:port/ with the given agent; resolves with status and body. */
function get(hostAddr: string, agent: http.Agent | undefined, timeoutMs = 3000): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: hostAddr, port: 80, path: '/', agent, timeout: timeoutMs }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(Object.assign(new Error('timeout'), { code: 'ETIMEDOUT' })));
    req.on('error', reject);
  });
}

describe('HTTP between namespaces, from one process', () => {
  it('spawned server in c1, in-process server in c2, both fetched from cl via cl.agent()', async () => {
    const server1 = kids.track(
      c1.spawn(process.execPath, ['-e', "require('http').createServer((q,r)=>r.end('from-spawn')).listen(80)"], { stdio: 'ignore' }),
    );
    const agent = cl.agent();
    let seen: string | undefined;
    const server2 = http.createServer((req, res) => {
      seen = req.socket.remoteAddress;
      res.end('from-listen');
    });
    try {
      // (b) c2's server is bound inside c2 by this process.
      const s = await c2.listen(server2, { port: 80 });
      expect(s).toBe(server2);
      expect(server2.listening).toBe(true);
      expect((server2.address() as net.AddressInfo).port).toBe(80);

      // (a) wait until the spawned server in c1 answers (through cl).
      const r1 = await until('the spawned server in c1', async () => get(C1, agent, 1000));
      expect(r1).toEqual({ status: 200, body: 'from-spawn' });
      expect(fs.statSync(`/proc/${server1.pid as number}/ns/net`).ino).toBe(c1.inode);

      const r2 = await get(C2, agent);
      expect(r2).toEqual({ status: 200, body: 'from-listen' });
      // c2's server saw cl's address: the connection really came from cl.
      expect(seen?.replace(/^::ffff:/, '')).toBe(CL);

      // The HTTP server of (b) listens only in c2: the sandbox (this process's
      // own namespace) has no such socket; ss in c2 shows it (oracle).
      const ss = await c2.exec('ss', ['-Htln']);
      expect(ss.stdout).toMatch(/:80\b/);

      // Negative control: the same request without the agent goes out of the
      // sandbox namespace, which has no route to 172.31.0.0/24.
      for (const a of [C1, C2]) {
        const e = await rejectionOf(get(a, undefined, 2000));
        expect(['ECONNREFUSED', 'ENETUNREACH', 'EHOSTUNREACH']).toContain(e.code);
      }
      expect(oracle.routes(undefined)).toEqual([]);
    } finally {
      agent.destroy();
      await new Promise<void>((r) => server2.close(() => r()));
      const pid = server1.pid;
      if (pid !== undefined && alive(pid)) process.kill(pid, 'SIGKILL');
      const r = await exited(server1);
      expect(r.signal === 'SIGKILL' || r.code !== null).toBe(true);
    }
    // After close, c2 no longer serves.
    const again = cl.agent();
    try {
      const e = await rejectionOf(get(C2, again, 2000));
      expect(e.code).toBe('ECONNREFUSED');
    } finally {
      again.destroy();
    }
  });

  it('a listen in c2 does not open the port in the sandbox or in cl', async () => {
    const server = http.createServer((_q, r) => r.end('x'));
    await c2.listen(server, { port: 8080, host: '0.0.0.0' });
    try {
      const sandboxSs = execFileSync('ss', ['-Htln'], { encoding: 'utf8' });
      expect(sandboxSs).not.toMatch(/:8080\b/);
      expect((await cl.exec('ss', ['-Htln'])).stdout).not.toMatch(/:8080\b/);
      expect((await c2.exec('ss', ['-Htln'])).stdout).toMatch(/:8080\b/);
    } finally {
      await new Promise<void>((r) => server.close(() => r()));
    }
  });
});

describe('UDP', () => {
  it("c2.createSocket('udp4', {port: 5353}) receives a datagram from cl, with cl's address", async () => {
    const rx = await c2.createSocket('udp4', { port: 5353 });
    const tx = await cl.createSocket('udp4');
    try {
      expect(rx.address().port).toBe(5353);
      const got = new Promise<{ msg: string; rinfo: dgram.RemoteInfo }>((resolve) =>
        rx.once('message', (msg, rinfo) => resolve({ msg: msg.toString('utf8'), rinfo })),
      );
      // Resend until it arrives (the first datagram may wait for ARP).
      let sent = 0;
      const timer = setInterval(() => {
        sent++;
        tx.send('hello-udp', 5353, C2);
      }, 100);
      tx.send('hello-udp', 5353, C2);
      let r: { msg: string; rinfo: dgram.RemoteInfo };
      let deadline: NodeJS.Timeout | undefined;
      try {
        r = await Promise.race([got, new Promise<never>((_, rej) => (deadline = setTimeout(() => rej(new Error('no datagram')), 5000)))]);
      } finally {
        clearInterval(timer);
        clearTimeout(deadline);
      }
      expect(sent).toBeLessThan(50);
      expect(r.msg).toBe('hello-udp');
      expect(r.rinfo.address).toBe(CL);
      expect(r.rinfo.port).toBe(tx.address().port);
      // The receiving socket is in c2 (oracle: ss inside c2 lists it, the sandbox does not).
      expect((await c2.exec('ss', ['-Hunl'])).stdout).toMatch(/:5353\b/);
    } finally {
      await new Promise<void>((r) => rx.close(() => r()));
      await new Promise<void>((r) => tx.close(() => r()));
    }
  });

  it('a UDP port already bound in the namespace is refused (EADDRINUSE), as dgram does', async () => {
    // Control: Node's own dgram, in this process's (sandbox) namespace, refuses the second bind.
    const x = dgram.createSocket('udp4');
    await new Promise<void>((r) => x.bind(5399, '127.0.0.1', () => r()));
    const y = dgram.createSocket('udp4');
    const nodeCode = await new Promise<string | undefined>((resolve) => {
      y.once('error', (e: NodeJS.ErrnoException) => resolve(e.code));
      y.bind(5399, '127.0.0.1', () => resolve(undefined));
    });
    x.close();
    try {
      y.close();
    } catch {
      /* never bound */
    }
    expect(nodeCode).toBe('EADDRINUSE');

    // Same for a socket made inside c2: a second one on 5356 must not silently share the port
    // (it would take the datagrams meant for the first).
    const first = await c2.createSocket('udp4', { port: 5356 });
    let second: dgram.Socket | undefined;
    try {
      const e = await rejectionOf(
        c2.createSocket('udp4', { port: 5356 }).then((s) => {
          second = s;
        }),
      );
      expect(e.code).toBe('EADDRINUSE');
    } finally {
      first.close();
      second?.close();
    }
  });

  it('udp4 bound to a specific address of the namespace', async () => {
    const rx = await c2.createSocket('udp4', { port: 5354, address: C2 });
    try {
      expect(rx.address()).toMatchObject({ address: C2, port: 5354 });
    } finally {
      await new Promise<void>((r) => rx.close(() => r()));
    }
    // An address the namespace does not have cannot be bound there (it is cl's).
    const e = await rejectionOf(c2.createSocket('udp4', { port: 5355, address: CL }));
    expect(e.code).toBe('EADDRNOTAVAIL');
  });
});

describe('raw TCP with ns.connect', () => {
  it('echo server in c2 (c2.listen), client socket from cl (cl.connect)', async () => {
    let peer: string | undefined;
    const echo = net.createServer((s) => {
      peer = s.remoteAddress;
      s.pipe(s);
    });
    await c2.listen(echo, { port: 7 });
    let sock: net.Socket | undefined;
    try {
      sock = await cl.connect({ host: C2, port: 7 });
      const s = sock;
      await new Promise<void>((resolve, reject) => {
        s.once('connect', () => resolve());
        s.once('error', reject);
      });
      const back = new Promise<string>((resolve, reject) => {
        let got = '';
        s.setEncoding('utf8');
        s.on('data', (d: string) => {
          got += d;
          if (got.length >= 'ping-pong'.length) resolve(got);
        });
        s.once('error', reject);
      });
      s.write('ping-pong');
      expect(await back).toBe('ping-pong');
      expect(s.remoteAddress).toBe(C2);
      expect(s.remotePort).toBe(7);
      expect(s.localAddress).toBe(CL);
      expect(peer).toBe(CL);
    } finally {
      sock?.destroy();
      await new Promise<void>((r) => echo.close(() => r()));
    }
  });

  it('connecting to a closed port in c2 fails with ECONNREFUSED (on the socket)', async () => {
    const sock = await cl.connect({ host: C2, port: 9 });
    const err = await new Promise<NodeJS.ErrnoException>((resolve) => sock.once('error', resolve));
    expect(err.code).toBe('ECONNREFUSED');
    sock.destroy();
  });

  it('bad input is refused with NetplumbError before any socket is made', async () => {
    const e1 = await rejectionOf(cl.connect({ host: 'example.com', port: 80 }));
    expect(e1).toBeInstanceOf(NetplumbError);
    expect(e1.code).toBe('ERR_INVALID_IP');
    const e2 = await rejectionOf(cl.connect({ host: C2, port: 70000 }));
    expect(e2).toBeInstanceOf(NetplumbError);
    expect(e2.code).toBe('ERR_INVALID_ARGUMENT');
    const e3 = await rejectionOf(c2.listen(net.createServer(), { port: 70000 }));
    expect(e3).toBeInstanceOf(NetplumbError);
    expect(e3.code).toBe('ERR_INVALID_ARGUMENT');
    // The agent refuses a host name too (it would be resolved outside the namespace).
    const agent = cl.agent();
    try {
      const e4 = await rejectionOf(get('example.com', agent));
      expect(e4).toBeInstanceOf(NetplumbError);
      expect(e4.code).toBe('ERR_INVALID_IP');
    } finally {
      agent.destroy();
    }
  });
});
