import { randomUUID } from 'node:crypto';
import { HttpException, HttpStatus, Inject, Injectable, Logger } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import {
  type CommandInput,
  ExecuteLedgerCommand,
  LEDGER,
  type Ledger,
  LedgerClosingError,
  normalizeTime,
} from '@ledger/ledger-application';
import { LedgerDomainError } from '@ledger/margin-domain';
import type { ApiRequest } from '../auth/api-key.guard';
import { ApiMetrics } from '../metrics/api-metrics';
import { PROBLEM_CONTENT_TYPE, toProblemDetails } from '../problem-details.filter';
import {
  IDEMPOTENCY_KEY_PATTERN,
  IdempotencyStore,
  type StoredResponse,
  commandIdFor,
  requestHashOf,
} from './idempotency.store';

export const JSON_CONTENT_TYPE = 'application/json; charset=utf-8';

/** One command request: the ledger command name, the body's fields, and where the path puts the account. */
export interface CommandRequest {
  command: string;
  /** The account of the path (`/accounts/:accountId/...`), merged into the command; undefined for market commands. */
  accountId?: string;
  /** Fields the path supplies (e.g. the order id of `/orders/:orderId/cancel`). */
  pathFields?: Record<string, string>;
  /** The account whose resulting state the answer shows, when the path does not name it (OpenAccount). */
  resultAccountId?: string;
  /** 201 for creations, else 200. */
  successStatus?: number;
}

/**
 * The command path of every POST: Idempotency-Key → command id (scoped by API key), single flight per key in this
 * process, the first response kept in `idempotency_responses` (rejections too) and replayed byte for byte, the same
 * key with another request refused (422). The command itself goes through the CommandBus to the Ledger; the answer
 * holds the command id, the events appended and the account's resulting margin state.
 */
@Injectable()
export class CommandRunner {
  private readonly logger = new Logger('Commands');
  private readonly inFlight = new Map<
    string,
    { requestHash: string; response: Promise<StoredResponse> }
  >();

  constructor(
    private readonly commandBus: CommandBus,
    private readonly idempotency: IdempotencyStore,
    private readonly metrics: ApiMetrics,
    @Inject(LEDGER) private readonly ledger: Ledger,
  ) {}

  async run(request: ApiRequest, spec: CommandRequest): Promise<StoredResponse> {
    const principal = request.principal;
    if (!principal) throw new Error('CommandRunner.run needs an authenticated request');
    const path = request.url.split('?')[0] ?? request.url;
    const header = request.headers['idempotency-key'];
    if (header === undefined) return this.execute(request, spec, `api:${randomUUID()}`, path);
    if (typeof header !== 'string' || !IDEMPOTENCY_KEY_PATTERN.test(header)) {
      throw new HttpException(
        {
          code: 'INVALID_IDEMPOTENCY_KEY',
          message: 'Idempotency-Key must be 1–255 printable ASCII characters',
        },
        HttpStatus.BAD_REQUEST,
      );
    }
    const requestHash = requestHashOf(request.method, path, request.body);
    const scope = `${principal.keyId}\u0000${header}`;
    const running = this.inFlight.get(scope);
    if (running) {
      if (running.requestHash !== requestHash) throw keyReused();
      return running.response;
    }
    const response = this.runOnce(request, spec, path, principal.keyId, header, requestHash);
    this.inFlight.set(scope, { requestHash, response });
    try {
      return await response;
    } finally {
      this.inFlight.delete(scope);
    }
  }

  private async runOnce(
    request: ApiRequest,
    spec: CommandRequest,
    path: string,
    keyId: string,
    idempotencyKey: string,
    requestHash: string,
  ): Promise<StoredResponse> {
    const stored = await this.idempotency.find(keyId, idempotencyKey);
    if (stored) {
      if (stored.requestHash !== requestHash) throw keyReused();
      return stored;
    }
    const commandId = commandIdFor(keyId, idempotencyKey);
    const response = await this.execute(request, spec, commandId, path);
    // A conflict or a server error is not an answer to keep: the client retries with the same key.
    if (!isFinal(response.status)) return response;
    return this.idempotency.saveFirst(keyId, idempotencyKey, {
      ...response,
      requestHash,
      commandId,
    });
  }

  private async execute(
    request: ApiRequest,
    spec: CommandRequest,
    commandId: string,
    path: string,
  ): Promise<StoredResponse> {
    const stopTimer = this.metrics.commandSeconds.startTimer({ command: spec.command });
    try {
      const { input, at } = commandInputOf(request.body, spec);
      const outcome = await this.commandBus.execute(
        new ExecuteLedgerCommand(input, {
          commandId,
          ...(at === undefined ? {} : { at }),
          actor: `api-key:${request.principal?.keyId ?? '?'}`,
          correlationId: request.id,
        }),
      );
      const resultAccountId = spec.accountId ?? spec.resultAccountId;
      const account =
        resultAccountId === undefined ? undefined : await this.ledger.accountView(resultAccountId);
      this.metrics.commands.inc({ command: spec.command, outcome: 'accepted' });
      if (outcome.events.length > 0) this.metrics.appendBatchEvents.observe(outcome.events.length);
      return {
        status: spec.successStatus ?? HttpStatus.OK,
        contentType: JSON_CONTENT_TYPE,
        body: JSON.stringify({
          commandId: outcome.commandId || commandId,
          events: outcome.events,
          ...(account === undefined ? {} : { account }),
        }),
      };
    } catch (error) {
      if (error instanceof LedgerClosingError) {
        throw new HttpException(
          {
            code: 'SHUTTING_DOWN',
            message: 'the server is shutting down; retry with the same Idempotency-Key',
          },
          HttpStatus.SERVICE_UNAVAILABLE,
        );
      }
      const problem = toProblemDetails(error, path);
      const outcome = problem.status >= 500 ? 'error' : 'rejected';
      this.metrics.commands.inc({ command: spec.command, outcome });
      if (problem.status >= 500) {
        this.logger.error(
          JSON.stringify({
            msg: 'command failed',
            command: spec.command,
            commandId,
            correlationId: request.id,
          }),
          error instanceof Error ? error.stack : String(error),
        );
      } else {
        this.logger.log(
          JSON.stringify({
            msg: 'command rejected',
            command: spec.command,
            code: problem.code,
            commandId,
            correlationId: request.id,
          }),
        );
      }
      return {
        status: problem.status,
        contentType: PROBLEM_CONTENT_TYPE,
        body: JSON.stringify(problem),
      };
    } finally {
      stopTimer();
    }
  }
}

function keyReused(): HttpException {
  return new HttpException(
    {
      code: 'IDEMPOTENCY_KEY_REUSED',
      message:
        'this Idempotency-Key was used with a different request; use a new key for a new request',
    },
    HttpStatus.UNPROCESSABLE_ENTITY,
  );
}

/** 2xx and 4xx answers are final (kept for retries); 409, 5xx and 503 are not. */
function isFinal(status: number): boolean {
  return status < 500 && status !== 409;
}

/**
 * Body → CommandInput. The body is a JSON object of the command's fields (scenario-format names) plus an optional
 * `at` (ISO time; the server clock when absent). The path's account id wins; a different one in the body is refused.
 * Every other check (unknown and missing fields, types, decimals, ranges, assets, symbols) is the ledger's.
 */
export function commandInputOf(
  body: unknown,
  spec: CommandRequest,
): { input: CommandInput; at: string | undefined } {
  const fields = body === undefined || body === null ? {} : body;
  if (typeof fields !== 'object' || Array.isArray(fields)) {
    throw new LedgerDomainError('INVALID_BODY', 'the request body must be a JSON object');
  }
  const { at, command, ...rest } = fields as Record<string, unknown>;
  if (command !== undefined) {
    throw new LedgerDomainError(
      'UNKNOWN_FIELD',
      'the command is named by the endpoint, not the body',
      {
        field: 'command',
      },
    );
  }
  const time = at === undefined ? undefined : normalizeTime(at);
  for (const [name, value] of Object.entries({
    ...spec.pathFields,
    ...(spec.accountId === undefined ? {} : { accountId: spec.accountId }),
  })) {
    if (name in rest && rest[name] !== value) {
      throw new LedgerDomainError('INVALID_FIELD', `${name} in the body differs from the path`, {
        field: name,
      });
    }
    rest[name] = value;
  }
  return { input: { ...rest, command: spec.command }, at: time };
}
