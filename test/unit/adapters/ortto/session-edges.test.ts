import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createHttpAgent, type HttpAgent } from '#lib/adapters/http/transport.ts';
import { OrttoClient } from '#lib/adapters/ortto/client.ts';
import { OrttoDestination } from '#lib/adapters/ortto/destination.ts';
import type { ContactData } from '#lib/domain/contact.ts';
import { PermanentError, TransientError } from '#lib/domain/errors.ts';
import { type OrttoStandIn, startOrttoStandIn } from '#local/ortto-standin/index.ts';

/** Edges of the Ortto session, against the stand-in on loopback. */

const FIELD_GET = 'POST /v1/person/custom-field/get';
const FIELD_CREATE = 'POST /v1/person/custom-field/create';

let standIn: OrttoStandIn;
let agent: HttpAgent;
let destination: OrttoDestination;
let key: string;

const requests = (route: string): number =>
  Object.values(standIn.counts()[route] ?? {}).reduce((a, b) => a + b, 0);
const contact = (email: string, extra: Partial<ContactData> = {}): ContactData => ({
  email,
  fields: {},
  custom: {},
  tags: { set: ['seg:e'], unset: [], existingOnly: false },
  ...extra,
});

beforeAll(async () => {
  standIn = await startOrttoStandIn({ ratePerSecond: 100_000, seed: 3, clock: () => 0 });
  agent = createHttpAgent();
});
beforeEach(() => {
  key = randomBytes(16).toString('hex');
  standIn.addKey(key);
  standIn.setFaults(undefined);
  standIn.resetCounts();
  destination = new OrttoDestination({ region: 'global', baseUrl: standIn.url, agent });
});
afterAll(async () => {
  await agent.close();
  await standIn.close();
});

describe('OrttoSession edges', () => {
  it('refuses a list id in upsertMany, naming it, before sending anything', async () => {
    const err = await destination
      .open(key)
      .upsertMany([contact('a@example.com')], 'list-42')
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PermanentError);
    expect((err as PermanentError).message).toMatch(/list-42/);
    expect(standIn.counts()).toEqual({});
  });

  it('a key check fills the field cache: the first batch reads no fields again', async () => {
    const s = destination.open(key);
    await s.verify();
    await s.upsertMany([contact('a@example.com', { custom: { Plan: { type: 'string', value: 'pro' } } })]);
    expect([requests(FIELD_GET), requests(FIELD_CREATE)]).toEqual([1, 1]);
  });

  it('a failed field read is tried again by the next batch, not kept', async () => {
    standIn.setFaults({ rules: [{ kind: 'error', status: 503, routes: [FIELD_GET], max: 1 }] });
    const s = destination.open(key);
    const batch = [contact('a@example.com', { custom: { Plan: { type: 'string', value: 'pro' } } })];
    await expect(s.upsertMany(batch)).rejects.toBeInstanceOf(TransientError);
    expect(await s.upsertMany(batch)).toEqual([{ email: 'a@example.com', ok: true }]);
    expect(standIn.counts()[FIELD_GET]).toEqual({ 200: 1, 503: 1 });
  });

  it('a field Ortto will not create fails the contacts writing it, and is not asked for again in the session', async () => {
    const raw = new OrttoClient({ apiKey: key, baseUrl: standIn.url, agent });
    for (let i = 0; i < 100; i++) await raw.createCustomField({ name: `Filler ${i}`, type: 'text' });
    standIn.resetCounts();
    const s = destination.open(key);
    const writer = (email: string): ContactData =>
      contact(email, { custom: { Plan: { type: 'string', value: 'pro' } } });
    const first = await s.upsertMany([writer('a@example.com'), contact('b@example.com')]);
    expect(first[0]).toEqual({
      email: 'a@example.com',
      ok: false,
      reason: expect.stringMatching(/^custom_field_refused: field "Plan": .*maximum of 100 custom fields/),
      explained: true,
    });
    expect(first[1]).toEqual({ email: 'b@example.com', ok: true });
    const again = await s.upsertMany([writer('a@example.com')]);
    expect(again[0]?.ok).toBe(false);
    // One refused create (plus the read again that checks for a field made meanwhile), not two.
    expect(standIn.counts()[FIELD_CREATE]).toEqual({ 400: 1 });
  });

  it('a bookmark this adapter did not write is a PermanentError, and nothing is sent', async () => {
    const s = destination.open(key);
    for (const bookmark of [
      'not-a-bookmark',
      Buffer.from('{"v":2}').toString('base64url'),
      'x'.repeat(2_000),
    ]) {
      const err = await s.listMembers('seg:e', bookmark).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(PermanentError);
      expect((err as PermanentError).details.reason).toBe('invalid_bookmark');
    }
    expect(standIn.counts()).toEqual({});
  });
});
