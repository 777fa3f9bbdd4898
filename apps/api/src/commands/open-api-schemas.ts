import { COMMAND_FIELDS, type CommandName } from '@ledger/ledger-application';

/** OpenAPI schemas of the request bodies, generated from the ledger's own field list (COMMAND_FIELDS). */
type Schema = Record<string, unknown>;

const DECIMAL: Schema = {
  type: 'string',
  pattern: '^-?(0|[1-9]\\d*)(\\.\\d{1,8})?$',
  description: 'Decimal string: at most 8 decimals, no exponent, no leading +, |x| ≤ 1e18',
};
const text = (description: string, example?: string): Schema => ({
  type: 'string',
  minLength: 1,
  maxLength: 64,
  description,
  ...(example === undefined ? {} : { example }),
});
const oneOf = (...values: string[]): Schema => ({ type: 'string', enum: values });

const FIELD_SCHEMAS: Record<string, Schema> = {
  accountId: { type: 'string', pattern: '^[A-Za-z0-9_.:-]{1,64}$', example: 'a1' },
  asset: text('Collateral asset', 'USDT'),
  amount: { ...DECIMAL, example: '1000' },
  symbol: text('Contract symbol', 'BTCUSDT'),
  leverage: { type: 'integer', minimum: 1, maximum: 125, example: 20 },
  marginType: oneOf('CROSSED', 'ISOLATED'),
  assetMode: oneOf('SINGLE', 'MULTI'),
  positionMode: oneOf('ONE_WAY', 'HEDGE'),
  vipLevel: { type: 'integer', minimum: 0, maximum: 9, example: 0 },
  side: oneOf('BUY', 'SELL'),
  quantity: { ...DECIMAL, example: '0.01' },
  price: { ...DECIMAL, example: '60000' },
  fee: {
    ...DECIMAL,
    description: 'Commission amount in the margin asset; absent: the fee schedule',
  },
  maker: { type: 'boolean' },
  positionSide: oneOf('BOTH', 'LONG', 'SHORT'),
  orderId: text('Order id', 'o-1'),
  rate: { ...DECIMAL, example: '0.0001' },
  markPrice: { ...DECIMAL, example: '60000' },
  indexPrice: DECIMAL,
  index: { ...DECIMAL, example: '1' },
  bidBuffer: DECIMAL,
  askBuffer: DECIMAL,
  autoExchangeBidBuffer: DECIMAL,
  autoExchangeAskBuffer: DECIMAL,
  overrides: {
    type: 'object',
    additionalProperties: true,
    description: 'Dotted keys of the reference-data schema (reference-data.md)',
  },
  version: text('Version name'),
};

/** The body of a command endpoint: its fields minus those the path supplies, plus the optional `at`. */
export function commandBodySchema(command: CommandName, fromPath: string[] = []): Schema {
  const spec = COMMAND_FIELDS[command];
  const omit = new Set(fromPath);
  const names = [...spec.required, ...spec.optional].filter((name) => !omit.has(name));
  const properties: Record<string, Schema> = {};
  for (const name of names) properties[name] = FIELD_SCHEMAS[name] ?? { type: 'string' };
  properties.at = {
    type: 'string',
    format: 'date-time',
    description: 'When the command happens (ISO-8601 with a zone); the server clock when absent',
  };
  return {
    type: 'object',
    additionalProperties: false,
    required: (spec.required as readonly string[]).filter((name) => !omit.has(name)),
    properties,
  };
}
