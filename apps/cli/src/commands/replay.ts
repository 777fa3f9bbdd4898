import { replayAccount } from '@ledger/ledger-application';
import { configuredTarget } from '../database-target';
import { openRuntime, parsePoint } from '../runtime';

/** `ledger replay ACCOUNT [--to POSITION|TIME]`: each event with the state change it caused. */
export async function replayCommand(
  accountId: string,
  options: { to?: string; json?: boolean },
): Promise<number> {
  const runtime = await openRuntime(configuredTarget(), { riskSaga: false });
  try {
    const steps = await replayAccount(
      runtime.database.store,
      accountId,
      options.to ? parsePoint(options.to) : undefined,
    );
    if (steps.length === 0) {
      console.error(
        `account ${accountId} has no events${options.to ? ` up to ${options.to}` : ''}`,
      );
      return 1;
    }
    for (const { event, changes } of steps) {
      if (options.json) {
        console.log(
          JSON.stringify({
            globalPosition: event.globalPosition.toString(),
            version: event.streamVersion,
            occurredAt: event.metadata.occurredAt,
            type: event.type,
            data: event.data,
            changes,
          }),
        );
        continue;
      }
      console.log(
        `v${event.streamVersion} @${event.globalPosition} ${event.metadata.occurredAt} ${event.type} ${JSON.stringify(event.data)}`,
      );
      for (const change of changes) console.log(`    ${change}`);
    }
    return 0;
  } finally {
    await runtime.close();
  }
}
