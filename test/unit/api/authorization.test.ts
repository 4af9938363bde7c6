import { describe, expect, it } from 'vitest';
import { apiRoutes } from '#functions/api/handler.ts';
import { ApiHarness, editable, type Token } from '#test/support/api-harness.ts';

/**
 * `exp-detached` (connection removed with detach) and `exp-gone` (its connection vanished without a
 * detach), both once on a connection shared with contributors, each with a run in flight.
 */
const world = async (): Promise<ApiHarness> => {
  const h = new ApiHarness();
  h.segments.set('seg-a', 'Newsletter', [{ id: '1', attributes: { email: 'a@example.com' } }]);
  await h.addConnection({ id: 'conn-shared', sharing: 'admins+contributors' });
  await h.addConnection({ id: 'conn-doomed', sharing: 'admins+contributors' });
  await h.addConnection({ id: 'conn-vanishing', sharing: 'admins+contributors' });
  await h.addExport({ connectionId: 'conn-doomed', listTitles: { 'seg-a': 'Detached' } }, 'exp-detached');
  await h.addExport({ connectionId: 'conn-vanishing', listTitles: { 'seg-a': 'Gone' } }, 'exp-gone');
  for (const id of ['exp-detached', 'exp-gone']) await h.start(id);
  // The runs stay active; a detach would cancel them, so end the connection's life by hand.
  for (const id of ['exp-detached']) {
    const exp = await h.state.exports.get(id);
    if (exp === undefined) throw new Error('no export');
    await h.state.exports.revise(
      id,
      exp.version,
      { connectionId: null },
      { by: 'tester', at: '2025-01-02T00:00:00.000Z' },
    );
  }
  await h.state.connections.delete('conn-doomed');
  await h.state.connections.delete('conn-vanishing');
  return h;
};

const activeRun = async (h: ApiHarness, id: string): Promise<string> => {
  const runId = (await h.state.exports.get(id))?.activeRunId;
  if (runId === undefined) throw new Error(`no active run on ${id}`);
  return runId;
};

type Action = (h: ApiHarness, id: string, token: Token) => Promise<number>;

const ACTIONS: Record<string, Action> = {
  edit: async (h, id, token) => {
    const view = (await h.call('GET', `/exports/${id}`)).body;
    const body = { ...editable(view), name: 'Renamed', version: view.version };
    return (await h.call('PUT', `/exports/${id}`, { token, body })).status;
  },
  'attach to a shared connection': async (h, id, token) => {
    const view = (await h.call('GET', `/exports/${id}`)).body;
    const body = { ...editable(view), connectionId: 'conn-shared', version: view.version };
    return (await h.call('PUT', `/exports/${id}`, { token, body })).status;
  },
  schedule: async (h, id, token) =>
    (await h.call('PUT', `/exports/${id}/schedule`, { token, body: { scheduled: true } })).status,
  duplicate: async (h, id, token) => (await h.call('POST', `/exports/${id}/duplicate`, { token })).status,
  run: async (h, id, token) => (await h.call('POST', `/exports/${id}/runs?dryRun=true`, { token })).status,
  'cancel its run': async (h, id, token) =>
    (await h.call('POST', `/runs/${await activeRun(h, id)}/cancel`, { token })).status,
  delete: async (h, id, token) => {
    // Deleting needs the export idle.
    const runId = (await h.state.exports.get(id))?.activeRunId;
    if (runId !== undefined) await h.call('POST', `/runs/${runId}/cancel`);
    return (await h.call('DELETE', `/exports/${id}`, { token })).status;
  },
};

describe('authorization of exports without a usable connection', () => {
  for (const id of ['exp-detached', 'exp-gone']) {
    for (const [name, act] of Object.entries(ACTIONS)) {
      it(`${id}: contributors and viewers may not ${name}`, async () => {
        const h = await world();
        expect(await act(h, id, 'dev-contributor')).toBe(403);
        expect(await act(h, id, 'dev-viewer')).toBe(403);
      });
    }
    it(`${id}: admins may attach it, duplicate it, cancel its run and delete it`, async () => {
      const h = await world();
      for (const name of ['attach to a shared connection', 'duplicate', 'cancel its run', 'delete']) {
        const status = await (ACTIONS[name] as Action)(h, id, 'dev-admin');
        expect(status, name).toBeLessThan(300);
      }
    });
    it(`${id}: the export list tells contributors they may neither edit nor run it`, async () => {
      const h = await world();
      const list = (await h.call('GET', '/exports', { token: 'dev-contributor' })).body.exports;
      const view = list.find((e: { id: string }) => e.id === id);
      expect(view.permissions).toEqual({ canEdit: false, canRun: false });
    });
  }

  it('a contributor may not create an export without a connection', async () => {
    const h = await world();
    const body = {
      name: 'Loose',
      connectionId: null,
      segmentIds: ['seg-a'],
      dataMatching: { email: 'email' },
    };
    expect((await h.call('POST', '/exports', { token: 'dev-contributor', body })).status).toBe(403);
    expect((await h.call('POST', '/exports', { token: 'dev-admin', body })).status).toBe(201);
  });
});

describe('one place decides', () => {
  it('every route declares the action it needs, and the document says who may call it', () => {
    const routes = apiRoutes();
    const doc = routes.map((r) => ({ route: `${r.method} ${r.path}`, action: r.action }));
    for (const { route, action } of doc) expect(action, route).toBeTruthy();
    expect(routes.filter((r) => r.action === 'public').map((r) => r.path)).toEqual(['/openapi.json']);
  });

  it('a viewer is refused a write before the request is even read', async () => {
    const h = await world();
    // A malformed body would be a 400 if the route's own code ran first.
    const reply = await h.call('POST', '/exports', { token: 'dev-viewer', raw: '{"name":' });
    expect(reply.status).toBe(403);
    const admin = await h.call('POST', '/connections', { token: 'dev-contributor', raw: '{' });
    expect(admin.status).toBe(403);
  });
});
