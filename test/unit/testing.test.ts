// netplumb/testing without root: names, and the sandbox checks agreeing with
// the kernel's view (the root parts: test/integration/testing.test.ts).
import { inSandbox, isolation, requireSandbox, uniqueName } from '../../lib/testing';

describe('netplumb/testing (no root needed)', () => {
  it('uniqueName gives distinct names that fit an interface (15 bytes)', () => {
    const names = Array.from({ length: 200 }, () => uniqueName('averylongprefix'));
    expect(new Set(names).size).toBe(200);
    for (const n of names) expect(n.length).toBeLessThanOrEqual(15);
    for (const n of Array.from({ length: 50 }, () => uniqueName('ns'))) {
      expect(Buffer.byteLength(n)).toBeLessThanOrEqual(15);
      expect(n.startsWith('ns')).toBe(true);
    }
    const short = Array.from({ length: 100 }, () => uniqueName('t'));
    expect(new Set(short).size).toBe(100);
  });

  it('inSandbox() and requireSandbox() follow the kernel check, and say why they refuse', () => {
    const where = isolation();
    const root = process.getuid?.() === 0;
    expect(inSandbox()).toBe(root && where.isolated);
    if (root && where.isolated) expect(() => requireSandbox()).not.toThrow();
    else if (!root) expect(() => requireSandbox()).toThrow(/needs root inside `netplumb sandbox -- <command>`.*: not root/);
    else expect(() => requireSandbox()).toThrow(`: ${where.reason}`);
  });
});
