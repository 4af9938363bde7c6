import { describe, expect, it } from 'vitest';
import { autopilotCosts } from '#lib/adapters/autopilot/cost-model.ts';
import { addRequests, type BulkMembership, durationSeconds, totalRequests } from '#lib/domain/costs.ts';
import type { ContactDecision } from '#lib/domain/diff.ts';
import { decide } from '#lib/domain/diff.ts';
import {
  BatchPlanner,
  type PlanInput,
  type PlannedBatch,
  type PlannerOptions,
  requestsFor,
} from '#lib/domain/plan.ts';
import { contactData } from '#test/fixtures/builders.ts';

const A = 0b001;
const B = 0b010;
const C = 0b100;

/** A mixed run over three segments; every number below is computed by hand from these groups. */
const scenario = (): PlanInput[] => {
  const inputs: PlanInput[] = [];
  const add = (
    count: number,
    prefix: string,
    current: { hash: string; segments: number } | undefined,
    previous?: { hash: string; segments: number },
  ) => {
    for (let i = 0; i < count; i++) {
      const email = `${prefix}${String(i).padStart(4, '0')}@example.com`;
      const decision: ContactDecision = decide(current, previous);
      inputs.push({ email, decision, current: current && { data: contactData(email), hash: current.hash } });
    }
  };
  add(210, 'new-a-', { hash: 'n', segments: A }); // 210 joins of A
  add(40, 'new-ab-', { hash: 'n', segments: A | B }); // 40 joins of A, 40 of B
  add(150, 'changed-', { hash: 'new', segments: A }, { hash: 'old', segments: A }); // bulk updates
  add(30, 'same-', { hash: 's', segments: A }, { hash: 's', segments: A }); // nothing
  add(20, 'same-joins-c-', { hash: 's', segments: A | C }, { hash: 's', segments: A }); // 20 joins of C
  add(10, 'gone-', undefined, { hash: 'g', segments: A }); // 10 leave A entirely
  add(5, 'changed-leaves-b-', { hash: 'new', segments: A }, { hash: 'old', segments: A | B }); // 5 updates, 5 leave B
  return inputs;
};

const plan = (overrides: Partial<PlannerOptions> = {}) => {
  const batches: PlannedBatch[] = [];
  const options: PlannerOptions = {
    mode: 'list',
    onLeave: 'remove',
    segmentCount: 3,
    membershipFields: ['Segment A', 'Segment B', 'Segment C'],
    costs: autopilotCosts,
    capability: 'unsupported',
    sizes: { bulk: 100, perContact: 25 },
    ...overrides,
  };
  const planner = new BatchPlanner(options, (b) => batches.push(b));
  for (const input of scenario()) planner.add(input);
  planner.finish();
  const capability: BulkMembership = options.capability;
  const requests = batches.reduce<Partial<Record<string, number>>>(
    (acc, b) => addRequests(acc, requestsFor(b, autopilotCosts, capability)),
    {},
  );
  return { batches, requests, total: totalRequests(requests), floor: planner.floor };
};

describe('batch planning, list mode (costs of docs/architecture.md#cost-model)', () => {
  it('without bulk membership: one request per join and per leave, changed-only contacts in bulk', () => {
    const { requests, total, floor, batches } = plan();
    // joins: A 250, B 40, C 20 → 310 single upserts carrying the list
    // changed without a join: 150 + 5 = 155 → 2 bulk upserts
    // leaves: 10 (A) + 5 (B) → 15 removals
    expect(requests).toEqual({ upsertWithList: 310, bulkUpsert: 2, listRemove: 15 });
    expect(total).toBe(327);
    expect(floor).toBeCloseTo(310 + 15 + 155 / 100, 9);
    expect(total / floor).toBeLessThan(1.02);
    // per-contact batches hold at most 25 contacts; bulk ones at most 100
    for (const b of batches) expect(b.items.length).toBeLessThanOrEqual(b.op === 'upsert' ? 100 : 25);
  });

  it('with bulk membership: joins ride in bulk upserts, 100 per request per list', () => {
    const { requests, total, floor } = plan({ capability: 'supported' });
    // joins: A 250 → 3, B 40 → 1, C 20 → 1 bulk upserts with the list; updates 2; leaves 15
    expect(requests).toEqual({ bulkUpsertWithList: 5, bulkUpsert: 2, listRemove: 15 });
    expect(total).toBe(22);
    expect(floor).toBeCloseTo(310 / 100 + 15 + 155 / 100, 9);
  });

  it('while the capability is unknown, joins are batched for bulk (to probe) but priced as the worst case', () => {
    const { batches, requests } = plan({ capability: 'unknown' });
    const joinBatches = batches.filter((b) => b.op === 'list-join');
    expect(joinBatches.map((b) => b.items.length)).toEqual([100, 100, 50, 40, 20]);
    expect(requests.upsertWithList).toBe(310);
  });

  it('keeps leavers on their lists when onLeave is keep', () => {
    const { requests } = plan({ onLeave: 'keep' });
    expect(requests.listRemove).toBeUndefined();
    expect(requests).toEqual({ upsertWithList: 310, bulkUpsert: 2 });
  });

  it('a join carries the full contact so a changed contact that joins needs no separate update', () => {
    const batches: PlannedBatch[] = [];
    const planner = new BatchPlanner(
      {
        mode: 'list',
        onLeave: 'remove',
        segmentCount: 2,
        membershipFields: [],
        costs: autopilotCosts,
        capability: 'unsupported',
        sizes: { bulk: 100, perContact: 25 },
      },
      (b) => batches.push(b),
    );
    const data = contactData('x@example.com', { FirstName: 'New' });
    planner.add({
      email: data.email,
      current: { data, hash: 'h2' },
      decision: decide({ hash: 'h2', segments: 0b11 }, { hash: 'h1', segments: 0b01 }),
    });
    planner.finish();
    expect(batches).toEqual([{ op: 'list-join', segment: 1, items: [{ data, hash: 'h2' }] }]);
  });

  it('marks a contact that left every segment to be forgotten, and one that still belongs somewhere not', () => {
    const { batches } = plan();
    const leaves = batches.filter((b) => b.op === 'list-leave');
    const items = leaves.flatMap((b) =>
      b.op === 'list-leave' ? b.items.map((i) => [b.segment, i.email.split('0')[0], i.forget]) : [],
    );
    expect(new Set(items.map((i) => JSON.stringify(i)))).toEqual(
      new Set([JSON.stringify([0, 'gone-', true]), JSON.stringify([1, 'changed-leaves-b-', false])]),
    );
  });
});

describe('batch planning, field mode', () => {
  it('every change is one bulk entry: 100 contacts per request', () => {
    const { requests, floor } = plan({ mode: 'field' });
    // written: 250 added + 155 changed + 20 joining C + 10 gone = 435 → 5 bulk upserts
    expect(requests).toEqual({ bulkUpsert: 5 });
    expect(floor).toBeCloseTo(4.35, 9);
  });

  it('writes membership flags: true for current segments, false for segments left', () => {
    const { batches } = plan({ mode: 'field' });
    const items = batches.flatMap((b) => (b.op === 'upsert' ? b.items : []));
    const byEmail = new Map(items.map((i) => [i.data.email, i]));
    expect(byEmail.get('new-ab-0000@example.com')?.data.custom).toEqual({
      'Segment A': { type: 'boolean', value: true },
      'Segment B': { type: 'boolean', value: true },
    });
    const leftB = byEmail.get('changed-leaves-b-0000@example.com');
    expect(leftB?.data.custom).toEqual({
      'Segment A': { type: 'boolean', value: true },
      'Segment B': { type: 'boolean', value: false },
    });
    expect(leftB).toMatchObject({ hash: 'new', join: 0, leave: B, forget: false });
    const gone = byEmail.get('gone-0000@example.com');
    expect(gone).toMatchObject({ hash: null, join: 0, leave: A, forget: true });
    expect(gone?.data).toEqual({
      email: 'gone-0000@example.com',
      fields: {},
      custom: { 'Segment A': { type: 'boolean', value: false } },
    });
    expect(byEmail.has('same-0000@example.com')).toBe(false);
  });

  it('with keep-on-leave, leavers are not written at all', () => {
    const { requests } = plan({ mode: 'field', onLeave: 'keep' });
    // 250 + 155 + 20 = 425 → 5
    expect(requests).toEqual({ bulkUpsert: 5 });
    const { batches } = plan({ mode: 'field', onLeave: 'keep' });
    const emails = batches.flatMap((b) => (b.op === 'upsert' ? b.items.map((i) => i.data.email) : []));
    expect(emails.some((e) => e.startsWith('gone-'))).toBe(false);
  });
});

describe('batch planning, tag mode (Ortto: one tag per segment)', () => {
  const tagged = (overrides: Partial<PlannerOptions> = {}) =>
    plan({ mode: 'tag', membershipTags: ['Segment A', 'Segment B', 'Segment C'], ...overrides });
  const itemsOf = (batches: PlannedBatch[]) => batches.flatMap((b) => (b.op === 'upsert' ? b.items : []));

  it('every changed person is one merge entry, joins and leaves included: 100 per request', () => {
    const { requests, floor, batches } = tagged();
    // 425 people stay in a segment (250 + 155 + 20) → 5 merges; the 10 gone ones → 1 merge of their own.
    expect(requests).toEqual({ bulkUpsert: 6 });
    expect(floor).toBeCloseTo(4.35, 9);
    expect(batches.every((b) => b.op === 'upsert')).toBe(true);
  });

  it('sets the tag of every segment a person is in and unsets the ones it left; no membership fields', () => {
    const byEmail = new Map(itemsOf(tagged().batches).map((i) => [i.data.email, i]));
    const ab = byEmail.get('new-ab-0000@example.com');
    expect(ab?.data.tags).toEqual({ set: ['Segment A', 'Segment B'], unset: [], existingOnly: false });
    expect(ab?.data.custom).toEqual({});
    const leftB = byEmail.get('changed-leaves-b-0000@example.com');
    expect(leftB?.data.tags).toEqual({ set: ['Segment A'], unset: ['Segment B'], existingOnly: false });
    expect(leftB).toMatchObject({ hash: 'new', join: 0, leave: B, forget: false });
    const joinsC = byEmail.get('same-joins-c-0000@example.com');
    expect(joinsC?.data.tags).toEqual({ set: ['Segment A', 'Segment C'], unset: [], existingOnly: false });
    expect(joinsC).toMatchObject({ join: C, leave: 0 });
  });

  it('puts people who left every segment in merges of their own, marked never to be created', () => {
    const { batches } = tagged();
    const goneBatches = batches.filter(
      (b) => b.op === 'upsert' && b.items.some((i) => i.data.email.startsWith('gone-')),
    );
    expect(goneBatches).toHaveLength(1);
    const gone = goneBatches[0]?.op === 'upsert' ? goneBatches[0].items : [];
    expect(gone).toHaveLength(10);
    for (const item of gone) {
      expect(item.data.tags).toEqual({ set: [], unset: ['Segment A'], existingOnly: true });
      expect(item).toMatchObject({ hash: null, leave: A, forget: true });
      expect(item.data.fields).toEqual({});
    }
    // Nobody who stays in a segment travels with them.
    for (const b of batches)
      if (b.op === 'upsert' && b !== goneBatches[0])
        expect(b.items.every((i) => i.data.tags?.existingOnly === false)).toBe(true);
  });

  it('with keep-on-leave, nobody is untagged and leavers are not written', () => {
    const { requests, batches } = tagged({ onLeave: 'keep' });
    expect(requests).toEqual({ bulkUpsert: 5 });
    const items = itemsOf(batches);
    expect(items.some((i) => i.data.email.startsWith('gone-'))).toBe(false);
    expect(items.every((i) => i.data.tags?.unset.length === 0)).toBe(true);
  });
});

describe('duration estimate', () => {
  it('is the request count over the rate budget', () => {
    expect(durationSeconds(327, 5)).toBeCloseTo(65.4, 9);
    // 100,000 new single-list members at Autopilot's 5 r/s: list mode vs field mode
    expect(durationSeconds(100_000, 5) / 3600).toBeCloseTo(5.56, 2);
    expect(durationSeconds(1_000, 5)).toBe(200);
  });
});
