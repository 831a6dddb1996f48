// One rule for deleting twice, everywhere (README "Deleting twice"):
// - an object's delete (ns.delete, link.delete, pair.delete, bridge.delete,
//   net.delete, ep.disconnect, net.disconnect(id), mapping.unpublish) of
//   something already gone resolves, and never removes a newer object that
//   took the same name;
// - a delete by description (Address.delete, Route.delete, Neighbor.delete,
//   Rule.delete, Namespace.delete(name)) of nothing reports it, as ip does,
//   so a typo is not silently ignored.
import { Address, Bridge, Namespace, Neighbor, Network, Route, Rule, VethPair } from '../../lib';
import { oracle, uniq } from '../helpers/oracle';
import { NsTracker, rejectionOf } from '../helpers/ns-link';

const t = new NsTracker();
afterEach(() => t.cleanup());

describe('deleting twice', () => {
  it("an object's delete() twice resolves, and leaves alone a newer object with the same name", async () => {
    const ns = await t.create('dt');
    const N = ns.name as string;
    const pair = await VethPair.create('dta', { namespace: ns, peerName: 'dtb' });
    await pair.delete();
    await pair.delete();
    await pair.link.delete();
    await pair.peer.delete();
    // A newer pair took the names: deleting the old objects again does not touch it.
    await VethPair.create('dta', { namespace: ns, peerName: 'dtb' });
    await pair.delete();
    await pair.link.delete();
    expect(oracle.link(N, 'dta')).toBeDefined();
    expect(oracle.link(N, 'dtb')).toBeDefined();

    const br = await Bridge.create('dtbr', { namespace: ns });
    await br.delete();
    await br.delete();
    expect(oracle.link(N, 'dtbr')).toBeUndefined();

    const c = await t.create('dtc');
    const net = await Network.bridge({ name: 'dt0', subnet: '10.91.0.0/24', namespace: ns });
    const ep = await net.connect(c, { id: 'x', publish: ['8080:80'] });
    const [m] = ep.mappings;
    await m!.unpublish();
    await m!.unpublish();
    await ep.disconnect();
    await ep.disconnect();
    await net.disconnect('x');
    const ep2 = await net.connect(c, { id: 'y' });
    await net.disconnect('y');
    await net.disconnect('y');
    await ep2.disconnect();
    await net.delete();
    await net.delete();
    expect(oracle.link(N, 'dt0')).toBeUndefined();

    const other = await Namespace.create(uniq('dto'));
    await other.delete();
    await other.delete();
  });

  it('a delete by description of nothing says so, with the kernel\'s code, as ip does', async () => {
    const ns = await t.create('dd');
    const { link } = await VethPair.create('dda', { namespace: ns, peerName: 'ddb', up: true });
    await Address.add(link, '10.92.0.1/24');
    expect((await rejectionOf(Address.delete(link, '10.92.0.9/24'))).code).toBe('EADDRNOTAVAIL');
    expect((await rejectionOf(Route.delete({ namespace: ns, to: '10.93.0.0/24' }))).code).toBe('ESRCH');
    expect((await rejectionOf(Neighbor.delete({ dev: link, address: '10.92.0.7' }))).code).toBe('ENOENT');
    expect((await rejectionOf(Rule.delete({ namespace: ns, from: '10.94.0.0/24', table: 100 }))).code).toBe('ENOENT');
    expect((await rejectionOf(Namespace.delete(uniq('nope')))).code).toBe('ERR_NAMESPACE_NOT_FOUND');
  });
});
