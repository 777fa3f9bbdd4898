import { Controller, Get, Res, ServiceUnavailableException } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { HealthCheck, HealthCheckService, type HealthCheckResult } from '@nestjs/terminus';
import { DatabaseHealthIndicator } from './database.health';

/** The part of the HTTP reply the controller touches (Fastify's reply, without importing Fastify). */
interface StatusReply {
  status(statusCode: number): unknown;
}

@ApiTags('health')
@Controller('health')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly database: DatabaseHealthIndicator,
  ) {}

  /**
   * Terminus's JSON as is: 200 `{ status: 'ok', info, error, details }`, or 503 with `status: 'error'`.
   * The 503 is answered here, not thrown, so the problem-details filter does not rewrite the health report.
   */
  @Get()
  @HealthCheck()
  async check(@Res({ passthrough: true }) reply: StatusReply): Promise<HealthCheckResult> {
    try {
      return await this.health.check([
        () => this.database.reachable('database'),
        () => this.database.migrated('migrations'),
      ]);
    } catch (error) {
      if (!(error instanceof ServiceUnavailableException)) throw error;
      reply.status(error.getStatus());
      return error.getResponse() as HealthCheckResult;
    }
  }
}
