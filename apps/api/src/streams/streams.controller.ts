import {
  BadRequestException,
  Controller,
  Get,
  Headers,
  Param,
  Query,
  Req,
  Res,
} from '@nestjs/common';
import { ApiHeader, ApiOperation, ApiQuery, ApiSecurity, ApiTags } from '@nestjs/swagger';
import { type Checkpoint, compareCheckpoints, parseCheckpoint } from '@ledger/event-store';
import { LedgerDomainError } from '@ledger/margin-domain';
import type { ApiRequest } from '../auth/api-key.guard';
import { OperatorOnly } from '../auth/auth.decorators';
import type { ApiReply } from '../commands/reply';
import { LiveStreams } from './live-streams';

/**
 * Live updates as server-sent events. Without a cursor an account's stream starts at its first event and the
 * operators' stream at the current end (`?from=start` to replay everything). `Last-Event-ID` (or `?lastEventId=`,
 * for EventSource's first connection) resumes after that cursor.
 */
@ApiTags('streams')
@ApiSecurity('api-key')
@Controller()
export class StreamsController {
  constructor(private readonly streams: LiveStreams) {}

  @Get('accounts/:accountId/stream')
  @ApiOperation({ summary: "SSE: each new event of the account with the account's margin figures" })
  @ApiHeader({ name: 'Last-Event-ID', required: false, description: 'Resume after this cursor' })
  @ApiQuery({ name: 'lastEventId', required: false })
  async account(
    @Req() request: ApiRequest,
    @Res() reply: ApiReply,
    @Param('accountId') accountId: string,
    @Headers('last-event-id') lastEventId?: string,
    @Query('lastEventId') lastEventIdQuery?: unknown,
  ): Promise<void> {
    const after = await this.notBeyondHead(cursorOf(lastEventId ?? lastEventIdQuery));
    this.start(request, reply, accountId, after ?? null);
  }

  @Get('stream')
  @OperatorOnly()
  @ApiOperation({ summary: 'SSE (operators): every new event of every stream' })
  @ApiHeader({ name: 'Last-Event-ID', required: false, description: 'Resume after this cursor' })
  @ApiQuery({
    name: 'from',
    required: false,
    description: '`start` to begin at the first event (default: now)',
  })
  async all(
    @Req() request: ApiRequest,
    @Res() reply: ApiReply,
    @Headers('last-event-id') lastEventId?: string,
    @Query('lastEventId') lastEventIdQuery?: unknown,
    @Query('from') from?: unknown,
  ): Promise<void> {
    if (from !== undefined && from !== 'start' && from !== 'now') {
      throw new BadRequestException('from must be start or now');
    }
    const after = await this.notBeyondHead(cursorOf(lastEventId ?? lastEventIdQuery));
    const start = after !== undefined ? after : from === 'start' ? null : await this.streams.head();
    this.start(request, reply, undefined, start);
  }

  /**
   * A cursor past the store's head was never handed out by this store (another database, a typo, a guess):
   * refused, instead of a stream that waits for positions that may never come.
   */
  private async notBeyondHead(after: Checkpoint | undefined): Promise<Checkpoint | undefined> {
    if (after === undefined) return undefined;
    const head = await this.streams.head();
    if (head === null || compareCheckpoints(after, head) > 0) {
      throw new LedgerDomainError(
        'CURSOR_BEYOND_HEAD',
        `Last-Event-ID is past the last event of the store (${head === null ? 'empty' : `${head.transactionId}:${head.globalPosition}`}); resume from a cursor this server sent`,
        { field: 'Last-Event-ID' },
      );
    }
    return after;
  }

  private start(
    request: ApiRequest,
    reply: ApiReply,
    accountId: string | undefined,
    after: Checkpoint | null,
  ): void {
    reply.hijack();
    reply.raw.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache, no-transform',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
      'x-correlation-id': request.id,
    });
    this.streams.open(reply.raw, accountId, after);
  }
}

function cursorOf(value: unknown): Checkpoint | undefined {
  if (value === undefined || value === '') return undefined;
  try {
    if (typeof value !== 'string') throw new RangeError('not a string');
    return parseCheckpoint(value);
  } catch {
    throw new LedgerDomainError(
      'INVALID_CURSOR',
      'Last-Event-ID must be a cursor "<transaction_id>:<global_position>" sent by this server',
      { field: 'Last-Event-ID' },
    );
  }
}
