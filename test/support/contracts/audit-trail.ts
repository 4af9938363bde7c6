import { beforeAll, describe, expect, it } from 'vitest';
import type { AuditEntry } from '#lib/domain/audit.ts';
import type { State } from '#lib/ports/state.ts';
import { uid } from './helpers.ts';

const anEntry = (patch: Partial<AuditEntry> = {}): AuditEntry => ({
  id: uid('aud'),
  at: '2026-03-01T10:00:00.000Z',
  actor: { id: 'admin-1', role: 'admin' },
  action: 'connection.updated',
  resource: { type: 'connection', id: uid('conn') },
  changes: [{ field: 'displayName', from: 'Old', to: 'New' }],
  ...patch,
});

const minute = (n: number): string => new Date(Date.UTC(2026, 2, 1, 10, n)).toISOString();

/** What every `AuditTrail` must do: run against the in-memory fake (unit) and DynamoDB Local (integration). */
export const describeAuditTrailContract = (name: string, makeState: () => Promise<State>): void => {
  describe(`${name}: AuditTrail`, () => {
    let state: State;
    beforeAll(async () => {
      state = await makeState();
    });

    it('lists a resource’s entries newest first, whatever order they were appended in', async () => {
      const resource = { type: 'export' as const, id: uid('exp') };
      const at = [3, 1, 4, 0, 2].map((n) => anEntry({ resource, at: minute(n), action: 'export.updated' }));
      for (const e of at) expect(await state.audit.append(e)).toBe(true);

      const { entries, next } = await state.audit.list({
        resourceType: 'export',
        resourceId: resource.id,
        limit: 10,
      });

      expect(entries.map((e) => e.at)).toEqual([4, 3, 2, 1, 0].map(minute));
      expect(next).toBeUndefined();
    });

    it('entries of one instant are ordered by id, greater first', async () => {
      const resource = { type: 'connection' as const, id: uid('conn') };
      const base = uid('aud');
      for (const suffix of ['b', 'a', 'c']) {
        await state.audit.append(anEntry({ resource, id: `${base}-${suffix}` }));
      }
      const { entries } = await state.audit.list({
        resourceType: 'connection',
        resourceId: resource.id,
        limit: 5,
      });
      expect(entries.map((e) => e.id)).toEqual([`${base}-c`, `${base}-b`, `${base}-a`]);
    });

    it('pages with the cursor it returns: every entry once, next only while more follow', async () => {
      const resource = { type: 'export' as const, id: uid('exp') };
      for (let n = 0; n < 5; n++) await state.audit.append(anEntry({ resource, at: minute(n) }));

      const seen: string[] = [];
      let cursor: string | undefined;
      let pages = 0;
      do {
        const page = await state.audit.list({
          resourceType: 'export',
          resourceId: resource.id,
          limit: 2,
          ...(cursor === undefined ? {} : { cursor }),
        });
        seen.push(...page.entries.map((e) => e.at));
        cursor = page.next;
        pages++;
      } while (cursor !== undefined);

      expect(pages).toBe(3);
      expect(seen).toEqual([4, 3, 2, 1, 0].map(minute));
      const exact = await state.audit.list({ resourceType: 'export', resourceId: resource.id, limit: 5 });
      expect(exact.next).toBeUndefined();
    });

    it('is append-only: the same entry again answers false and the first one stands', async () => {
      const first = anEntry();
      expect(await state.audit.append(first)).toBe(true);
      expect(await state.audit.append({ ...first, changes: [{ field: 'displayName', to: 'Forged' }] })).toBe(
        false,
      );

      const { entries } = await state.audit.list({
        resourceType: 'connection',
        resourceId: first.resource.id,
        limit: 10,
      });
      expect(entries).toEqual([first]);
    });

    it('of concurrent appends of one entry, exactly one files it', async () => {
      const entry = anEntry();
      const answers = await Promise.all([1, 2, 3, 4].map(() => state.audit.append(entry)));
      expect(answers.filter(Boolean)).toHaveLength(1);
    });

    it('keeps each resource’s entries apart, a connection and an export of the same id included', async () => {
      const id = `${uid('shared')}#part`;
      await state.audit.append(anEntry({ resource: { type: 'connection', id } }));
      await state.audit.append(anEntry({ resource: { type: 'export', id }, action: 'export.created' }));
      await state.audit.append(anEntry({ resource: { type: 'export', id: `${id}#more` } }));

      const ofConnection = await state.audit.list({ resourceType: 'connection', resourceId: id, limit: 10 });
      const ofExport = await state.audit.list({ resourceType: 'export', resourceId: id, limit: 10 });
      expect(ofConnection.entries.map((e) => e.action)).toEqual(['connection.updated']);
      expect(ofExport.entries.map((e) => e.action)).toEqual(['export.created']);
      expect(
        (await state.audit.list({ resourceType: 'export', resourceId: uid('none'), limit: 3 })).entries,
      ).toEqual([]);
    });

    it('gives every field back as appended: nulls, nested values, lists, a run id, detail', async () => {
      const entry = anEntry({
        action: 'run.cancelled',
        resource: { type: 'export', id: uid('exp') },
        actor: { id: 'contributor-9', role: 'contributor' },
        runId: uid('run'),
        changes: [
          { field: 'connectionId', from: 'conn-1', to: null },
          { field: 'dataMatching', to: { email: 'email', fields: {}, custom: [] } },
          { field: 'apiKey', changed: true },
          { field: 'name', from: 'x', to: 'yyy…', truncated: true },
        ],
        moreChanges: 3,
        detail: { trigger: 'dry-run', dry: true, count: 2, ids: ['a', 'b'] },
      });
      await state.audit.append(entry);

      const { entries } = await state.audit.list({
        resourceType: 'export',
        resourceId: entry.resource.id,
        limit: 1,
      });
      expect(entries).toEqual([entry]);
    });

    it('refuses a cursor it did not return, naming the cursor', async () => {
      for (const cursor of [
        'not a cursor',
        'bm8taGFzaA',
        `${Buffer.from('2026#x').toString('base64url')}=`,
      ]) {
        await expect(
          state.audit.list({ resourceType: 'export', resourceId: uid('exp'), limit: 1, cursor }),
        ).rejects.toMatchObject({ name: 'ValidationError', issues: [{ path: 'cursor' }] });
      }
    });
  });
};
