/*
 * Upcasters lift an event one schema version at a time, chained, on every read; events of other types or
 * already at the newest version pass through untouched, and two upcasters for one (type, version) are refused.
 */
import type { RecordedEvent } from './event-store';
import { UpcasterRegistry } from './upcaster-registry';

function recorded(type: string, schemaVersion: number, data: RecordedEvent['data']): RecordedEvent {
  return {
    globalPosition: 1n,
    transactionId: 3n,
    streamId: 'account-1',
    streamVersion: 1,
    type,
    schemaVersion,
    data,
    metadata: { commandId: 'c-1', occurredAt: '2024-01-01T00:00:00.000Z' },
    recordedAt: new Date(0),
  };
}

describe('UpcasterRegistry', () => {
  const registry = new UpcasterRegistry([
    { type: 'Deposited', fromSchemaVersion: 1, upcast: (data) => ({ ...data, asset: 'USDT' }) },
    {
      type: 'Deposited',
      fromSchemaVersion: 2,
      upcast: (data, metadata) => ({ ...data, by: metadata.commandId }),
    },
  ]);

  it('chains v1 → v2 → v3', () => {
    const lifted = registry.upcast(recorded('Deposited', 1, { amount: '1.00' }));
    expect(lifted.schemaVersion).toBe(3);
    expect(lifted.data).toEqual({ amount: '1.00', asset: 'USDT', by: 'c-1' });
  });

  it('starts the chain at the stored version', () => {
    expect(
      registry.upcast(recorded('Deposited', 2, { amount: '1.00', asset: 'BTC' })).data,
    ).toEqual({
      amount: '1.00',
      asset: 'BTC',
      by: 'c-1',
    });
  });

  it('returns the same event when nothing applies', () => {
    const newest = recorded('Deposited', 3, { amount: '1.00' });
    const other = recorded('Withdrawn', 1, { amount: '1.00' });
    expect(registry.upcast(newest)).toBe(newest);
    expect(registry.upcast(other)).toBe(other);
    expect(new UpcasterRegistry().upcast(other)).toBe(other);
  });

  it('refuses two upcasters for one type and version', () => {
    const twice = {
      type: 'Deposited',
      fromSchemaVersion: 1,
      upcast: (data: RecordedEvent['data']) => data,
    };
    expect(() => new UpcasterRegistry([twice, twice])).toThrow(/two upcasters for Deposited v1/);
  });
});
