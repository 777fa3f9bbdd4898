import type { StoredResponse } from './idempotency.store';

/** The part of Fastify's reply the controllers use (without importing Fastify). */
export interface ApiReply {
  status(statusCode: number): ApiReply;
  header(name: string, value: string): ApiReply;
  send(payload?: unknown): ApiReply;
  hijack(): ApiReply;
  raw: NodeJS.WritableStream & {
    writeHead(statusCode: number, headers: Record<string, string>): unknown;
    on(event: 'close', listener: () => void): unknown;
    flushHeaders?(): void;
  };
}

/** Sends a kept response exactly as it was first produced. */
export function sendStored(reply: ApiReply, response: StoredResponse): void {
  reply.status(response.status).header('content-type', response.contentType).send(response.body);
}
