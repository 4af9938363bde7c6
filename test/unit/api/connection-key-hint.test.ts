import { describe, expect, it } from 'vitest';
import { aConnection } from '#test/fixtures/state-records.ts';
import { API_KEY, ApiHarness, type Token, validConnection } from '#test/support/api-harness.ts';

/** The last 4 of API_KEY, and a second key of the same account with a hint no other text contains. */
const HINT = API_KEY.slice(-4);
const NEXT_KEY = 'second-key-same-account-Q9zX';

const created = async () => {
  const h = new ApiHarness();
  h.destination.validKeys.add(NEXT_KEY);
  const reply = await h.call('POST', '/connections', {
    body: validConnection({
      sharing: 'admins+contributors',
      exportUsers: [{ id: 'dev-contributor-2' }],
    }),
  });
  expect(reply.status, reply.text).toBe(201);
  return { h, id: reply.body.id as string, reply };
};

describe('the key hint in the connection view', () => {
  it('is the last 4 characters of the key the connection was created with, for admins', async () => {
    const { h, id, reply } = await created();
    expect(reply.body.keyHint).toBe(HINT);
    expect((await h.call('GET', `/connections/${id}`)).body.keyHint).toBe(HINT);
    const listed = (await h.call('GET', '/connections')).body.connections;
    expect(listed.find((c: { id: string }) => c.id === id).keyHint).toBe(HINT);
    expect(reply.text).not.toContain(API_KEY);
  });

  it('becomes the last 4 of the new key on rotation', async () => {
    const { h, id } = await created();
    const rotated = await h.call('POST', `/connections/${id}/rotate-key`, { body: { apiKey: NEXT_KEY } });
    expect(rotated.status, rotated.text).toBe(200);
    expect(rotated.body.keyHint).toBe('Q9zX');
    expect((await h.call('GET', `/connections/${id}`)).body.keyHint).toBe('Q9zX');
    expect(rotated.text).not.toContain(NEXT_KEY);
  });

  it.each<Token>(['dev-contributor', 'dev-contributor-2', 'dev-viewer'])(
    'is not shown to %s, in the list or the connection',
    async (token) => {
      const { h, id } = await created();
      const one = await h.call('GET', `/connections/${id}`, { token });
      const all = await h.call('GET', '/connections', { token });
      expect([one.status, all.status]).toEqual([200, 200]);
      expect(one.body).not.toHaveProperty('keyHint');
      expect(all.body.connections[0]).not.toHaveProperty('keyHint');
      expect(one.text + all.text).not.toContain(HINT);
    },
  );

  it('is absent for a connection stored before hints existed, which still reads and rotates', async () => {
    const h = new ApiHarness();
    h.destination.validKeys.add(NEXT_KEY);
    await h.state.connections.create(aConnection({ id: 'conn-old' }));
    const old = await h.call('GET', '/connections/conn-old');
    expect(old.status, old.text).toBe(200);
    expect(old.body).not.toHaveProperty('keyHint');
    const rotated = await h.call('POST', '/connections/conn-old/rotate-key', { body: { apiKey: NEXT_KEY } });
    expect(rotated.status, rotated.text).toBe(200);
    expect(rotated.body.keyHint).toBe('Q9zX');
  });

  it('is never logged, nor any part of the key beyond it', async () => {
    const { h, id } = await created();
    await h.call('POST', `/connections/${id}/rotate-key`, { body: { apiKey: NEXT_KEY } });
    expect(h.logger.lines.some((l) => l.includes('connection key rotated'))).toBe(true);
    const logs = h.logger.lines.join('\n');
    for (const secret of [HINT, 'Q9zX', API_KEY, NEXT_KEY, 'keyHint']) expect(logs).not.toContain(secret);
  });
});
