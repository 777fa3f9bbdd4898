import type { HashChainMismatch, HashChainReport, RecordedEvent } from './event-store';
import { eventHash } from './hash-chain';

/**
 * Checks hash chains from events fed one stream after another, each in version order (verifyHashChains reads them
 * so). Per stream: an unhashed prefix (events stored before the chain) is counted, then every event's stored hash
 * must equal SHA-256(previous hash ‖ its canonical text) recomputed from what is stored. The first event that does
 * not is reported and the rest of that stream is not judged (everything after it chains from it).
 */
export class HashChainWalker {
  private readonly report: HashChainReport = {
    streams: 0,
    events: 0,
    hashedEvents: 0,
    unhashedPrefixes: [],
    mismatches: [],
  };
  private stream: StreamWalk | undefined;

  /**
   * @param chainStart the transaction that added the chain (table event_hash_chain): an event without a hash
   * stored by it or a later one was not written by the append. Null: not known, not checked.
   */
  constructor(private readonly chainStart: bigint | null) {}

  add(event: RecordedEvent): void {
    if (this.stream?.streamId !== event.streamId) this.startStream(event.streamId);
    const stream = this.stream as StreamWalk;
    this.report.events += 1;
    if (stream.failed) return;
    if (event.streamVersion !== stream.previousVersion + 1) {
      this.fail(stream, event, `version ${event.streamVersion} follows ${stream.previousVersion}`);
      return;
    }
    stream.previousVersion = event.streamVersion;
    const stored = event.hash ?? null;
    if (stored === null) {
      if (stream.hashed) {
        this.fail(stream, event, 'no hash, after hashed events of its stream');
      } else if (this.chainStart !== null && event.transactionId >= this.chainStart) {
        this.fail(
          stream,
          event,
          `no hash, stored by transaction ${event.transactionId}, after the hash chain began (transaction ${this.chainStart})`,
        );
      } else stream.unhashed += 1;
      return;
    }
    const expected = eventHash(stream.previousHash, event);
    if (expected !== stored) {
      this.fail(
        stream,
        event,
        `stored hash ${stored} is not the recomputed ${expected}: the event, or the hash, was changed after the append`,
      );
      return;
    }
    stream.hashed = true;
    stream.previousHash = stored;
    this.report.hashedEvents += 1;
  }

  /** A stream row that disagrees with its events (found apart from the walk). */
  addMismatch(mismatch: HashChainMismatch): void {
    this.report.mismatches.push(mismatch);
  }

  end(): HashChainReport {
    this.closeStream();
    this.report.mismatches.sort((a, b) =>
      a.streamId < b.streamId ? -1 : a.streamId > b.streamId ? 1 : 0,
    );
    return this.report;
  }

  private startStream(streamId: string): void {
    this.closeStream();
    this.report.streams += 1;
    this.stream = {
      streamId,
      previousVersion: 0,
      previousHash: null,
      hashed: false,
      unhashed: 0,
      failed: false,
    };
  }

  private closeStream(): void {
    const stream = this.stream;
    if (stream && stream.unhashed > 0)
      this.report.unhashedPrefixes.push({ streamId: stream.streamId, events: stream.unhashed });
    this.stream = undefined;
  }

  private fail(stream: StreamWalk, event: RecordedEvent, reason: string): void {
    stream.failed = true;
    this.report.mismatches.push({
      streamId: event.streamId,
      streamVersion: event.streamVersion,
      globalPosition: event.globalPosition,
      reason,
    });
  }
}

interface StreamWalk {
  streamId: string;
  previousVersion: number;
  previousHash: string | null;
  /** A hashed event was seen: from here on, every event has a hash. */
  hashed: boolean;
  unhashed: number;
  failed: boolean;
}
