import { Controller, Get, Res } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { Public } from '../auth/auth.decorators';
import type { ApiReply } from '../commands/reply';
import { ApiMetrics } from './api-metrics';

/** Prometheus metrics, text exposition format. Public like /health: put it behind the network, not a key. */
@ApiTags('operations')
@Public()
@Controller('metrics')
export class MetricsController {
  constructor(private readonly metrics: ApiMetrics) {}

  @Get()
  @ApiOperation({ summary: 'Prometheus metrics' })
  async scrape(@Res() reply: ApiReply): Promise<void> {
    const text = await this.metrics.registry.metrics();
    reply.status(200).header('content-type', this.metrics.registry.contentType).send(text);
  }
}
