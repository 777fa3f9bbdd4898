import { Controller, Get, Res, ServiceUnavailableException } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { HealthCheck, HealthCheckService, type HealthCheckResult } from '@nestjs/terminus';
import { LedgerGate } from '@ledger/ledger-application';
import { DEFAULT_MAX_SUBSCRIPTION_LAG, DatabaseHealthIndicator } from './database.health';
import { Public } from '../auth/auth.decorators';

function maxSubscriptionLag(): number {
  const value = Number(process.env.LEDGER_MAX_SUBSCRIPTION_LAG);
  return Number.isInteger(value) && value > 0 ? value : DEFAULT_MAX_SUBSCRIPTION_LAG;
}

/** The part of the HTTP reply the controller touches (Fastify's reply, without importing Fastify). */
interface StatusReply {
  status(statusCode: number): unknown;
}

@ApiTags('health')
@Public()
@Controller('health')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly database: DatabaseHealthIndicator,
    private readonly gate: LedgerGate,
  ) {}

  /**
   * Terminus's JSON as is: 200 `{ status: 'ok', info, error, details }`, or 503 with `status: 'error'`.
   * The 503 is answered here, not thrown, so the problem-details filter does not rewrite the health report.
   */
  /** Liveness: the process answers (no dependency checked), for a restart policy. */
  @Get('live')
  live(): { status: 'ok' } {
    return { status: 'ok' };
  }

  /**
   * Readiness: the database answers, no migration is pending, and no durable consumer (risk saga, EventBus pump,
   * projections) lags by more than LEDGER_MAX_SUBSCRIPTION_LAG events. `parked` lists the events consumers parked
   * (they kept failing); it never makes the answer 503: the consumers went on, the events are reported.
   * During a graceful shutdown: 503 draining.
   */
  @Get()
  @HealthCheck()
  async check(@Res({ passthrough: true }) reply: StatusReply): Promise<HealthCheckResult> {
    if (this.gate.isClosing) {
      // Graceful shutdown: 503 so that load balancers stop routing here while the commands in flight finish.
      reply.status(503);
      return drainingReport(this.gate.commandsInFlight);
    }
    try {
      return await this.health.check([
        () => this.database.reachable('database'),
        () => this.database.migrated('migrations'),
        () => this.database.subscriptionsCaughtUp('subscriptions', maxSubscriptionLag()),
        () => this.database.parkedEvents('parked'),
      ]);
    } catch (error) {
      if (!(error instanceof ServiceUnavailableException)) throw error;
      reply.status(error.getStatus());
      return error.getResponse() as HealthCheckResult;
    }
  }
}

/** Terminus's shape with its `shutting_down` status, and a `draining` entry with the commands still in flight. */
function drainingReport(commandsInFlight: number): HealthCheckResult {
  const draining = { draining: { status: 'down' as const, commandsInFlight } };
  return { status: 'shutting_down', info: {}, error: draining, details: draining };
}
