/*
 * The chain walk behind verifyHashChains, without a database: a clean chain, an unhashed prefix (counted, then the
 * chain starts from nothing), and each way a stream can break, reported once at its first bad event: an edited
 * event, a version gap, a hash missing after hashed events, an unhashed event stored after the chain began.
 */
import type { RecordedEvent } from './event-store';
import { eventHash } from './hash-chain';
import { HashChainWalker } from './hash-chain-walker';

let position = 0n;

/** A stream of `count` events, hashed from version `hashedFrom` on (earlier ones stored before the chain). */
function stream(streamId: string, count: number, hashedFrom = 1, transactionId = 10n) {
  const events: RecordedEvent[] = [];
  let previous: string | null = null;
  for (let v = 1; v <= count; v++) {
    position += 1n;
    const event: RecordedEvent = {
      globalPosition: position,
      transactionId,
      streamId,
      streamVersion: v,
      type: 'Deposited',
      schemaVersion: 1,
      data: { amount: String(v) },
      metadata: { commandId: `${streamId}-${v}`, occurredAt: '2024-01-01T00:00:00.000Z' },
      recordedAt: new Date(0),
      hash: null,
    };
    if (v >= hashedFrom) {
      previous = eventHash(previous, event);
      event.hash = previous;
    }
    events.push(event);
  }
  return events;
}

function walk(events: RecordedEvent[], chainStart: bigint | null = 100n) {
  const walker = new HashChainWalker(chainStart);
  for (const event of events) walker.add(event);
  return walker.end();
}

describe('HashChainWalker', () => {
  it('passes clean chains and counts unhashed prefixes per stream', () => {
    const report = walk([...stream('a', 3), ...stream('b', 5, 3), ...stream('c', 2, 3)]);
    expect(report).toEqual({
      streams: 3,
      events: 10,
      hashedEvents: 6,
      unhashedPrefixes: [
        { streamId: 'b', events: 2 },
        { streamId: 'c', events: 2 },
      ],
      mismatches: [],
    });
  });

  it('names the first edited event and judges nothing after it in its stream', () => {
    const events = stream('a', 4);
    events[1] = { ...events[1]!, data: { amount: '999' } };
    events[3] = { ...events[3]!, hash: 'f'.repeat(64) };
    const report = walk([...events, ...stream('b', 2)]);
    expect(report.mismatches).toEqual([
      {
        streamId: 'a',
        streamVersion: 2,
        globalPosition: events[1].globalPosition,
        reason: expect.stringMatching(/is not the recomputed/),
      },
    ]);
    expect(report.hashedEvents).toBe(1 + 2);
  });

  it('names a version gap', () => {
    const events = stream('a', 3);
    const report = walk([events[0]!, events[2]!]);
    expect(report.mismatches).toEqual([
      expect.objectContaining({ streamVersion: 3, reason: 'version 3 follows 1' }),
    ]);
  });

  it('names a hash missing after hashed events', () => {
    const events = stream('a', 3);
    events[2] = { ...events[2]!, hash: null };
    expect(walk(events).mismatches).toEqual([
      expect.objectContaining({
        streamVersion: 3,
        reason: 'no hash, after hashed events of its stream',
      }),
    ]);
  });

  it('counts an unhashed event as prefix only when stored before the chain began', () => {
    expect(walk(stream('a', 2, 3, 99n)).unhashedPrefixes).toEqual([{ streamId: 'a', events: 2 }]);
    expect(walk(stream('a', 2, 3, 99n), null).mismatches).toEqual([]);
    expect(walk(stream('a', 2, 3, 100n)).mismatches).toEqual([
      expect.objectContaining({
        streamVersion: 1,
        reason: expect.stringMatching(/stored by transaction 100, after the hash chain began/),
      }),
    ]);
  });
});
