// Resource limits reached in a plain node child (test/children/limits.ts):
// the process never aborts, every failure is a typed NetlinkError naming the
// system call, what was half made is undone, and the process keeps serving
// once resources are free again.
import * as fs from 'node:fs';

import { NETNS_RUN_DIR } from '../../lib';
import { runChild, removeNamespacesStartingWith } from '../helpers/child';
import type { LimitsReport } from '../children/limits';

const PREFIX = `lim${process.pid}x`;
afterEach(() => removeNamespacesStartingWith(PREFIX));

function ok(r: ReturnType<typeof runChild<LimitsReport>>): LimitsReport {
  // An abort (std::terminate: exit 134 / SIGABRT) or a crash fails here, with what the child said.
  expect({ status: r.status, signal: r.signal, error: r.error, stderr: r.stderr.slice(-2000) }).toEqual({ status: 0, signal: null, error: undefined, stderr: '' });
  expect(r.report).toBeDefined();
  return r.report as LimitsReport;
}

it('under ulimit -v, where a thread per namespace gave out before 200, 200 handles and four creates are open at once, and all is undone', () => {
  // Until the I/O threads were shared, this limit was reached by current() before 200
  // (each handle's thread stack): the failure was a typed NetlinkError pthread_create.
  // Now only the first open of the process starts threads (handle.cpp: Pool::ensure_started),
  // with the same typed error if it cannot.
  const r = ok(runChild<LimitsReport>('limits', ['threads', PREFIX, '200'], { ulimit: '-v 1200000', timeoutMs: 60_000 }));
  expect(r.failures).toEqual([]);
  expect(r.opened).toEqual({ current: 200, created: 4 });
  // After closing: a create, a listing and a current() work again.
  expect(r.after).toEqual({ created: true, links: ['lo'], current: true });
  expect(r.leftAtEnd).toEqual([]);
});

it('with the fd table full (ulimit -n), the dup of a namespace fd is EMFILE naming fcntl, and works once fds are free', () => {
  const r = ok(runChild<LimitsReport>('limits', ['fds', PREFIX], { ulimit: '-n 128', timeoutMs: 60_000 }));
  expect(r.failures).toHaveLength(2);
  for (const f of r.failures) {
    expect(f).toMatchObject({ name: 'NetlinkError', code: 'EMFILE', errno: -24, syscall: 'fcntl' });
    expect(f.message).toMatch(/F_DUPFD_CLOEXEC/);
  }
  expect(r.after).toEqual({ created: true, links: ['lim1', 'lo'], current: true });
  expect(r.leftAtEnd).toEqual([]);
  expect(fs.readdirSync(NETNS_RUN_DIR).filter((n) => n.startsWith(PREFIX))).toEqual([]);
});
