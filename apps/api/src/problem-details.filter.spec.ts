/**
 * Goal: every error leaves the API as RFC 9457 Problem Details with a stable `code`: a domain rejection is a 400
 * carrying its code, Binance code and field; HTTP exceptions keep their status; a version conflict is a 409; and
 * anything unexpected is a bare 500 that leaks neither the message nor the stack.
 */
import { BadRequestException, HttpException, NotFoundException } from '@nestjs/common';
import {
  PROBLEM_TYPE_PREFIX,
  isLedgerDomainErrorLike,
  toProblemDetails,
} from './problem-details.filter';

/** Same shape as the domain's LedgerDomainError; the filter must recognise it without importing the domain. */
class LedgerDomainError extends Error {
  constructor(
    readonly code: string,
    message: string,
    private readonly details: { binanceCode?: number; field?: string } = {},
  ) {
    super(message);
    this.name = 'LedgerDomainError';
  }
  get binanceCode(): number | undefined {
    return this.details.binanceCode;
  }
  get field(): string | undefined {
    return this.details.field;
  }
}
class InsufficientBalanceError extends LedgerDomainError {
  constructor() {
    super('INSUFFICIENT_BALANCE', 'Margin is insufficient.', {
      binanceCode: -2019,
      field: 'order.quantity',
    });
    this.name = 'InsufficientBalanceError';
  }
}

describe('toProblemDetails', () => {
  it('answers a domain rejection with 400, its code, Binance code, field and JSON pointer', () => {
    expect(toProblemDetails(new InsufficientBalanceError(), '/accounts/a1/orders')).toEqual({
      type: `${PROBLEM_TYPE_PREFIX}INSUFFICIENT_BALANCE`,
      title: 'The command was rejected',
      status: 400,
      detail: 'Margin is insufficient.',
      instance: '/accounts/a1/orders',
      code: 'INSUFFICIENT_BALANCE',
      binanceCode: -2019,
      field: 'order.quantity',
      pointer: '#/order/quantity',
    });
  });

  it('omits binanceCode and field when the rejection has none', () => {
    const problem = toProblemDetails(
      new LedgerDomainError('AT_BEFORE_STREAM_TIME', 'at is earlier'),
    );
    expect(problem).toMatchObject({ status: 400, code: 'AT_BEFORE_STREAM_TIME' });
    expect(problem).not.toHaveProperty('binanceCode');
    expect(problem).not.toHaveProperty('field');
    expect(problem).not.toHaveProperty('pointer');
  });

  it('does not take a Node system error with a string code for a rejection', () => {
    const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), {
      code: 'ECONNREFUSED',
    });
    expect(isLedgerDomainErrorLike(refused)).toBe(false);
    expect(toProblemDetails(refused)).toMatchObject({ status: 500, code: 'INTERNAL_ERROR' });
  });

  it('keeps the status of an HTTP exception, with about:blank and the status name as code', () => {
    expect(toProblemDetails(new NotFoundException('no account a1'), '/accounts/a1')).toEqual({
      type: 'about:blank',
      title: 'Not Found',
      status: 404,
      detail: 'no account a1',
      instance: '/accounts/a1',
      code: 'NOT_FOUND',
    });
  });

  it('joins the messages of a validation failure into the detail', () => {
    const problem = toProblemDetails(
      new BadRequestException(['amount must be a string', 'asset is empty']),
    );
    expect(problem).toMatchObject({ status: 400, code: 'BAD_REQUEST' });
    expect(problem.detail).toBe('amount must be a string; asset is empty');
  });

  it('uses the code an HTTP exception names', () => {
    const problem = toProblemDetails(
      new HttpException({ code: 'IDEMPOTENCY_KEY_REUSED', message: 'x' }, 422),
    );
    expect(problem).toMatchObject({ status: 422, code: 'IDEMPOTENCY_KEY_REUSED' });
    expect(problem.type).toBe(`${PROBLEM_TYPE_PREFIX}IDEMPOTENCY_KEY_REUSED`);
  });

  it('answers a version conflict left after retries with 409', () => {
    const conflict = Object.assign(new Error('stream account-a1: expected version 3, actual 4'), {
      name: 'ConcurrencyError',
    });
    expect(toProblemDetails(conflict)).toMatchObject({ status: 409, code: 'CONCURRENCY_CONFLICT' });
  });

  it('keeps the 4xx status of an error raised by Fastify before a handler ran', () => {
    const badJson = Object.assign(new SyntaxError('Unexpected token } in JSON'), {
      statusCode: 400,
    });
    expect(toProblemDetails(badJson)).toMatchObject({ status: 400, code: 'BAD_REQUEST' });
  });

  it('answers anything else with a bare 500 that leaks neither message nor stack', () => {
    const problem = toProblemDetails(
      new TypeError('cannot read properties of undefined (secret path)'),
    );
    expect(problem).toEqual({
      type: 'about:blank',
      title: 'Internal Server Error',
      status: 500,
      instance: undefined,
      code: 'INTERNAL_ERROR',
    });
    expect(JSON.stringify(problem)).not.toMatch(/secret|stack|at /);
    expect(toProblemDetails('a thrown string')).toMatchObject({
      status: 500,
      code: 'INTERNAL_ERROR',
    });
  });
});
