import { describe, expect, it } from 'vitest';
import type { Caller } from '#lib/domain/access.ts';
import type { AuditEntry } from '#lib/domain/audit.ts';
import type { AuditTrail } from '#lib/ports/audit-trail.ts';
import { deleteExport } from '#lib/use-cases/delete-export.ts';
import { duplicateExport } from '#lib/use-cases/duplicate-export.ts';
import { createConnection, updateConnection } from '#lib/use-cases/manage-connections.ts';
import { createExport, setSchedule, updateExport } from '#lib/use-cases/manage-exports.ts';
import { cancelRun, requestRun } from '#lib/use-cases/manage-runs.ts';
import { deleteConnection } from '#lib/use-cases/remove-connection.ts';
import { rotateKey } from '#lib/use-cases/rotate-key.ts';
import { API_KEY, ApiHarness, validConnection } from '#test/support/api-harness.ts';

const ADMIN: Caller = { id: 'admin-7', role: 'admin', name: 'admin@example.com' };
const CONTRIBUTOR: Caller = { id: 'contrib-3', role: 'contributor' };
const NEXT_KEY = 'second-key-same-account-Q9zX';

/**
 * One connection shared with contributors and one export on it, over in-memory state; every entry
 * a use case appends is also kept in `appended`, so "exactly one" counts all of them.
 */
const world = async () => {
  const h = new ApiHarness();
  h.destination.validKeys.add(NEXT_KEY);
  h.segments.set('seg-a', 'Newsletter', [{ id: '1', attributes: { email: 'a@example.com' } }]);
  h.segments.set('seg-b', 'VIP', [{ id: '2', attributes: { email: 'b@example.com' } }]);
  await h.addConnection({ id: 'conn-1', sharing: 'admins+contributors', keyHint: 'wxyz' });
  await h.addExport({ connectionId: 'conn-1', scheduled: true }, 'exp-1');
  const appended: AuditEntry[] = [];
  const audit: AuditTrail = {
    append: async (entry) => {
      appended.push(structuredClone(entry));
      return h.state.audit.append(entry);
    },
    list: (query) => h.state.audit.list(query),
  };
  const base = { ...h.apiDeps, ...h.state, audit };
  let ids = 0;
  return {
    h,
    appended,
    connectionDeps: { ...base, newId: () => `conn-new-${++ids}` },
    exportDeps: { ...base, newId: () => `exp-new-${++ids}` },
    runDeps: { ...base, costs: h.destination.costs, newId: () => `run-new-${++ids}` },
  };
};

const only = (appended: AuditEntry[]): AuditEntry => {
  expect(appended).toHaveLength(1);
  return appended[0] as AuditEntry;
};

describe('connection writes leave one audit entry each', () => {
  it('a created connection: who, and each setting as set, never the key', async () => {
    const w = await world();
    const created = await createConnection(
      w.connectionDeps,
      validConnection({ sharing: 'admins', cap: 5_000 }),
      ADMIN,
    );

    const entry = only(w.appended);
    expect(entry).toMatchObject({
      action: 'connection.created',
      actor: { id: 'admin-7', role: 'admin' },
      resource: { type: 'connection', id: created.id },
      at: new Date(w.h.clock.now()).toISOString(),
    });
    expect(entry.changes).toEqual(
      expect.arrayContaining([
        { field: 'type', to: 'autopilot' },
        { field: 'displayName', to: 'Marketing' },
        { field: 'sharing', to: 'admins' },
        { field: 'cap', to: 5_000 },
        { field: 'keyHint', to: API_KEY.slice(-4) },
      ]),
    );
    expect(entry.changes?.every((c) => c.from === undefined)).toBe(true);
    expect(JSON.stringify(entry)).not.toContain(API_KEY);
    expect(JSON.stringify(entry)).not.toContain('admin@example.com');
  });

  it('an edit: only the fields that changed, old → new', async () => {
    const w = await world();
    await updateConnection(
      w.connectionDeps,
      'conn-1',
      { version: 1, displayName: 'Renamed', cap: 900 },
      ADMIN,
    );

    expect(only(w.appended)).toMatchObject({
      action: 'connection.updated',
      resource: { type: 'connection', id: 'conn-1' },
      changes: [
        { field: 'displayName', from: 'Marketing Autopilot', to: 'Renamed' },
        { field: 'cap', from: 100_000, to: 900 },
      ],
    });
  });

  it('a key rotation: the key changed, its hint and the status old → new, and no key anywhere', async () => {
    const w = await world();
    await w.h.state.connections.setStatus('conn-1', 'invalid_key');
    await rotateKey(w.connectionDeps, 'conn-1', { apiKey: NEXT_KEY }, ADMIN);

    const entry = only(w.appended);
    expect(entry).toMatchObject({ action: 'connection.key_rotated', resource: { id: 'conn-1' } });
    expect(entry.changes).toEqual([
      { field: 'apiKey', changed: true },
      { field: 'keyHint', from: 'wxyz', to: 'Q9zX' },
      { field: 'status', from: 'invalid_key', to: 'active' },
    ]);
    const stored = await w.h.state.audit.list({
      resourceType: 'connection',
      resourceId: 'conn-1',
      limit: 10,
    });
    for (const text of [JSON.stringify(entry), JSON.stringify(stored)]) {
      expect(text).not.toContain(NEXT_KEY);
      expect(text).not.toContain(API_KEY);
    }
  });

  it('a rotation to another account says so', async () => {
    const w = await world();
    await rotateKey(w.connectionDeps, 'conn-1', { apiKey: NEXT_KEY, newAccount: true }, ADMIN);

    expect(only(w.appended).detail).toEqual({ newAccount: true, snapshotsReset: ['exp-1'] });
  });

  it('a removal with nothing on it: one entry, with the settings it had', async () => {
    const w = await world();
    await w.h.addConnection({ id: 'conn-spare' });
    await deleteConnection(w.connectionDeps, 'conn-spare', { detach: false }, ADMIN);

    const entry = only(w.appended);
    expect(entry).toMatchObject({
      action: 'connection.removed',
      resource: { type: 'connection', id: 'conn-spare' },
    });
    expect(entry.changes).toEqual(
      expect.arrayContaining([{ field: 'displayName', from: 'Marketing Autopilot' }]),
    );
    expect(entry.changes?.every((c) => c.to === undefined)).toBe(true);
  });

  it('a removal that detaches an export and cancels its run records each of those changes too', async () => {
    const w = await world();
    const { run } = await w.h.start('exp-1');
    await deleteConnection(w.connectionDeps, 'conn-1', { detach: true }, ADMIN);

    expect(w.appended.map((e) => [e.action, e.resource.type, e.resource.id, e.runId])).toEqual([
      ['export.updated', 'export', 'exp-1', undefined],
      ['run.cancelled', 'export', 'exp-1', run.id],
      ['connection.removed', 'connection', 'conn-1', undefined],
    ]);
    expect(w.appended[0]?.changes).toEqual([{ field: 'connectionId', from: 'conn-1', to: null }]);
    expect(w.appended[2]?.detail).toEqual({ detached: ['exp-1'], cancelledRuns: [run.id] });
  });

  it('a refused write leaves no entry', async () => {
    const w = await world();
    await expect(
      updateConnection(w.connectionDeps, 'conn-1', { version: 9, displayName: 'Stale' }, ADMIN),
    ).rejects.toThrow(/changed since you read it/);
    await expect(
      rotateKey(w.connectionDeps, 'conn-1', { apiKey: 'not-a-valid-key-1' }, ADMIN),
    ).rejects.toThrow();
    expect(w.appended).toEqual([]);
  });
});

describe('export writes leave one audit entry each', () => {
  const config = {
    name: 'Weekly',
    connectionId: 'conn-1',
    segmentIds: ['seg-a'],
    dataMatching: { email: 'email', fields: { FirstName: 'first_name' } },
  };

  it('a created export: its configuration as saved, by whom in which role', async () => {
    const w = await world();
    const created = await createExport(w.exportDeps, config, CONTRIBUTOR);

    const entry = only(w.appended);
    expect(entry).toMatchObject({
      action: 'export.created',
      actor: { id: 'contrib-3', role: 'contributor' },
      resource: { type: 'export', id: created.id },
    });
    expect(entry.changes).toEqual(
      expect.arrayContaining([
        { field: 'name', to: 'Weekly' },
        { field: 'segmentIds', to: ['seg-a'] },
        { field: 'scheduled', to: true },
      ]),
    );
  });

  it('an edit points at the fields that changed, inside nested settings too', async () => {
    const w = await world();
    const current = await w.h.state.exports.get('exp-1');
    if (current === undefined) throw new Error('no export');
    const { id: _i, createdAt: _c, createdBy: _cb, updatedAt: _u, updatedBy: _ub, ...rest } = current;
    await updateExport(
      w.exportDeps,
      'exp-1',
      {
        ...rest,
        name: 'Renamed',
        segmentIds: ['seg-a', 'seg-b'],
        dataMatching: { ...rest.dataMatching, fields: { FirstName: 'given_name' } },
      },
      ADMIN,
    );

    expect(only(w.appended)).toMatchObject({
      action: 'export.updated',
      resource: { id: 'exp-1' },
      changes: [
        { field: 'name', from: 'Newsletter', to: 'Renamed' },
        { field: 'segmentIds', from: ['seg-a'], to: ['seg-a', 'seg-b'] },
        { field: 'dataMatching.fields.FirstName', from: 'first_name', to: 'given_name' },
      ],
    });
  });

  it('switching the schedule off', async () => {
    const w = await world();
    await setSchedule(w.exportDeps, 'exp-1', { scheduled: false }, ADMIN);

    expect(only(w.appended)).toMatchObject({
      action: 'export.updated',
      changes: [{ field: 'scheduled', from: true, to: false }],
    });
  });

  it('a copy is filed under the copy, naming the export it came from', async () => {
    const w = await world();
    const copy = await duplicateExport(w.exportDeps, 'exp-1', ADMIN);

    const entry = only(w.appended);
    expect(entry).toMatchObject({
      action: 'export.duplicated',
      resource: { type: 'export', id: copy.id },
      detail: { copiedFrom: 'exp-1' },
    });
    expect(entry.changes).toEqual(expect.arrayContaining([{ field: 'name', to: 'Copy of Newsletter' }]));
  });

  it('a deletion, with the configuration the export had', async () => {
    const w = await world();
    await deleteExport(w.exportDeps, 'exp-1', ADMIN);

    const entry = only(w.appended);
    expect(entry).toMatchObject({ action: 'export.deleted', resource: { type: 'export', id: 'exp-1' } });
    expect(entry.changes).toEqual(expect.arrayContaining([{ field: 'name', from: 'Newsletter' }]));
  });
});

describe('run requests and cancels leave one audit entry each, filed under the export', () => {
  it('a requested dry run', async () => {
    const w = await world();
    const { run } = await requestRun(w.runDeps, 'exp-1', { dryRun: true }, CONTRIBUTOR);

    expect(only(w.appended)).toMatchObject({
      action: 'run.requested',
      actor: { id: 'contrib-3', role: 'contributor' },
      resource: { type: 'export', id: 'exp-1' },
      runId: run.id,
      detail: { trigger: 'dry-run', status: 'planning' },
    });
  });

  it('a request refused because a run is active still records the skipped run it left', async () => {
    const w = await world();
    await w.h.start('exp-1');
    const { started, run } = await requestRun(w.runDeps, 'exp-1', { dryRun: false }, ADMIN);

    expect(started).toBe(false);
    expect(only(w.appended)).toMatchObject({
      runId: run.id,
      detail: { trigger: 'on-demand', status: 'skipped' },
    });
  });

  it('a cancelled run', async () => {
    const w = await world();
    const { run } = await w.h.start('exp-1');
    await cancelRun(w.runDeps, run.id, CONTRIBUTOR);

    expect(only(w.appended)).toMatchObject({
      action: 'run.cancelled',
      actor: { id: 'contrib-3' },
      resource: { type: 'export', id: 'exp-1' },
      runId: run.id,
    });
  });
});

describe('when the audit store fails after a write', () => {
  it('the write stands and answers, and an error names what was not recorded, without values', async () => {
    const w = await world();
    const deps = {
      ...w.connectionDeps,
      audit: { append: async () => Promise.reject(new Error('ProvisionedThroughputExceeded')) },
    };

    const updated = await updateConnection(deps, 'conn-1', { version: 1, displayName: 'Secretive' }, ADMIN);

    expect(updated.displayName).toBe('Secretive');
    expect((await w.h.state.connections.get('conn-1'))?.displayName).toBe('Secretive');
    const errors = w.h.logger.lines.filter((l) => l.includes('"level":"ERROR"'));
    expect(errors).toHaveLength(1);
    expect(JSON.parse(errors[0] as string)).toMatchObject({
      message: 'audit entry not recorded',
      action: 'connection.updated',
      resource: { type: 'connection', id: 'conn-1' },
      actor: { id: 'admin-7', role: 'admin' },
      fields: ['displayName'],
      error: 'ProvisionedThroughputExceeded',
    });
    expect(errors[0]).not.toContain('Secretive');
  });
});
