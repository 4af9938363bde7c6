import { describe, expect, it } from 'vitest';
import { webhookSecretId } from '#lib/domain/export-config.ts';
import { ApiHarness, editable } from '#test/support/api-harness.ts';

const HOOK = 'https://hooks.example.com/services/T0/B0/xyz';

const world = async (): Promise<ApiHarness> => {
  const h = new ApiHarness();
  h.segments.set('seg-a', 'Newsletter', [{ id: '1', attributes: { email: 'a@example.com' } }]);
  await h.addConnection({ sharing: 'admins+contributors' });
  return h;
};

const body = (notifications?: Record<string, unknown>) => ({
  name: 'Hooked',
  connectionId: 'conn-1',
  segmentIds: ['seg-a'],
  dataMatching: { email: 'email' },
  ...(notifications === undefined ? {} : { notifications }),
});

/** The PUT document for a view, with its notifications as given (the harness's helper predates them). */
const put = (view: Record<string, unknown>, notifications?: Record<string, unknown>) => ({
  ...editable(view),
  ...(view.removalGuardrail === undefined ? {} : { removalGuardrail: view.removalGuardrail }),
  ...(notifications === undefined ? {} : { notifications }),
  version: view.version,
});

describe('an export’s webhook', () => {
  it('returns the signing secret once, on the save that set the URL, and keeps it in the secret store', async () => {
    const h = await world();

    const created = await h.call('POST', '/exports', {
      body: body({ webhookUrl: HOOK }),
      token: 'dev-contributor',
    });

    expect(created.status).toBe(201);
    expect(created.body.notifications).toEqual({ webhookUrl: HOOK });
    expect(created.body.webhookSecret).toMatch(/^whsec_[0-9a-f]{64}$/);
    expect(await h.keyStore.getApiKey(webhookSecretId(created.body.id))).toBe(created.body.webhookSecret);
    const read = await h.call('GET', `/exports/${created.body.id}`);
    expect(read.text).not.toContain(created.body.webhookSecret);
    expect(read.body.health).toBeNull();

    const again = await h.call('PUT', `/exports/${created.body.id}`, {
      body: put(read.body, { webhookUrl: HOOK }),
    });
    expect(again.status).toBe(200);
    expect(again.body.webhookSecret).toBeUndefined();
    expect(await h.keyStore.getApiKey(webhookSecretId(created.body.id))).toBe(created.body.webhookSecret);
  });

  it('a changed URL gets a new secret; a PUT without notifications removes the webhook and its secret', async () => {
    const h = await world();
    const created = await h.call('POST', '/exports', { body: body({ webhookUrl: HOOK }) });
    const id = created.body.id as string;

    const moved = await h.call('PUT', `/exports/${id}`, {
      body: put(created.body, { webhookUrl: 'https://other.example.net/hook' }),
    });
    expect(moved.body.webhookSecret).toMatch(/^whsec_/);
    expect(moved.body.webhookSecret).not.toBe(created.body.webhookSecret);

    const removed = await h.call('PUT', `/exports/${id}`, { body: put(moved.body) });
    expect(removed.status).toBe(200);
    expect(removed.body.notifications).toEqual({});
    await expect(h.keyStore.getApiKey(webhookSecretId(id))).rejects.toThrow();
  });

  it('deleting the export deletes its secret; a duplicate has no webhook, no secret and no health', async () => {
    const h = await world();
    const created = await h.call('POST', '/exports', { body: body({ webhookUrl: HOOK }) });
    const id = created.body.id as string;
    const at = '2026-12-03T06:00:00.000Z';
    const failing = {
      state: 'failing',
      since: at,
      failingRuns: 1,
      runId: 'run-1',
      runCreatedAt: at,
      seq: 1,
    } as const;
    expect(await h.state.exports.setHealth(id, failing, undefined)).toBe(true);

    const copy = await h.call('POST', `/exports/${id}/duplicate`);
    expect(copy.status).toBe(201);
    expect(copy.body.notifications ?? {}).toEqual({});
    expect(copy.body.health).toBeNull();
    await expect(h.keyStore.getApiKey(webhookSecretId(copy.body.id))).rejects.toThrow();

    expect((await h.call('DELETE', `/exports/${id}`)).status).toBe(204);
    await expect(h.keyStore.getApiKey(webhookSecretId(id))).rejects.toThrow();
  });

  it.each([
    ['plain http', 'http://hooks.example.com/x', 'must use https://'],
    ['http on loopback outside local mode', 'http://127.0.0.1:9000/x', 'only in local mode'],
    ['a private address', 'https://10.0.0.7/x', 'public host'],
    ['the metadata service', 'https://169.254.169.254/latest', 'public host'],
    ['localhost', 'https://localhost/x', 'public host'],
    ['credentials in the URL', 'https://u:p@hooks.example.com/x', 'user name or password'],
    ['not a URL', 'hooks.example.com', 'absolute https:// URL'],
    ['too long', `https://hooks.example.com/${'a'.repeat(2_100)}`, 'at most 2000 characters'],
  ])('refuses %s, naming notifications.webhookUrl', async (_what, url, reason) => {
    const h = await world();

    const reply = await h.call('POST', '/exports', { body: body({ webhookUrl: url }) });

    expect(reply.status).toBe(400);
    expect(reply.body.errors).toEqual([
      { path: 'notifications.webhookUrl', reason: expect.stringContaining(reason) },
    ]);
    expect(await h.state.exports.list()).toEqual([]);
  });

  it('a viewer may not set one (the access matrix is unchanged)', async () => {
    const h = await world();

    const reply = await h.call('POST', '/exports', { body: body({ webhookUrl: HOOK }), token: 'dev-viewer' });

    expect(reply.status).toBe(403);
  });
});
