import { STATUS_CODES } from 'node:http';
import {
  type ArgumentsHost,
  Catch,
  type ExceptionFilter,
  HttpException,
  HttpStatus,
  Logger,
} from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';

/**
 * Every error the API returns is an RFC 9457 Problem Details object (`application/problem+json`), with our
 * extensions: `code` (a stable string from docs/error-codes.md, no prefix), `binanceCode` where Binance has one,
 * and `field`/`pointer` for the request field at fault. No stack trace or internal message ever leaves the
 * process: 5xx answers say only that something failed, and the log has the rest.
 */
export interface ProblemDetails {
  /** A URI naming the problem type: `about:blank` for plain HTTP problems, else PROBLEM_TYPE_PREFIX + code. */
  type: string;
  title: string;
  status: number;
  detail?: string;
  /** The request path that failed. */
  instance?: string;
  code: string;
  binanceCode?: number;
  field?: string;
  /** JSON Pointer (RFC 6901) into the request body, derived from `field`. */
  pointer?: string;
}

export const PROBLEM_CONTENT_TYPE = 'application/problem+json';
/** Problem types of our own codes are URNs: stable names that need no server behind them (docs/error-codes.md). */
export const PROBLEM_TYPE_PREFIX = 'urn:margin-ledger:problem:';

/**
 * The shape of the domain's `LedgerDomainError` (libs/margin-domain/src/shared/errors.ts), recognised without
 * importing the domain: an Error whose class chain contains `LedgerDomainError` and that carries a string `code`.
 * The class-name check keeps Node's system errors (`code: 'ECONNREFUSED'`) out: those are 500s, not rejections.
 */
interface LedgerDomainErrorLike extends Error {
  code: string;
  binanceCode?: number;
  field?: string;
}

export function isLedgerDomainErrorLike(error: unknown): error is LedgerDomainErrorLike {
  if (!(error instanceof Error)) return false;
  const { code, binanceCode, field } = error as Partial<LedgerDomainErrorLike>;
  return (
    typeof code === 'string' &&
    (binanceCode === undefined || typeof binanceCode === 'number') &&
    (field === undefined || typeof field === 'string') &&
    (error.name === 'LedgerDomainError' || classChainIncludes(error, 'LedgerDomainError'))
  );
}

/** Maps anything thrown to the Problem Details the client sees. Pure: the filter adds logging and I/O. */
export function toProblemDetails(exception: unknown, instance?: string): ProblemDetails {
  if (isLedgerDomainErrorLike(exception)) {
    return {
      type: PROBLEM_TYPE_PREFIX + exception.code,
      title: 'The command was rejected',
      status: HttpStatus.BAD_REQUEST,
      detail: exception.message,
      instance,
      code: exception.code,
      ...(exception.binanceCode !== undefined && { binanceCode: exception.binanceCode }),
      ...(exception.field !== undefined && {
        field: exception.field,
        pointer: jsonPointer(exception.field),
      }),
    };
  }
  if (exception instanceof HttpException) return fromHttpException(exception, instance);
  if (exception instanceof Error && exception.name === 'ConcurrencyError') {
    // The handler retries on a version conflict; this is what is left when the retries ran out.
    return {
      ...httpProblem(HttpStatus.CONFLICT, instance),
      type: PROBLEM_TYPE_PREFIX + 'CONCURRENCY_CONFLICT',
      code: 'CONCURRENCY_CONFLICT',
      detail:
        'The account changed while the command ran. Retry the request with the same Idempotency-Key.',
    };
  }
  const clientStatus = clientErrorStatusOf(exception);
  if (clientStatus !== undefined) {
    // Errors Fastify raises before a handler runs (malformed JSON, body too large) carry their 4xx status.
    return { ...httpProblem(clientStatus, instance), detail: (exception as Error).message };
  }
  return { ...httpProblem(HttpStatus.INTERNAL_SERVER_ERROR, instance), code: 'INTERNAL_ERROR' };
}

@Catch()
export class ProblemDetailsFilter implements ExceptionFilter {
  private readonly logger = new Logger('ProblemDetails');

  constructor(private readonly adapterHost: HttpAdapterHost) {}

  catch(exception: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    const { httpAdapter } = this.adapterHost;
    const request: unknown = http.getRequest();
    const response: unknown = http.getResponse();
    const problem = toProblemDetails(exception, String(httpAdapter.getRequestUrl(request)));
    if (problem.status >= 500) {
      this.logger.error(
        `${problem.status} on ${problem.instance ?? '?'} (correlation id ${String((request as { id?: unknown }).id)})`,
        exception instanceof Error ? exception.stack : String(exception),
      );
    }
    httpAdapter.setHeader(response, 'content-type', PROBLEM_CONTENT_TYPE);
    if (problem.status === 401)
      httpAdapter.setHeader(response, 'www-authenticate', 'Bearer realm="ledger"');
    httpAdapter.reply(response, problem, problem.status);
  }
}

function fromHttpException(exception: HttpException, instance?: string): ProblemDetails {
  const status = exception.getStatus();
  const problem = httpProblem(status, instance);
  const body = exception.getResponse();
  if (typeof body === 'string') return { ...problem, detail: body };
  const { message, code } = body as { message?: unknown; code?: unknown };
  // ValidationPipe reports a list of messages; a thrown HttpException may name its own code.
  const detail = Array.isArray(message)
    ? message.map(String).join('; ')
    : typeof message === 'string'
      ? message
      : undefined;
  return {
    ...problem,
    ...(detail !== undefined && detail !== problem.title && { detail }),
    ...(typeof code === 'string' && { code, type: PROBLEM_TYPE_PREFIX + code }),
  };
}

/** A plain HTTP problem: RFC 9457 `about:blank`, the status phrase as title, the HttpStatus name as code. */
function httpProblem(status: number, instance?: string): ProblemDetails {
  const statusName = (HttpStatus as unknown as Record<number, string | undefined>)[status];
  return {
    type: 'about:blank',
    title: STATUS_CODES[status] ?? 'Error',
    status,
    instance,
    code: statusName ?? (status >= 500 ? 'INTERNAL_ERROR' : 'BAD_REQUEST'),
  };
}

function clientErrorStatusOf(exception: unknown): number | undefined {
  if (!(exception instanceof Error)) return undefined;
  const { statusCode } = exception as { statusCode?: unknown };
  return typeof statusCode === 'number' && statusCode >= 400 && statusCode < 500
    ? statusCode
    : undefined;
}

function classChainIncludes(value: object, className: string): boolean {
  for (
    let proto: unknown = Object.getPrototypeOf(value);
    proto;
    proto = Object.getPrototypeOf(proto)
  ) {
    if ((proto as { constructor?: { name?: string } }).constructor?.name === className) return true;
  }
  return false;
}

/** `positions.0.quantity` → `#/positions/0/quantity` (RFC 6901 escaping of `~` and `/`). */
function jsonPointer(field: string): string {
  const tokens = field.split('.').map((token) => token.replaceAll('~', '~0').replaceAll('/', '~1'));
  return `#/${tokens.join('/')}`;
}
