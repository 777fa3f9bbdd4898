import { Command, CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { Inject } from '@nestjs/common';
import type { CommandInput } from '../commands/command-schema';
import type { CommandMeta, CommandOutcome, Ledger } from '../ledger/ledger';
import { LEDGER } from './ledger.tokens';
import { LedgerGate } from './ledger-gate';

/**
 * Runs one ledger command from outside (an HTTP body): `input` is `{ command: 'Deposit', accountId, ... }` with
 * the scenario-format field names. Rejections throw the domain's LedgerDomainError; a command id seen before
 * returns the first outcome and writes nothing.
 */
export class ExecuteLedgerCommand extends Command<CommandOutcome> {
  constructor(
    readonly input: CommandInput,
    readonly meta: CommandMeta,
  ) {
    super();
  }
}

/** Load → fold → decide → append, all inside `Ledger.execute`. It never publishes: the pump does. */
@CommandHandler(ExecuteLedgerCommand)
export class ExecuteLedgerCommandHandler implements ICommandHandler<ExecuteLedgerCommand> {
  constructor(
    @Inject(LEDGER) private readonly ledger: Ledger,
    private readonly gate: LedgerGate,
  ) {}

  execute(command: ExecuteLedgerCommand): Promise<CommandOutcome> {
    return this.gate.run(() => this.ledger.execute(command.input, command.meta));
  }
}
