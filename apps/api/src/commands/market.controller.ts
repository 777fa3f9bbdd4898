import { Controller, Get, NotFoundException, Param, Post, Req, Res } from '@nestjs/common';
import { ApiOperation, ApiSecurity, ApiTags } from '@nestjs/swagger';
import { type Ledger, LEDGER, REFERENCE_DATA_STREAM } from '@ledger/ledger-application';
import { Inject } from '@nestjs/common';
import type { ApiRequest } from '../auth/api-key.guard';
import { OperatorOnly } from '../auth/auth.decorators';
import { ApiCommand } from './command.decorators';
import { type CommandRequest, CommandRunner } from './command-runner';
import { type ApiReply, sendStored } from './reply';

/** Market data for operators: mark prices, asset indexes, funding rates and settlements. */
@ApiTags('market (operators)')
@ApiSecurity('api-key')
@OperatorOnly()
@Controller('market')
export class MarketController {
  constructor(private readonly runner: CommandRunner) {}

  @Post('mark-prices')
  @ApiCommand('UpdateMarkPrice', "Set a symbol's mark (and index) price")
  markPrice(@Req() q: ApiRequest, @Res() r: ApiReply): Promise<void> {
    return this.command(q, r, { command: 'UpdateMarkPrice' });
  }

  @Post('asset-indexes')
  @ApiCommand('UpdateAssetIndex', "Set a collateral asset's USD index and its buffers")
  assetIndex(@Req() q: ApiRequest, @Res() r: ApiReply): Promise<void> {
    return this.command(q, r, { command: 'UpdateAssetIndex' });
  }

  @Post('funding-rates')
  @ApiCommand('SetFundingRate', "Record a symbol's current funding rate")
  fundingRate(@Req() q: ApiRequest, @Res() r: ApiReply): Promise<void> {
    return this.command(q, r, { command: 'SetFundingRate' });
  }

  @Post('funding-settlements')
  @ApiCommand(
    'SettleFunding',
    'Settle funding for every open position in a symbol (rate: the last one set)',
  )
  settleFunding(@Req() q: ApiRequest, @Res() r: ApiReply): Promise<void> {
    return this.command(q, r, { command: 'SettleFunding' });
  }

  private async command(request: ApiRequest, reply: ApiReply, spec: CommandRequest): Promise<void> {
    sendStored(reply, await this.runner.run(request, spec));
  }
}

export interface ReferenceDataVersion {
  version: string;
  effectiveFrom: string;
  globalPosition: string;
  commandId: string;
}

/** Reference data for operators: publish a new version (overrides of the one in force), list the versions. */
@ApiTags('reference data (operators)')
@ApiSecurity('api-key')
@OperatorOnly()
@Controller('reference-data')
export class ReferenceDataController {
  constructor(
    private readonly runner: CommandRunner,
    @Inject(LEDGER) private readonly ledger: Ledger,
  ) {}

  @Post()
  @ApiCommand('PublishReferenceData', 'Publish a new reference-data version, in force from `at`')
  async publish(@Req() request: ApiRequest, @Res() reply: ApiReply): Promise<void> {
    sendStored(
      reply,
      await this.runner.run(request, { command: 'PublishReferenceData', successStatus: 201 }),
    );
  }

  @Get()
  @ApiOperation({
    summary: 'Every published version, oldest first, with the time it is in force from',
  })
  async list(): Promise<{ versions: ReferenceDataVersion[] }> {
    const events = await this.ledger.store.readStream(REFERENCE_DATA_STREAM);
    return {
      versions: events.map((e) => ({
        version: String((e.data as { version?: unknown }).version),
        effectiveFrom: e.metadata.occurredAt,
        globalPosition: e.globalPosition.toString(),
        commandId: e.metadata.commandId,
      })),
    };
  }

  @Get(':version')
  @ApiOperation({ summary: 'One version in full' })
  async get(@Param('version') version: string): Promise<unknown> {
    const found = this.ledger.references.byVersion(version);
    if (!found) throw new NotFoundException(`no reference-data version ${version}`);
    return found;
  }
}
