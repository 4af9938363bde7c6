import { describe, expect, it } from 'vitest';
import { ConnectionSchema, keyHintOf } from '#lib/domain/connection.ts';
import { apiKey } from '#lib/use-cases/connection-inputs.ts';
import { aConnection } from '#test/fixtures/state-records.ts';

describe('the key hint: what admins see of a connection’s API key', () => {
  it('is the last 4 characters of the key', () => {
    expect(keyHintOf('0123456789abcdefQ9zX')).toBe('Q9zX');
    expect(keyHintOf('ab-cd-ef-12')).toBe('f-12');
  });

  it('is none for a key too short to give 4 characters away, so it never shows the whole key or half of it', () => {
    for (const key of ['', 'a', 'abc', 'abcd', 'abcde', 'abcdefg']) {
      expect(keyHintOf(key), key).toBeUndefined();
    }
    expect(keyHintOf('abcdefgh')).toBe('efgh');
  });

  it('exists for every key the API accepts, so a rotation always replaces the hint of the old key', () => {
    const shortest = apiKey.parse(`${'a'.repeat(7)}Z`);
    expect(shortest).toHaveLength(8);
    expect(keyHintOf(shortest)).toBe('aaaZ');
    expect(apiKey.safeParse('a'.repeat(7)).success).toBe(false);
  });

  it('reads a connection stored before key hints existed as having none', () => {
    const { keyHint: _, ...old } = aConnection({ keyHint: 'Q9zX' });
    expect(ConnectionSchema.parse(old).keyHint).toBeUndefined();
    expect(ConnectionSchema.parse({ ...old, keyHint: 'Q9zX' }).keyHint).toBe('Q9zX');
  });

  it('refuses a stored hint that is not 4 characters: a longer one would be more of the key', () => {
    expect(ConnectionSchema.safeParse(aConnection({ keyHint: 'whole-key-12345' })).success).toBe(false);
  });
});
