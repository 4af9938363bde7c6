import type { Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { routes } from '#functions/api/routes.ts';
import type { AuditAction } from '#lib/domain/audit.ts';
import { PRIVACY_NOTICE_VERSION } from '#lib/use-cases/connection-inputs.ts';
import { startLocalApiServer } from '#local/api-gateway.ts';
import { type LocalRuntime, startLocalRuntime } from '#local/runtime.ts';
import { generateSampleProfiles, seedDynamoDbSegments } from '#local/sample-data.ts';

/**
 * The real API on loopback HTTP over the real local runtime (DynamoDB Local, the SQS emulator, the
 * Autopilot stand-in): every write route must leave an audit record in the DynamoDB trail.
 */
let runtime: LocalRuntime;
let server: Server;
let base: string;
let segmentIds: string[];

beforeAll(async () => {
  runtime = await startLocalRuntime({
    senders: 1,
    // Runs stay in flight (nothing sends) so a cancel always finds one to cancel.
    startSenders: false,
    services: { dynamoEndpoint: inject('dynamoEndpoint'), sqsEndpoint: inject('sqsEndpoint') },
    autopilot: { kind: 'standin', ratePerSecond: 100 },
  });
  const dataset = generateSampleProfiles({ profiles: 30, seed: 5 });
  await seedDynamoDbSegments(runtime.segmentWriter, dataset);
  segmentIds = dataset.segments.slice(0, 1).map((s) => s.id);
  server = await startLocalApiServer(runtime, 0);
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no port');
  base = `http://127.0.0.1:${address.port}`;
});

afterAll(async () => {
  server?.closeAllConnections();
  await new Promise((resolve) => server?.close(resolve));
  await runtime?.close();
});

// biome-ignore lint/suspicious/noExplicitAny: tests read response bodies field by field
type Body = any;

const call = async (method: string, path: string, body?: unknown, token = 'dev-admin') => {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  return {
    status: res.status,
    type: res.headers.get('content-type'),
    text,
    body: (text ? JSON.parse(text) : undefined) as Body,
  };
};

const ok = async (method: string, path: string, body?: unknown): Promise<Body> => {
  const reply = await call(method, path, body);
  expect(reply.status, `${method} ${path}: ${reply.text}`).toBeLessThan(300);
  return reply.body;
};

const newConnection = async (): Promise<Body> =>
  ok('POST', '/connections', {
    displayName: `Audited ${Math.random().toString(36).slice(2, 8)}`,
    apiKey: runtime.apiKey,
    consent: { accepted: true, noticeVersion: PRIVACY_NOTICE_VERSION },
  });

const newExport = async (): Promise<Body> => {
  const connection = await newConnection();
  return ok('POST', '/exports', {
    name: `Audited ${connection.id}`,
    connectionId: connection.id,
    segmentIds,
    dataMatching: { email: 'email' },
    listTitles: { [segmentIds[0] as string]: `Audit list ${connection.id}` },
  });
};

const trail = async (resource: string, limit = 100): Promise<Body[]> => {
  const reply = await call('GET', `/audit?resource=${encodeURIComponent(resource)}&limit=${limit}`);
  expect(reply.status, reply.text).toBe(200);
  return reply.body.entries;
};

/** What one write route does, on what it set up itself: the resource its entry is filed under. */
type Scenario = () => Promise<{
  resource: string;
  action: AuditAction;
  before: number;
  /** A key the entry's `detail` must hold. */
  detailKey?: string;
}>;

/**
 * Each write route of the table, exercised once. A route added without a scenario here fails the
 * test below, so it cannot ship without showing that it leaves an audit record.
 */
const SCENARIOS: Record<string, Scenario> = {
  'POST /connections': async () => {
    const c = await newConnection();
    return { resource: `connection/${c.id}`, action: 'connection.created', before: 0 };
  },
  'PATCH /connections/{id}': async () => {
    const c = await newConnection();
    const before = (await trail(`connection/${c.id}`)).length;
    await ok('PATCH', `/connections/${c.id}`, { version: c.version, displayName: 'Renamed' });
    return { resource: `connection/${c.id}`, action: 'connection.updated', before };
  },
  'POST /connections/{id}/rotate-key': async () => {
    const c = await newConnection();
    const before = (await trail(`connection/${c.id}`)).length;
    await ok('POST', `/connections/${c.id}/rotate-key`, { apiKey: runtime.apiKey });
    return { resource: `connection/${c.id}`, action: 'connection.key_rotated', before };
  },
  'DELETE /connections/{id}': async () => {
    const c = await newConnection();
    const before = (await trail(`connection/${c.id}`)).length;
    await ok('DELETE', `/connections/${c.id}`);
    return { resource: `connection/${c.id}`, action: 'connection.removed', before };
  },
  'POST /exports': async () => {
    const e = await newExport();
    return { resource: `export/${e.id}`, action: 'export.created', before: 0 };
  },
  'PUT /exports/{id}': async () => {
    const e = await newExport();
    const before = (await trail(`export/${e.id}`)).length;
    const {
      id: _i,
      createdAt: _c,
      createdBy: _cb,
      updatedAt: _u,
      updatedBy: _ub,
      status: _s,
      connection: _cn,
      activeRunId: _a,
      lastRun: _l,
      health: _h,
      permissions: _p,
      warnings: _w,
      ...doc
    } = e;
    await ok('PUT', `/exports/${e.id}`, { ...doc, name: `${e.name} (renamed)` });
    return { resource: `export/${e.id}`, action: 'export.updated', before };
  },
  'PUT /exports/{id}/schedule': async () => {
    const e = await newExport();
    const before = (await trail(`export/${e.id}`)).length;
    await ok('PUT', `/exports/${e.id}/schedule`, { scheduled: false });
    return { resource: `export/${e.id}`, action: 'export.updated', before };
  },
  'POST /exports/{id}/duplicate': async () => {
    const e = await newExport();
    const copy = await ok('POST', `/exports/${e.id}/duplicate`);
    return { resource: `export/${copy.id}`, action: 'export.duplicated', before: 0 };
  },
  'DELETE /exports/{id}': async () => {
    const e = await newExport();
    const before = (await trail(`export/${e.id}`)).length;
    await ok('DELETE', `/exports/${e.id}`);
    return { resource: `export/${e.id}`, action: 'export.deleted', before };
  },
  'POST /exports/{id}/runs': async () => {
    const e = await newExport();
    await ok('POST', `/exports/${e.id}/runs?dryRun=true`);
    return { resource: `export/${e.id}`, action: 'run.requested', before: 1 };
  },
  'POST /runs/{id}/cancel': async () => {
    const e = await newExport();
    const started = await ok('POST', `/exports/${e.id}/runs`);
    const before = (await trail(`export/${e.id}`)).length;
    await ok('POST', `/runs/${started.runId}/cancel`);
    return { resource: `export/${e.id}`, action: 'run.cancelled', before };
  },
  'POST /exports/{id}/contacts/{email}/resend': async () => {
    const e = await newExport();
    await ok('POST', `/exports/${e.id}/contacts/${encodeURIComponent('someone@example.com')}/resend`);
    return { resource: `export/${e.id}`, action: 'run.requested', before: 1, detailKey: 'resendOf' };
  },
  'POST /runs/{id}/retry-failed': async () => {
    // A run that ended with one failed contact, recorded as the sender records it.
    const e = await newExport();
    const started = await ok('POST', `/exports/${e.id}/runs`);
    const runId = started.runId as string;
    await runtime.waitForRunState(runId, (r) => r.status === 'sending');
    const at = new Date().toISOString();
    const outcome = {
      at,
      accepted: 0,
      failed: { invalid_email: 1 },
      dropped: 0,
      requests: {},
      throttled: 0,
      samples: [],
    };
    await runtime.state.batches.record(
      runId,
      0,
      { from: 0, to: 1, final: false },
      {
        ...outcome,
        failedEmails: ['someone@example.com'],
      },
    );
    expect(
      await runtime.state.runs.transition(runId, ['sending'], 'completed_with_errors', { finishedAt: at }),
    ).toBe(true);
    const before = (await trail(`export/${e.id}`)).length;
    await ok('POST', `/runs/${runId}/retry-failed`);
    return { resource: `export/${e.id}`, action: 'run.requested', before, detailKey: 'retryOf' };
  },
  'POST /runs/{id}/approve': async () => held('approve'),
  'POST /runs/{id}/reject': async () => held('reject'),
};

/**
 * A decision on a held run. How runs come to be held is the guardrail suites' business; here a
 * planned run (senders are stopped, so it waits in `sending`) is put on hold as the planner would.
 */
async function held(decision: 'approve' | 'reject'): ReturnType<Scenario> {
  const e = await newExport();
  const started = await ok('POST', `/exports/${e.id}/runs`);
  await runtime.waitForRunState(started.runId, (r) => r.status === 'sending');
  const at = new Date().toISOString();
  const hold = { targets: [], at, firstBatch: 0, removals: 150 };
  expect(await runtime.state.runs.transition(started.runId, ['sending'], 'awaiting_approval', { hold })).toBe(
    true,
  );
  const before = (await trail(`export/${e.id}`)).length;
  await ok('POST', `/runs/${started.runId}/${decision}`);
  const action = decision === 'approve' ? 'run.approved' : 'run.rejected';
  return { resource: `export/${e.id}`, action, before };
}

const WRITE_ROUTES = routes(() => ({})).filter((r) => r.method !== 'GET');

describe('every write route leaves an audit record (loopback HTTP, DynamoDB Local)', () => {
  for (const route of WRITE_ROUTES) {
    const key = `${route.method} ${route.path}`;
    it(`${key} appends one entry naming the admin`, async () => {
      const scenario = SCENARIOS[key];
      expect(scenario, `${key} has no audit scenario: add one to SCENARIOS`).toBeDefined();
      const { resource, action, before, detailKey } = await (scenario as Scenario)();

      const entries = await trail(resource);
      expect(entries).toHaveLength(before + 1);
      expect(entries[0]).toMatchObject({ action, actor: { id: 'dev-admin', role: 'admin' } });
      if (detailKey !== undefined) expect(entries[0].detail).toHaveProperty(detailKey);
      // A named contact's address never reaches the trail unmasked.
      expect(JSON.stringify(entries[0])).not.toContain('someone@example.com');
    });
  }

  it('a key rotation’s record holds no key', async () => {
    const c = await newConnection();
    await ok('POST', `/connections/${c.id}/rotate-key`, { apiKey: runtime.apiKey });
    const reply = await call('GET', `/audit?resource=connection/${c.id}`);
    expect(reply.body.entries[0].changes).toContainEqual({ field: 'apiKey', changed: true });
    expect(reply.text).not.toContain(runtime.apiKey);
  });
});

describe('GET /audit over the DynamoDB trail', () => {
  it('answers newest first and pages with its cursor', async () => {
    const c = await newConnection();
    for (let n = 1; n <= 4; n++) {
      await ok('PATCH', `/connections/${c.id}`, { version: n, displayName: `Name ${n}` });
    }
    const names: unknown[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const reply = await call(
        'GET',
        `/audit?resource=connection/${c.id}&limit=2${cursor === undefined ? '' : `&cursor=${cursor}`}`,
      );
      expect(reply.status, reply.text).toBe(200);
      names.push(
        ...reply.body.entries.map((e: Body) => e.changes.find((x: Body) => x.field === 'displayName')?.to),
      );
      cursor = reply.body.next;
      pages++;
    } while (cursor !== undefined);
    expect(pages).toBe(3);
    expect(names).toEqual(['Name 4', 'Name 3', 'Name 2', 'Name 1', c.displayName]);
  });

  it('refuses contributors and viewers', async () => {
    const c = await newConnection();
    for (const token of ['dev-contributor', 'dev-viewer']) {
      const reply = await call('GET', `/audit?resource=connection/${c.id}`, undefined, token);
      expect(reply.status).toBe(403);
      expect(reply.type).toBe('application/problem+json');
    }
  });
});
