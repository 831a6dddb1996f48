/**
 * Network a container you only know by its PID: the
 * `docker inspect -f '{{.State.Pid}}'` recipe. A "runtime" starts a process
 * in a namespace of its own and forgets the namespace's name: the namespace
 * now lives only as long as the process, and `ip netns list` cannot see it.
 * We find it by PID, name it (`ip netns attach`), give it a chosen namespace
 * id in the host (`ip netns set`), and wire a veth into it by PID
 * (`ip link set DEV netns PID name eth0`).
 *
 * The same by hand:
 *
 *   ip netns add host
 *   ip netns add rt; ip netns exec rt sleep 60 & ip netns del rt   # the "runtime": an anonymous namespace
 *   pid=$(docker inspect -f '{{.State.Pid}}' c1)                    # here: the sleep's pid
 *   readlink /proc/$pid/ns/net; ip netns identify $pid              # net:[...], no name
 *   ip netns attach c1 $pid                                         # now `ip netns list` shows c1
 *   ip -n host netns set c1 7                                       # host knows c1 as nsid 7
 *   ip -n host link add veth-c1 type veth peer name tmp0
 *   ip -n host link set tmp0 netns $pid name eth0                   # by PID, renamed in the same request
 *   ip -n host link show veth-c1                                    # ... link-netnsid 7
 *   ip -n host netns list-id
 *
 * Run it with `node bin/netplumb sandbox -- node dist/examples/attach-and-nsid.js`.
 */
import { execFileSync } from 'node:child_process';
import { once } from 'node:events';
import * as fs from 'node:fs';
import { Namespace, VethPair } from '../lib';
import { checks, ping, run, step } from './support/run';

function ip(...args: string[]): string {
  return execFileSync('ip', args, { encoding: 'utf8' }).trim();
}

async function main(): Promise<number> {
  const { check, report } = checks();

  await using host = await Namespace.create('host');
  await host.loopback.up();
  step('ip netns add host');

  // The "runtime": a process in a namespace that then loses its name.
  const rt = await Namespace.create('rt');
  const sleeper = rt.spawn('sleep', ['60'], { stdio: 'ignore' });
  try {
    await once(sleeper, 'spawn');
  } finally {
    await rt.delete(); // the name goes; the namespace stays, held by the process
  }
  const pid = sleeper.pid as number;
  step(`runtime: sleep 60 started in namespace "rt", then "rt" deleted -> pid ${pid}; ip netns list: ${JSON.stringify(await Namespace.list())}`);
  check(!(await Namespace.list()).includes('rt'), '"rt" is still listed');

  let c1: Namespace | undefined;
  try {
    // Find the namespace by PID.
    await using anon = await Namespace.fromPid(pid);
    const link = fs.readlinkSync(`/proc/${pid}/ns/net`);
    const identify = ip('netns', 'identify', String(pid));
    step(`Namespace.fromPid(${pid}) -> net:[${anon.inode}] (readlink: ${link}), name ${anon.name}, ip netns identify: "${identify}"`);
    check(link === `net:[${anon.inode}]`, `fromPid opened net:[${anon.inode}], the process is in ${link}`);
    check(identify === '', `ip netns identify already names it: ${identify}`);
    const links = await anon.links();
    console.log(`    it has: ${links.map((l) => `${l.name} ${l.isUp ? 'UP' : 'DOWN'}`).join(', ')} (a --net=none container)`);

    // Name it: `ip netns attach c1 PID`.
    c1 = await Namespace.attach('c1', pid);
    const identified = ip('netns', 'identify', String(pid));
    step(`ip netns attach c1 ${pid} -> ip netns list: ${JSON.stringify(await Namespace.list())}; ip netns identify ${pid}: "${identified}"`);
    check(c1.equals(anon) && identified === 'c1', 'c1 is not the namespace of the process');
    await c1.loopback.up();

    // A namespace id chosen by us, before the kernel picks one.
    const before = await host.idOf(c1);
    await host.setId(c1, 7);
    const after = await host.idOf(c1);
    step(`ip -n host netns set c1 7 -> host's id for c1: ${before ?? 'none'} before, ${after} after`);
    check(before === undefined && after === 7, `host.idOf(c1): ${before} -> ${after}`);

    // Wire it, by PID: create in host, move into the process's namespace renamed to eth0.
    const pair = await VethPair.create('veth-c1', { namespace: host, peerName: 'tmp0' });
    step('ip -n host link add veth-c1 type veth peer name tmp0');
    const eth0 = await pair.peer.moveTo(pid, { name: 'eth0' });
    await using eth0ns = eth0.namespace; // opened from the pid by moveTo: ours to close
    step(`ip -n host link set tmp0 netns ${pid} name eth0 -> #${eth0.index} ${eth0.name} in net:[${eth0ns.inode}]`);
    check(eth0ns.equals(c1) && eth0.name === 'eth0', 'eth0 is not in the process namespace');
    await Promise.all([pair.link.addAddress('10.90.0.1/24'), eth0.addAddress('10.90.0.2/24')]);
    await Promise.all([pair.link.up(), eth0.up()]);
    step('10.90.0.1/24 on veth-c1, 10.90.0.2/24 on eth0, both up');

    // Namespace ids, as links report them.
    await pair.link.refresh();
    const oracleLink = JSON.parse(ip('-n', 'host', '-j', 'link', 'show', 'veth-c1'))[0];
    step(`host: veth-c1 peer is #${pair.link.peerIndex} in nsid ${pair.link.peerNetnsId} (ip link: link-netnsid ${oracleLink.link_netnsid})`);
    check(pair.link.peerNetnsId === 7 && oracleLink.link_netnsid === 7, 'veth-c1 does not point at nsid 7');
    const hostIdInC1 = await c1.idOf(host);
    step(`c1: eth0 peer is #${eth0.peerIndex} in nsid ${eth0.peerNetnsId}; c1's id for host: ${hostIdInC1}`);
    check(eth0.peerNetnsId !== undefined && eth0.peerNetnsId === hostIdInC1 && eth0.peerIndex === pair.link.index, "eth0's peer is not host's veth-c1");
    const peer = await pair.link.peer([c1]);
    step(`Link.peer([c1]) from host's veth-c1 -> ${peer?.name} #${peer?.index} in ${peer?.namespace}`);
    check(peer?.name === 'eth0' && peer.index === eth0.index, `Link.peer found ${peer?.name}`);
    console.log('    ip -n host netns list-id: ' + ip('-n', 'host', 'netns', 'list-id').replace(/\n/g, '; '));

    // Real traffic, both ways.
    const out = ping('c1', '10.90.0.1');
    const back = ping('host', '10.90.0.2');
    step(`ip netns exec c1 ping 10.90.0.1 -> ${out ? 'ok' : 'FAILED'}; ip netns exec host ping 10.90.0.2 -> ${back ? 'ok' : 'FAILED'}`);
    check(out && back, 'no traffic between host and the container');
  } finally {
    // The container stops; then the name we gave it goes (attach opened it: we must delete it ourselves).
    sleeper.kill('SIGTERM');
    if (sleeper.exitCode === null && sleeper.signalCode === null) await once(sleeper, 'exit');
    await c1?.delete();
    step(`container stopped, ip netns del c1 -> ip netns list: ${JSON.stringify(await Namespace.list())}`);
  }

  // Leaving the block deletes host (await using), and veth-c1 with it.
  return report();
}

run(main);
