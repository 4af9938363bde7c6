import { describe, expect, it } from 'vitest';
import { ApiHarness, editable } from '#test/support/api-harness.ts';

const people = (n: number) =>
  Array.from({ length: n }, (_, i) => ({ id: `p${i}`, attributes: { email: `p${i}@example.com` } }));

const withExport = async (): Promise<ApiHarness> => {
  const h = new ApiHarness();
  h.segments.set('seg-a', 'Newsletter', people(3));
  h.segments.set('seg-b', 'Trial users', people(2));
  await h.addConnection({ sharing: 'admins+contributors' });
  await h.addExport({ segmentIds: ['seg-a'], membership: 'list', onLeave: 'remove' });
  return h;
};

describe('a run view shows the configuration the run used', () => {
  it('answers the configuration frozen at the start, not the export as edited since', async () => {
    const h = await withExport();
    const { run } = await h.start();
    const current = (await h.call('GET', '/exports/exp-1')).body;
    const edit = {
      ...editable(current),
      segmentIds: ['seg-b'],
      membership: 'field',
      onLeave: 'keep',
      version: current.version,
    };
    expect((await h.call('PUT', '/exports/exp-1', { body: edit })).status).toBe(200);

    const view = (await h.call('GET', `/runs/${run.id}`, { token: 'dev-viewer' })).body;
    expect(view.connectionId).toBe('conn-1');
    expect(view.config).toMatchObject({
      connectionId: 'conn-1',
      segmentIds: ['seg-a'],
      membership: 'list',
      onLeave: 'remove',
      dataMatching: { email: 'email', fields: { FirstName: 'first_name' } },
    });
    const listed = (await h.call('GET', '/exports/exp-1/runs')).body.runs[0];
    expect(listed.config.segmentIds).toEqual(['seg-a']);
  });

  it('answers a null configuration for a run recorded before runs kept one', async () => {
    const h = await withExport();
    const { run } = await h.start();
    const { config: _dropped, ...old } = run;
    await h.state.runs.create({ ...old, id: 'run-old' });
    const view = (await h.call('GET', '/runs/run-old')).body;
    expect(view.config).toBeNull();
    expect(view.connectionId).toBe('conn-1');
  });
});

describe('a run view says whether the caller may cancel it', () => {
  it('a contributor may not cancel a dry run whose export was deleted; an admin may, as cancel enforces', async () => {
    const h = await withExport();
    const { run } = await h.start('exp-1', 'dry-run');
    expect((await h.call('DELETE', '/exports/exp-1')).status).toBe(204);
    const asContributor = (await h.call('GET', `/runs/${run.id}`, { token: 'dev-contributor' })).body;
    expect(asContributor.permissions).toEqual({ canCancel: false });
    const refused = await h.call('POST', `/runs/${run.id}/cancel`, { token: 'dev-contributor' });
    expect(refused.status).toBe(403);
    expect((await h.call('GET', `/runs/${run.id}`)).body.permissions).toEqual({ canCancel: true });
    expect((await h.call('POST', `/runs/${run.id}/cancel`)).status).toBe(202);
  });
});

describe('an export view keeps the counts of its last run', () => {
  it('shows the last run’s delivered, failed and dropped counts once it ends', async () => {
    const h = await withExport();
    h.destination.rejects.add('p1@example.com');
    const { run } = await h.start();
    await h.drain();
    const view = (await h.call('GET', '/exports/exp-1', { token: 'dev-viewer' })).body;
    const ended = await h.run(run.id);
    expect(ended.progress).toMatchObject({ failed: 1 });
    const { accepted, failed, dropped } = ended.progress;
    expect(view.lastRun).toEqual({
      runId: run.id,
      status: 'completed_with_errors',
      finishedAt: ended.finishedAt,
      counts: { unit: 'memberships', accepted, failed, dropped },
    });
    const listed = (await h.call('GET', '/exports')).body.exports[0];
    expect(listed.lastRun.counts).toEqual(view.lastRun.counts);
  });

  it('reads a last run recorded before counts were kept, with null counts', async () => {
    const h = await withExport();
    await h.state.exports.releaseActiveRun('exp-1', 'run-old', { runId: 'run-old', status: 'succeeded' });
    const view = (await h.call('GET', '/exports/exp-1')).body;
    expect(view.lastRun).toEqual({ runId: 'run-old', status: 'succeeded', counts: null });
  });
});
