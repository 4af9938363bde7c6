import { describe, expect, it } from 'vitest';
import type { SourceProfile } from '#lib/domain/contact.ts';
import { ApiHarness } from '#test/support/api-harness.ts';
import { PipelineHarness } from '#test/support/pipeline-harness.ts';

const people = (from: number, to: number): SourceProfile[] =>
  Array.from({ length: to - from }, (_, i) => ({
    id: String(from + i).padStart(6, '0'),
    attributes: { email: `p${from + i}@example.com` },
  }));
const emails = (from: number, to: number): string[] =>
  Array.from({ length: to - from }, (_, i) => `p${from + i}@example.com`).sort();

describe('one export owns each list', () => {
  it('a second export naming the same list cannot empty the first export’s list', async () => {
    const h = new PipelineHarness();
    h.segments.set('seg-a', 'Newsletter', people(0, 10));
    h.segments.set('seg-b', 'Partners', people(0, 10));
    await h.addConnection();
    // Saved straight into the store, as exports were before lists had owners.
    await h.addExport({ segmentIds: ['seg-a'], listTitles: { 'seg-a': 'VIP' } }, 'exp-1');
    await h.addExport({ segmentIds: ['seg-b'], listTitles: { 'seg-b': 'VIP' } }, 'exp-2');
    await h.start('exp-1');
    await h.drain();
    expect(h.destination.memberEmails('VIP')).toEqual(emails(0, 10));

    const second = await h.start('exp-2');
    await h.drain();
    h.segments.set('seg-b', 'Partners', []); // everyone leaves exp-2's segment
    const third = await h.start('exp-2');
    await h.drain();

    for (const run of [second.run.id, third.run.id]) {
      const done = await h.run(run);
      expect(done.status).toBe('failed');
      expect(done.reason).toContain('list "VIP" (used by export exp-1)');
    }
    expect(h.destination.memberEmails('VIP')).toEqual(emails(0, 10));
  });

  it('a list that exists in Autopilot but was not created by the product is adopted only when an admin said so', async () => {
    const h = new PipelineHarness();
    h.segments.set('seg-a', 'Newsletter', people(0, 5));
    await h.addConnection();
    await h.addExport();
    h.destination.lists.set('contactlist_theirs', {
      title: 'Newsletter',
      members: new Set(['x@example.com']),
    });

    const refused = await h.start();
    await h.drain();
    const done = await h.run(refused.run.id);
    expect(done.status).toBe('failed');
    expect(done.reason).toMatch(/A list titled "Newsletter" already exists in Autopilot but was not created/);
    expect(h.destination.memberEmails('Newsletter')).toEqual(['x@example.com']);

    const exp = await h.state.exports.get('exp-1');
    if (exp === undefined) throw new Error('no export');
    await h.state.exports.revise(
      'exp-1',
      exp.version,
      { adoptExistingLists: true },
      { by: 'tester', at: '2025-01-02T00:00:00.000Z' },
    );
    const adopted = await h.start();
    await h.drain();
    expect((await h.run(adopted.run.id)).status).toBe('succeeded');
    expect(h.destination.lists.size).toBe(1);
    expect(h.destination.memberEmails('Newsletter')).toEqual(['x@example.com', ...emails(0, 5)].sort());
  });
});

describe('saving exports that share a list', () => {
  const setUp = async () => {
    const h = new ApiHarness();
    h.segments.set('seg-a', 'Newsletter', people(0, 5));
    h.segments.set('seg-b', 'Partners', people(5, 10));
    await h.addConnection({ sharing: 'admins+contributors' });
    const body = (segment: string, title: string, extra: Record<string, unknown> = {}) => ({
      name: `Export of ${segment}`,
      connectionId: 'conn-1',
      segmentIds: [segment],
      listTitles: { [segment]: title },
      dataMatching: { email: 'email' },
      ...extra,
    });
    return { h, body };
  };

  it('a second export naming a list another export holds is refused at save time, naming the holder', async () => {
    const { h, body } = await setUp();
    const first = await h.call('POST', '/exports', { token: 'dev-contributor', body: body('seg-a', 'VIP') });
    expect(first.status).toBe(201);
    const second = await h.call('POST', '/exports', { token: 'dev-contributor', body: body('seg-b', 'VIP') });
    expect(second.status).toBe(409);
    expect(second.body.detail).toContain('list "VIP" belongs to export "Export of seg-a"');
    // Deleting the first export frees the title.
    expect((await h.call('DELETE', `/exports/${first.body.id}`, { token: 'dev-contributor' })).status).toBe(
      204,
    );
    expect(
      (await h.call('POST', '/exports', { token: 'dev-contributor', body: body('seg-b', 'VIP') })).status,
    ).toBe(201);
  });

  it('renaming a list frees the old title for other exports', async () => {
    const { h, body } = await setUp();
    const first = await h.call('POST', '/exports', { token: 'dev-admin', body: body('seg-a', 'VIP') });
    const view = (await h.call('GET', `/exports/${first.body.id}`)).body;
    const { editable } = await import('#test/support/api-harness.ts');
    const renamed = await h.call('PUT', `/exports/${first.body.id}`, {
      body: { ...editable(view), listTitles: { 'seg-a': 'Gold' }, version: view.version },
    });
    expect(renamed.status).toBe(200);
    expect((await h.call('POST', '/exports', { body: body('seg-b', 'VIP') })).status).toBe(201);
    expect((await h.call('POST', '/exports', { body: body('seg-b', 'Gold') })).status).toBe(409);
  });

  it('only an admin may let an export adopt lists the product did not create', async () => {
    const { h, body } = await setUp();
    const contributor = await h.call('POST', '/exports', {
      token: 'dev-contributor',
      body: body('seg-a', 'VIP', { adoptExistingLists: true }),
    });
    expect(contributor.status).toBe(403);
    const admin = await h.call('POST', '/exports', {
      token: 'dev-admin',
      body: body('seg-a', 'VIP', { adoptExistingLists: true }),
    });
    expect(admin.status).toBe(201);
    expect(admin.body.adoptExistingLists).toBe(true);
  });
});
