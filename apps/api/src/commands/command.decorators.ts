import { applyDecorators } from '@nestjs/common';
import { ApiBody, ApiHeader, ApiOperation, ApiResponse } from '@nestjs/swagger';
import type { CommandName } from '@ledger/ledger-application';
import { commandBodySchema } from './open-api-schemas';

/** OpenAPI documentation of a command endpoint: the body from COMMAND_FIELDS, the Idempotency-Key, the answers. */
export function ApiCommand(
  command: CommandName,
  summary: string,
  fromPath: string[] = [],
): MethodDecorator {
  return applyDecorators(
    ApiOperation({ summary, description: `Runs the ledger command \`${command}\`.` }),
    ApiBody({ schema: commandBodySchema(command, fromPath), required: false }),
    ApiHeader({
      name: 'Idempotency-Key',
      required: false,
      description:
        'Makes the request safe to retry: the first response (a rejection included) is kept and returned again ' +
        'byte for byte; the same key with a different body answers 422.',
    }),
    ApiResponse({ status: 200, description: '{ commandId, events, account? }' }),
    ApiResponse({
      status: 400,
      description: 'Rejected (Problem Details with `code`); nothing was appended',
    }),
    ApiResponse({ status: 401, description: 'No or unknown API key' }),
    ApiResponse({ status: 404, description: 'No such account for this key' }),
    ApiResponse({ status: 415, description: 'UNSUPPORTED_MEDIA_TYPE: the body is not JSON' }),
    ApiResponse({ status: 422, description: 'IDEMPOTENCY_KEY_REUSED' }),
    ApiResponse({ status: 503, description: 'SHUTTING_DOWN: retry with the same Idempotency-Key' }),
  );
}
