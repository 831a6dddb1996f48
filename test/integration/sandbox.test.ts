// Integration tier guard: proves the suite runs inside `netplumb sandbox`
// (private network + mount namespace) and NOT in the host's namespaces.
// If any of these fail, every other integration test may be touching the host.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

import { INIT_NET, isolation } from '../../bin/isolation';

/**
 * Inode of the kernel's initial network namespace (PROC_NET_INIT_INO,
 * 0xEFFFFFF9 in include/linux/proc_ns.h). Fixed for init_net on every boot.
 */
const INIT_NET_INO = 0xeffffff9;

interface MountInfo {
  id: number;
  parent: number;
  mountPoint: string;
  fsType: string;
  source: string;
}

function parseMountInfo(text: string): MountInfo[] {
  const out: MountInfo[] = [];
  for (const line of text.split('\n')) {
    if (!line) continue;
    const [left, right] = line.split(' - ');
    const f = left.split(' ');
    const r = right.split(' ');
    out.push({
      id: Number(f[0]),
      parent: Number(f[1]),
      mountPoint: f[4].replace(/\\(\d{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8))),
      fsType: r[0],
      source: r[1],
    });
  }
  return out;
}

function nsIno(pid: number | 'self', ns: 'net' | 'mnt'): number | undefined {
  try {
    return fs.statSync(`/proc/${pid}/ns/${ns}`).ino;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EACCES' || code === 'EPERM' || code === 'ENOENT') return undefined;
    throw err;
  }
}

function parentPid(pid: number): number {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  // "pid (comm) state ppid ..." - comm may contain spaces and ')'.
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
}

/**
 * The nearest ancestor process that is outside our network namespace (the
 * `netplumb sandbox` launcher, normally), or undefined if every readable
 * ancestor shares our network namespace.
 */
function nearestOutsideAncestor(): { pid: number; netIno: number; mntIno: number | undefined } | undefined {
  const self = nsIno('self', 'net');
  let pid = process.ppid;
  while (pid > 1) {
    const netIno = nsIno(pid, 'net');
    if (netIno !== undefined && netIno !== self) return { pid, netIno, mntIno: nsIno(pid, 'mnt') };
    pid = parentPid(pid);
  }
  return undefined;
}

describe('integration sandbox', () => {
  it('runs with NETPLUMB_SANDBOX=1 (started through `netplumb sandbox`)', () => {
    expect(process.env.NETPLUMB_SANDBOX).toBe('1');
  });

  it('is not in the initial (host) network namespace', () => {
    const self = nsIno('self', 'net');
    expect(self).toBeDefined();
    expect(self).not.toBe(INIT_NET_INO);
  });

  it("has a network namespace different from PID 1's and from the launcher's", () => {
    const self = nsIno('self', 'net')!;
    const pid1 = nsIno(1, 'net'); // undefined if /proc/1/ns is not readable (hardened hosts)
    const outside = nearestOutsideAncestor();
    // At least one reference must be available, otherwise this test would prove nothing.
    expect(pid1 !== undefined || outside !== undefined).toBe(true);
    if (pid1 !== undefined) expect(self).not.toBe(pid1);
    if (outside !== undefined) expect(self).not.toBe(outside.netIno);
  });

  it('has a private mount namespace', () => {
    const self = nsIno('self', 'mnt')!;
    const pid1 = nsIno(1, 'mnt');
    const outside = nearestOutsideAncestor();
    expect(pid1 !== undefined || outside?.mntIno !== undefined).toBe(true);
    if (pid1 !== undefined) expect(self).not.toBe(pid1);
    if (outside?.mntIno !== undefined) expect(self).not.toBe(outside.mntIno);
  });

  it('has /run/netns on a private tmpfs that the host does not see', () => {
    const mine = parseMountInfo(fs.readFileSync('/proc/self/mountinfo', 'utf8'));
    // The last entry for a mount point is the one on top (visible).
    const runNetns = mine.filter((m) => m.mountPoint === '/run/netns').at(-1);
    expect(runNetns).toBeDefined();
    expect(runNetns!.fsType).toBe('tmpfs');
    expect(runNetns!.source).toBe('netplumb-netns');

    // Mount IDs are unique system-wide: the host must not have this mount.
    const hostViews: string[] = [];
    for (const pid of [1, nearestOutsideAncestor()?.pid]) {
      if (pid === undefined) continue;
      try {
        hostViews.push(fs.readFileSync(`/proc/${pid}/mountinfo`, 'utf8'));
      } catch {
        /* unreadable: skip */
      }
    }
    expect(hostViews.length).toBeGreaterThan(0);
    for (const text of hostViews) {
      const ids = parseMountInfo(text).map((m) => m.id);
      expect(ids).not.toContain(runNetns!.id);
    }
  });

  it('sees only this namespace in /sys/class/net (sysfs remounted)', () => {
    // /proc/self/net/dev always reflects our network namespace; /sys/class/net
    // only does if sysfs was remounted inside it.
    const fromProc = fs
      .readFileSync('/proc/self/net/dev', 'utf8')
      .split('\n')
      .slice(2)
      .map((l) => l.split(':')[0].trim())
      .filter(Boolean)
      .sort();
    expect(fromProc).toContain('lo');
    expect(fs.readdirSync('/sys/class/net').sort()).toEqual(fromProc);
  });
});

// NETPLUMB_SANDBOX=1 on the host side fools neither `netplumb sandbox` nor
// requireSandbox(). "Host side": the launcher's network and mount namespaces,
// entered with nsenter. What runs there only reads: `netplumb sandbox` makes a
// namespace of its own before running readlink, requireSandbox() refuses
// before the child does anything, and `unshare --net` makes an empty one.
describe('NETPLUMB_SANDBOX=1 on the host side', () => {
  const REPO = path.resolve(__dirname, '..', '..');
  const where = isolation();
  const env = { ...process.env, NETPLUMB_SANDBOX: '1' };

  function hostSide(cmd: string[]) {
    const l = where.launcher;
    if (l === undefined) throw new Error(`no launcher process outside this network namespace: ${where.reason}`);
    // --root/--wd: the launcher's own root and directory (after entering a mount namespace the root
    // would be that namespace's, which is not the launcher's when it runs in a chroot, as in test:fresh).
    return spawnSync('nsenter', [`--net=/proc/${l}/ns/net`, `--mount=/proc/${l}/ns/mnt`, `--root=/proc/${l}/root`, `--wd=/proc/${l}/cwd`, '--', ...cmd], {
      env,
      encoding: 'utf8',
    });
  }

  it('is run from the host side (the check of the checks)', () => {
    expect(where.isolated).toBe(true);
    const r = hostSide(['readlink', '/proc/self/ns/net']);
    expect(r.stderr).toBe('');
    expect(r.stdout.trim()).toBe(where.hostNet);
    expect(r.stdout.trim()).not.toBe(where.net);
  });

  it('`netplumb sandbox` still makes a network namespace of its own', () => {
    const r = hostSide([process.execPath, path.join(REPO, 'bin', 'netplumb'), 'sandbox', '--', 'readlink', '/proc/self/ns/net']);
    expect(r.status).toBe(0);
    const inside = r.stdout.trim();
    expect(inside).toMatch(/^net:\[\d+\]$/);
    expect(inside).not.toBe(where.hostNet);
    expect(inside).not.toBe(INIT_NET);
  });

  it('requireSandbox() refuses, and says why; inSandbox() is false', () => {
    const helper = path.join(REPO, 'dist', 'lib', 'testing', 'index.js');
    const script = `const t = require(${JSON.stringify(helper)}); console.log('inSandbox', t.inSandbox()); t.requireSandbox(); console.log('NOT REFUSED');`;
    const r = hostSide([process.execPath, '-e', script]);
    expect(r.stdout).toContain('inSandbox false');
    expect(r.stdout).not.toContain('NOT REFUSED');
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/needs root inside `netplumb sandbox -- <command>`.*: in the (kernel's initial|host's) network namespace/);
  });

  it('a bare `unshare --net` is not a sandbox: /run/netns is not its own', () => {
    const script = `console.log(JSON.stringify(require(${JSON.stringify(path.join(REPO, 'bin', 'isolation.js'))}).isolation()))`;
    const r = hostSide(['unshare', '--net', '--', process.execPath, '-e', script]);
    expect(r.status).toBe(0);
    const verdict = JSON.parse(r.stdout) as { isolated: boolean; reason: string };
    expect(verdict.isolated).toBe(false);
    expect(verdict.reason).toMatch(/^\/run\/netns is (not a mount point of its own|the host's mount)/);
  });
});
