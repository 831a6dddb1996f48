// O(1) threads: every open namespace is served by the same few shared I/O
// threads (native/handle.cpp), not one thread each. A plain node child
// (test/children/manyns.ts) opens 200 namespaces, makes one request in each,
// and counts its threads from /proc/self/task; `ip` checks each request.
// `npm run bench:namespaces` does the same with 10,000.
import * as os from 'node:os';

import { runChild, removeNamespacesStartingWith } from '../helpers/child';
import { ipj } from '../helpers/oracle';
import { addressOf, type ManyNsReport } from '../children/manyns';

const PREFIX = `thr${process.pid}x`;
afterAll(() => removeNamespacesStartingWith(PREFIX));

it('200 open namespaces add at most cores + 2 threads, and each answers (`ip -n NAME -j addr show lo`)', () => {
  const N = 200;
  const r = runChild<ManyNsReport>('manyns', [PREFIX, String(N)], { nodeArgs: ['--expose-gc'], timeoutMs: 120_000 });
  expect({ status: r.status, signal: r.signal, error: r.error, stderr: r.stderr.slice(-2000) }).toEqual({
    status: 0,
    signal: null,
    error: undefined,
    stderr: '',
  });
  const rep = r.report!;
  expect(rep.failures).toEqual([]);
  const limit = os.availableParallelism() + 2;
  // Threads the library added over the process's own (main, V8's, libuv's pool).
  expect(rep.threadsPeak - rep.threadsBefore).toBeLessThanOrEqual(limit);
  expect(rep.threadsOpen - rep.threadsBefore).toBeLessThanOrEqual(limit);
  // Every namespace did its request: the kernel shows each address in its own namespace.
  for (let i = 0; i < N; i++) {
    const addrs = ipj(`${PREFIX}${i}`, 'addr', 'show', 'lo')[0].addr_info.map((a: { local: string }) => a.local);
    expect(addrs).toContain(addressOf(i));
  }
});
