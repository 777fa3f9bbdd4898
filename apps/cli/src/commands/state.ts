import { parsePoint, openRuntime } from '../runtime';
import { configuredTarget } from '../database-target';

/** `ledger state ACCOUNT [--as-of TIME|POSITION]`: the account's margin state as JSON. */
export async function stateCommand(accountId: string, options: { asOf?: string }): Promise<number> {
  const runtime = await openRuntime(configuredTarget(), { riskSaga: false });
  try {
    const view = await runtime.ledger.accountView(
      accountId,
      options.asOf ? parsePoint(options.asOf) : undefined,
    );
    if (!view) {
      console.error(
        `account ${accountId} does not exist${options.asOf ? ` as of ${options.asOf}` : ''}`,
      );
      return 1;
    }
    console.log(JSON.stringify(view, null, 2));
    return 0;
  } finally {
    await runtime.close();
  }
}
