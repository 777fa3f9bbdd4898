/*
 * The start-up check of a consumer after a restore (issue 11, item 8): same server runs; another or an unknown
 * server runs (and is recorded) only when its transaction id counter is above every stored transaction id; else it
 * refuses with a message that names the ids and the procedure. Boundaries: equal ids, no stored ids, ids with an
 * epoch.
 */
import { decideServerOrigin } from './server-origin';

const here = '7714685665747331182';
const there = '7300000000000000001';

describe('decideServerOrigin', () => {
  it('runs on the server it last ran on, whatever the ids say', () => {
    expect(
      decideServerOrigin('risk-saga', {
        currentIdentifier: here,
        storedIdentifier: here,
        currentTransactionId: 10n,
        highestStoredTransactionId: 1_000n,
      }),
    ).toEqual({ action: 'run' });
  });

  it('records a new server whose counter is past every stored id, and says so', () => {
    const decision = decideServerOrigin('risk-saga', {
      currentIdentifier: here,
      storedIdentifier: there,
      currentTransactionId: 1_001n,
      highestStoredTransactionId: 1_000n,
    });
    expect(decision).toEqual({
      action: 'record',
      note: expect.stringContaining(`last ran on server ${there}, this is server ${here}`),
    });
  });

  it('records silently the first server of a consumer (no identifier stored yet), or of an empty store', () => {
    expect(
      decideServerOrigin('c', {
        currentIdentifier: here,
        storedIdentifier: null,
        currentTransactionId: 5_000n,
        highestStoredTransactionId: 4_999n,
      }),
    ).toEqual({ action: 'record', note: null });
    expect(
      decideServerOrigin('c', {
        currentIdentifier: here,
        storedIdentifier: there,
        currentTransactionId: 3n,
        highestStoredTransactionId: null,
      }),
    ).toMatchObject({ action: 'record' });
  });

  it('refuses when a stored id is not below the current one, naming the ids and the procedure', () => {
    for (const highest of [1_000n, 999n]) {
      const decision = decideServerOrigin('risk-saga', {
        currentIdentifier: here,
        storedIdentifier: there,
        currentTransactionId: 999n,
        highestStoredTransactionId: highest,
      });
      expect(decision.action).toBe('refuse');
      if (decision.action !== 'refuse') continue;
      expect(decision.message).toContain(`consumer risk-saga last ran on server ${there}`);
      expect(decision.message).toContain(`transaction ids up to ${highest}`);
      expect(decision.message).toContain(`current 999`);
      expect(decision.message).toContain('README.md "Operations"');
    }
  });

  it('refuses an unknown origin too (a new consumer on a restored database), with the epoch spelled out', () => {
    const highest = (3n << 32n) + 17n;
    const decision = decideServerOrigin('event-bus', {
      currentIdentifier: here,
      storedIdentifier: null,
      currentTransactionId: 800n,
      highestStoredTransactionId: highest,
    });
    expect(decision).toEqual({
      action: 'refuse',
      message: expect.stringContaining(`past ${highest} (epoch 3, xid 17;`),
    });
    if (decision.action === 'refuse')
      expect(decision.message).toContain('no server recorded yet for consumer event-bus');
  });
});
