import { describe, expect, it } from 'vitest';
import { ApiHarness, type Reply, validConnection } from '#test/support/api-harness.ts';

/**
 * `conn-private` (admins only) names `dev-contributor` and `dev-viewer` as export users;
 * `dev-contributor-2` is a contributor it does not name. `exp-private` is an export on it.
 */
const world = async (): Promise<ApiHarness> => {
  const h = new ApiHarness();
  h.segments.set('seg-a', 'Newsletter', [{ id: '1', attributes: { email: 'a@example.com' } }]);
  await h.addConnection({
    id: 'conn-private',
    sharing: 'admins',
    exportUsers: [{ id: 'dev-contributor', label: 'Contributor' }, { id: 'dev-viewer' }],
  });
  await h.addExport({ connectionId: 'conn-private' }, 'exp-private');
  return h;
};

type Who = 'dev-admin' | 'dev-contributor' | 'dev-contributor-2' | 'dev-viewer';

/** The harness's tokens stop at the first contributor; the second goes in as a raw header. */
const as = (who: Who) =>
  who === 'dev-contributor-2' ? { authorization: 'Bearer dev-contributor-2' } : { token: who };

const call = (h: ApiHarness, who: Who, method: string, url: string, body?: unknown): Promise<Reply> =>
  h.call(method, url, { ...as(who), ...(body === undefined ? {} : { body }) });

const newExport = (n: number) => ({
  name: `Export ${n}`,
  connectionId: 'conn-private',
  segmentIds: ['seg-a'],
  dataMatching: { email: 'email' },
  listTitles: { 'seg-a': `List ${n}` },
});

describe('named export users', () => {
  it('a contributor named as export user may create, schedule and run an export on an admins-only connection', async () => {
    const h = await world();
    const created = await call(h, 'dev-contributor', 'POST', '/exports', newExport(1));
    expect(created.status, created.text).toBe(201);
    const scheduled = await call(h, 'dev-contributor', 'PUT', '/exports/exp-private/schedule', {
      scheduled: true,
    });
    expect(scheduled.status, scheduled.text).toBe(200);
    const run = await call(h, 'dev-contributor', 'POST', '/exports/exp-private/runs?dryRun=true');
    expect(run.status, run.text).toBe(202);
  });

  it('a contributor not named may not', async () => {
    const h = await world();
    const created = await call(h, 'dev-contributor-2', 'POST', '/exports', newExport(1));
    expect(created.status).toBe(403);
    expect(created.body.detail).toMatch(/export user/);
    expect((await call(h, 'dev-contributor-2', 'POST', '/exports/exp-private/runs')).status).toBe(403);
  });

  it('a viewer named as export user stays read-only', async () => {
    const h = await world();
    expect((await call(h, 'dev-viewer', 'POST', '/exports', newExport(1))).status).toBe(403);
    expect((await call(h, 'dev-viewer', 'POST', '/exports/exp-private/runs')).status).toBe(403);
    expect((await call(h, 'dev-viewer', 'GET', '/exports/exp-private')).body.permissions).toEqual({
      canEdit: false,
      canRun: false,
    });
  });

  it('the export list tells a named contributor they may edit and run, and one not named that they may not', async () => {
    const h = await world();
    const perms = async (who: Who) => (await call(h, who, 'GET', '/exports/exp-private')).body.permissions;
    expect(await perms('dev-contributor')).toEqual({ canEdit: true, canRun: true });
    expect(await perms('dev-contributor-2')).toEqual({ canEdit: false, canRun: false });
  });

  it('removing a user from exportUsers takes their write access away', async () => {
    const h = await world();
    const patched = await call(h, 'dev-admin', 'PATCH', '/connections/conn-private', {
      version: 1,
      exportUsers: [{ id: 'dev-viewer' }],
    });
    expect(patched.status, patched.text).toBe(200);
    expect(patched.body.exportUsers).toEqual([{ id: 'dev-viewer' }]);
    expect((await call(h, 'dev-contributor', 'POST', '/exports', newExport(1))).status).toBe(403);
    expect((await call(h, 'dev-contributor', 'POST', '/exports/exp-private/runs')).status).toBe(403);
  });

  it('an admin names export users when creating a connection, and a new connection names none by default', async () => {
    const h = new ApiHarness();
    const named = await call(h, 'dev-admin', 'POST', '/connections', {
      ...validConnection(),
      exportUsers: [{ id: 'dev-contributor-2', label: 'Second contributor' }],
    });
    expect(named.status, named.text).toBe(201);
    expect(named.body.exportUsers).toEqual([{ id: 'dev-contributor-2', label: 'Second contributor' }]);
    expect((await h.state.connections.get(named.body.id))?.exportUsers).toEqual(named.body.exportUsers);
    const plain = await call(h, 'dev-admin', 'POST', '/connections', validConnection());
    expect(plain.body.exportUsers).toEqual([]);
  });

  it('contributors may not change the export users', async () => {
    const h = await world();
    const reply = await call(h, 'dev-contributor', 'PATCH', '/connections/conn-private', {
      version: 1,
      exportUsers: [{ id: 'dev-contributor-2' }],
    });
    expect(reply.status).toBe(403);
    expect((await h.state.connections.get('conn-private'))?.exportUsers).toHaveLength(2);
  });
});

describe('export users: bounds', () => {
  const users = (n: number) => Array.from({ length: n }, (_, i) => ({ id: `user-${i}` }));
  const patch = async (exportUsers: unknown) => {
    const h = await world();
    return call(h, 'dev-admin', 'PATCH', '/connections/conn-private', { version: 1, exportUsers });
  };
  const paths = (reply: Reply): string[] => reply.body.errors.map((e: { path: string }) => e.path);

  it('takes 100 users', async () => {
    expect((await patch(users(100))).status).toBe(200);
  });

  it('refuses more than 100 users, naming exportUsers', async () => {
    const reply = await patch(users(101));
    expect(reply.status).toBe(400);
    expect(paths(reply)).toEqual(['exportUsers']);
  });

  it('refuses a duplicate id, naming the repeated entry', async () => {
    const reply = await patch([{ id: 'a' }, { id: 'b' }, { id: 'c' }, { id: 'b', label: 'again' }]);
    expect(reply.status).toBe(400);
    expect(paths(reply)).toEqual(['exportUsers.3.id']);
    expect(reply.body.errors[0].reason).toMatch(/duplicate/);
  });

  it.each([
    ['an empty id', [{ id: '' }], 'exportUsers.0.id'],
    ['an id over 256 characters', [{ id: 'x'.repeat(257) }], 'exportUsers.0.id'],
    ['an id with a line break', [{ id: 'a\nb' }], 'exportUsers.0.id'],
    ['an empty label', [{ id: 'a', label: '  ' }], 'exportUsers.0.label'],
    ['a label over 200 characters', [{ id: 'a', label: 'x'.repeat(201) }], 'exportUsers.0.label'],
    ['an unknown field', [{ id: 'a', email: 'a@example.com' }], 'exportUsers.0.email'],
    ['a list that is not an array', { id: 'a' }, 'exportUsers'],
  ])('refuses %s, naming the field', async (_, value, path) => {
    const reply = await patch(value);
    expect(reply.status).toBe(400);
    expect(paths(reply)).toEqual([path]);
  });

  it('applies the same bounds when a connection is created', async () => {
    const h = new ApiHarness();
    const reply = await call(h, 'dev-admin', 'POST', '/connections', {
      ...validConnection(),
      exportUsers: [{ id: 'a' }, { id: 'a' }],
    });
    expect(reply.status).toBe(400);
    expect(paths(reply)).toEqual(['exportUsers.1.id']);
  });
});

describe('what each caller sees of a connection', () => {
  it('every role learns whether it may use the connection; only admins see the export users', async () => {
    const h = await world();
    await h.addConnection({ id: 'conn-shared', sharing: 'admins+contributors' });
    const seen = async (who: Who) =>
      Object.fromEntries(
        (await call(h, who, 'GET', '/connections')).body.connections.map(
          (c: { id: string; canUse: boolean }) => [c.id, c.canUse],
        ),
      );
    expect(await seen('dev-admin')).toEqual({ 'conn-private': true, 'conn-shared': true });
    expect(await seen('dev-contributor')).toEqual({ 'conn-private': true, 'conn-shared': true });
    expect(await seen('dev-contributor-2')).toEqual({ 'conn-private': false, 'conn-shared': true });
    expect(await seen('dev-viewer')).toEqual({ 'conn-private': false, 'conn-shared': false });

    for (const who of ['dev-contributor', 'dev-contributor-2', 'dev-viewer'] as const) {
      const one = (await call(h, who, 'GET', '/connections/conn-private')).body;
      expect(Object.keys(one).sort()).toEqual(['canUse', 'displayName', 'id', 'type']);
    }
    const admin = (await call(h, 'dev-admin', 'GET', '/connections/conn-private')).body;
    expect(admin).toMatchObject({
      canUse: true,
      exportUsers: [{ id: 'dev-contributor', label: 'Contributor' }, { id: 'dev-viewer' }],
    });
  });
});
