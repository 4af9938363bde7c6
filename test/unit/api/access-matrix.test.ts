import { describe, expect, it } from 'vitest';
import {
  ApiHarness,
  editable,
  ORTTO_KEY,
  type Token,
  validConnection,
  validOrttoConnection,
} from '#test/support/api-harness.ts';

/**
 * Two connections: `conn-shared` (admins+contributors) and `conn-private` (admins only), an export
 * on each (`exp-shared`, `exp-private`), a run of each, and a spare connection with no exports.
 */
const world = async (): Promise<ApiHarness> => {
  const h = new ApiHarness();
  h.segments.set('seg-a', 'Newsletter', [{ id: '1', attributes: { email: 'a@example.com' } }]);
  await h.addConnection({ id: 'conn-shared', sharing: 'admins+contributors' });
  await h.addConnection({ id: 'conn-private', sharing: 'admins' });
  await h.addConnection({ id: 'conn-spare', sharing: 'admins' });
  await h.addExport({ connectionId: 'conn-shared' }, 'exp-shared');
  await h.addExport({ connectionId: 'conn-private' }, 'exp-private');
  for (const exportId of ['exp-shared', 'exp-private']) {
    const { run } = await h.start(exportId);
    await h.state.runs.create({ ...run, id: `run-of-${exportId}` }).catch(() => {});
  }
  return h;
};

const exportBody = (connectionId: string) => ({
  name: 'New export',
  connectionId,
  segmentIds: ['seg-a'],
  dataMatching: { email: 'email' },
});

const putBody = async (h: ApiHarness, id: string) => {
  const current = (await h.call('GET', `/exports/${id}`)).body;
  return { ...editable(current), name: 'Renamed', version: current.version };
};

type Case = {
  name: string;
  method: string;
  url: string | ((h: ApiHarness) => Promise<string>);
  body?: (h: ApiHarness) => Promise<unknown> | unknown;
  /** Expected status per role; anything else must be 403. */
  allow: Partial<Record<'dev-admin' | 'dev-contributor' | 'dev-viewer', number>>;
};

const activeRun = (exportId: string) => async (h: ApiHarness) =>
  `/runs/${(await h.state.exports.get(exportId))?.activeRunId}/cancel`;

const everyone = (status: number) => ({
  'dev-admin': status,
  'dev-contributor': status,
  'dev-viewer': status,
});

const CASES: Case[] = [
  { name: 'list connections', method: 'GET', url: '/connections', allow: everyone(200) },
  {
    name: 'create connection',
    method: 'POST',
    url: '/connections',
    body: () => validConnection(),
    allow: { 'dev-admin': 201 },
  },
  { name: 'get connection', method: 'GET', url: '/connections/conn-private', allow: everyone(200) },
  {
    name: 'update connection',
    method: 'PATCH',
    url: '/connections/conn-private',
    body: () => ({ version: 1, displayName: 'Renamed' }),
    allow: { 'dev-admin': 200 },
  },
  {
    name: 'rotate key',
    method: 'POST',
    url: '/connections/conn-private/rotate-key',
    body: () => ({ apiKey: 'ap-key-0123456789abcdef' }),
    allow: { 'dev-admin': 200 },
  },
  {
    name: 'delete connection',
    method: 'DELETE',
    url: '/connections/conn-spare',
    allow: { 'dev-admin': 200 },
  },
  { name: 'list exports', method: 'GET', url: '/exports', allow: everyone(200) },
  {
    name: 'create export on a shared connection',
    method: 'POST',
    url: '/exports',
    body: () => exportBody('conn-shared'),
    allow: { 'dev-admin': 201, 'dev-contributor': 201 },
  },
  {
    name: 'create export on an admins-only connection',
    method: 'POST',
    url: '/exports',
    body: () => exportBody('conn-private'),
    allow: { 'dev-admin': 201 },
  },
  { name: 'get export', method: 'GET', url: '/exports/exp-private', allow: everyone(200) },
  ...(['shared', 'private'] as const).flatMap((kind): Case[] => {
    const writers = kind === 'shared' ? ['dev-admin', 'dev-contributor'] : ['dev-admin'];
    const allow = (status: number) => Object.fromEntries(writers.map((w) => [w, status]));
    const id = `exp-${kind}`;
    return [
      {
        name: `update ${kind} export`,
        method: 'PUT',
        url: `/exports/${id}`,
        body: (h) => putBody(h, id),
        allow: allow(200),
      },
      {
        name: `schedule ${kind} export`,
        method: 'PUT',
        url: `/exports/${id}/schedule`,
        body: () => ({ scheduled: true }),
        allow: allow(200),
      },
      {
        name: `duplicate ${kind} export`,
        method: 'POST',
        url: `/exports/${id}/duplicate`,
        allow: allow(201),
      },
      { name: `cancel run of ${kind} export`, method: 'POST', url: activeRun(id), allow: allow(202) },
      {
        name: `re-send one contact of ${kind} export`,
        method: 'POST',
        url: async (h) => {
          // A re-send is a run: the export must be idle.
          const exp = await h.state.exports.get(id);
          if (exp?.activeRunId) await h.call('POST', `/runs/${exp.activeRunId}/cancel`);
          return `/exports/${id}/contacts/${encodeURIComponent('someone@example.com')}/resend`;
        },
        allow: allow(202),
      },
      {
        name: `run ${kind} export (dry run)`,
        method: 'POST',
        url: `/exports/${id}/runs?dryRun=true`,
        allow: allow(202),
      },
    ];
  }),
  { name: 'run history', method: 'GET', url: '/exports/exp-private/runs', allow: everyone(200) },
  { name: 'get run', method: 'GET', url: '/runs/run-of-exp-private', allow: everyone(200) },
  { name: 'list segments', method: 'GET', url: '/segments', allow: everyone(200) },
  { name: 'who am I', method: 'GET', url: '/me', allow: everyone(200) },
];

const DELETE_CASES: Case[] = (['shared', 'private'] as const).map((kind) => ({
  name: `delete ${kind} export`,
  method: 'DELETE',
  url: async (h) => {
    // Deleting needs the export idle: end its run first.
    const exp = await h.state.exports.get(`exp-${kind}`);
    if (exp?.activeRunId) await h.call('POST', `/runs/${exp.activeRunId}/cancel`);
    return `/exports/exp-${kind}`;
  },
  allow: kind === 'shared' ? { 'dev-admin': 204, 'dev-contributor': 204 } : { 'dev-admin': 204 },
}));

const ROLES = ['dev-admin', 'dev-contributor', 'dev-viewer'] as const;

describe('every route × every role', () => {
  for (const c of [...CASES, ...DELETE_CASES]) {
    for (const role of ROLES) {
      const expected = c.allow[role] ?? 403;
      it(`${c.name}: ${role} → ${expected}`, async () => {
        const h = await world();
        const url = typeof c.url === 'string' ? c.url : await c.url(h);
        const body = await c.body?.(h);
        const reply = await h.call(c.method, url, { token: role, ...(body === undefined ? {} : { body }) });
        expect(reply.status, reply.text).toBe(expected);
        if (expected === 403) expect(reply.headers['content-type']).toBe('application/problem+json');
      });
    }
    it(`${c.name}: no token → 401, a token in none of our groups → 403`, async () => {
      const h = await world();
      const url = typeof c.url === 'string' ? c.url : await c.url(h);
      expect((await h.call(c.method, url, { token: 'none' })).status).toBe(401);
      expect((await h.call(c.method, url, { token: 'dev-nobody' })).status).toBe(403);
    });
  }

  it('the OpenAPI document is public', async () => {
    const h = await world();
    const reply = await h.call('GET', '/openapi.json', { token: 'none' });
    expect(reply.status).toBe(200);
    expect(reply.body.openapi).toBe('3.1.0');
  });

  it('contributors and viewers see connections by name and type only, and whether they may use each', async () => {
    const h = await world();
    const SUMMARY = ['canUse', 'displayName', 'id', 'type'];
    for (const token of ['dev-contributor', 'dev-viewer'] as const) {
      const list = (await h.call('GET', '/connections', { token })).body.connections;
      for (const c of list) expect(Object.keys(c).sort()).toEqual(SUMMARY);
      const one = (await h.call('GET', '/connections/conn-shared', { token })).body;
      expect(Object.keys(one).sort()).toEqual(SUMMARY);
      expect(one.canUse).toBe(token === 'dev-contributor');
    }
    const privateOne = (await h.call('GET', '/connections/conn-private', { token: 'dev-contributor' })).body;
    expect(privateOne.canUse).toBe(false);
    const admin = (await h.call('GET', '/connections/conn-shared')).body;
    expect(admin).toMatchObject({
      sharing: 'admins+contributors',
      exportUsers: [],
      cap: 100_000,
      consent: { acceptedBy: 'admin@example.com' },
      canUse: true,
    });
  });

  it('the export list tells each caller what they may do', async () => {
    const h = await world();
    const perms = async (token: Token) =>
      Object.fromEntries(
        (await h.call('GET', '/exports', { token })).body.exports.map(
          (e: { id: string; permissions: unknown }) => [e.id, e.permissions],
        ),
      );
    expect(await perms('dev-contributor')).toEqual({
      'exp-shared': { canEdit: true, canRun: true },
      'exp-private': { canEdit: false, canRun: false },
    });
    expect(await perms('dev-viewer')).toEqual({
      'exp-shared': { canEdit: false, canRun: false },
      'exp-private': { canEdit: false, canRun: false },
    });
    expect((await perms('dev-admin'))['exp-private']).toEqual({ canEdit: true, canRun: true });
  });

  it('each run view tells the caller whether they may cancel it, as cancelling decides', async () => {
    const h = await world();
    const canCancel = async (token: Token) => {
      const answers: Record<string, boolean> = {};
      for (const exportId of ['exp-shared', 'exp-private']) {
        const one = (await h.call('GET', `/runs/run-of-${exportId}`, { token })).body;
        const listed = (await h.call('GET', `/exports/${exportId}/runs`, { token })).body.runs;
        for (const r of listed) expect(r.permissions, r.id).toEqual(one.permissions);
        answers[exportId] = one.permissions.canCancel;
      }
      return answers;
    };
    expect(await canCancel('dev-admin')).toEqual({ 'exp-shared': true, 'exp-private': true });
    expect(await canCancel('dev-contributor')).toEqual({ 'exp-shared': true, 'exp-private': false });
    expect(await canCancel('dev-viewer')).toEqual({ 'exp-shared': false, 'exp-private': false });
  });

  it('every write records who did it', async () => {
    const h = await world();
    const created = (
      await h.call('POST', '/exports', { token: 'dev-contributor', body: exportBody('conn-shared') })
    ).body;
    expect(created).toMatchObject({ createdBy: 'dev-contributor', updatedBy: 'dev-contributor' });
    const renamed = (
      await h.call('PATCH', '/connections/conn-shared', { body: { version: 1, displayName: 'Renamed' } })
    ).body;
    expect(renamed.updatedBy).toBe('dev-admin');
    const { body: run } = await h.call('POST', '/exports/exp-shared/runs?dryRun=true', {
      token: 'dev-contributor',
    });
    expect((await h.state.runs.get(run.runId))?.requestedBy).toBe('dev-contributor');
  });
});

/**
 * The same rules on Ortto connections: `conn-o-shared` (admins+contributors) and `conn-o-private`
 * (admins only), each with a tag-mode export.
 */
const orttoWorld = async (): Promise<ApiHarness> => {
  const h = new ApiHarness();
  h.segments.set('seg-a', 'Newsletter', [{ id: '1', attributes: { email: 'a@example.com' } }]);
  for (const kind of ['shared', 'private'] as const) {
    const sharing = kind === 'shared' ? 'admins+contributors' : 'admins';
    await h.addConnection({ id: `conn-o-${kind}`, type: 'ortto', region: 'eu', sharing });
    await h.addExport({ connectionId: `conn-o-${kind}`, membership: 'tag' }, `exp-o-${kind}`);
  }
  h.ortto('eu').validKeys.add(ORTTO_KEY);
  return h;
};

const ORTTO_CASES: Case[] = [
  {
    name: 'create Ortto connection',
    method: 'POST',
    url: '/connections',
    body: () => validOrttoConnection({ region: 'eu' }),
    allow: { 'dev-admin': 201 },
  },
  { name: 'get Ortto connection', method: 'GET', url: '/connections/conn-o-private', allow: everyone(200) },
  {
    name: 'update Ortto connection',
    method: 'PATCH',
    url: '/connections/conn-o-private',
    body: () => ({ version: 1, cap: 5_000 }),
    allow: { 'dev-admin': 200 },
  },
  {
    name: 'rotate Ortto key',
    method: 'POST',
    url: '/connections/conn-o-private/rotate-key',
    body: () => ({ apiKey: ORTTO_KEY }),
    allow: { 'dev-admin': 200 },
  },
  ...(['shared', 'private'] as const).flatMap((kind): Case[] => {
    const writers = kind === 'shared' ? ['dev-admin', 'dev-contributor'] : ['dev-admin'];
    const allow = (status: number) => Object.fromEntries(writers.map((w) => [w, status]));
    const id = `exp-o-${kind}`;
    return [
      {
        name: `create tag export on ${kind} Ortto connection`,
        method: 'POST',
        url: '/exports',
        body: () => ({
          name: 'Tagged',
          connectionId: `conn-o-${kind}`,
          segmentIds: ['seg-a'],
          dataMatching: { email: 'email' },
          membership: 'tag',
        }),
        allow: allow(201),
      },
      {
        name: `update ${kind} Ortto export`,
        method: 'PUT',
        url: `/exports/${id}`,
        body: (h) => putBody(h, id),
        allow: allow(200),
      },
      {
        name: `duplicate ${kind} Ortto export`,
        method: 'POST',
        url: `/exports/${id}/duplicate`,
        allow: allow(201),
      },
    ];
  }),
];

describe('every Ortto connection route × every role', () => {
  for (const c of ORTTO_CASES) {
    for (const role of ROLES) {
      const expected = c.allow[role] ?? 403;
      it(`${c.name}: ${role} → ${expected}`, async () => {
        const h = await orttoWorld();
        const url = typeof c.url === 'string' ? c.url : await c.url(h);
        const body = await c.body?.(h);
        const reply = await h.call(c.method, url, { token: role, ...(body === undefined ? {} : { body }) });
        expect(reply.status, reply.text).toBe(expected);
      });
    }
  }

  it('contributors and viewers see an Ortto connection by name, type and region only', async () => {
    const h = await orttoWorld();
    for (const token of ['dev-contributor', 'dev-viewer'] as const) {
      const one = (await h.call('GET', '/connections/conn-o-shared', { token })).body;
      expect(Object.keys(one).sort()).toEqual(['canUse', 'displayName', 'id', 'region', 'type']);
      expect(one).toMatchObject({ type: 'ortto', region: 'eu', canUse: token === 'dev-contributor' });
    }
  });
});
