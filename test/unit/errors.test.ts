// NetlinkError / NetplumbError shapes and lib/errors' kernel() and kernelDone() wrappers.
import * as util from 'node:util';

import { ErrorCodes, NetlinkError, NetplumbError } from '../../lib';
import { kernel, kernelDone, type NativeErrorShape } from '../../lib/errors';

const EEXIST: NativeErrorShape = {
  native: true,
  errno: 17,
  syscall: 'RTM_NEWLINK',
  extack: 'Interface name already in use (test)',
  attribute: 'IFLA_IFNAME',
};

/** A rejection that arrives later, from another tick, as the addon's do. */
function rejectLater(reason: unknown, ms = 2): Promise<never> {
  return new Promise((_, reject) => setTimeout(() => reject(reason), ms));
}

describe('NetlinkError from a native error shape', () => {
  const e = new NetlinkError(EEXIST, 'link veth0 in namespace web1');

  it('is an Error named NetlinkError, not a NetplumbError', () => {
    expect(e).toBeInstanceOf(Error);
    expect(e).toBeInstanceOf(NetlinkError);
    expect(e).not.toBeInstanceOf(NetplumbError);
    expect(e.name).toBe('NetlinkError');
    expect(Object.prototype.toString.call(e)).toBe('[object Error]');
  });

  it('carries code, negative errno, syscall, object, extack and attribute', () => {
    expect(e.code).toBe('EEXIST');
    expect(e.errno).toBe(-17);
    expect(e.errno).toBe(util.getSystemErrorMap().has(-17) ? -17 : NaN); // Node's own sign convention
    expect(e.syscall).toBe('RTM_NEWLINK');
    expect(e.object).toBe('link veth0 in namespace web1');
    expect(e.extack).toBe('Interface name already in use (test)');
    expect(e.attribute).toBe('IFLA_IFNAME');
    expect(e.dumpInterrupted).toBeUndefined();
    expect(e.missingAttribute).toBeUndefined();
    expect(e.detail).toBeUndefined();
  });

  it('has a message naming all of them', () => {
    for (const part of ['RTM_NEWLINK', 'link veth0 in namespace web1', 'EEXIST', 'Interface name already in use (test)', 'IFLA_IFNAME'])
      expect(e.message).toContain(part);
    // ...with the human errno text Node uses for EEXIST.
    expect(e.message).toContain(util.getSystemErrorMap().get(-17)![1]);
    expect(String(e)).toMatch(/^NetlinkError: RTM_NEWLINK /);
  });

  it('accepts a negative errno the same way', () => {
    const n = new NetlinkError({ ...EEXIST, errno: -17 }, 'x');
    expect(n.code).toBe('EEXIST');
    expect(n.errno).toBe(-17);
  });

  it('omits absent optional fields and carries missingAttribute / detail when given', () => {
    const bare = new NetlinkError({ native: true, errno: 19, syscall: 'RTM_GETLINK' }, 'link nope0 in namespace x');
    expect(bare.code).toBe('ENODEV');
    expect(bare.errno).toBe(-19);
    expect(bare.extack).toBeUndefined();
    expect(bare.attribute).toBeUndefined();
    expect(bare.message).not.toContain('kernel:');
    const full = new NetlinkError(
      { native: true, errno: 22, syscall: 'RTM_NEWROUTE', missingAttribute: 'RTA_DST', detail: 'gateway family disagrees with destination' },
      'route 10.0.0.0/8',
    );
    expect(full.code).toBe('EINVAL');
    expect(full.missingAttribute).toBe('RTA_DST');
    expect(full.detail).toBe('gateway family disagrees with destination');
    expect(full.message).toContain('RTA_DST');
    expect(full.message).toContain('gateway family disagrees with destination');
  });

  it('maps dumpInterrupted to ERR_DUMP_INTERRUPTED', () => {
    const d = new NetlinkError(
      { native: true, errno: 4, syscall: 'RTM_GETLINK', dumpInterrupted: true, detail: 'dump interrupted by concurrent changes 4 times in a row' },
      'links in namespace x',
    );
    expect(d.code).toBe('ERR_DUMP_INTERRUPTED');
    expect(d.dumpInterrupted).toBe(true);
    expect(d.errno).toBe(-4);
    expect(d.syscall).toBe('RTM_GETLINK');
    expect(d.message).toContain('ERR_DUMP_INTERRUPTED');
    expect(d.message).toContain('links in namespace x');
  });

  it('maps malformedReply to ERR_MALFORMED_REPLY, naming the attribute', () => {
    const d = new NetlinkError(
      {
        native: true,
        errno: 74,
        syscall: 'RTM_GETROUTE',
        malformedReply: true,
        attribute: 'RTA_OIF',
        detail: 'reply message 2 (type 24) malformed: attribute RTA_OIF (type 4) has length 2, want 4',
      },
      'routes in namespace x',
    );
    expect(d.code).toBe('ERR_MALFORMED_REPLY');
    expect(d.malformedReply).toBe(true);
    expect(d.errno).toBe(-74);
    expect(d.attribute).toBe('RTA_OIF');
    expect(d.message).toContain('attribute: RTA_OIF');
    expect(d.message).toContain('reply message 2 (type 24) malformed');
  });

  it('handles an errno Node has no name for: a stable E<number> code, a readable message', () => {
    const u = new NetlinkError({ native: true, errno: 9999, syscall: 'RTM_NEWLINK' }, 'link x');
    expect(u.errno).toBe(-9999);
    expect(u.code).toBe('E9999');
    expect(u.code).toMatch(/^E[A-Z0-9]+$/);
    expect(u.message).toContain('errno 9999');
    expect(u.message).toContain('RTM_NEWLINK link x');
  });

  it('handles a real Linux errno that is missing from libuv\'s table (ENOTSUPP, 524, leaks from drivers)', () => {
    const u = new NetlinkError({ native: true, errno: 524, syscall: 'RTM_NEWLINK' }, 'link x');
    expect(u.errno).toBe(-524);
    expect(u.code).toMatch(/^E[A-Z0-9]+$/);
  });
});

describe('NetplumbError', () => {
  it('has a literal name, a code, and optional value/argument', () => {
    const e = new NetplumbError(ErrorCodes.INVALID_IFNAME, 'bad name', { value: 'a/b', argument: 'name' });
    expect(e).toBeInstanceOf(Error);
    expect(e.name).toBe('NetplumbError');
    expect(e.code).toBe('ERR_INVALID_IFNAME');
    expect(e.value).toBe('a/b');
    expect(e.argument).toBe('name');
    const cause = new Error('inner');
    expect(new NetplumbError('ERR_X', 'm', { cause }).cause).toBe(cause);
  });
});

describe('kernel()', () => {
  it('resolves with the value when the native call succeeds', async () => {
    await expect(kernel(Promise.resolve(42), 'x')).resolves.toBe(42);
  });

  it('rethrows a non-native error unchanged (same object)', async () => {
    const plain = new TypeError('native spec: mtu must be a number');
    const caught = await kernel(rejectLater(plain), 'x').catch((e: unknown) => e);
    expect(caught).toBe(plain);
    const odd = { errno: 17, syscall: 'RTM_NEWLINK' }; // looks native but lacks native: true
    expect(await kernel(rejectLater(odd), 'x').catch((e: unknown) => e)).toBe(odd);
    expect(await kernel(rejectLater('a string'), 'x').catch((e: unknown) => e)).toBe('a string');
    expect(await kernel(rejectLater(undefined), 'x').catch((e: unknown) => e)).toBeUndefined();
  });

  it('turns a native error into a NetlinkError about the object (string or lazy)', async () => {
    const a = await kernel(rejectLater(EEXIST), 'bridge br0 in namespace n1').catch((e: unknown) => e);
    expect(a).toBeInstanceOf(NetlinkError);
    expect(a).toMatchObject({ code: 'EEXIST', errno: -17, syscall: 'RTM_NEWLINK', object: 'bridge br0 in namespace n1', attribute: 'IFLA_IFNAME' });
    let evaluated = 0;
    const lazy = () => {
      evaluated++;
      return 'lazy object';
    };
    await expect(kernel(Promise.resolve(1), lazy)).resolves.toBe(1);
    expect(evaluated).toBe(0); // not computed on success
    const b = await kernel(rejectLater(EEXIST), lazy).catch((e: unknown) => e);
    expect((b as NetlinkError).object).toBe('lazy object');
    expect(evaluated).toBe(1);
  });

  it("puts the caller's own function in the NetlinkError's (async) stack", async () => {
    async function userCodeCreatesTheBridgeXyz(): Promise<void> {
      await kernel(rejectLater(EEXIST, 5), 'bridge br0');
    }
    async function outerUserFunctionQrs(): Promise<void> {
      await userCodeCreatesTheBridgeXyz();
    }
    const e = await outerUserFunctionQrs().catch((x: unknown) => x);
    expect(e).toBeInstanceOf(NetlinkError);
    const stack = (e as Error).stack ?? '';
    expect(stack).toMatch(/^NetlinkError: RTM_NEWLINK bridge br0/);
    expect(stack).toContain('userCodeCreatesTheBridgeXyz');
    expect(stack).toContain('outerUserFunctionQrs');
    expect(stack).toContain('errors.ts'); // created inside kernel(), not by the rejecting timer
  });
});

describe('kernelDone()', () => {
  it('resolves to undefined, and leaves anything but a native error as it is', async () => {
    const x = (): string => 'x';
    await expect(kernelDone(Promise.resolve(42), x, 0, 0)).resolves.toBeUndefined();
    const plain = new Error('plain');
    expect(await kernelDone(rejectLater(plain), x, 0, 0).catch((e: unknown) => e)).toBe(plain);
    expect(await kernelDone(rejectLater('a string'), x, 0, 0).catch((e: unknown) => e)).toBe('a string');
  });

  it("types a native error lazily, with the caller's own functions in its (async) stack", async () => {
    let evaluated = 0;
    const lazy = (to: string, ns: string): string => {
      evaluated++;
      return `route ${to} dev v0 in namespace ${ns}`;
    };
    await kernelDone(Promise.resolve(1), lazy, '10.1.0.0/16', 'n1');
    expect(evaluated).toBe(0); // not computed on success
    async function userCodeAddsTheRouteXyz(): Promise<void> {
      await kernelDone(rejectLater({ ...EEXIST, syscall: 'RTM_NEWROUTE' }, 5), lazy, '10.1.0.0/16', 'n1');
    }
    async function outerUserFunctionTuv(): Promise<void> {
      await userCodeAddsTheRouteXyz();
    }
    const e = await outerUserFunctionTuv().catch((x: unknown) => x);
    expect(e).toBeInstanceOf(NetlinkError);
    expect(e).toMatchObject({ code: 'EEXIST', syscall: 'RTM_NEWROUTE', object: 'route 10.1.0.0/16 dev v0 in namespace n1' });
    expect(evaluated).toBe(1);
    const stack = (e as Error).stack ?? '';
    expect(stack).toContain('userCodeAddsTheRouteXyz');
    expect(stack).toContain('outerUserFunctionTuv');
    expect(stack).toContain('errors.ts'); // created inside kernelDone(), not by the rejecting timer
  });
});
