import { describe, expect, it } from 'vitest';
import type { ExportRecord } from '#lib/domain/export-record.ts';
import { ApiHarness } from '#test/support/api-harness.ts';
import { readAll } from '#test/support/contracts/helpers.ts';

const people = (n: number) =>
  Array.from({ length: n }, (_, i) => ({ id: String(i), attributes: { email: `p${i}@example.com` } }));

const exportOn = (connectionId: string) => ({
  name: 'Racing',
  connectionId,
  segmentIds: ['seg-a'],
  dataMatching: { email: 'email' },
});

/** No export may point at a connection that does not exist. */
const orphans = async (h: ApiHarness): Promise<string[]> => {
  const connections = new Set((await h.state.connections.list()).map((c) => c.id));
  return (await h.state.exports.list())
    .filter((e) => e.connectionId !== null && !connections.has(e.connectionId))
    .map((e) => e.id);
};

describe('parallel deletes of one export', () => {
  it('exactly one answers 204; the others 404, and nothing of the export is left', async () => {
    const h = new ApiHarness();
    h.segments.set('seg-a', 'Newsletter', people(5));
    await h.addConnection();
    await h.addExport();
    const { run } = await h.start();
    await h.drain();
    expect(await h.state.snapshots.lists('exp-1')).not.toEqual({});
    expect((await h.run(run.id)).status).toBe('succeeded');

    const replies = await Promise.all([1, 2, 3].map(() => h.call('DELETE', '/exports/exp-1')));
    expect(replies.map((r) => r.status).sort()).toEqual([204, 404, 404]);
    expect(await h.state.exports.get('exp-1')).toBeUndefined();
    expect(await readAll(h.state, 'exp-1')).toEqual([]);
  });

  it('a delete that died before removing the export can simply be repeated', async () => {
    const h = new ApiHarness();
    h.segments.set('seg-a', 'Newsletter', people(1));
    await h.addConnection();
    await h.addExport();
    const remove = h.state.exports.delete.bind(h.state.exports);
    let crashes = 1;
    h.state.exports.delete = async (id, expect) => {
      if (crashes-- > 0) throw new Error('the function died here');
      return remove(id, expect);
    };
    expect((await h.call('DELETE', '/exports/exp-1')).status).toBe(500);
    expect((await h.call('DELETE', '/exports/exp-1')).status).toBe(204);
    expect(await h.state.exports.get('exp-1')).toBeUndefined();
  });

  it('a run that starts while the export is being deleted stops the delete with 409', async () => {
    const h = new ApiHarness();
    h.segments.set('seg-a', 'Newsletter', people(1));
    await h.addConnection();
    await h.addExport();
    const remove = h.state.exports.delete.bind(h.state.exports);
    h.state.exports.delete = async (id, expect) => {
      await h.start(); // between the delete's check and its write
      return remove(id, expect);
    };
    const answer = await h.call('DELETE', '/exports/exp-1');
    expect(answer.status).toBe(409);
    expect(answer.body.detail).toMatch(/started while it was being deleted/);
    expect(await h.state.exports.get('exp-1')).toBeDefined();
  });
});

describe('removing a connection while an export is created on it', () => {
  const setup = async () => {
    const h = new ApiHarness();
    h.segments.set('seg-a', 'Newsletter', people(3));
    await h.addConnection({ id: 'conn-2' });
    return h;
  };

  it('removed between the check and the save: the new export is rolled back with 409', async () => {
    const h = await setup();
    const create = h.state.exports.create.bind(h.state.exports);
    let removal: Awaited<ReturnType<ApiHarness['call']>> | undefined;
    h.state.exports.create = async (record: ExportRecord) => {
      if (removal === undefined) removal = await h.call('DELETE', '/connections/conn-2?detach=true');
      return create(record);
    };
    const created = await h.call('POST', '/exports', { body: exportOn('conn-2') });
    expect(removal?.status).toBe(200);
    expect(created.status, created.text).toBe(409);
    expect(created.headers['content-type']).toBe('application/problem+json');
    expect(await h.state.exports.list()).toEqual([]);
    expect(await orphans(h)).toEqual([]);
  });

  it.each([true, false])(
    'removed after the save was checked (detach=%s): the removal detaches the new export',
    async (detach) => {
      const h = await setup();
      const list = h.state.exports.list.bind(h.state.exports);
      let created: Awaited<ReturnType<ApiHarness['call']>> | undefined;
      h.state.exports.list = async () => {
        const before = await list();
        if (created === undefined) created = await h.call('POST', '/exports', { body: exportOn('conn-2') });
        return before;
      };
      const removal = await h.call('DELETE', `/connections/conn-2?detach=${detach}`);
      expect(created?.status, created?.text).toBe(201);
      expect(removal.status, removal.text).toBe(200);
      expect(removal.body.detached).toEqual([created?.body.id]);
      expect((await h.state.exports.get(created?.body.id))?.connectionId).toBeNull();
      expect(await orphans(h)).toEqual([]);
    },
  );
});
