import { LedgerDomainError } from '@ledger/margin-domain';
import { assertLegalText } from './legal-text';

/**
 * Every command the ledger takes, with its fields (spec/scenario-format.md "Commands and their fields"). The same
 * names are the HTTP API's request bodies. An unknown command or field is rejected before anything runs.
 */
export const COMMAND_FIELDS = {
  OpenAccount: { required: ['accountId'], optional: ['vipLevel', 'assetMode', 'positionMode'] },
  Deposit: { required: ['accountId', 'asset', 'amount'], optional: [] },
  Withdraw: { required: ['accountId', 'asset', 'amount'], optional: [] },
  SetLeverage: { required: ['accountId', 'symbol', 'leverage'], optional: [] },
  SetMarginType: { required: ['accountId', 'symbol', 'marginType'], optional: [] },
  SwitchAssetMode: { required: ['accountId', 'assetMode'], optional: [] },
  SetPositionMode: { required: ['accountId', 'positionMode'], optional: [] },
  SetVipLevel: { required: ['accountId', 'vipLevel'], optional: [] },
  Fill: {
    required: ['accountId', 'symbol', 'side', 'quantity', 'price'],
    optional: ['fee', 'maker', 'positionSide', 'orderId'],
  },
  PlaceOrder: {
    required: ['accountId', 'orderId', 'symbol', 'side', 'quantity', 'price'],
    optional: ['positionSide'],
  },
  CancelOrder: { required: ['accountId', 'orderId'], optional: [] },
  AdjustIsolatedMargin: { required: ['accountId', 'symbol', 'amount'], optional: ['positionSide'] },
  SetFundingRate: { required: ['symbol', 'rate'], optional: [] },
  SettleFunding: { required: ['symbol'], optional: ['rate'] },
  UpdateMarkPrice: { required: ['symbol', 'markPrice'], optional: ['indexPrice'] },
  UpdateAssetIndex: {
    required: [
      'asset',
      'index',
      'bidBuffer',
      'askBuffer',
      'autoExchangeBidBuffer',
      'autoExchangeAskBuffer',
    ],
    optional: [],
  },
  PublishReferenceData: { required: ['overrides'], optional: ['version'] },
} as const satisfies Record<string, { required: readonly string[]; optional: readonly string[] }>;

export type CommandName = keyof typeof COMMAND_FIELDS;
export const COMMAND_NAMES = Object.keys(COMMAND_FIELDS) as CommandName[];

export const ACCOUNT_COMMAND_NAMES: readonly CommandName[] = COMMAND_NAMES.filter((name) =>
  (COMMAND_FIELDS[name].required as readonly string[]).includes('accountId'),
);

/** A command as it arrives: its name plus its fields. */
export interface CommandInput {
  command: string;
  [field: string]: unknown;
}

/** Account ids: letters, digits and `_.:-`, 1–64 characters (they become stream ids). */
export const ACCOUNT_ID_PATTERN = /^[A-Za-z0-9_.:-]{1,64}$/;

export function isCommandName(name: unknown): name is CommandName {
  return typeof name === 'string' && Object.prototype.hasOwnProperty.call(COMMAND_FIELDS, name);
}

/**
 * Shape check shared by the scenario parser, the HTTP API and `ledger apply`: legal text everywhere (no NUL, no
 * lone surrogate, in any field at any depth or any field name), name, unknown fields, required fields, account id.
 */
export function checkCommandShape(input: Record<string, unknown>, name: unknown): CommandName {
  assertLegalText(name, 'command');
  assertLegalText(input, '');
  if (!isCommandName(name)) {
    throw new LedgerDomainError('UNKNOWN_COMMAND', `unknown command ${JSON.stringify(name)}`, {
      field: 'command',
    });
  }
  const spec = COMMAND_FIELDS[name];
  const allowed = new Set<string>([...spec.required, ...spec.optional]);
  for (const key of Object.keys(input)) {
    if (!allowed.has(key)) {
      throw new LedgerDomainError('UNKNOWN_FIELD', `${name} has no field ${key}`, { field: key });
    }
  }
  for (const key of spec.required) {
    if (input[key] === undefined || input[key] === null) {
      throw new LedgerDomainError('MISSING_FIELD', `${key} is required`, {
        field: key,
        binanceCode: -1102,
      });
    }
  }
  if ('accountId' in input) {
    const id = input.accountId;
    if (typeof id !== 'string' || !ACCOUNT_ID_PATTERN.test(id)) {
      throw new LedgerDomainError(
        'INVALID_ACCOUNT_ID',
        'accountId must be 1–64 of A-Z a-z 0-9 _ . : -',
        {
          field: 'accountId',
        },
      );
    }
  }
  return name;
}
