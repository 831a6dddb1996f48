// Podman (Debian's 4.x, CNI backend) as a test runtime for netplumb-cni.
//
// Podman keeps state in /var/lib, /run, /var/tmp and /dev/shm. None of it may
// reach the host, so every podman command runs in a mount namespace of the
// test's own, made once and kept alive by a holder process, entered with
// `nsenter --mount=/proc/HOLDER/ns/mnt --net=/run/netns/HOST`.
// In it: tmpfs on /var/lib, /run (with the sandbox's /run/netns and
// /run/netplumb moved back in, so the plugin shares netplumb's locks and
// podman's container namespaces land in the sandbox's tmpfs), /var/tmp and
// /dev/shm; sysfs for the host namespace; cgroup2 on /sys/fs/cgroup (crun
// reads the cgroup mode there even with cgroups disabled). That namespace is
// made from the sandbox's private one, never from the host's.
//
// Podman reads only the files this helper writes (CONTAINERS_CONF,
// CONTAINERS_STORAGE_CONF; see containersConf() and docs/CNI.md "Podman").
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

import { ROOT } from './child';

export const PODMAN_INSTALL = 'apt-get install podman crun busybox-static';
const BUSYBOX = ['/bin/busybox', '/usr/bin/busybox'];

export interface Exec {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** True if the ELF file has no program interpreter (a static executable that runs in an empty rootfs). */
function isStaticElf(file: string): boolean {
  const b = fs.readFileSync(file);
  if (b.readUInt32BE(0) !== 0x7f454c46 || b[4] !== 2 || b[5] !== 1) return false; // ELF64, little endian
  const phoff = Number(b.readBigUInt64LE(0x20));
  const phentsize = b.readUInt16LE(0x36);
  const phnum = b.readUInt16LE(0x38);
  for (let i = 0; i < phnum; i++) if (b.readUInt32LE(phoff + i * phentsize) === 3 /* PT_INTERP */) return false;
  return true;
}

/** A static busybox, or undefined. */
export function staticBusybox(): string | undefined {
  return BUSYBOX.find((f) => fs.existsSync(f) && isStaticElf(f));
}

/** Why podman cannot be used here (tools missing, a podman without the CNI backend), or undefined. */
export function podmanToolsMissing(): string | undefined {
  const which = (c: string): boolean => spawnSync('sh', ['-c', `command -v ${c}`]).status === 0;
  const missing = ['podman', 'crun', 'conmon', 'nsenter', 'unshare'].filter((c) => !which(c));
  if (!staticBusybox()) missing.push('a static busybox');
  if (missing.length) return `${missing.join(', ')} missing: ${PODMAN_INSTALL}`;
  const v = spawnSync('podman', ['--version'], { encoding: 'utf8' });
  const m = /version (\d+)\.(\d+)/.exec(v.stdout ?? '');
  if (!m) return `podman --version did not say its version: ${(v.stdout + v.stderr).trim()}`;
  if (Number(m[1]) >= 5) return `podman ${m[1]}.${m[2]} has no CNI backend (Podman 5 removed network_backend="cni"; only netavark is left)`;
  return undefined;
}

/** A limit of this process from /proc/self/limits: [soft, hard] ('unlimited' as Infinity). */
function ownLimit(name: string): [number, number] {
  const line = fs.readFileSync('/proc/self/limits', 'utf8').split('\n').find((l) => l.startsWith(name));
  const nums = (line ?? '').slice(name.length).trim().split(/\s+/).slice(0, 2).map((s) => (s === 'unlimited' ? Infinity : Number(s)));
  return [nums[0] ?? 1024, nums[1] ?? 1024];
}

/** containers.conf for the test: the CNI backend, no cgroups, state on the namespace's tmpfs mounts. */
export function containersConf(dir: string, defaultNetwork: string): string {
  // Without CAP_SYS_RESOURCE crun cannot raise a hard limit: podman's own
  // RLIMIT_NOFILE is more than ours, and it runs conmon (so crun) with
  // RLIMIT_NPROC 32768, below ours. A few thousand is plenty here.
  const lim = (n: string): string => {
    const h = Math.min(ownLimit(n)[1], 4096);
    return `${h}:${h}`;
  };
  const q = (s: string): string => JSON.stringify(s);
  return [
    '[containers]',
    'cgroups = "disabled"',
    `default_ulimits = [${q(`nofile=${lim('Max open files')}`)}, ${q(`nproc=${lim('Max processes')}`)}]`,
    // busybox ping without CAP_NET_RAW: ICMP datagram sockets.
    'default_sysctls = ["net.ipv4.ping_group_range=0 0"]',
    '',
    '[network]',
    'network_backend = "cni"',
    `cni_plugin_dirs = [${q(path.join(dir, 'cni-bin'))}, "/usr/lib/cni"]`,
    `network_config_dir = ${q(path.join(dir, 'net.d'))}`,
    `default_network = ${q(defaultNetwork)}`,
    '',
    '[engine]',
    'cgroup_manager = "cgroupfs"',
    'events_logger = "file"',
    'runtime = "crun"',
    'lock_type = "file"',
    'tmp_dir = "/run/libpod"',
    'image_copy_tmp_dir = "/var/tmp"',
    // No conmon_env_vars needed: podman hands CONTAINERS_CONF to conmon itself, so the
    // `podman container cleanup` conmon runs when a container exits reads this file too.
    '',
  ].join('\n');
}

export const STORAGE_CONF = ['[storage]', 'driver = "vfs"', 'graphroot = "/var/lib/containers/storage"', 'runroot = "/run/containers/storage"', ''].join('\n');

/** Run once in the new mount namespace (and the host network namespace), before any podman command. */
const MOUNTS = `
mount -t tmpfs -o mode=755 np-podman-varlib /var/lib
mkdir -p /var/lib/.keep/netns /var/lib/.keep/netplumb
mount --bind /run/netns /var/lib/.keep/netns
mount --bind /run/netplumb /var/lib/.keep/netplumb
mount -t tmpfs -o mode=755 np-podman-run /run
mkdir /run/netns /run/netplumb
mount --move /var/lib/.keep/netns /run/netns
mount --move /var/lib/.keep/netplumb /run/netplumb
rm -r /var/lib/.keep
mount -t tmpfs -o mode=1777 np-podman-vartmp /var/tmp
mount -t tmpfs -o mode=1777 np-podman-shm /dev/shm
mount -t sysfs sysfs /sys
mount -t cgroup2 cgroup2 /sys/fs/cgroup
`;

/**
 * The holder: does the mounts, says so in $NP_DIR/ready, then keeps the
 * namespace alive until its stdin (a pipe from this process) closes, so it
 * ends with this process too. Not `unshare --mount=FILE` (a persistent
 * namespace bound onto a file): on this machine (kernel 6.18, util-linux
 * 2.38.1) that bind failed with EINVAL in 35 of 60 tries in one sandbox and
 * in none of 60 in another; the cause was not established.
 */
const HOLDER = `( set -e; ${MOUNTS} ) 2>"$NP_DIR/setup.err" && echo ok >"$NP_DIR/ready" || { echo fail >"$NP_DIR/ready"; exit 1; }
exec cat >/dev/null`;

function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/** A podman with its own state, run in the network namespace `netns` (a name under /run/netns). */
export class PodmanHost {
  readonly dir: string;
  readonly netns: string;
  readonly env: NodeJS.ProcessEnv;
  /** The process keeping podman's mount namespace (its pid: /proc/PID/ns/mnt is entered). */
  #holder: ChildProcess | undefined;
  /** `mnt:[INODE]` of that namespace. */
  #mnt = '';

  /** Makes the mount namespace and writes the configuration. Throws with the failing command's own words. */
  constructor(netns: string, conflists: { name: string }[]) {
    if (process.env.NETPLUMB_SANDBOX !== '1') throw new Error('PodmanHost: only inside the sandbox (npm test)');
    // Guard: this process's mount namespace is the sandbox's (its private tmpfs on /run/netns), not the host's.
    const sandboxed = fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\n').some((l) => / \/run\/netns .* - tmpfs netplumb-netns /.test(l));
    if (!sandboxed) throw new Error('PodmanHost: no netplumb-netns tmpfs on /run/netns: this is not the sandbox mount namespace');
    this.netns = netns;
    this.dir = fs.mkdtempSync(path.join(os.tmpdir(), 'np-podman-'));
    for (const d of ['cni-bin', 'net.d']) fs.mkdirSync(path.join(this.dir, d));
    // The plugin's real entry point (the native client, falling back to the Node plugin), with
    // this node first in PATH (podman's environment may not have one).
    fs.writeFileSync(path.join(this.dir, 'cni-bin', 'netplumb-cni'), `#!/bin/sh\nPATH='${path.dirname(process.execPath)}':$PATH exec '${path.join(ROOT, 'bin', 'netplumb-cni')}' "$@"\n`, { mode: 0o755 });
    for (const c of conflists) fs.writeFileSync(path.join(this.dir, 'net.d', `${c.name}.conflist`), JSON.stringify(c, null, 2));
    fs.writeFileSync(path.join(this.dir, 'containers.conf'), containersConf(this.dir, conflists[0]?.name ?? 'podman'));
    fs.writeFileSync(path.join(this.dir, 'storage.conf'), STORAGE_CONF);
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      CONTAINERS_CONF: path.join(this.dir, 'containers.conf'),
      CONTAINERS_STORAGE_CONF: path.join(this.dir, 'storage.conf'),
      TMPDIR: '/var/tmp',
    };
    delete env.XDG_RUNTIME_DIR;
    delete env.XDG_CONFIG_HOME;
    this.env = env;

    // nsenter and unshare exec (no fork): the holder's pid is the child's.
    const child = spawn('nsenter', [`--net=/run/netns/${netns}`, '--', 'unshare', '--mount', '--propagation', 'private', '--', '/bin/sh', '-c', HOLDER], {
      env: { ...process.env, NP_DIR: this.dir },
      stdio: ['pipe', 'ignore', 'ignore'],
    });
    child.on('error', () => undefined);
    child.unref();
    (child.stdin as unknown as { unref?: () => void }).unref?.();
    this.#holder = child;
    const ready = path.join(this.dir, 'ready');
    let said = '';
    for (let i = 0; i < 1000 && !said.endsWith('\n'); i++) {
      sleepSync(20);
      said = fs.existsSync(ready) ? fs.readFileSync(ready, 'utf8') : '';
    }
    if (said !== 'ok\n') {
      const why = fs.existsSync(path.join(this.dir, 'setup.err')) ? fs.readFileSync(path.join(this.dir, 'setup.err'), 'utf8').trim() : 'no answer in 20 s';
      this.destroy();
      throw new Error(`setting up podman's mount namespace failed: ${why}`);
    }
    this.#mnt = fs.readlinkSync(`/proc/${child.pid}/ns/mnt`);
    if (this.#mnt === fs.readlinkSync('/proc/self/ns/mnt')) {
      this.destroy();
      throw new Error('PodmanHost: the holder is not in a mount namespace of its own');
    }
  }

/** argv that runs `args` in podman's mount namespace and the host network namespace. */
  argv(args: string[]): string[] {
    return ['nsenter', `--mount=/proc/${this.#holder?.pid}/ns/mnt`, `--net=/run/netns/${this.netns}`, '--', ...args];
  }

  runSync(args: string[], timeoutMs = 60_000): Exec {
    const [cmd, ...rest] = this.argv(args) as [string, ...string[]];
    const r = spawnSync(cmd, rest, { encoding: 'utf8', env: this.env, timeout: timeoutMs });
    return { status: r.status, stdout: r.stdout ?? '', stderr: (r.stderr ?? '') + (r.error ? String(r.error) : '') };
  }

  /** Asynchronous: the event loop stays free (servers in this process must answer). */
  run(args: string[], timeoutMs = 60_000): Promise<Exec> {
    const [cmd, ...rest] = this.argv(args) as [string, ...string[]];
    return new Promise((resolve, reject) => {
      const child = spawn(cmd, rest, { env: this.env, stdio: ['ignore', 'pipe', 'pipe'], timeout: timeoutMs, killSignal: 'SIGKILL' });
      let stdout = '';
      let stderr = '';
      child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
      child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
      child.on('error', reject);
      child.on('close', (status) => resolve({ status, stdout, stderr }));
    });
  }

  /** `podman ARGS`; its stdout, trimmed. Throws with podman's stderr if it fails. */
  async podman(...args: string[]): Promise<string> {
    const r = await this.run(['podman', ...args]);
    if (r.status !== 0) throw new Error(`podman ${args.join(' ')} exited ${r.status}: ${r.stderr.trim()}`);
    return r.stdout.trim();
  }

  /**
   * `podman import` of a rootfs made here: a static busybox with `applets` as
   * symlinks, plus `files` (path -> content). Offline: nothing is pulled.
   */
  importImage(name: string, applets: string[], files: Record<string, string>): void {
    const root = path.join(this.dir, 'rootfs');
    for (const d of ['bin', 'etc', 'tmp', 'proc', 'sys', 'dev']) fs.mkdirSync(path.join(root, d), { recursive: true });
    fs.copyFileSync(staticBusybox() as string, path.join(root, 'bin', 'busybox'));
    fs.chmodSync(path.join(root, 'bin', 'busybox'), 0o755);
    for (const a of applets) fs.symlinkSync('busybox', path.join(root, 'bin', a));
    for (const [f, text] of Object.entries(files)) {
      fs.mkdirSync(path.dirname(path.join(root, f)), { recursive: true });
      fs.writeFileSync(path.join(root, f), text);
    }
    const tar = path.join(this.dir, 'rootfs.tar');
    const t = spawnSync('tar', ['-C', root, '-cf', tar, '.'], { encoding: 'utf8' });
    if (t.status !== 0) throw new Error(`tar: ${t.stderr}`);
    const r = this.runSync(['podman', 'import', '--quiet', tar, name]);
    if (r.status !== 0) throw new Error(`podman import exited ${r.status}: ${r.stderr.trim()}`);
  }

  /**
   * Pids of the processes podman left running: those in its mount namespace
   * (conmon, a podman, a plugin) and their descendants (a container's
   * processes, in mount namespaces of their own). Not the holder.
   */
  processes(): number[] {
    if (!this.#mnt) return [];
    const parent = new Map<number, number>();
    const inNs: number[] = [];
    for (const p of fs.readdirSync('/proc')) {
      if (!/^\d+$/.test(p)) continue;
      try {
        const stat = fs.readFileSync(`/proc/${p}/stat`, 'utf8');
        parent.set(Number(p), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]));
        if (Number(p) !== this.#holder?.pid && fs.readlinkSync(`/proc/${p}/ns/mnt`) === this.#mnt) inNs.push(Number(p));
      } catch {
        // gone, or a kernel thread
      }
    }
    const ours = new Set(inNs);
    for (let grew = true; grew; ) {
      grew = false;
      for (const [pid, ppid] of parent) {
        if (!ours.has(pid) && ours.has(ppid)) {
          ours.add(pid);
          grew = true;
        }
      }
    }
    return [...ours].sort((a, b) => a - b);
  }

  /**
   * Removes every container (as a user would), then SIGKILLs whatever podman
   * left running (only processes it started for us), ends the holder (and
   * with it the namespace and its tmpfs mounts) and removes the files.
   */
  destroy(): void {
    if (this.#mnt) this.runSync(['podman', 'rm', '--all', '--force', '--time', '0'], 60_000);
    for (const pid of this.processes()) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // gone already
      }
    }
    const h = this.#holder;
    // Still the holder: in the namespace (or, before it was known, not reaped: the event loop has not run since the spawn).
    const holding = (pid: number): boolean => {
      try {
        return this.#mnt ? fs.readlinkSync(`/proc/${pid}/ns/mnt`) === this.#mnt : h?.exitCode === null;
      } catch {
        return false;
      }
    };
    if (h?.pid !== undefined && holding(h.pid)) {
      try {
        process.kill(h.pid, 'SIGKILL');
      } catch {
        // gone already
      }
    }
    this.#holder = undefined;
    this.#mnt = '';
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}
