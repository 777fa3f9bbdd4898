/**
 * An emmett-style decider specification (STYLE §6) over the account decider:
 *
 *   given(anAccountOpened(), aDeposit('100')).when(withdrawCommand('10')).then([aWithdrawal('10')])
 *   given(...).with({ market, ref }).when(cmd).thenThrows('INSUFFICIENT_BALANCE', { field: 'amount' })
 *   given(...).when(cmd).thenNothing()
 *
 * `given` folds its events with `evolve` from the initial state of the opened account's id; `when` runs `decide`
 * with a DecideContext (default: the shipped reference data and an empty market). `then` also folds the decided
 * events, so an event `evolve` cannot apply fails the spec. `thenThrows` asserts a LedgerDomainError with that
 * stable code (and the field / Binance code when given): a rejection appends nothing.
 */
import type {
  AccountCommand,
  AccountEvent,
  AccountState,
  DecideContext,
  MarketView,
  ReferenceData,
} from '@ledger/margin-domain';
import {
  EMPTY_MARKET,
  LedgerDomainError,
  decide,
  evolve,
  initialAccountState,
} from '@ledger/margin-domain';

import { DEFAULT_ACCOUNT_ID } from './builders/account';
import { shippedReferenceData } from './builders/reference-data';

export interface ThrowsDetails {
  field?: string;
  binanceCode?: number;
}

export interface WhenStage {
  /** The decided events equal `expected` exactly (and fold), or `expected` is a check over them. */
  then(
    expected:
      | AccountEvent[]
      | ((events: AccountEvent[], after: AccountState, before: AccountState) => void),
  ): void;
  /** decide throws a LedgerDomainError with this code (and details); nothing is appended. */
  thenThrows(code: string, details?: ThrowsDetails): void;
  /** The LedgerDomainError decide throws (fails if it decides events or throws anything else). */
  error(): LedgerDomainError;
  /** decide accepts and decides no event. */
  thenNothing(): void;
  /** The decided events (throws what decide throws). */
  events(): AccountEvent[];
  /** The state after folding the decided events. */
  stateAfter(): AccountState;
}

export interface GivenStage {
  /** Replace the DecideContext's reference data and/or market. */
  with(ctx: Partial<DecideContext>): GivenStage;
  when(command: AccountCommand): WhenStage;
  /** The state the given events fold to. */
  state(): AccountState;
  readonly context: DecideContext;
}

export function foldEvents(events: readonly AccountEvent[], from?: AccountState): AccountState {
  const opened = events.find((e) => e.type === 'AccountOpened');
  let state =
    from ??
    initialAccountState(
      opened?.type === 'AccountOpened' ? opened.data.accountId : DEFAULT_ACCOUNT_ID,
    );
  for (const event of events) state = evolve(state, event);
  return state;
}

export function given(...events: AccountEvent[]): GivenStage {
  return stage(events, { ref: shippedReferenceData(), market: EMPTY_MARKET });
}

function stage(events: readonly AccountEvent[], context: DecideContext): GivenStage {
  const state = (): AccountState => foldEvents(events);
  return {
    context,
    state,
    with: (ctx) =>
      stage(events, { ref: ctx.ref ?? context.ref, market: ctx.market ?? context.market }),
    when: (command) => whenStage(state(), command, context),
  };
}

function whenStage(
  before: AccountState,
  command: AccountCommand,
  context: DecideContext,
): WhenStage {
  const run = (): AccountEvent[] => decide(command, before, context);
  const after = (decided: AccountEvent[]): AccountState => foldEvents(decided, before);
  return {
    then(expected) {
      const decided = run();
      const folded = after(decided);
      if (typeof expected === 'function') expected(decided, folded, before);
      else expect(decided).toEqual(expected);
    },
    thenThrows(code, details = {}) {
      const error = rejection();
      expect(error.code).toBe(code);
      if ('field' in details) expect(error.field).toBe(details.field);
      if ('binanceCode' in details) expect(error.binanceCode).toBe(details.binanceCode);
    },
    error: () => rejection(),
    thenNothing() {
      expect(run()).toEqual([]);
    },
    events: run,
    stateAfter: () => after(run()),
  };

  function rejection(): LedgerDomainError {
    let caught: unknown;
    let decided: AccountEvent[] | undefined;
    try {
      decided = run();
    } catch (error) {
      caught = error;
    }
    expect(decided).toBeUndefined();
    expect(caught).toBeInstanceOf(LedgerDomainError);
    return caught as LedgerDomainError;
  }
}

/** A DecideContext from parts (default: shipped reference data, empty market). */
export function decideContext(
  parts: { ref?: ReferenceData; market?: MarketView } = {},
): DecideContext {
  return { ref: parts.ref ?? shippedReferenceData(), market: parts.market ?? EMPTY_MARKET };
}
