#!/usr/bin/env node
'use strict';
/**
 * The two ends of the registry bridge used by scripts/fresh-rootfs.sh.
 *
 *   proxy SOCKET HOST...   (on the host) an HTTP proxy on a unix socket:
 *                          CONNECT host:port (https) and absolute-URI
 *                          requests (plain http, as apt sends them), for the
 *                          listed HOSTs only; anything else gets 403. It
 *                          connects out directly, or through the host's own
 *                          proxy when $https_proxy / $http_proxy name one.
 *                          One line per request on stdout.
 *   relay ADDR:PORT SOCKET (inside the network sandbox) a TCP listener that
 *                          pipes every connection to SOCKET, so that apt and
 *                          npm can be pointed at http://ADDR:PORT.
 *
 * The sandbox has no network link to the host: the unix socket (a file in the
 * rootfs) is the only way out, and only to the listed hosts.
 */
const http = require('node:http');
const net = require('node:net');
const fs = require('node:fs');

const stamp = () => new Date().toISOString().slice(11, 19);
const say = (s) => process.stdout.write(`${stamp()} ${s}\n`);

/** The host's own proxy for `scheme` (http or https), if its environment names one. */
function upstreamFor(scheme) {
  const v = scheme === 'https' ? process.env.https_proxy || process.env.HTTPS_PROXY : process.env.http_proxy || process.env.HTTP_PROXY;
  if (!v) return null;
  const u = new URL(v.includes('://') ? v : `http://${v}`);
  return { host: u.hostname, port: Number(u.port) || 80 };
}

/** A socket to host:port, directly or through a CONNECT to the upstream proxy. */
function dial(host, port, cb) {
  const up = upstreamFor('https');
  if (!up) {
    const s = net.connect(port, host, () => cb(null, s));
    s.once('error', cb);
    return;
  }
  const s = net.connect(up.port, up.host, () => s.write(`CONNECT ${host}:${port} HTTP/1.1\r\nHost: ${host}:${port}\r\n\r\n`));
  s.once('error', cb);
  let head = Buffer.alloc(0);
  const onData = (d) => {
    head = Buffer.concat([head, d]);
    const end = head.indexOf('\r\n\r\n');
    if (end < 0) return;
    s.removeListener('data', onData);
    const status = /^HTTP\/1\.[01] (\d{3})/.exec(head.toString('latin1'));
    if (!status || status[1] !== '200') return cb(new Error(`upstream proxy refused CONNECT ${host}:${port}`));
    const rest = head.subarray(end + 4);
    if (rest.length) s.unshift(rest);
    cb(null, s);
  };
  s.on('data', onData);
}

function proxy(socketPath, hosts) {
  const allowed = new Set(hosts.map((h) => h.toLowerCase()));
  const ok = (host) => allowed.has(String(host).toLowerCase());
  const counts = { ok: 0, denied: 0 };

  const server = http.createServer((req, res) => {
    let url;
    try {
      url = new URL(req.url);
    } catch {
      res.writeHead(400).end('absolute URI expected\n');
      return;
    }
    if (url.protocol !== 'http:' || !ok(url.hostname)) {
      counts.denied++;
      say(`DENIED ${req.method} ${req.url}`);
      res.writeHead(403).end(`not an allowed registry: ${url.hostname}\n`);
      return;
    }
    counts.ok++;
    say(`${req.method} ${req.url}`);
    const up = upstreamFor('http');
    const headers = { ...req.headers };
    delete headers['proxy-connection'];
    const out = http.request(
      up
        ? { host: up.host, port: up.port, method: req.method, path: req.url, headers }
        : { host: url.hostname, port: url.port || 80, method: req.method, path: url.pathname + url.search, headers },
      (r) => {
        res.writeHead(r.statusCode, r.headers);
        r.pipe(res);
      },
    );
    out.on('error', (e) => {
      say(`ERROR ${req.url}: ${e.message}`);
      if (!res.headersSent) res.writeHead(502);
      res.end();
    });
    req.pipe(out);
  });

  server.on('connect', (req, client, head) => {
    const m = /^\[?([^\]]+?)\]?:(\d+)$/.exec(req.url);
    if (!m || !ok(m[1])) {
      counts.denied++;
      say(`DENIED CONNECT ${req.url}`);
      client.end('HTTP/1.1 403 Forbidden\r\n\r\n');
      return;
    }
    counts.ok++;
    say(`CONNECT ${req.url}`);
    dial(m[1], Number(m[2]), (err, s) => {
      if (err) {
        say(`ERROR CONNECT ${req.url}: ${err.message}`);
        client.end('HTTP/1.1 502 Bad Gateway\r\n\r\n');
        return;
      }
      s.removeAllListeners('error');
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      if (head && head.length) s.write(head);
      s.pipe(client).pipe(s);
      const close = () => {
        s.destroy();
        client.destroy();
      };
      s.on('error', close);
      client.on('error', close);
    });
  });

  fs.rmSync(socketPath, { force: true });
  server.listen(socketPath, () => {
    fs.chmodSync(socketPath, 0o666);
    say(`listening on ${socketPath} for ${[...allowed].join(' ')}`);
  });
  const stop = () => {
    say(`stopped: ${counts.ok} requests passed, ${counts.denied} denied`);
    fs.rmSync(socketPath, { force: true });
    process.exit(0);
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

function relay(listen, socketPath) {
  const [host, port] = listen.split(':');
  const server = net.createServer((c) => {
    const s = net.connect(socketPath);
    const close = () => {
      s.destroy();
      c.destroy();
    };
    s.on('error', close);
    c.on('error', close);
    c.pipe(s).pipe(c);
  });
  server.listen(Number(port), host, () => say(`relay ${listen} -> ${socketPath}`));
}

const [mode, ...args] = process.argv.slice(2);
if (mode === 'proxy' && args.length >= 2) proxy(args[0], args.slice(1));
else if (mode === 'relay' && args.length === 2) relay(args[0], args[1]);
else {
  process.stderr.write('usage: fresh-proxy.js proxy SOCKET HOST... | relay ADDR:PORT SOCKET\n');
  process.exit(2);
}
