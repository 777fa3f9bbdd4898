import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import { HttpStatus } from '@nestjs/common';
import { assertLegalText } from '@ledger/ledger-application';
import {
  PROBLEM_CONTENT_TYPE,
  PROBLEM_TYPE_PREFIX,
  type ProblemDetails,
  toProblemDetails,
} from './problem-details.filter';

/**
 * The edge of the HTTP API, before any controller: answers that Fastify or Node make themselves (a bad %-encoding,
 * an over-long path segment, headers too large, a malformed request, a request during shutdown) and the checks
 * every request gets (URL length, JSON-only bodies, legal text in the path and query). Every one of them is an
 * RFC 9457 problem document with a stable code, like the answers of the controllers (docs/error-codes.md).
 */

/** A URL longer than this answers 414 (Node refuses a request line + headers above 16 KiB with 431 first). */
export const MAX_URL_LENGTH = 8 * 1024;
/** Fastify's limit on one path parameter (its default): longer answers 414. */
export const MAX_PATH_PARAM_LENGTH = 100;
/** Instances are echoed back at most this long (a 414's URL is long by definition). */
const MAX_INSTANCE_LENGTH = 256;

/** A problem with one of our codes (`type` is PROBLEM_TYPE_PREFIX + code), for answers made outside the filter. */
export function edgeProblem(
  status: number,
  code: string,
  detail: string,
  instance?: string,
): ProblemDetails {
  return {
    type: PROBLEM_TYPE_PREFIX + code,
    title: STATUS_CODES[status] ?? 'Error',
    status,
    detail,
    ...(instance === undefined ? {} : { instance: instance.slice(0, MAX_INSTANCE_LENGTH) }),
    code,
  };
}

/** The parts of Fastify's request and reply the edge uses (without importing Fastify). */
export interface EdgeRequest {
  url: string;
  method: string;
  headers: Record<string, string | string[] | undefined>;
  params?: unknown;
  query?: unknown;
}
export interface EdgeReply {
  code(statusCode: number): EdgeReply;
  header(name: string, value: string): EdgeReply;
  send(payload?: unknown): EdgeReply;
}

export function sendProblem(reply: EdgeReply, problem: ProblemDetails): EdgeReply {
  return reply
    .code(problem.status)
    .header('content-type', PROBLEM_CONTENT_TYPE)
    .send(JSON.stringify(problem));
}

/**
 * Fastify's `frameworkErrors`: the router refuses a path before any hook runs, for a bad %-encoding (400) or a
 * path parameter longer than MAX_PATH_PARAM_LENGTH (414). Fastify would answer its own JSON shape.
 */
export function frameworkErrorHandler(
  error: { code?: string; statusCode?: number },
  request: { url: string },
  reply: EdgeReply,
): void {
  const problem =
    error.code === 'FST_ERR_MAX_PARAM_LENGTH'
      ? edgeProblem(
          HttpStatus.URI_TOO_LONG,
          'URI_TOO_LONG',
          `a path segment is longer than ${MAX_PATH_PARAM_LENGTH} characters`,
          request.url,
        )
      : error.code === 'FST_ERR_BAD_URL'
        ? edgeProblem(
            HttpStatus.BAD_REQUEST,
            'MALFORMED_URL',
            'the path has an invalid %-encoding (not UTF-8 once decoded)',
            request.url,
          )
        : edgeProblem(
            error.statusCode ?? HttpStatus.BAD_REQUEST,
            'BAD_REQUEST',
            'the request could not be routed',
            request.url,
          );
  sendProblem(reply, problem);
}

/**
 * Node's `clientError` (Fastify's `clientErrorHandler`): the HTTP parser refused the request before there is one
 * (headers above the limit: 431; a control character in a header, a malformed request line: 400; too slow: 408).
 * The answer is written to the socket by hand, as Node and Fastify do, then the connection closes.
 */
export function clientErrorHandler(error: Error & { code?: string }, socket: Socket): void {
  if (error.code === 'ECONNRESET' || socket.destroyed) return;
  const problem =
    error.code === 'HPE_HEADER_OVERFLOW'
      ? edgeProblem(
          431,
          'HEADERS_TOO_LARGE',
          'the request line and headers are larger than the server accepts (16 KiB)',
        )
      : error.code === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? edgeProblem(HttpStatus.REQUEST_TIMEOUT, 'REQUEST_TIMEOUT', 'the request took too long')
        : edgeProblem(
            HttpStatus.BAD_REQUEST,
            'MALFORMED_REQUEST',
            'the HTTP request is malformed (a bad request line, or a control character in a header)',
          );
  const body = JSON.stringify(problem);
  if (socket.writable) {
    socket.write(
      `HTTP/1.1 ${problem.status} ${problem.title}\r\nContent-Type: ${PROBLEM_CONTENT_TYPE}\r\n` +
        `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    );
  }
  socket.destroy(error);
}

const METHODS_WITH_BODY = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/** `application/json`, any case, with or without parameters (`; charset=utf-8`). */
function isJsonContentType(value: string): boolean {
  return (value.split(';')[0] ?? '').trim().toLowerCase() === 'application/json';
}

function hasBody(headers: EdgeRequest['headers']): boolean {
  const length = headers['content-length'];
  return (
    headers['transfer-encoding'] !== undefined ||
    (typeof length === 'string' && length.trim() !== '' && length.trim() !== '0')
  );
}

function isHealthPath(path: string): boolean {
  return path === '/health' || path.startsWith('/health/');
}

/**
 * The checks of every request, in order; the first that fails is the answer, else undefined (the request goes on):
 * - during a graceful shutdown (`closing`), everything but /health and /health/live answers 503 SHUTTING_DOWN
 *   (the requests in flight finish; /health reports draining); the connection closes after the answer;
 * - a URL above MAX_URL_LENGTH: 414 URI_TOO_LONG;
 * - a body that is not JSON (a non-JSON Content-Type, e.g. a form, or a body without one) on a POST, PUT, PATCH or
 *   DELETE: 415 UNSUPPORTED_MEDIA_TYPE; the native API documents JSON bodies only;
 * - NUL or a lone surrogate in a path parameter or a query value: 400 ILLEGAL_CHARACTERS (−1100). Bodies get the
 *   same check in the ledger's command schema (shared with `ledger apply`).
 */
export function edgeCheck(request: EdgeRequest, closing: boolean): ProblemDetails | undefined {
  const path = request.url.split('?')[0] ?? request.url;
  if (closing && !isHealthPath(path)) {
    return edgeProblem(
      HttpStatus.SERVICE_UNAVAILABLE,
      'SHUTTING_DOWN',
      'the server is shutting down; retry (with the same Idempotency-Key) on another instance or later',
      request.url,
    );
  }
  if (request.url.length > MAX_URL_LENGTH) {
    return edgeProblem(
      HttpStatus.URI_TOO_LONG,
      'URI_TOO_LONG',
      `the URL is longer than ${MAX_URL_LENGTH} characters`,
      request.url,
    );
  }
  if (METHODS_WITH_BODY.has(request.method.toUpperCase())) {
    const contentType = request.headers['content-type'];
    const declared = typeof contentType === 'string' && contentType.trim() !== '';
    if (declared ? !isJsonContentType(contentType) : hasBody(request.headers)) {
      return edgeProblem(
        HttpStatus.UNSUPPORTED_MEDIA_TYPE,
        'UNSUPPORTED_MEDIA_TYPE',
        'request bodies must be JSON (Content-Type: application/json)',
        request.url,
      );
    }
  }
  try {
    assertLegalText(request.params, '');
    assertLegalText(request.query, '');
  } catch (error) {
    return toProblemDetails(error, request.url.slice(0, MAX_INSTANCE_LENGTH));
  }
  return undefined;
}
