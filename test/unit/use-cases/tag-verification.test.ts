import { beforeEach, describe, expect, it } from 'vitest';
import { orttoRequests } from '#lib/adapters/ortto/cost-model.ts';
import type { SourceProfile } from '#lib/domain/contact.ts';
import { type ExportConfigInput, ExportConfigSchema } from '#lib/domain/export-config.ts';
import type { TagCheck } from '#lib/domain/run-record.ts';
import { oneDestination } from '#lib/ports/destination.ts';
import type { PlanRunDeps } from '#lib/use-cases/plan-run.ts';
import { agrees } from '#lib/use-cases/planning/tag-counts.ts';
import type { SendBatchDeps } from '#lib/use-cases/send-batch.ts';
import { type StartRunDeps, startRun } from '#lib/use-cases/start-run.ts';
import { InMemoryTagDestination } from '#test/fakes/in-memory-tags.ts';
import { PipelineHarness } from '#test/support/pipeline-harness.ts';

/** The whole pipeline on in-memory fakes, its destination an Ortto-shaped account keeping tags. */
class TagHarness extends PipelineHarness {
  tags = new InMemoryTagDestination();
  override get startDeps(): StartRunDeps {
    return { ...super.startDeps, destinations: oneDestination(this.tags) };
  }
  override get planDeps(): PlanRunDeps {
    return { ...super.planDeps, destinations: oneDestination(this.tags) };
  }
  override get sendDeps(): SendBatchDeps {
    return { ...super.sendDeps, destinations: oneDestination(this.tags) };
  }
}

const people = (from: number, to: number): SourceProfile[] =>
  Array.from({ length: to - from }, (_, i) => ({
    id: String(from + i),
    attributes: { email: `p${from + i}@example.com`, first_name: `P${from + i}` },
  }));
const emails = (from: number, to: number): string[] =>
  Array.from({ length: to - from }, (_, i) => `p${from + i}@example.com`).sort();

const NEWSLETTER = 'Segment Newsletter';
const CUSTOMERS = 'Segment Customers';
const noDrift = { lists: 0, read: 0, missing: 0, strangerOurs: 0, strangerForeign: 0, foreignRemoved: 0 };
const check = (segmentId: string, tag: string, n: number) => ({
  segmentId,
  tag,
  counted: n,
  expected: n,
  uncertain: 0,
  foreign: 0,
  readBack: false,
});

describe('tag mode: counts before planning, and a read-back of the tags that disagree', () => {
  let h: TagHarness;

  const runOnce = async (
    options: { repair?: boolean; trigger?: 'on-demand' | 'schedule' | 'dry-run' } = {},
  ) => {
    const before = h.tags.requests.length;
    const started = await startRun(h.startDeps, {
      exportId: 'exp-1',
      trigger: options.trigger ?? 'on-demand',
      requestedBy: 'tester',
      ...(options.repair ? { repair: true } : {}),
    });
    await h.drain();
    return { run: await h.run(started.run.id), kinds: h.tags.kinds(before) };
  };
  const setUp = async (config: Partial<ExportConfigInput> = {}) => {
    await h.addConnection();
    await h.addExport({ membership: 'tag', segmentIds: ['seg-a', 'seg-b'], ...config });
  };

  beforeEach(() => {
    h = new TagHarness();
    h.segments.set('seg-a', 'Newsletter', people(0, 250));
    h.segments.set('seg-b', 'Customers', people(0, 10));
  });

  it('counts that agree with the snapshot read nothing back: a run costs one tags/get per tag beyond its merges', async () => {
    await setUp();
    const first = await runOnce();
    expect(first.run.status, first.run.reason).toBe('succeeded');
    // Nothing was tagged yet and the snapshot expects nobody: the counts agree at 0.
    expect(first.kinds).toEqual({ tagsGet: 2, merge: 3 });
    expect(first.run.estimate?.totalRequests).toBe(5);

    const second = await runOnce();

    expect(second.run.status).toBe('succeeded');
    expect(second.kinds).toEqual({ tagsGet: 2 });
    expect(second.run.estimate?.requests).toEqual({ tagsGet: 2 });
    expect(second.run.drift).toEqual({
      ...noDrift,
      tags: [check('seg-a', NEWSLETTER, 250), check('seg-b', CUSTOMERS, 10)],
    });
  });

  it('a tag whose count disagrees is read back alone, and the run that noticed re-tags its missing members', async () => {
    await setUp();
    await runOnce();
    for (const email of emails(0, 5)) h.tags.untag(email, NEWSLETTER);

    const { run, kinds } = await runOnce();

    expect(run.status).toBe('succeeded');
    expect(kinds).toEqual({ tagsGet: 2, personGet: 1, merge: 1 });
    expect(run.drift).toEqual({
      ...noDrift,
      lists: 1,
      read: 245,
      missing: 5,
      tags: [
        { ...check('seg-a', NEWSLETTER, 250), counted: 245, readBack: true },
        check('seg-b', CUSTOMERS, 10),
      ],
    });
    expect(h.tags.members(NEWSLETTER)).toEqual(emails(0, 250));
    expect(h.tags.members(CUSTOMERS)).toEqual(emails(0, 10));
    expect((await runOnce()).kinds).toEqual({ tagsGet: 2 });
  });

  it('a person it tagged, who left the segment and was tagged again by hand, is untagged by the next run', async () => {
    await setUp();
    await runOnce();
    // p0 leaves the newsletter (untagged by the next run) but stays a customer, then is tagged again by hand.
    h.segments.set('seg-a', 'Newsletter', people(1, 250));
    await runOnce();
    h.tags.tag('p0@example.com', NEWSLETTER);

    const { run, kinds } = await runOnce();

    expect(kinds).toEqual({ tagsGet: 2, personGet: 1, merge: 1 });
    expect(run.drift).toMatchObject({ lists: 1, read: 250, strangerOurs: 1, strangerForeign: 0 });
    expect(h.tags.members(NEWSLETTER)).toEqual(emails(1, 250));
    expect(h.tags.members(CUSTOMERS)).toEqual(emails(0, 10));
  });

  it('with removeForeign, a stranger tagged by hand is untagged by the run that counted it', async () => {
    await setUp({ repair: { removeForeign: true } });
    await runOnce();
    h.tags.tag('outsider@example.com', NEWSLETTER);

    const { run, kinds } = await runOnce();

    expect(kinds).toEqual({ tagsGet: 2, personGet: 1, merge: 1 });
    expect(run.drift).toMatchObject({ lists: 1, read: 251, strangerForeign: 1, foreignRemoved: 1 });
    expect(h.tags.members(NEWSLETTER)).toEqual(emails(0, 250));
    expect((await runOnce()).kinds).toEqual({ tagsGet: 2 });
  });

  it('without removeForeign, a stranger is left alone and remembered: the next run does not read the tag back for it', async () => {
    await setUp();
    await runOnce();
    h.tags.tag('outsider@example.com', NEWSLETTER);

    const noticed = await runOnce();
    expect(noticed.kinds).toEqual({ tagsGet: 2, personGet: 1 });
    expect(noticed.run.drift?.strangerForeign).toBe(1);
    expect(noticed.run.drift?.tags?.[0]).toEqual({
      ...check('seg-a', NEWSLETTER, 250),
      counted: 251,
      foreign: 1,
      readBack: true,
    });
    expect(h.tags.members(NEWSLETTER)).toContain('outsider@example.com');

    const next = await runOnce();
    expect(next.kinds).toEqual({ tagsGet: 2 });
    expect(next.run.drift?.tags?.[0]).toEqual({
      ...check('seg-a', NEWSLETTER, 250),
      counted: 251,
      foreign: 1,
    });

    // Once the stranger is gone too, the count is below what was remembered: read back, and forgotten.
    h.tags.untag('outsider@example.com', NEWSLETTER);
    const cleared = await runOnce();
    expect(cleared.kinds).toEqual({ tagsGet: 2, personGet: 1 });
    expect(cleared.run.drift?.tags?.[0]).toEqual({ ...check('seg-a', NEWSLETTER, 250), readBack: true });
    expect((await runOnce()).kinds).toEqual({ tagsGet: 2 });
  });

  it('a planner out of time mid read-back resumes from its bookmark without counting again', async () => {
    await setUp();
    await runOnce();
    h.tags.pageSize = 50;
    for (const email of emails(0, 100)) h.tags.untag(email, NEWSLETTER);
    let shortOnce = false;
    h.remainingMs = () => {
      if (!shortOnce) return 15 * 60_000;
      shortOnce = false;
      return 500;
    };
    let pages = 0;
    const open = h.tags.open.bind(h.tags);
    h.tags.open = (key, hooks) =>
      open(key, {
        ...hooks,
        beforeRequest: async (kind) => {
          if (kind === 'personGet' && ++pages === 1) shortOnce = true;
          await hooks?.beforeRequest(kind);
        },
        afterResponse: (kind, status, ms) => hooks?.afterResponse(kind, status, ms),
      });

    const { run, kinds } = await runOnce();

    expect(run.checkpointed).toBe(true);
    expect(kinds).toEqual({ tagsGet: 2, personGet: 3, merge: 1 });
    expect(run.drift).toMatchObject({ lists: 1, read: 150, missing: 100 });
    // Priced as made: the counts once, every page read once, the one merge (the planner's bulkUpsert).
    expect(run.estimate?.requests).toEqual({ tagsGet: 2, personGet: 3, bulkUpsert: 1 });
    expect(h.tags.members(NEWSLETTER)).toEqual(emails(0, 250));
  });

  it('a destination that cannot count verifies nothing and reads nothing back', async () => {
    h.tags.counts = false;
    await setUp();
    await runOnce();
    h.tags.untag('p0@example.com', NEWSLETTER);

    const { run, kinds } = await runOnce();

    expect(kinds).toEqual({});
    expect(run.drift).toBeUndefined();
    expect(h.tags.members(NEWSLETTER)).toEqual(emails(1, 250));
  });

  it('a repair run reads every tag back without counting, on demand or because the export repairs every run', async () => {
    await setUp({ repair: { everyRun: true } });
    await runOnce();
    for (const email of emails(0, 3)) h.tags.untag(email, CUSTOMERS);

    const { run, kinds } = await runOnce({ trigger: 'schedule' });

    expect(run.repair).toBe(true);
    expect(kinds).toEqual({ personGet: 2, merge: 1 });
    expect(run.drift).toEqual({
      ...noDrift,
      lists: 2,
      read: 257,
      missing: 3,
      tags: [
        { ...check('seg-a', NEWSLETTER, 250), counted: null, readBack: true },
        { ...check('seg-b', CUSTOMERS, 10), counted: null, readBack: true },
      ],
    });
    expect(h.tags.members(CUSTOMERS)).toEqual(emails(0, 10));
    expect((await runOnce({ repair: true })).kinds).toEqual({ personGet: 2 });
  });

  it('a dry run prices one count per tag, as the cost model does, and makes no request', async () => {
    await setUp();
    await runOnce();

    const { run, kinds } = await runOnce({ trigger: 'dry-run' });

    expect(kinds).toEqual({});
    expect(run.estimate?.requests).toEqual({ tagsGet: orttoRequests.verify(2) });
    expect(run.drift).toBeUndefined();
  });

  it('a key refused while counting fails the run before anything is sent', async () => {
    h.tags = new InMemoryTagDestination('another-key');
    await setUp();

    const { run, kinds } = await runOnce();

    expect(run.status).toBe('failed');
    expect(kinds).toEqual({ tagsGet: 1 });
    expect((await h.state.connections.get('conn-1'))?.status).toBe('invalid_key');
  });

  it('a tag-mode export may repair; a field-mode one is refused, naming repair', () => {
    const base = { name: 'x', connectionId: 'c', segmentIds: ['seg-a'], dataMatching: { email: 'email' } };
    const tag = ExportConfigSchema.safeParse({
      ...base,
      membership: 'tag',
      repair: { everyRun: true, removeForeign: true },
    });
    expect(tag.success).toBe(true);
    const field = ExportConfigSchema.safeParse({ ...base, membership: 'field', repair: { everyRun: true } });
    expect(field.error?.issues.map((i) => [i.path.join('.'), i.message])).toEqual([
      ['repair', expect.stringContaining('membership fields cannot be read back')],
    ]);
  });
});

describe('whether a tag count agrees with the snapshot', () => {
  const at = (counted: number | null, more: Partial<TagCheck> = {}): boolean =>
    agrees({
      ...{ segmentId: 's', tag: 't', expected: 10, uncertain: 0, foreign: 0, readBack: false },
      counted,
      ...more,
    });

  it('agrees only with exactly the members the snapshot is sure of, when nothing is uncertain', () => {
    expect([at(9), at(10), at(11)]).toEqual([false, true, false]);
  });

  it('accepts any outcome of the uncertain memberships, and the foreign people last left alone', () => {
    expect([
      at(9, { uncertain: 2 }),
      at(10, { uncertain: 2 }),
      at(12, { uncertain: 2 }),
      at(13, { uncertain: 2 }),
    ]).toEqual([false, true, true, false]);
    expect([at(10, { foreign: 3 }), at(13, { foreign: 3 }), at(14, { foreign: 3 })]).toEqual([
      false,
      true,
      false,
    ]);
  });

  it('a tag that was not counted is not read back for it', () => {
    expect(at(null)).toBe(true);
  });
});
