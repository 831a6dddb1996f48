// Property/fuzz test of readComment (lib/nft.ts): it decodes a rule's
// NFTA_RULE_USERDATA, which any process with CAP_NET_ADMIN in the namespace
// can write (`nft add rule ... comment "..."`, or raw netlink), so its input
// is hostile. nft's user data is a list of TLVs — u8 type, u8 length, value —
// and the comment is type 0 (NFTNL_UDATA_RULE_COMMENT).
//
// Properties, on random and adversarial byte arrays (lengths past the end,
// zero-length TLVs, nested TLVs, invalid UTF-8, NULs, huge inputs):
// - it never throws, and returns a string or undefined;
// - it reads nothing outside its input: the same bytes as a view into a larger
//   buffer full of other bytes (before and after) give the same answer;
// - it agrees with an independent model of the format: the value of the first
//   type-0 TLV, decoded as UTF-8 (invalid sequences become U+FFFD) with
//   trailing NULs removed; undefined if a TLV before it runs past the end.
//
// PROP_SEED=N and PROP_CALLS=N replay or extend a run.
import { comment, readComment } from '../../lib/nft';
import { prng } from '../helpers/reliability';

const SEED = Number(process.env.PROP_SEED ?? 0x6e667463);
const CALLS = Number(process.env.PROP_CALLS ?? 10_000);

const utf8 = new TextDecoder('utf-8', { fatal: false });

/** The format, written independently of lib/nft.ts. */
function model(b: Uint8Array): string | undefined {
  let off = 0;
  while (b.length - off >= 2) {
    const type = b[off]!;
    const len = b[off + 1]!;
    const end = off + 2 + len;
    if (end > b.length) return undefined;
    if (type === 0) {
      let text = utf8.decode(b.subarray(off + 2, end));
      while (text.endsWith('\0')) text = text.slice(0, -1);
      return text;
    }
    off = end;
  }
  return undefined;
}

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

/**
 * readComment on `b` as an exact copy and as a view with other bytes around
 * it (as a Uint8Array and as a Buffer). Returns its answer, or throws an Error
 * that names the input (expect() is too slow for a hot loop).
 */
function check(b: Uint8Array, rnd: () => number): string | undefined {
  let got: string | undefined;
  try {
    got = readComment(Uint8Array.from(b));
  } catch (e) {
    throw new Error(`readComment threw ${String(e)} on ${hex(b)}`);
  }
  if (got !== undefined && typeof got !== 'string') throw new Error(`readComment returned ${typeof got} on ${hex(b)}`);
  const before = 1 + Math.floor(rnd() * 8);
  const after = 1 + Math.floor(rnd() * 300);
  const big = new Uint8Array(before + b.length + after);
  for (let i = 0; i < before; i++) big[i] = Math.floor(rnd() * 256);
  for (let i = before + b.length; i < big.length; i++) big[i] = Math.floor(rnd() * 256);
  big.set(b, before);
  const view = big.subarray(before, before + b.length);
  const inView = readComment(view);
  const inBuffer = readComment(Buffer.from(view.buffer, view.byteOffset, view.byteLength));
  if (inView !== got || inBuffer !== got)
    throw new Error(`readComment read outside its input: ${JSON.stringify([got, inView, inBuffer])} on ${hex(b)}`);
  const want = model(b);
  if (got !== want) throw new Error(`readComment gave ${JSON.stringify(got)}, the model ${JSON.stringify(want)}, on ${hex(b)}`);
  return got;
}

function tlv(type: number, value: ArrayLike<number>, len = value.length): number[] {
  return [type, len & 0xff, ...Array.from(value)];
}

/** Random user data built from TLV-shaped pieces, mostly plausible, often broken. */
function randomUserdata(rnd: () => number): Uint8Array {
  const out: number[] = [];
  const pieces = Math.floor(rnd() * 6);
  const byte = () => Math.floor(rnd() * 256);
  for (let p = 0; p < pieces; p++) {
    const r = rnd();
    const type = rnd() < 0.5 ? 0 : byte();
    const n = Math.floor(rnd() * (rnd() < 0.1 ? 255 : 24));
    const value = Array.from({ length: n }, () => {
      const k = rnd();
      if (k < 0.1) return 0; // NULs inside and at the end
      if (k < 0.3) return 0x80 + Math.floor(rnd() * 0x80); // stray continuation / lead bytes
      if (k < 0.35) return 0xff;
      return 0x20 + Math.floor(rnd() * 0x5f);
    });
    if (r < 0.6) out.push(...tlv(type, value));
    else if (r < 0.7) out.push(...tlv(type, value, n + 1 + Math.floor(rnd() * 200))); // length past the end
    else if (r < 0.8) out.push(...tlv(type, [], 0)); // zero length
    else if (r < 0.9) out.push(...tlv(type, [...tlv(0, value), ...tlv(1, [1, 2])])); // nested TLVs
    else out.push(...Array.from({ length: Math.floor(rnd() * 5) }, byte)); // raw bytes (odd tails)
  }
  return Uint8Array.from(out);
}

describe('readComment (nft rule user data) on hostile bytes', () => {
  test(`${CALLS} random TLV lists: never throws, reads only its input, matches the model (seed ${SEED})`, () => {
    const rnd = prng(SEED);
    let comments = 0;
    for (let i = 0; i < CALLS; i++) {
      const b = rnd() < 0.2 ? Uint8Array.from({ length: Math.floor(rnd() * 64) }, () => Math.floor(rnd() * 256)) : randomUserdata(rnd);
      if (check(b, rnd) !== undefined) comments++;
    }
    // Not a vacuous pass: many inputs do carry a comment.
    expect(comments).toBeGreaterThan(CALLS / 10);
  });

  test('adversarial inputs', () => {
    const rnd = prng(SEED + 1);
    const cases: Array<[number[], string | undefined]> = [
      [[], undefined],
      [[0], undefined], // a lone type byte
      [[0, 0], ''], // an empty comment
      [[0, 1], undefined], // length past the end by one
      [[0, 255, 0x61], undefined], // length far past the end
      [[1, 0, 0, 2, 0x61, 0x62], 'ab'], // a zero-length TLV first
      [[1, 3, 0, 1, 0x61, 0, 1, 0x62], 'b'], // a comment-looking TLV nested in another one is not the comment
      [[0, 4, 0x61, 0, 0, 0], 'a'], // trailing NULs removed
      [[0, 3, 0, 0x61, 0], '\0a'], // only trailing ones
      [[0, 2, 0xc3, 0x28], '\ufffd('], // invalid UTF-8
      [[0, 3, 0xed, 0xa0, 0x80], '\ufffd\ufffd\ufffd'], // an encoded surrogate
      [[0, 2, 0xe2, 0x82], '\ufffd'], // a truncated sequence
      [[0, 4, 0xf0, 0x9f, 0x98, 0x80], '😀'],
      [[0, 2, 0x61, 0x62, 0, 2, 0x63, 0x64], 'ab'], // the first comment wins
      [[1, 5, 0, 0], undefined], // a TLV before the comment runs past the end
      [[0, 1, 0x61, 9, 200], 'a'], // a broken TLV after the comment is not looked at
    ];
    for (const [bytes, want] of cases) expect(check(Uint8Array.from(bytes), rnd)).toBe(want);

    // Huge: a megabyte of zero-length TLVs, then the comment (aligned, and one
    // byte off so that the walk lands inside it); a megabyte of 0xff.
    const t0 = Date.now();
    const aligned = new Uint8Array((1 << 20) + 5);
    for (let i = 0; i < 1 << 20; i += 2) aligned[i] = 7;
    aligned.set([0, 3, 0x78, 0x79, 0x7a], 1 << 20);
    expect(check(aligned, rnd)).toBe('xyz');
    const off = aligned.slice(0, aligned.length - 1);
    off.set([0, 3, 0x78, 0x79, 0x7a], (1 << 20) - 1); // [.., 7, 0][3, 120, ...]: runs past the end
    expect(check(off, rnd)).toBe(undefined);
    expect(check(new Uint8Array(1 << 20).fill(0xff), rnd)).toBe(undefined);
    expect(Date.now() - t0).toBeLessThan(10_000);
  });

  test('what comment() writes, readComment() reads back (ASCII, up to 127 characters)', () => {
    for (const text of ['', 'a', 'netplumb:net0:masquerade', 'x'.repeat(127), 'with "quotes" and \\ and \n']) {
      expect(readComment(comment(text))).toBe(text);
    }
    expect(readComment(comment('y'.repeat(300)))).toBe('y'.repeat(127)); // cut to 127
  });

  // Found by this test: comment() cut the text at 127 UTF-16 units, and a text of
  // more than 255 UTF-8 bytes wrapped the one-byte TLV length. It now cuts at 127
  // bytes, at a character boundary.
  test('a long non-ASCII comment is cut at a whole character within 127 bytes; the length byte covers the value', () => {
    const ud = comment('€'.repeat(100)); // 300 bytes in UTF-8
    expect(ud[1]).toBe(ud.length - 2);
    expect(readComment(ud)).toBe('€'.repeat(42)); // 126 bytes: a 43rd would end at 129
    expect(readComment(comment(`${'a'.repeat(126)}é`))).toBe('a'.repeat(126)); // é would straddle byte 127
  });
});
