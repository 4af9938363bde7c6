import { describe, expect, it } from 'vitest';
import type { DestinationAddress } from '#lib/domain/connection.ts';
import type { Destinations } from '#lib/ports/destination.ts';
import { checkApiKey, KeyVerificationError } from '#lib/use-cases/check-api-key.ts';
import { InMemoryDestination, InMemoryOrttoDestination } from '#test/fakes/in-memory-destination.ts';

const KEY = 'a-key-that-works-0001';

const world = () => {
  const autopilot = new InMemoryDestination({ validKeys: [KEY] });
  const eu = new InMemoryOrttoDestination('eu', { validKeys: [KEY] });
  const global = new InMemoryOrttoDestination('global');
  const asked: DestinationAddress[] = [];
  const destinations: Destinations = {
    for: (address) => {
      asked.push(address);
      if (address.type === 'autopilot') return autopilot;
      return address.region === 'eu' ? eu : global;
    },
  };
  return { autopilot, eu, global, asked, deps: { destinations } };
};

const refusal = async (work: Promise<unknown>): Promise<KeyVerificationError> => {
  const error = await work.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(KeyVerificationError);
  return error as KeyVerificationError;
};

describe('a key check asks the connection’s own destination', () => {
  it('Ortto: one `verify()` in the connection’s region, and nothing to compare accounts by', async () => {
    const w = world();
    expect(await checkApiKey(w.deps, KEY, { type: 'ortto', region: 'eu' })).toEqual({ type: 'ortto' });
    expect(w.eu.calls).toEqual(['verify']);
    expect(w.asked).toEqual([{ type: 'ortto', region: 'eu' }]);
    expect(w.autopilot.requests).toEqual([]);
  });

  it('Autopilot: the account’s lists, which a rotation compares', async () => {
    const w = world();
    await w.autopilot.open(KEY).createList('Newsletter');
    const check = await checkApiKey(w.deps, KEY, { type: 'autopilot' });
    expect(check).toEqual({ type: 'autopilot', lists: [{ id: 'contactlist_1', title: 'Newsletter' }] });
  });

  it('an Ortto refusal names Ortto and the region asked, never Autopilot', async () => {
    const w = world();
    const error = await refusal(checkApiKey(w.deps, KEY, { type: 'ortto' }));
    expect(error.message).toBe(
      'Ortto rejected this API key in the "global" region; check the key and that its account is in ' +
        'this region, and try again.',
    );
    expect(error).toMatchObject({ retryable: false, destination: 'Ortto' });
  });

  it('an Autopilot refusal reads as before', async () => {
    const w = world();
    const error = await refusal(checkApiKey(w.deps, 'not-this-key-0001', { type: 'autopilot' }));
    expect(error.message).toBe('Autopilot rejected this API key; check it and try again.');
    expect(error).toMatchObject({ retryable: false, destination: 'Autopilot' });
  });

  it('a throttled Ortto check is retryable and says what Ortto answered', async () => {
    const w = world();
    w.eu.account.throttleNext = 1;
    const error = await refusal(checkApiKey(w.deps, KEY, { type: 'ortto', region: 'eu' }));
    expect(error.message).toBe(
      'Ortto could not check the key right now (it answered 429); try again shortly.',
    );
    expect(error.retryable).toBe(true);
  });
});
