import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { startScheduledRuns } from '#lib/use-cases/scheduled-refresh.ts';
import { openApiText } from '#scripts/write-openapi.ts';
import { API_KEY, ApiHarness, validConnection } from '#test/support/api-harness.ts';
import { ROUTES } from '../../../cdk/constructs/http-api.ts';

const people = (n: number) =>
  Array.from({ length: n }, (_, i) => ({
    id: String(i),
    attributes: { email: `p${i}@example.com`, first_name: `P${i}` },
  }));

describe('secrets', () => {
  it('the API key never appears in a response body, a log line or a stored record', async () => {
    const h = new ApiHarness();
    h.segments.set('seg-a', 'Newsletter', people(40));
    const rotated = 'ap-key-ROTATED-9999999999';
    h.destination.validKeys.add(rotated);

    const created = await h.call('POST', '/connections', { body: validConnection() });
    const id = created.body.id;
    await h.call('POST', '/connections', { body: validConnection({ apiKey: 'wrong-key-but-long-enough' }) });
    await h.call('POST', '/connections', {
      body: validConnection({ apiKey: API_KEY, consent: { accepted: false } }),
    });
    await h.call('GET', '/connections');
    await h.call('GET', `/connections/${id}`);
    await h.call('PATCH', `/connections/${id}`, {
      body: { version: 1, displayName: 'Renamed', apiKey: API_KEY },
    });
    await h.call('POST', `/connections/${id}/rotate-key`, { body: { apiKey: rotated } });
    await h.call('POST', `/connections/${id}/rotate-key`, { body: { apiKey: 'also-wrong-key-xyz' } });
    const exp = await h.call('POST', '/exports', {
      body: { name: 'E', connectionId: id, segmentIds: ['seg-a'], dataMatching: { email: 'email' } },
    });
    await h.call('POST', `/exports/${exp.body.id}/runs`);
    await h.drain();
    await h.call('GET', `/exports/${exp.body.id}/runs`);

    const everything = [...h.responses, ...h.logger.lines, JSON.stringify(await h.state.connections.list())];
    for (const key of [API_KEY, rotated, 'wrong-key-but-long-enough', 'also-wrong-key-xyz']) {
      for (const text of everything) expect(text).not.toContain(key);
    }
    // …and the run did use the rotated key from the secret store.
    expect(h.destination.memberEmails('Newsletter')).toHaveLength(40);
  });
});

describe('connection removal', () => {
  it('a detached export keeps its configuration, shows no connection and does not run on the schedule', async () => {
    const h = new ApiHarness();
    h.segments.set('seg-a', 'Newsletter', people(10));
    await h.addConnection({ id: 'conn-1' });
    await h.addConnection({ id: 'conn-2' });
    await h.addExport({ connectionId: 'conn-1', scheduled: true }, 'exp-detached');
    await h.addExport({ connectionId: 'conn-2', scheduled: true }, 'exp-other');

    const removal = await h.call('DELETE', '/connections/conn-1?detach=true');
    expect(removal.status).toBe(200);
    expect(removal.body.detached).toEqual(['exp-detached']);
    await expect(h.keyStore.getApiKey('conn-1')).rejects.toThrow();

    const view = (await h.call('GET', '/exports/exp-detached')).body;
    expect(view).toMatchObject({
      status: 'no_connection',
      connection: null,
      connectionId: null,
      scheduled: true,
    });
    expect(view.segmentIds).toEqual(['seg-a']);

    const refresh = await startScheduledRuns(h.startDeps);
    expect(refresh.started).toHaveLength(1);
    expect((await h.state.runs.list('exp-detached', 10)).runs).toEqual([]);
    expect((await h.state.runs.list('exp-other', 10)).runs).toHaveLength(1);
  });

  it('removal cancels the connection’s runs in flight; their remaining batches are dropped', async () => {
    const h = new ApiHarness();
    h.segments.set('seg-a', 'Newsletter', people(60));
    await h.addConnection();
    await h.addExport();
    const { body } = await h.call('POST', '/exports/exp-1/runs');
    const { planRun } = await import('#lib/use-cases/plan-run.ts');
    for (const m of h.planQueue.take()) await planRun(h.planDeps, m, h.remainingMs);
    const removal = await h.call('DELETE', '/connections/conn-1?detach=true');
    expect(removal.body.cancelledRuns).toEqual([body.runId]);
    await h.drain();
    const run = (await h.call('GET', `/runs/${body.runId}`)).body;
    expect(run.status).toBe('cancelled');
    expect(run.progress.accepted).toBe(0);
    expect(h.destination.count('upsertWithList')).toBe(0);
  });
});

describe('runs through the API', () => {
  it('a dry run reports adds, updates, removals, invalid, over-cap, requests and duration, and sends nothing', async () => {
    const h = new ApiHarness();
    h.segments.set('seg-a', 'Newsletter', [...people(120), { id: 'bad', attributes: { email: 'nope' } }]);
    await h.addConnection();
    await h.addExport({ cap: 100, capPolicy: 'truncate' });
    const started = await h.call('POST', '/exports/exp-1/runs?dryRun=true', { token: 'dev-admin' });
    expect(started.status).toBe(202);
    expect(started.body.estimate).toMatchObject({ upperBound: true });
    await h.drain();
    const run = (await h.call('GET', `/runs/${started.body.runId}`)).body;
    expect(run.status).toBe('succeeded');
    expect(run.dryRun).toEqual({
      adds: 100,
      updates: 0,
      removals: 0,
      unchanged: 0,
      invalid: 1,
      overCap: 20,
      // 100 joins one by one + list lookup + list creation + the probe's bulk upsert and its two
      // membership checks (before and after)
      requests: 105,
      durationSeconds: 21,
      durationSecondsAtDocumentedRate: 21,
    });
    expect(h.destination.requests).toEqual([]);
  });

  it('a run shows progress, counts by reason, masked error samples and ends in the history', async () => {
    const h = new ApiHarness();
    h.segments.set('seg-a', 'Newsletter', people(30));
    h.destination.rejects.add('p3@example.com');
    await h.addConnection({
      bulkMembership: { state: 'unsupported', checkedAt: new Date(h.clock.now()).toISOString() },
    });
    await h.addExport();
    const { body } = await h.call('POST', '/exports/exp-1/runs', { token: 'dev-admin' });
    const { planRun } = await import('#lib/use-cases/plan-run.ts');
    for (const m of h.planQueue.take()) await planRun(h.planDeps, m, h.remainingMs);
    const planned = (await h.call('GET', `/runs/${body.runId}`)).body;
    expect(planned).toMatchObject({
      status: 'sending',
      progress: { batchesDone: 0, batchesTotal: 2, percent: 0 },
    });
    expect(planned.eta).toEqual(expect.any(String));
    await h.drain();
    const done = (await h.call('GET', `/runs/${body.runId}`, { token: 'dev-viewer' })).body;
    expect(done).toMatchObject({
      status: 'completed_with_errors',
      progress: { percent: 100, accepted: 29, failed: 1, failedByReason: { rejected: 1 } },
      errorSamples: [{ email: 'p***@example.com', reason: 'rejected' }],
    });
    const history = (await h.call('GET', '/exports/exp-1/runs?limit=5')).body;
    expect(history.runs.map((r: { id: string }) => r.id)).toEqual([body.runId]);
    expect((await h.call('GET', '/exports/exp-1')).body.lastRun).toMatchObject({
      status: 'completed_with_errors',
    });
  });
});

describe('OpenAPI', () => {
  it('the committed docs/openapi.json matches the routes (run `npm run openapi` after changing them)', () => {
    expect(readFileSync('docs/openapi.json', 'utf8')).toBe(openApiText());
  });

  it('documents exactly the routes the CDK stack declares, with the same public route', () => {
    const doc = JSON.parse(openApiText());
    const operations = Object.entries(doc.paths).flatMap(([path, ops]) =>
      Object.keys(ops as object).map((m) => `${m.toUpperCase()} ${path}`),
    );
    expect(operations.sort()).toEqual(ROUTES.map((r) => `${r.method} ${r.path}`).sort());
    const publicInDoc = operations.filter((o) => {
      const [method, path] = o.split(' ') as [string, string];
      return doc.paths[path][method.toLowerCase()].security?.length === 0;
    });
    expect(publicInDoc).toEqual(ROUTES.filter((r) => r.public).map((r) => `${r.method} ${r.path}`));
    expect(doc.paths['/openapi.json'].get.security).toEqual([]);
    expect(doc.paths['/connections'].post.requestBody.content['application/json'].schema.$ref).toBe(
      '#/components/schemas/CreateConnectionInput',
    );
  });
});
