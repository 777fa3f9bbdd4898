import type { INestApplication } from '@nestjs/common';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';

export const DOCS_PATH = 'docs';
export const API_VERSION = '0.1.0';

/**
 * OpenAPI: the UI at /docs, the document at /docs/openapi.json. On Fastify the UI's assets are served by
 * `@fastify/static`, an optional peer of @nestjs/swagger that npm does not install by itself (a direct
 * dependency here): without it the setup exits the process (shared/reference/toolchain.md).
 */
export function setupOpenApi(app: INestApplication): void {
  const config = new DocumentBuilder()
    .setTitle('Margin ledger API')
    .setDescription(
      'Event-sourced ledger simulating Binance USDⓈ-M futures margin. Amounts are decimal strings. ' +
        'Errors are RFC 9457 Problem Details (application/problem+json) with a stable `code`.',
    )
    .setVersion(API_VERSION)
    .addBearerAuth(
      { type: 'http', scheme: 'bearer', description: 'Authorization: Bearer <API key>' },
      'api-key',
    )
    .build();
  SwaggerModule.setup(DOCS_PATH, app, () => SwaggerModule.createDocument(app, config), {
    jsonDocumentUrl: `${DOCS_PATH}/openapi.json`,
    yamlDocumentUrl: `${DOCS_PATH}/openapi.yaml`,
  });
}
