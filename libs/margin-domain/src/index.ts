/**
 * @ledger/margin-domain: every margin rule of spec/RULES.md as pure functions over decimal.js. The only import
 * path other libs may use.
 */
export * from './money/decimal';
export * from './shared/errors';
export * from './shared/validate';
export * from './reference-data';
export * from './market/market';
export * from './market/market.events';
export * from './market/market.decide';
export * from './account/account.state';
export * from './account/account.events';
export * from './account/account.commands';
export * from './account/account.evolve';
export * from './account/account.decide';
export type { DecideContext } from './account/decide/context';
export { applyFill } from './account/decide/trading';
export type { FillOutcome } from './account/decide/trading';
export * from './margin/brackets';
export * from './margin/position-math';
export * from './margin/margin-state';
export * from './margin/liquidation-price';
export * from './risk/auto-exchange';
export * from './risk/liquidation';
export * from './risk/assess';
export * from './margin/account-view';
export * from './account/account.snapshot';
