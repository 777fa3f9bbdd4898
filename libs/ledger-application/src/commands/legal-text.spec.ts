/**
 * Goal: one text rule for every string the ledger takes (issue 11 item 9). NUL and lone UTF-16 surrogates are
 * refused wherever they hide in a command (a field, a nested override, an array element, a field name) with
 * ILLEGAL_CHARACTERS (Binance -1100) naming the field; paired surrogates (emoji) and ordinary Unicode pass. The
 * command schema applies it, so the HTTP API and `ledger apply` refuse the same inputs before anything runs.
 */
import { LedgerDomainError } from '@ledger/margin-domain';
import { checkCommandShape } from './command-schema';
import { assertLegalText, findIllegalText, isLegalText } from './legal-text';

describe('legal text', () => {
  it.each([
    ['plain ASCII', 'o-1'],
    ['accents and CJK', 'ordre-é-注文'],
    ['an emoji (a surrogate pair)', 'order-😀'],
    ['the replacement character', '\uFFFD'],
    ['other control characters', 'a\tb\nc\u0001'],
  ])('accepts %s', (_name, text) => {
    expect(isLegalText(text)).toBe(true);
  });

  it.each([
    ['NUL', 'o\u0000x'],
    ['a lone high surrogate', 'o\uD800x'],
    ['a lone low surrogate', 'o\uDC00x'],
    ['a high surrogate at the end', 'order-\uD83D'],
    ['two high surrogates', '\uD83D\uD83D'],
    ['a reversed pair', '\uDE00\uD83D'],
  ])('refuses %s', (_name, text) => {
    expect(isLegalText(text)).toBe(false);
  });

  it('finds the first illegal string at any depth, keys included', () => {
    expect(findIllegalText({ a: 'ok', b: [1, 'x', { c: 'y\u0000' }] }, '')).toBe('b.2.c');
    expect(findIllegalText({ overrides: { 'fees\uD800': 1 } }, '')).toBe('overrides.fees\uFFFD');
    expect(findIllegalText('x\u0000', 'orderId')).toBe('orderId');
    expect(findIllegalText({ a: 'ok', n: 1, t: true, z: null }, '')).toBeUndefined();
  });

  it('walks a deeply nested value without overflowing the stack', () => {
    let deep: unknown = 'bottom\u0000';
    for (let i = 0; i < 100_000; i++) deep = [deep];
    expect(findIllegalText(deep, 'x')).toMatch(/^x(\.0)+$/);
  });

  it('throws ILLEGAL_CHARACTERS with Binance -1100 and the field', () => {
    let error: unknown;
    try {
      assertLegalText({ version: 'v\u0000' }, '');
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(LedgerDomainError);
    expect(error).toMatchObject({
      code: 'ILLEGAL_CHARACTERS',
      binanceCode: -1100,
      field: 'version',
    });
  });

  it.each([
    ['PlaceOrder', { accountId: 'a1', orderId: 'o\u0000', symbol: 'BTCUSDT' }, 'orderId'],
    ['CancelOrder', { accountId: 'a1', orderId: '\uDFFF' }, 'orderId'],
    ['PublishReferenceData', { overrides: {}, version: 'v\u0000' }, 'version'],
    ['PublishReferenceData', { overrides: { fees: { x: ['\uD800'] } } }, 'overrides.fees.x.0'],
    ['Deposit', { accountId: 'a1', 'asset\u0000': 'USDT', amount: '1' }, 'asset\uFFFD'],
    ['Deposit\u0000', { accountId: 'a1' }, 'command'],
  ])('the command schema refuses %s with illegal text in %j', (command, fields, field) => {
    let error: unknown;
    try {
      checkCommandShape(fields, command);
    } catch (e) {
      error = e;
    }
    expect(error).toMatchObject({ code: 'ILLEGAL_CHARACTERS', field });
  });
});
