'use strict';
/**
 * Is this process in a private network namespace, with a /run/netns of its
 * own? Decided from the kernel's view, never from an environment variable:
 *
 *   1. Our network namespace is not the kernel's initial one (its inode is
 *      fixed: PROC_NET_INIT_INO, 0xEFFFFFF9, include/linux/proc_ns.h), and
 *      differs from PID 1's. netplumb sandbox makes no PID namespace, so the
 *      host's PID 1 stays visible inside, nested sandboxes included. Where
 *      PID 1's namespace link cannot be read (EACCES: a more privileged
 *      init), an ancestor process in another network namespace stands in
 *      for it (the `netplumb sandbox` launcher, which waits for its child).
 *   2. /run/netns is a tmpfs mounted in our mount namespace that the host
 *      does not have: the topmost mount on /run/netns in
 *      /proc/self/mountinfo is a tmpfs, and its mount ID (unique
 *      system-wide) is in neither PID 1's mountinfo nor that ancestor's.
 *      Named namespaces made here then never reach the host's /run/netns.
 *
 * Plain CommonJS: `netplumb sandbox` runs it before anything is compiled,
 * and netplumb/testing loads it from the package root.
 */
const fs = require('node:fs');

/**
 * @param {string} text /proc/PID/mountinfo
 * @returns {{ id: number, mountPoint: string, fsType: string, source: string }[]}
 */
function parseMountInfo(text) {
  const out = [];
  for (const line of text.split('\n')) {
    const sep = line.indexOf(' - ');
    if (sep < 0) continue;
    const f = line.slice(0, sep).split(' ');
    const r = line.slice(sep + 3).split(' ');
    out.push({
      id: Number(f[0]),
      // proc_pid_mountinfo(5): space, tab, newline and backslash are octal escapes.
      mountPoint: f[4].replace(/\\([0-7]{3})/g, (_, o) => String.fromCharCode(parseInt(o, 8))),
      fsType: r[0],
      source: r[1],
    });
  }
  return out;
}

/** @param {string} p */
function readlink(p) {
  try {
    return { value: fs.readlinkSync(p) };
  } catch (err) {
    return { error: `${p}: ${err && err.code ? err.code : err}` };
  }
}

/** @param {string} p */
function read(p) {
  try {
    return { value: fs.readFileSync(p, 'utf8') };
  } catch (err) {
    return { error: `${p}: ${err && err.code ? err.code : err}` };
  }
}

/** What readlink(/proc/PID/ns/net) says for the initial network namespace: "net:[4026531833]". */
const INIT_NET = `net:[${0xeffffff9}]`;

/** The parent of `pid`, from /proc/PID/stat ("pid (comm) state ppid ..."; comm may hold ") "). */
function parentPid(proc, pid) {
  const stat = read(`${proc}/${pid}/stat`);
  if (stat.error) return 0;
  return Number(stat.value.slice(stat.value.lastIndexOf(')') + 2).split(' ')[1]) || 0;
}

/** The nearest ancestor (below PID 1) whose network namespace we can read and is not ours. */
function outsideAncestor(proc, net) {
  for (let pid = parentPid(proc, 'self'), n = 0; pid > 1 && n < 64; pid = parentPid(proc, pid), n++) {
    const link = readlink(`${proc}/${pid}/ns/net`);
    if (link.value !== undefined && link.value !== net) return { pid, net: link.value };
  }
  return undefined;
}

/**
 * @param {string} [proc] where procfs is mounted
 * @returns {{ isolated: boolean, reason: string, net?: string, hostNet?: string, launcher?: number }}
 */
function isolation(proc = '/proc') {
  const self = readlink(`${proc}/self/ns/net`);
  if (self.error) return { isolated: false, reason: `cannot read our network namespace (${self.error})` };
  const net = self.value;
  if (net === INIT_NET) return { isolated: false, reason: `in the kernel's initial network namespace (${net})`, net };

  const pid1 = readlink(`${proc}/1/ns/net`);
  const outside = outsideAncestor(proc, net);
  let hostNet;
  if (pid1.value !== undefined) {
    if (pid1.value === net) return { isolated: false, reason: `in the host's network namespace (${net}, as PID 1)`, net, hostNet: net };
    hostNet = pid1.value;
  } else if (outside) hostNet = outside.net;
  else
    return {
      isolated: false,
      reason: `cannot read PID 1's network namespace (${pid1.error}) and no ancestor process is in another one`,
      net,
    };

  const mine = read(`${proc}/self/mountinfo`);
  if (mine.error) return { isolated: false, reason: `cannot read our mounts (${mine.error})`, net, hostNet };
  const hosts = [1, outside && outside.pid].filter(Boolean).map((pid) => read(`${proc}/${pid}/mountinfo`)).filter((r) => !r.error);
  if (hosts.length === 0) return { isolated: false, reason: "cannot read the host's mounts (PID 1's or the launcher's)", net, hostNet };
  // The last entry for a mount point is the one on top (the visible one).
  const runNetns = parseMountInfo(mine.value)
    .filter((m) => m.mountPoint === '/run/netns')
    .at(-1);
  if (!runNetns) return { isolated: false, reason: '/run/netns is not a mount point of its own', net, hostNet };
  if (runNetns.fsType !== 'tmpfs') return { isolated: false, reason: `/run/netns is ${runNetns.fsType}, not a private tmpfs`, net, hostNet };
  if (hosts.some((h) => parseMountInfo(h.value).some((m) => m.id === runNetns.id)))
    return { isolated: false, reason: "/run/netns is the host's mount, not one of our own", net, hostNet };
  return {
    isolated: true,
    reason: `network namespace ${net} (host: ${hostNet}), /run/netns a private tmpfs`,
    net,
    hostNet,
    launcher: outside && outside.pid,
  };
}

module.exports = { isolation, parseMountInfo, INIT_NET };
