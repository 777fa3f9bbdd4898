import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import { type CommandInput, parseMaxClockSkewMs } from '@ledger/ledger-application';
import { LedgerDomainError } from '@ledger/margin-domain';
import { configuredTarget } from '../database-target';
import { openRuntime } from '../runtime';

export interface ApplyOptions {
  /** Wait for the risk saga (and everything it dispatched) after each command, before acknowledging it. */
  settle?: boolean;
}

/** One line of output per input line, written once the command's outcome is committed (or it was rejected). */
export type ApplyAck =
  | { commandId: string; ok: true; duplicate: boolean; events: number }
  | {
      commandId: string | null;
      ok: false;
      code: string;
      binanceCode: number | null;
      message: string;
      line?: number;
    };

/**
 * `ledger apply [FILE|-]`: executes commands read as JSON Lines (`{"command":"Deposit",…,"commandId":"c-17",
 * "at":"…"}`) through the ledger, one at a time and in order, and writes one JSON line per command to stdout after
 * it is committed (and, with --settle, after the risk saga has acted on it). `commandId` is required: it is the
 * idempotency key, so a feed that resends every command it has no acknowledgement for (after a crash, a lost
 * pipe) never applies one twice. A rejection is an answer (`"ok":false` with the stable code), not a failure.
 *
 * Exit status: 0 when every line was a command (accepted or rejected), 1 when a line was malformed (it is reported
 * and skipped), 2 on an infrastructure error (the database went away: nothing after the last ack is known).
 */
export async function applyCommand(
  file: string | undefined,
  options: ApplyOptions,
): Promise<number> {
  const input: Readable =
    file === undefined || file === '-' ? process.stdin : createReadStream(file);
  // The same bound on `at` as the HTTP API (LEDGER_MAX_CLOCK_SKEW_MS): apply writes to the same shared ledger.
  // A historical feed is in the past and never meets it; `off` lifts it for a feed on a future timeline.
  const maxClockSkewMs = parseMaxClockSkewMs(process.env.LEDGER_MAX_CLOCK_SKEW_MS);
  const runtime = await openRuntime(
    configuredTarget(),
    maxClockSkewMs === undefined ? {} : { maxClockSkewMs },
  );
  let malformed = 0;
  try {
    // After a crash the saga resumes from its checkpoint: let it finish what it had not acted on before new
    // commands arrive, so its actions are not decided against (and raced by) commands of a later time.
    await runtime.ledger.settle();
    const lines = createInterface({ input, crlfDelay: Infinity });
    let n = 0;
    for await (const line of lines) {
      n += 1;
      if (line.trim() === '') continue;
      const ack = await applyLine(runtime.ledger, line, n, options);
      if (!ack.ok && ack.code === 'INVALID_LINE') malformed += 1;
      await writeLine(`${JSON.stringify(ack)}\n`);
    }
    // Let the saga act on the last commands before the process ends (it would resume at the next start anyway).
    await runtime.ledger.settle();
    return malformed === 0 ? 0 : 1;
  } finally {
    await runtime.close();
  }
}

type LedgerLike = Awaited<ReturnType<typeof openRuntime>>['ledger'];

async function applyLine(
  ledger: LedgerLike,
  line: string,
  n: number,
  options: ApplyOptions,
): Promise<ApplyAck> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(line);
  } catch {
    return invalid(null, n, 'not JSON');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
    return invalid(null, n, 'not a JSON object');
  const { commandId, at, ...command } = parsed as Record<string, unknown>;
  if (typeof commandId !== 'string' || commandId.length === 0)
    return invalid(null, n, 'commandId (a non-empty string) is required');
  if (at !== undefined && typeof at !== 'string')
    return invalid(commandId, n, 'at must be an ISO time string');
  try {
    const outcome = await ledger.execute(command as CommandInput, {
      commandId,
      ...(at === undefined ? {} : { at }),
      actor: 'cli-apply',
    });
    const lastPosition = outcome.events.reduce(
      (max, e) => (BigInt(e.globalPosition) > max ? BigInt(e.globalPosition) : max),
      0n,
    );
    if (options.settle) await ledger.settle(lastPosition);
    return { commandId, ok: true, duplicate: outcome.duplicate, events: outcome.events.length };
  } catch (error) {
    if (!(error instanceof LedgerDomainError)) throw error;
    return {
      commandId,
      ok: false,
      code: error.code,
      binanceCode: error.binanceCode ?? null,
      message: error.message,
    };
  }
}

function invalid(commandId: string | null, line: number, message: string): ApplyAck {
  return { commandId, ok: false, code: 'INVALID_LINE', binanceCode: null, message, line };
}

/** Resolves once the line is handed to the OS (an ack is never written ahead of its command's commit). */
function writeLine(text: string): Promise<void> {
  return new Promise((resolve, reject) => {
    process.stdout.write(text, (error) => (error ? reject(error) : resolve()));
  });
}
