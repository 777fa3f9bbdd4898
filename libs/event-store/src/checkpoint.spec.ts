/*
 * Reader positions: ordered as readers read ((transaction id, global position), never by position alone), and
 * written as the opaque cursor `<transaction_id>:<global_position>` that SSE ids and the CLI use.
 */
import { compareCheckpoints, formatCheckpoint, parseCheckpoint } from './checkpoint';

describe('checkpoints', () => {
  const at = (transactionId: bigint, globalPosition: bigint) => ({ transactionId, globalPosition });

  it('orders by transaction id first: a later transaction with a smaller position comes after', () => {
    expect(compareCheckpoints(at(10n, 500n), at(11n, 3n))).toBe(-1);
    expect(compareCheckpoints(at(11n, 3n), at(10n, 500n))).toBe(1);
    expect(compareCheckpoints(at(10n, 4n), at(10n, 5n))).toBe(-1);
    expect(compareCheckpoints(at(10n, 5n), at(10n, 5n))).toBe(0);
  });

  it('round-trips the cursor, beyond the range of a JS number', () => {
    const big = at(18_446_744_073_709_551_615n, 9_223_372_036_854_775_807n);
    expect(formatCheckpoint(big)).toBe('18446744073709551615:9223372036854775807');
    expect(parseCheckpoint(formatCheckpoint(big))).toEqual(big);
    expect(parseCheckpoint(' 752:3 ')).toEqual(at(752n, 3n));
  });

  it.each(['', '752', '752:', ':3', '752:3:1', '-1:3', '752:x', '1.5:3'])(
    'refuses the cursor %j',
    (cursor) => {
      expect(() => parseCheckpoint(cursor)).toThrow(RangeError);
    },
  );
});
