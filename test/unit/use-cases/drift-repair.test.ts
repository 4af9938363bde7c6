import { beforeEach, describe, expect, it } from 'vitest';
import type { SourceProfile } from '#lib/domain/contact.ts';
import { ValidationError } from '#lib/domain/errors.ts';
import type { ExportConfigInput } from '#lib/domain/export-config.ts';
import { startRun } from '#lib/use-cases/start-run.ts';
import { PipelineHarness } from '#test/support/pipeline-harness.ts';

const people = (from: number, to: number): SourceProfile[] =>
  Array.from({ length: to - from }, (_, i) => ({
    id: String(from + i),
    attributes: { email: `p${from + i}@example.com`, first_name: `P${from + i}` },
  }));
const emails = (from: number, to: number): string[] =>
  Array.from({ length: to - from }, (_, i) => `p${from + i}@example.com`).sort();

const noDrift = { lists: 1, read: 0, missing: 0, strangerOurs: 0, strangerForeign: 0, foreignRemoved: 0 };

describe('drift repair', () => {
  let h: PipelineHarness;

  const list = (title: string): Set<string> => {
    const found = [...h.destination.lists.values()].find((l) => l.title === title);
    if (found === undefined) throw new Error(`no list ${title}`);
    return found.members;
  };
  /** Runs the export to the end; returns the run and the destination requests it made, by kind. */
  const runOnce = async (options: { repair?: boolean; trigger?: 'on-demand' | 'schedule' } = {}) => {
    const before = h.destination.requests.length;
    const started = await startRun(h.startDeps, {
      exportId: 'exp-1',
      trigger: options.trigger ?? 'on-demand',
      requestedBy: 'tester',
      ...(options.repair ? { repair: true } : {}),
    });
    await h.drain();
    const kinds: Record<string, number> = {};
    for (const r of h.destination.requests.slice(before)) kinds[r.kind] = (kinds[r.kind] ?? 0) + 1;
    return { run: await h.run(started.run.id), kinds };
  };
  const setUp = async (config: Partial<ExportConfigInput> = {}) => {
    await h.addConnection();
    await h.addExport(config);
  };

  beforeEach(() => {
    h = new PipelineHarness();
    h.segments.set('seg-a', 'Newsletter', people(0, 250));
  });

  it('a list emptied by hand is refilled by one repair run, one join per member', async () => {
    await setUp();
    expect((await runOnce()).run.status).toBe('succeeded');
    list('Newsletter').clear();

    const { run, kinds } = await runOnce({ repair: true });

    expect(run.status).toBe('succeeded');
    expect(h.destination.memberEmails('Newsletter')).toEqual(emails(0, 250));
    expect(run.drift).toEqual({ ...noDrift, missing: 250 });
    expect(kinds).toEqual({ listLists: 1, listContacts: 1, upsertWithList: 250 });
  });

  it('reads a partly emptied list page by page and rejoins only the missing members', async () => {
    await setUp();
    await runOnce();
    for (const email of emails(0, 120)) list('Newsletter').delete(email);

    const { run, kinds } = await runOnce({ repair: true });

    expect(h.destination.memberEmails('Newsletter')).toEqual(emails(0, 250));
    expect(run.drift).toEqual({ ...noDrift, read: 130, missing: 120 });
    expect(kinds.listContacts).toBe(2);
    expect(kinds.upsertWithList).toBe(120);
  });

  it('a planner out of time mid-list resumes from its bookmark, reading no page twice', async () => {
    await setUp();
    await runOnce();
    h.destination.memberPageSize = 50;
    for (const email of emails(0, 100)) list('Newsletter').delete(email);
    let shortOnce = false;
    h.remainingMs = () => {
      if (!shortOnce) return 15 * 60_000;
      shortOnce = false;
      return 500;
    };
    let pages = 0;
    h.destination.beforeRequest = ({ kind }) => {
      if (kind === 'listContacts' && ++pages === 1) shortOnce = true;
    };

    const { run, kinds } = await runOnce({ repair: true });

    expect(run.checkpointed).toBe(true);
    expect(run.drift).toEqual({ ...noDrift, read: 150, missing: 100 });
    expect(kinds.listContacts).toBe(3);
    expect(h.destination.memberEmails('Newsletter')).toEqual(emails(0, 250));
  });

  it('removes a stranger this product had added, once it left the segment, and leaves the rest', async () => {
    h.segments.set('seg-b', 'Customers', people(0, 10));
    await setUp({ segmentIds: ['seg-a', 'seg-b'] });
    await runOnce();
    // p0 leaves the newsletter (removed by the next run) but stays a customer, then is put back by hand.
    h.segments.set('seg-a', 'Newsletter', people(1, 250));
    await runOnce();
    list('Newsletter').add('p0@example.com');

    const { run, kinds } = await runOnce({ repair: true });

    expect(run.drift).toEqual({ ...noDrift, lists: 2, read: 260, strangerOurs: 1 });
    expect(kinds.listRemove).toBe(1);
    expect(h.destination.memberEmails('Newsletter')).toEqual(emails(1, 250));
    expect(h.destination.memberEmails('Customers')).toEqual(emails(0, 10));
  });

  it('leaves a member this product never sent on the list, counted as foreign', async () => {
    await setUp();
    await runOnce();
    list('Newsletter').add('outsider@example.com');

    const { run, kinds } = await runOnce({ repair: true });

    expect(run.drift).toEqual({ ...noDrift, read: 251, strangerForeign: 1 });
    expect(kinds.listRemove).toBeUndefined();
    expect(list('Newsletter').has('outsider@example.com')).toBe(true);
  });

  it('removes a foreign member from a list this product created when the export says so', async () => {
    await setUp({ repair: { removeForeign: true } });
    await runOnce();
    list('Newsletter').add('outsider@example.com');

    const { run, kinds } = await runOnce({ repair: true });

    expect(run.drift).toEqual({ ...noDrift, read: 251, strangerForeign: 1, foreignRemoved: 1 });
    expect(kinds.listRemove).toBe(1);
    expect(h.destination.memberEmails('Newsletter')).toEqual(emails(0, 250));
  });

  it('a run that does not repair never reads a list back', async () => {
    await setUp();
    await runOnce();
    list('Newsletter').clear();

    const { run, kinds } = await runOnce();

    expect(kinds.listContacts).toBeUndefined();
    expect(run.drift).toBeUndefined();
    expect(run.repair).toBeUndefined();
    expect(list('Newsletter').size).toBe(0);
  });

  it('an export that repairs every run repairs its scheduled runs too', async () => {
    await setUp({ repair: { everyRun: true } });
    await runOnce({ trigger: 'schedule' });
    list('Newsletter').clear();

    const { run } = await runOnce({ trigger: 'schedule' });

    expect(run.repair).toBe(true);
    expect(run.drift).toEqual({ ...noDrift, missing: 250 });
    expect(h.destination.memberEmails('Newsletter')).toEqual(emails(0, 250));
  });

  const refusal = async (trigger: 'on-demand' | 'dry-run'): Promise<unknown> => {
    try {
      await startRun(h.startDeps, { exportId: 'exp-1', trigger, requestedBy: 'tester', repair: true });
    } catch (error) {
      return error;
    }
    return undefined;
  };

  it('refuses to repair a field-mode export, naming repair', async () => {
    await setUp({ membership: 'field' });
    const error = await refusal('on-demand');
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).issues).toEqual([
      { path: 'repair', reason: expect.stringContaining('membership fields cannot be read back') },
    ]);
    expect(h.planQueue.messages).toHaveLength(0);
  });

  it('refuses a dry run that asks for repair, naming repair', async () => {
    await setUp();
    const error = await refusal('dry-run');
    expect((error as ValidationError).issues).toEqual([
      { path: 'repair', reason: expect.stringContaining('cannot read lists or tags back') },
    ]);
  });
});
