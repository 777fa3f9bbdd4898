import {
  Body,
  Controller,
  Delete,
  Get,
  HttpStatus,
  Param,
  Post,
  Query,
  Req,
  Res,
} from '@nestjs/common';
import { QueryBus } from '@nestjs/cqrs';
import { ApiOperation, ApiQuery, ApiSecurity, ApiTags } from '@nestjs/swagger';
import {
  ACCOUNT_ID_PATTERN,
  type AccountEventsPage,
  type AsOf,
  GetAccountViewQuery,
  ListAccountEventsQuery,
  normalizeTime,
} from '@ledger/ledger-application';
import type { AccountView } from '@ledger/margin-domain';
import { LedgerDomainError } from '@ledger/margin-domain';
import { type ApiRequest, accountNotFound, assertAccountAccess } from '../auth/api-key.guard';
import { ApiCommand } from './command.decorators';
import { type CommandRequest, CommandRunner } from './command-runner';
import { MarginHistoryReader, type MarginHistoryPoint } from './margin-history.reader';
import { type ApiReply, sendStored } from './reply';

const EVENTS_LIMIT_DEFAULT = 100;
const EVENTS_LIMIT_MAX = 1000;
const HISTORY_LIMIT_DEFAULT = 1000;
const HISTORY_LIMIT_MAX = 5000;

/**
 * Account endpoints: open, state (now or as of a time / global position), events, margin history, and every
 * account command. Thin: each POST maps its body to the ledger command of the same field names.
 */
@ApiTags('accounts')
@ApiSecurity('api-key')
@Controller('accounts')
export class AccountsController {
  constructor(
    private readonly runner: CommandRunner,
    private readonly queries: QueryBus,
    private readonly marginHistory: MarginHistoryReader,
  ) {}

  @Post()
  @ApiCommand('OpenAccount', 'Open an account (an account key may open only its own account)')
  async open(
    @Req() request: ApiRequest,
    @Res() reply: ApiReply,
    @Body() body: unknown,
  ): Promise<void> {
    const accountId = (body as { accountId?: unknown } | null)?.accountId;
    if (typeof accountId === 'string') assertAccountAccess(request.principal, accountId);
    else if (request.principal?.role === 'account') throw accountNotFound(String(accountId));
    const response = await this.runner.run(request, {
      command: 'OpenAccount',
      successStatus: HttpStatus.CREATED,
      ...(typeof accountId === 'string' ? { resultAccountId: accountId } : {}),
    });
    sendStored(reply, response);
  }

  @Get(':accountId')
  @ApiOperation({
    summary: "The account's margin state (Binance field names), now or as of a point",
  })
  @ApiQuery({
    name: 'asOf',
    required: false,
    description: 'ISO time (inclusive) or a global position (integer)',
  })
  async state(
    @Param('accountId') accountId: string,
    @Query('asOf') asOf?: unknown,
  ): Promise<AccountView> {
    const view = await this.queries.execute(new GetAccountViewQuery(accountId, parseAsOf(asOf)));
    if (!view) throw accountNotFound(accountId);
    return view;
  }

  @Get(':accountId/events')
  @ApiOperation({ summary: "The account's events in order, a page at a time" })
  @ApiQuery({
    name: 'after',
    required: false,
    description: 'Cursor: the `next` of the previous page',
  })
  @ApiQuery({
    name: 'limit',
    required: false,
    description: `1–${EVENTS_LIMIT_MAX} (default ${EVENTS_LIMIT_DEFAULT})`,
  })
  async events(
    @Param('accountId') accountId: string,
    @Query('after') after?: unknown,
    @Query('limit') limit?: unknown,
  ): Promise<{ events: AccountEventsPage['events']; next: string; hasMore: boolean }> {
    if (!ACCOUNT_ID_PATTERN.test(accountId)) throw accountNotFound(accountId);
    const afterVersion = parseCursor(after);
    const page = await this.queries.execute(
      new ListAccountEventsQuery(
        accountId,
        afterVersion,
        parseLimit(limit, EVENTS_LIMIT_DEFAULT, EVENTS_LIMIT_MAX),
      ),
    );
    if (afterVersion === 0 && page.events.length === 0) throw accountNotFound(accountId);
    return {
      events: page.events,
      next: String(page.lastVersion ?? afterVersion),
      hasMore: page.hasMore,
    };
  }

  @Get(':accountId/margin-history')
  @ApiOperation({
    summary:
      'Margin figures after each account event, for charts (the async margin_history projection)',
    description:
      'One point per event of the account, in global-position order. Pages: pass `next` as `after` while `hasMore`.',
  })
  @ApiQuery({ name: 'from', required: false, description: 'ISO time (inclusive)' })
  @ApiQuery({ name: 'to', required: false, description: 'ISO time (inclusive)' })
  @ApiQuery({
    name: 'after',
    required: false,
    description: 'Cursor: the `next` of the previous page (a global position)',
  })
  @ApiQuery({
    name: 'limit',
    required: false,
    description: `1–${HISTORY_LIMIT_MAX} (default ${HISTORY_LIMIT_DEFAULT})`,
  })
  async history(
    @Param('accountId') accountId: string,
    @Query('from') from?: unknown,
    @Query('to') to?: unknown,
    @Query('after') after?: unknown,
    @Query('limit') limit?: unknown,
  ): Promise<{ points: MarginHistoryPoint[]; next: string | null; hasMore: boolean }> {
    const range = {
      ...(from === undefined ? {} : { from: normalizeTime(from, 'from') }),
      ...(to === undefined ? {} : { to: normalizeTime(to, 'to') }),
      ...(after === undefined ? {} : { after: parsePositionCursor(after) }),
    };
    const pageSize = parseLimit(limit, HISTORY_LIMIT_DEFAULT, HISTORY_LIMIT_MAX);
    if (!(await this.marginHistory.accountExists(accountId))) throw accountNotFound(accountId);
    // One more than asked: tells whether another page follows without a second query.
    const rows = await this.marginHistory.read(accountId, { ...range, limit: pageSize + 1 });
    const points = rows.slice(0, pageSize);
    const last = points[points.length - 1];
    return {
      points,
      next: last ? last.globalPosition : range.after === undefined ? null : String(range.after),
      hasMore: rows.length > pageSize,
    };
  }

  @Post(':accountId/deposits')
  @ApiCommand('Deposit', 'Deposit collateral', ['accountId'])
  deposit(@Req() q: ApiRequest, @Res() r: ApiReply, @Param('accountId') id: string): Promise<void> {
    return this.command(q, r, { command: 'Deposit', accountId: id });
  }

  @Post(':accountId/withdrawals')
  @ApiCommand('Withdraw', 'Withdraw collateral (up to maxWithdrawAmount)', ['accountId'])
  withdraw(
    @Req() q: ApiRequest,
    @Res() r: ApiReply,
    @Param('accountId') id: string,
  ): Promise<void> {
    return this.command(q, r, { command: 'Withdraw', accountId: id });
  }

  @Post(':accountId/fills')
  @ApiCommand('Fill', 'Book a fill: opens, increases, reduces, closes or flips a position', [
    'accountId',
  ])
  fill(@Req() q: ApiRequest, @Res() r: ApiReply, @Param('accountId') id: string): Promise<void> {
    return this.command(q, r, { command: 'Fill', accountId: id });
  }

  @Post(':accountId/orders')
  @ApiCommand('PlaceOrder', 'Place an order (a margin reservation)', ['accountId'])
  placeOrder(
    @Req() q: ApiRequest,
    @Res() r: ApiReply,
    @Param('accountId') id: string,
  ): Promise<void> {
    return this.command(q, r, {
      command: 'PlaceOrder',
      accountId: id,
      successStatus: HttpStatus.CREATED,
    });
  }

  @Post(':accountId/orders/:orderId/cancel')
  @ApiCommand('CancelOrder', 'Cancel an open order', ['accountId', 'orderId'])
  cancelOrder(
    @Req() q: ApiRequest,
    @Res() r: ApiReply,
    @Param('accountId') id: string,
    @Param('orderId') orderId: string,
  ): Promise<void> {
    return this.command(q, r, { command: 'CancelOrder', accountId: id, pathFields: { orderId } });
  }

  @Delete(':accountId/orders/:orderId')
  @ApiCommand('CancelOrder', 'Cancel an open order (same as POST …/cancel)', [
    'accountId',
    'orderId',
  ])
  deleteOrder(
    @Req() q: ApiRequest,
    @Res() r: ApiReply,
    @Param('accountId') id: string,
    @Param('orderId') orderId: string,
  ): Promise<void> {
    return this.command(q, r, { command: 'CancelOrder', accountId: id, pathFields: { orderId } });
  }

  @Post(':accountId/leverage')
  @ApiCommand('SetLeverage', "Set a symbol's leverage", ['accountId'])
  leverage(
    @Req() q: ApiRequest,
    @Res() r: ApiReply,
    @Param('accountId') id: string,
  ): Promise<void> {
    return this.command(q, r, { command: 'SetLeverage', accountId: id });
  }

  @Post(':accountId/margin-type')
  @ApiCommand('SetMarginType', "Set a symbol's margin type (CROSSED or ISOLATED)", ['accountId'])
  marginType(
    @Req() q: ApiRequest,
    @Res() r: ApiReply,
    @Param('accountId') id: string,
  ): Promise<void> {
    return this.command(q, r, { command: 'SetMarginType', accountId: id });
  }

  @Get(':accountId/asset-mode')
  @ApiOperation({ summary: "The account's asset mode" })
  async assetMode(@Param('accountId') accountId: string): Promise<{ assetMode: string }> {
    return { assetMode: (await this.current(accountId)).account.assetMode };
  }

  @Post(':accountId/asset-mode')
  @ApiCommand(
    'SwitchAssetMode',
    'Switch between Single-Asset and Multi-Assets Mode: { "assetMode": "SINGLE" | "MULTI" }',
    ['accountId'],
  )
  switchAssetMode(
    @Req() q: ApiRequest,
    @Res() r: ApiReply,
    @Param('accountId') id: string,
  ): Promise<void> {
    return this.command(q, r, { command: 'SwitchAssetMode', accountId: id });
  }

  @Get(':accountId/position-mode')
  @ApiOperation({ summary: "The account's position mode" })
  async positionMode(@Param('accountId') accountId: string): Promise<{ positionMode: string }> {
    return { positionMode: (await this.current(accountId)).positionMode };
  }

  @Post(':accountId/position-mode')
  @ApiCommand('SetPositionMode', 'Set ONE_WAY or HEDGE', ['accountId'])
  setPositionMode(
    @Req() q: ApiRequest,
    @Res() r: ApiReply,
    @Param('accountId') id: string,
  ): Promise<void> {
    return this.command(q, r, { command: 'SetPositionMode', accountId: id });
  }

  @Get(':accountId/vip-level')
  @ApiOperation({ summary: "The account's VIP level" })
  async vipLevel(@Param('accountId') accountId: string): Promise<{ vipLevel: number }> {
    return { vipLevel: (await this.current(accountId)).vipLevel };
  }

  @Post(':accountId/vip-level')
  @ApiCommand('SetVipLevel', 'Set the VIP level (0–9)', ['accountId'])
  setVipLevel(
    @Req() q: ApiRequest,
    @Res() r: ApiReply,
    @Param('accountId') id: string,
  ): Promise<void> {
    return this.command(q, r, { command: 'SetVipLevel', accountId: id });
  }

  @Post(':accountId/isolated-margin')
  @ApiCommand(
    'AdjustIsolatedMargin',
    "Add (positive) or remove (negative) an isolated position's margin",
    ['accountId'],
  )
  isolatedMargin(
    @Req() q: ApiRequest,
    @Res() r: ApiReply,
    @Param('accountId') id: string,
  ): Promise<void> {
    return this.command(q, r, { command: 'AdjustIsolatedMargin', accountId: id });
  }

  private async command(request: ApiRequest, reply: ApiReply, spec: CommandRequest): Promise<void> {
    sendStored(reply, await this.runner.run(request, spec));
  }

  private async current(accountId: string): Promise<AccountView> {
    const view = await this.queries.execute(new GetAccountViewQuery(accountId));
    if (!view) throw accountNotFound(accountId);
    return view;
  }
}

/** `asOf`: an integer is a global position, anything else an ISO time (validated by the ledger). */
export function parseAsOf(value: unknown): AsOf | undefined {
  if (value === undefined) return undefined;
  if (typeof value === 'string' && /^\d{1,18}$/.test(value)) return { position: BigInt(value) };
  return { time: normalizeTime(value, 'asOf') };
}

function parseCursor(value: unknown): number {
  if (value === undefined) return 0;
  if (typeof value === 'string' && /^\d{1,9}$/.test(value)) return Number(value);
  throw new LedgerDomainError(
    'INVALID_CURSOR',
    'after must be the `next` cursor of a previous page',
    { field: 'after' },
  );
}

/** The margin history's cursor: the global position of the last point of the previous page. */
function parsePositionCursor(value: unknown): bigint {
  if (typeof value === 'string' && /^\d{1,18}$/.test(value)) return BigInt(value);
  throw new LedgerDomainError(
    'INVALID_CURSOR',
    'after must be the `next` cursor of a previous page',
    { field: 'after' },
  );
}

function parseLimit(value: unknown, fallback: number, maximum: number): number {
  if (value === undefined) return fallback;
  if (typeof value === 'string' && /^\d{1,6}$/.test(value)) {
    const limit = Number(value);
    if (limit >= 1 && limit <= maximum) return limit;
  }
  throw new LedgerDomainError('INVALID_LIMIT', `limit must be an integer from 1 to ${maximum}`, {
    field: 'limit',
  });
}
