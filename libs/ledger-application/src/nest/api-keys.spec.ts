/**
 * Goal: LEDGER_API_KEYS is read strictly (README "Auth"): operator and account entries, an account id may hold
 * `:`; a malformed entry or a key listed twice stops the start with a message that names the entries by position
 * and grant and the key by its key id, never by the key itself (a log line must not leak a secret).
 */
import { hashApiKey, keyIdOfHash, parseApiKeysConfig } from './api-keys';

const OP = 'op_key_000000000000001';
const A1 = 'a1_key_000000000000001';

describe('parseApiKeysConfig (LEDGER_API_KEYS)', () => {
  it('reads operator and account keys, spaces and empty entries aside', () => {
    expect(parseApiKeysConfig(` op:${OP} , ,acct:a:b:1:${A1}`)).toEqual([
      { role: 'operator', key: OP },
      { role: 'account', accountId: 'a:b:1', key: A1 },
    ]);
    expect(parseApiKeysConfig(undefined)).toEqual([]);
  });

  it('refuses a malformed entry', () => {
    expect(() => parseApiKeysConfig('op:short')).toThrow(/16–128/);
    expect(() => parseApiKeysConfig(`admin:${OP}`)).toThrow(/op: or acct:/);
  });

  it.each([
    [
      'twice as an operator key',
      `op:${OP},op:${OP}`,
      OP,
      'entry 2 (op:…) repeats the key of entry 1 (op:…)',
    ],
    [
      'once per role',
      `acct:a1:${A1},op:${OP},op:${A1}`,
      A1,
      'entry 3 (op:…) repeats the key of entry 1 (acct:a1:…)',
    ],
    [
      'for two accounts',
      `acct:a1:${A1},acct:a2:${A1}`,
      A1,
      'entry 2 (acct:a2:…) repeats the key of entry 1 (acct:a1:…)',
    ],
  ])(
    'refuses a key listed %s, naming the entries and the key id, not the key',
    (_name, text, key, says) => {
      let message = '';
      try {
        parseApiKeysConfig(text);
      } catch (error) {
        message = (error as Error).message;
      }
      expect(message).toContain(says);
      expect(message).toContain(`key id ${keyIdOfHash(hashApiKey(key))}`);
      expect(message).not.toContain(OP);
      expect(message).not.toContain(A1);
    },
  );
});
