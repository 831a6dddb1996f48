// Containers connected to one network by several processes at once, as a
// runtime's parallel CNI ADDs do: test/integration/shared-network.test.ts.
//
// argv: HOSTNS BRIDGE SUBNET PREFIX COUNT PORTBASE
// Opens (adopts) the network BRIDGE/SUBNET in namespace HOSTNS, then COUNT
// times: creates namespace PREFIX<i> and connects it publishing PORTBASE+i:80.
// Every process uses the same ports, so for each i one process wins the port
// and the others get ERR_PORT_CONFLICT: those connect again without it.
// PORTBASE 'LO-HI' instead: each connect publishes 'LO-HI:80' (one free port
// of the range, chosen by netplumb) and reports the port it got.
// Prints "ready" once the network is open, then a JSON line
// { connected: [{ ns, ip, port? }], conflicts, errors }.
import { Namespace, Network } from '../../lib';

const [hostName, bridge, subnet, prefix] = process.argv.slice(2, 6) as [string, string, string, string];
const [count, portBase] = process.argv.slice(6, 8).map(Number) as [number, number];
const anyOf = /^\d+-\d+$/.test(process.argv[7] ?? '') ? (process.argv[7] as string) : undefined;

export interface ConnectRaceReport {
  connected: { ns: string; ip: string; port?: number }[];
  conflicts: number;
  errors: string[];
}

async function main(): Promise<void> {
  const host = await Namespace.open(hostName);
  const net = await Network.bridge({ name: bridge, subnet, namespace: host });
  process.stdout.write('ready\n');
  const report: ConnectRaceReport = { connected: [], conflicts: 0, errors: [] };
  await Promise.all(
    Array.from({ length: count }, async (_, i) => {
      const name = `${prefix}${i}`;
      try {
        const ns = await Namespace.create(name);
        const port = portBase + i;
        try {
          if (anyOf) {
            const ep = await net.connect(ns, { publish: [`${anyOf}:80`] });
            report.connected.push({ ns: name, ip: ep.ip, port: ep.ports[0]?.hostPort as number });
            await ns.close();
            return;
          }
          const ep = await net.connect(ns, { publish: [`${port}:80`] });
          report.connected.push({ ns: name, ip: ep.ip, port });
        } catch (e) {
          if ((e as { code?: string }).code !== 'ERR_PORT_CONFLICT') throw e;
          report.conflicts++;
          const ep = await net.connect(ns);
          report.connected.push({ ns: name, ip: ep.ip });
        }
        await ns.close();
      } catch (e) {
        report.errors.push(`${name}: ${(e as Error).message}`);
      }
    }),
  );
  process.stdout.write(`${JSON.stringify(report)}\n`);
  await host.close();
}

main().catch((e: unknown) => {
  process.stderr.write(`${(e as Error).stack ?? String(e)}\n`);
  process.exit(1);
});
