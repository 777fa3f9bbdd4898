/*
 * canonicalJson is RFC 8785 (JCS): the examples of the RFC itself (§3.2.2 and §3.2.3, the number table of
 * Appendix B), the refusals (NaN, Infinity, bigint, cycles), the JSON.stringify rules it keeps (toJSON, undefined
 * members), and the property the event hash chain relies on: a value and its JSON round trip have one text.
 */
import { canonicalJson } from './canonical-json';

/** A double from its IEEE 754 bit pattern, as RFC 8785 Appendix B lists them. */
function double(hex: string): number {
  const view = new DataView(new ArrayBuffer(8));
  view.setBigUint64(0, BigInt(`0x${hex}`));
  return view.getFloat64(0);
}

describe('canonicalJson (RFC 8785)', () => {
  it('matches the RFC 8785 §3.2.2 example: whitespace, literals, numbers and string escapes', () => {
    const input = `{
      "numbers": [333333333.33333329, 1E30, 4.50, 2e-3, 0.000000000000000000000000001],
      "string": "\\u20ac$\\u000F\\u000aA'\\u0042\\u0022\\u005c\\\\\\"\\/",
      "literals": [null, true, false]
    }`;
    expect(canonicalJson(JSON.parse(input))).toBe(
      '{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],' +
        '"string":"€$\\u000f\\nA\'B\\"\\\\\\\\\\"/"}',
    );
  });

  it('sorts members by UTF-16 code units (RFC 8785 §3.2.3), not by code points or UTF-8 bytes', () => {
    const input = `{
      "\\u20ac": "Euro Sign",
      "\\r": "Carriage Return",
      "\\ufb33": "Hebrew Letter Dalet With Dagesh",
      "1": "One",
      "\\ud83d\\ude00": "Emoji: Grinning Face",
      "\\u0080": "Control",
      "\\u00f6": "Latin Small Letter O With Diaeresis"
    }`;
    // Integer-like keys come first in a JS object; the canonical text orders every key by code units.
    expect(canonicalJson(JSON.parse(input))).toBe(
      '{"\\r":"Carriage Return","1":"One","\u0080":"Control",' +
        '"\u00f6":"Latin Small Letter O With Diaeresis","\u20ac":"Euro Sign",' +
        '"\ud83d\ude00":"Emoji: Grinning Face","\ufb33":"Hebrew Letter Dalet With Dagesh"}',
    );
  });

  it('serialises numbers as ECMAScript does (RFC 8785 Appendix B)', () => {
    const table: [string, string][] = [
      ['0000000000000000', '0'],
      ['8000000000000000', '0'],
      ['0000000000000001', '5e-324'],
      ['8000000000000001', '-5e-324'],
      ['7fefffffffffffff', '1.7976931348623157e+308'],
      ['ffefffffffffffff', '-1.7976931348623157e+308'],
      ['4340000000000000', '9007199254740992'],
      ['c340000000000000', '-9007199254740992'],
      ['4430000000000000', '295147905179352830000'],
      ['44b52d02c7e14af5', '9.999999999999997e+22'],
      ['44b52d02c7e14af6', '1e+23'],
      ['44b52d02c7e14af7', '1.0000000000000001e+23'],
      ['444b1ae4d6e2ef4e', '999999999999999700000'],
      ['444b1ae4d6e2ef4f', '999999999999999900000'],
      ['444b1ae4d6e2ef50', '1e+21'],
      ['3eb0c6f7a0b5ed8c', '9.999999999999997e-7'],
      ['3eb0c6f7a0b5ed8d', '0.000001'],
      ['41b3de4355555553', '333333333.3333332'],
      ['41b3de4355555554', '333333333.33333325'],
      ['41b3de4355555555', '333333333.3333333'],
      ['41b3de4355555556', '333333333.3333334'],
      ['41b3de4355555557', '333333333.33333343'],
      ['becbf647612f3696', '-0.0000033333333333333333'],
      ['43143ff3c1cb0959', '1424953923781206.2'],
    ];
    for (const [hex, expected] of table)
      expect([hex, canonicalJson(double(hex))]).toEqual([hex, expected]);
  });

  it('refuses what is not JSON: NaN, Infinity, bigint, cycles, a bare undefined', () => {
    expect(() => canonicalJson(double('7fffffffffffffff'))).toThrow(/not a JSON number/);
    expect(() => canonicalJson({ a: [double('7ff0000000000000')] })).toThrow(/not a JSON number/);
    expect(() => canonicalJson({ a: -Infinity })).toThrow(/not a JSON number/);
    expect(() => canonicalJson({ a: 1n })).toThrow(/bigint/);
    const cycle: Record<string, unknown> = {};
    cycle.self = { cycle };
    expect(() => canonicalJson(cycle)).toThrow(/cycle/);
    expect(() => canonicalJson(undefined)).toThrow(/no JSON text/);
  });

  it('keeps the JSON.stringify rules: toJSON, undefined members left out, undefined items as null', () => {
    expect(
      canonicalJson({
        b: undefined,
        a: [undefined, () => 1, new Date('2024-01-01T00:00:00Z')],
        c: { toJSON: (key: string) => `key:${key}` },
      }),
    ).toBe('{"a":[null,null,"2024-01-01T00:00:00.000Z"],"c":"key:c"}');
  });

  it('repeats a shared (non-cyclic) object', () => {
    const shared = { x: 1 };
    expect(canonicalJson({ b: shared, a: shared })).toBe('{"a":{"x":1},"b":{"x":1}}');
  });

  it('gives a value and its JSON round trip the same text (what the hash chain recomputes from)', () => {
    const values: unknown[] = [
      { amount: '10.25', nested: { z: [1, 2.5, -0, 1e21, 1e-7], a: null }, ok: true },
      { '10': 'ten', '9': 'nine', é: 'é', '😀': '\u2028', ctl: '\u0001\u001f"\\' },
      [{ b: 1, a: undefined }, 'x'],
    ];
    for (const value of values)
      expect(canonicalJson(JSON.parse(JSON.stringify(value)))).toBe(canonicalJson(value));
  });
});
