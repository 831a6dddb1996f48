'use strict';
// For scripts/bundle-hot.js's cache child: runs the first calls of a fresh
// process (Namespace.current, a link lookup, Address and Route add/delete,
// awaited and in flight) so V8 compiles their functions before the code
// cache is serialized. The calls go to a stand-in for the addon, put in
// require's cache where lib/native.ts loads it from: nothing reaches the
// kernel. Resolves true if the calls ran; false (nothing else done) if the
// stand-in was not the addon native() loaded.
const path = require('node:path');

module.exports = async function exercise(hot, dist) {
  const nat = hot.load('native');
  const standIn = {
    standIn: true,
    wireLayout: nat.WIRE_LAYOUT,
    Handle: Object.assign(
      class Handle {
        constructor() {
          this.pending = 0;
        }
        ready() {
          return Promise.resolve({ ref: -1, dev: 1, ino: 1 });
        }
        nsFd() {
          return -1;
        }
        link(spec) {
          const l = {
            index: 7,
            name: spec.name || 'x0',
            kind: 'veth',
            slaveKind: '',
            flags: 0x11043,
            type: 1,
            mtu: 1500,
            minMtu: 68,
            maxMtu: 65535,
            mac: '02:00:00:00:00:07',
            broadcast: 'ff:ff:ff:ff:ff:ff',
            operstate: 6,
            master: 0,
            link: 8,
            linkNetnsid: -1,
            group: 0,
            txqlen: 1000,
            alias: '',
          };
          return Promise.resolve(spec.op === 'get' || spec.op === 'dump' ? [l] : []);
        }
        addr() {
          return Promise.resolve([]);
        }
        route() {
          return Promise.resolve([]);
        }
        addrText() {
          return Promise.resolve([]);
        }
        routeText() {
          return Promise.resolve([]);
        }
        close() {
          return Promise.resolve();
        }
      },
      { pace: () => new Int32Array(1) },
    ),
    setTrace() {},
  };
  const files = ['..', '../..'].map((up) => path.join(dist, up, 'build', 'Release', 'netplumb.node'));
  for (const f of files) require.cache[f] = { id: f, filename: f, loaded: true, exports: standIn, children: [], paths: [] };
  if (nat.native().standIn !== true) return false; // the real addon: run nothing
  const np = hot.load('entry');
  const ip = (i) => `10.${(i >> 8) & 255}.${i & 255}.1`;
  for (let round = 0; round < 3; round++) {
    const ns = await np.Namespace.current();
    const link = await ns.link('x0');
    for (let i = 0; i < 20; i++) {
      await np.Address.add(link, `${ip(i)}/32`);
      await np.Route.add({ to: `${ip(i)}/32`, dev: link });
      await np.Route.delete({ to: `${ip(i)}/32`, dev: link });
      await np.Address.delete(link, `${ip(i)}/32`);
    }
    const n = Array.from({ length: 40 }, (_, i) => i);
    await Promise.all(n.map((i) => np.Address.add(link, `${ip(i)}/32`)));
    await Promise.all(n.map((i) => np.Route.add({ to: `${ip(i)}/32`, dev: link })));
    await Promise.all(n.map((i) => np.Route.delete({ to: `${ip(i)}/32`, dev: link })));
    await Promise.all(n.map((i) => np.Address.delete(link, `${ip(i)}/32`)));
    await ns.close();
  }
  return true;
};
