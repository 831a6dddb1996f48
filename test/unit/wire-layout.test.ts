// The packed address/route hand-off is described once, in src/wire.hpp; the
// addon exports it (wireLayout) and lib/native.ts must pack exactly that.
// Changing either side alone fails here (and native() refuses to load).
import { layoutDifference, native, WIRE_LAYOUT } from '../../lib/native';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const bindings = require('bindings') as (name: string) => { wireLayout: unknown };

describe('packed hand-off layout (src/wire.hpp <-> lib/native.ts)', () => {
  const exported = bindings('netplumb').wireLayout;

  test('the addon exports it, frozen', () => {
    expect(typeof exported).toBe('object');
    expect(Object.isFrozen(exported)).toBe(true);
    expect(Object.isFrozen((exported as typeof WIRE_LAYOUT).route.slots)).toBe(true);
  });

  test("lib/native.ts's WIRE_LAYOUT is the addon's, field for field", () => {
    expect(layoutDifference(exported, WIRE_LAYOUT)).toBeNull();
    expect(exported).toEqual(WIRE_LAYOUT);
    expect(() => native()).not.toThrow();
  });

  test('the layout is self-consistent: words inside the 16, slots inside the buffer, bits distinct', () => {
    for (const kind of [WIRE_LAYOUT.addr, WIRE_LAYOUT.route]) {
      const words = Object.values(kind.words);
      expect(new Set(words).size).toBe(words.length);
      for (const w of words) expect(w >= 0 && w < WIRE_LAYOUT.words).toBe(true);
      const slots = Object.values(kind.slots);
      expect(new Set(slots).size).toBe(slots.length);
      for (const s of slots) expect(s >= WIRE_LAYOUT.words * 4 && s + WIRE_LAYOUT.slotSize <= WIRE_LAYOUT.size).toBe(true);
      for (const bits of [Object.values(kind.present), Object.values(kind.flags)]) {
        for (const b of bits) expect(b > 0 && (b & (b - 1)) === 0).toBe(true);
        expect(new Set(bits).size).toBe(bits.length);
      }
      expect(Object.values(kind.ops)).toEqual([...Object.values(kind.ops).keys()]);
    }
  });

  test('layoutDifference names the first field that differs', () => {
    const moved = { ...WIRE_LAYOUT, route: { ...WIRE_LAYOUT.route, slots: { ...WIRE_LAYOUT.route.slots, prefsrc: 116 } } };
    expect(layoutDifference(moved, WIRE_LAYOUT)).toBe('route.slots.prefsrc: 116 vs 112');
    const extra = { ...WIRE_LAYOUT, addr: { ...WIRE_LAYOUT.addr, present: { ...WIRE_LAYOUT.addr.present, proto: 32 } } };
    expect(layoutDifference(extra, WIRE_LAYOUT)).toBe('addr.present.proto: 32 vs undefined');
  });
});
