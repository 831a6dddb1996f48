// bin/isolation.js decides from /proc whether this process is in a sandbox.
// Each branch against a /proc laid out in a temporary directory (namespace
// links are symlinks whose text is what the kernel's say, e.g. "net:[N]");
// the real kernel's answer is checked in test/integration/sandbox.test.ts.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

import { INIT_NET, isolation, parseMountInfo } from '../../bin/isolation';

const HOST_MOUNTS = [
  '22 27 0:21 / /proc rw,relatime - proc proc rw',
  '27 1 8:1 / / rw,relatime - ext4 /dev/sda1 rw',
  '40 27 0:30 / /run rw,nosuid - tmpfs tmpfs rw,mode=755',
];
/** The sandbox's view: the host's mounts (copied into our namespace) plus its tmpfs on /run/netns. */
const SANDBOX_MOUNTS = [...HOST_MOUNTS, '901 40 0:99 / /run/netns rw,relatime - tmpfs netplumb-netns rw,mode=755'];

interface Proc {
  pid: number | 'self';
  net?: string;
  ppid?: number;
  mounts?: string[];
}

let root: string;
beforeEach(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'netplumb-isolation-'));
});
afterEach(() => fs.rmSync(root, { recursive: true, force: true }));

function lay(procs: Proc[]): string {
  for (const p of procs) {
    const dir = path.join(root, String(p.pid));
    fs.mkdirSync(path.join(dir, 'ns'), { recursive: true });
    if (p.net) fs.symlinkSync(p.net, path.join(dir, 'ns', 'net'));
    fs.writeFileSync(path.join(dir, 'stat'), `${p.pid} (no de) S ${p.ppid ?? 1} 1 1\n`);
    if (p.mounts) fs.writeFileSync(path.join(dir, 'mountinfo'), `${p.mounts.join('\n')}\n`);
  }
  return root;
}

describe('isolation()', () => {
  it('is not isolated in the kernel\'s initial network namespace, whatever else holds', () => {
    const r = isolation(lay([{ pid: 'self', net: INIT_NET, mounts: SANDBOX_MOUNTS }, { pid: 1, mounts: HOST_MOUNTS }]));
    expect(r.isolated).toBe(false);
    expect(r.reason).toMatch(/initial network namespace/);
    expect(INIT_NET).toBe('net:[4026531833]');
  });

  it("is not isolated in PID 1's network namespace", () => {
    const r = isolation(lay([{ pid: 'self', net: 'net:[100]', mounts: SANDBOX_MOUNTS }, { pid: 1, net: 'net:[100]', mounts: HOST_MOUNTS }]));
    expect(r).toMatchObject({ isolated: false, net: 'net:[100]' });
    expect(r.reason).toMatch(/as PID 1/);
  });

  it("with PID 1's namespace unreadable, needs an ancestor in another one", () => {
    const r = isolation(lay([{ pid: 'self', net: 'net:[100]', ppid: 50, mounts: SANDBOX_MOUNTS }, { pid: 50, net: 'net:[100]', ppid: 1 }, { pid: 1, mounts: HOST_MOUNTS }]));
    expect(r.isolated).toBe(false);
    expect(r.reason).toMatch(/cannot read PID 1's network namespace .*no ancestor/);
  });

  it('is isolated: another namespace than the launcher\'s, and a private tmpfs on /run/netns', () => {
    const r = isolation(
      lay([
        { pid: 'self', net: 'net:[100]', ppid: 50, mounts: SANDBOX_MOUNTS },
        { pid: 50, net: 'net:[100]', ppid: 40 }, // the shell that exec'd us: same namespace
        { pid: 40, net: 'net:[7]', ppid: 1, mounts: HOST_MOUNTS }, // the launcher
        { pid: 1, mounts: HOST_MOUNTS },
      ]),
    );
    expect(r).toMatchObject({ isolated: true, net: 'net:[100]', hostNet: 'net:[7]', launcher: 40 });
  });

  it('is isolated with PID 1 readable and in another namespace', () => {
    const r = isolation(lay([{ pid: 'self', net: 'net:[100]', mounts: SANDBOX_MOUNTS }, { pid: 1, net: 'net:[7]', mounts: HOST_MOUNTS }]));
    expect(r).toMatchObject({ isolated: true, hostNet: 'net:[7]' });
  });

  it('is not isolated without a mount on /run/netns (a bare `unshare --net`)', () => {
    const r = isolation(lay([{ pid: 'self', net: 'net:[100]', mounts: HOST_MOUNTS }, { pid: 1, net: 'net:[7]', mounts: HOST_MOUNTS }]));
    expect(r.isolated).toBe(false);
    expect(r.reason).toMatch(/\/run\/netns is not a mount point/);
  });

  it('is not isolated when /run/netns is not a tmpfs', () => {
    const mine = [...HOST_MOUNTS, '901 40 8:1 /x /run/netns rw - ext4 /dev/sda1 rw'];
    const r = isolation(lay([{ pid: 'self', net: 'net:[100]', mounts: mine }, { pid: 1, net: 'net:[7]', mounts: HOST_MOUNTS }]));
    expect(r.reason).toMatch(/\/run\/netns is ext4/);
  });

  it("is not isolated when the tmpfs on /run/netns is the host's own (iproute2 mounts one there)", () => {
    const host = [...HOST_MOUNTS, '77 40 0:50 / /run/netns rw - tmpfs tmpfs rw'];
    const r = isolation(lay([{ pid: 'self', net: 'net:[100]', mounts: host }, { pid: 1, net: 'net:[7]', mounts: host }]));
    expect(r.isolated).toBe(false);
    expect(r.reason).toMatch(/host's mount/);
  });

  it('looks at the topmost mount on /run/netns', () => {
    const mine = [...SANDBOX_MOUNTS, '902 901 8:1 / /run/netns rw - ext4 /dev/sda1 rw'];
    const r = isolation(lay([{ pid: 'self', net: 'net:[100]', mounts: mine }, { pid: 1, net: 'net:[7]', mounts: HOST_MOUNTS }]));
    expect(r.reason).toMatch(/\/run\/netns is ext4/);
  });

  it('never reads the environment', () => {
    const saved = process.env.NETPLUMB_SANDBOX;
    process.env.NETPLUMB_SANDBOX = '1';
    try {
      const r = isolation(lay([{ pid: 'self', net: 'net:[100]', mounts: HOST_MOUNTS }, { pid: 1, net: 'net:[100]', mounts: HOST_MOUNTS }]));
      expect(r.isolated).toBe(false);
    } finally {
      if (saved === undefined) delete process.env.NETPLUMB_SANDBOX;
      else process.env.NETPLUMB_SANDBOX = saved;
    }
  });
});

describe('parseMountInfo', () => {
  it('decodes octal escapes in mount points and reads past optional fields', () => {
    const [m] = parseMountInfo('36 35 98:0 /mnt1 /mnt\\040two rw,noatime master:1 shared:7 - ext3 /dev/root rw,errors=continue\n');
    expect(m).toEqual({ id: 36, mountPoint: '/mnt two', fsType: 'ext3', source: '/dev/root' });
  });
});
