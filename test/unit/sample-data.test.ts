import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FileSegmentSource } from '#lib/adapters/segments/file-segment-source.ts';
import type { SourceProfile } from '#lib/domain/contact.ts';
import { checkEmail } from '#lib/domain/email.ts';
import {
  applyChurn,
  CSV_COLUMNS,
  generateSampleProfiles,
  type SampleDataset,
  type SegmentWriter,
  sampleSegmentMembers,
  seedDynamoDbSegments,
  syncDynamoDbSegments,
  toSourceProfile,
  writeSampleFiles,
} from '#local/sample-data.ts';

const N = 20_000;
let dataset: SampleDataset;
let root: string;

beforeAll(async () => {
  dataset = generateSampleProfiles({ profiles: N, seed: 2024 });
  root = await mkdtemp(join(tmpdir(), 'sample-data-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

const share = (count: number, total = N): number => count / total;
const members = (d: SampleDataset, segmentId: string): string[] =>
  Array.from(sampleSegmentMembers(d, segmentId), (p) => p.id);

describe('generateSampleProfiles', () => {
  it('is deterministic for a seed and differs between seeds', () => {
    const again = generateSampleProfiles({ profiles: N, seed: 2024 });
    const other = generateSampleProfiles({ profiles: N, seed: 2025 });

    expect(again.profiles).toEqual(dataset.profiles);
    expect(again.membership).toEqual(dataset.membership);
    expect(other.profiles.slice(0, 50)).not.toEqual(dataset.profiles.slice(0, 50));
  });

  it('puts every profile in three overlapping segments of realistic sizes', () => {
    const newsletter = new Set(members(dataset, 'newsletter'));
    const active = new Set(members(dataset, 'active-customers'));
    const vip = new Set(members(dataset, 'vip'));

    expect(share(newsletter.size)).toBeCloseTo(0.7, 1);
    expect(share(active.size)).toBeCloseTo(0.4, 1);
    expect(share(vip.size)).toBeGreaterThan(0.06);
    expect(share(vip.size)).toBeLessThan(0.1);
    const vipActive = [...vip].filter((id) => active.has(id)).length;
    expect(vipActive / vip.size).toBeGreaterThan(0.7); // VIPs are mostly active customers
    expect([...active].filter((id) => newsletter.has(id)).length).toBeGreaterThan(0);
    expect(dataset.membership.every((mask) => mask !== 0)).toBe(true);
    expect(new Set(dataset.profiles.map((p) => p.id)).size).toBe(N);
  });

  it('includes about 1% invalid emails of several kinds', () => {
    const reasons = new Map<string, number>();
    for (const p of dataset.profiles) {
      const check = checkEmail(p.email);
      if (!check.ok) reasons.set(check.reason, (reasons.get(check.reason) ?? 0) + 1);
    }
    const invalid = [...reasons.values()].reduce((a, b) => a + b, 0);

    expect(share(invalid)).toBeGreaterThan(0.007);
    expect(share(invalid)).toBeLessThan(0.013);
    expect([...reasons.keys()]).toEqual(
      expect.arrayContaining([
        'missing',
        'missing_at',
        'contains_whitespace',
        'invalid_domain',
        'multiple_at',
      ]),
    );
  });

  it('includes about 1% emails shared with another profile id, some differing only in case', () => {
    const firstByKey = new Map<string, (typeof dataset.profiles)[number]>();
    let duplicates = 0;
    let caseOnly = 0;
    for (const p of dataset.profiles) {
      const check = checkEmail(p.email);
      if (!check.ok) continue;
      const first = firstByKey.get(check.key);
      if (!first) {
        firstByKey.set(check.key, p);
        continue;
      }
      duplicates++;
      expect(first.id).not.toBe(p.id);
      expect(first.updated_at).not.toBe(p.updated_at);
      if (first.email !== p.email) caseOnly++;
    }

    expect(share(duplicates)).toBeGreaterThan(0.007);
    expect(share(duplicates)).toBeLessThan(0.013);
    expect(caseOnly).toBeGreaterThan(duplicates * 0.2);
    expect(caseOnly).toBeLessThan(duplicates * 0.6);
  });

  it('varies value types the way CRM exports do, including a few that cannot be coerced', () => {
    const ps = dataset.profiles;
    expect(ps.every((p) => /^\d{4}-\d{2}-\d{2}$/.test(p.signup_date))).toBe(true);
    expect(ps.every((p) => p.updated_at <= dataset.asOf && p.updated_at >= p.signup_date)).toBe(true);
    expect(ps.filter((p) => typeof p.seats === 'string' && /^\d+$/.test(p.seats)).length).toBeGreaterThan(
      N * 0.03,
    );
    expect(ps.filter((p) => p.trial === 'yes' || p.trial === 'no').length).toBeGreaterThan(N * 0.03);
    expect(ps.some((p) => typeof p.lifetime_value === 'number' && !Number.isInteger(p.lifetime_value))).toBe(
      true,
    );
    const junk = ps.filter(
      (p) =>
        (typeof p.seats === 'string' && !/^\d+$/.test(p.seats)) ||
        typeof p.lifetime_value === 'string' ||
        (typeof p.trial === 'string' && p.trial !== 'yes' && p.trial !== 'no'),
    );
    expect(junk.length).toBeGreaterThan(0);
    expect(share(junk.length)).toBeLessThan(0.01);
    expect(ps.some((p) => p.company === undefined)).toBe(true);
    expect(ps.some((p) => p.company?.includes(','))).toBe(true);
  });
});

/** An independent diff of two datasets, to check the churn summary against. */
const diff = (before: SampleDataset, after: SampleDataset) => {
  const segmentsOf = (d: SampleDataset): Map<string, { attrs: string; segments: Set<string> }> => {
    const m = new Map<string, { attrs: string; segments: Set<string> }>();
    d.profiles.forEach((p, i) => {
      const segments = new Set(
        d.segments.filter((_s, b) => ((d.membership[i] ?? 0) & (1 << b)) !== 0).map((s) => s.id),
      );
      m.set(p.id, { attrs: JSON.stringify(p), segments });
    });
    return m;
  };
  const a = segmentsOf(before);
  const b = segmentsOf(after);
  const result = {
    edited: [] as string[],
    left: [] as string[],
    joined: [] as string[],
    gone: [] as string[],
    added: [] as string[],
  };
  for (const [id, was] of a) {
    const now = b.get(id);
    if (!now) {
      result.gone.push(id);
      continue;
    }
    if (now.attrs !== was.attrs) result.edited.push(id);
    for (const s of was.segments) if (!now.segments.has(s)) result.left.push(`${id}:${s}`);
    for (const s of now.segments) if (!was.segments.has(s)) result.joined.push(`${id}:${s}`);
  }
  for (const id of b.keys()) if (!a.has(id)) result.added.push(id);
  return result;
};

describe('applyChurn', () => {
  it('changes about 1% of profiles and the summary matches the actual difference', () => {
    const { dataset: after, summary } = applyChurn(dataset, { fraction: 0.01, seed: 9 });
    const d = diff(dataset, after);

    expect(summary.changedProfiles).toBe(N * 0.01);
    expect(d.edited.sort()).toEqual([...summary.edited].sort());
    expect(d.left.sort()).toEqual(summary.leftSegment.map((x) => `${x.profileId}:${x.segmentId}`).sort());
    expect(d.joined.sort()).toEqual(summary.joinedSegment.map((x) => `${x.profileId}:${x.segmentId}`).sort());
    expect(d.gone.sort()).toEqual(summary.leftAll.map((x) => x.profileId).sort());
    expect(d.added.sort()).toEqual(summary.newProfiles.map((x) => x.profileId).sort());
    const distinct = new Set([
      ...d.edited,
      ...d.gone,
      ...d.added,
      ...[...d.left, ...d.joined].map((x) => x.split(':')[0]),
    ]);
    expect(distinct.size).toBe(summary.changedProfiles);
    for (const kind of [
      summary.edited,
      summary.leftSegment,
      summary.leftAll,
      summary.joinedSegment,
      summary.newProfiles,
    ]) {
      expect(kind.length).toBeGreaterThan(0);
    }
  });

  it('reports where leavers were and where newcomers are', () => {
    const { dataset: after, summary } = applyChurn(dataset, { seed: 10 });
    const index = new Map(after.profiles.map((p, i) => [p.id, i]));

    for (const gone of summary.leftAll) {
      const i = dataset.profiles.findIndex((p) => p.id === gone.profileId);
      expect(gone.segmentIds).toEqual(
        dataset.segments.filter((_s, b) => ((dataset.membership[i] ?? 0) & (1 << b)) !== 0).map((s) => s.id),
      );
    }
    for (const added of summary.newProfiles) {
      const mask = after.membership[index.get(added.profileId) ?? -1] ?? 0;
      expect(added.segmentIds.length).toBeGreaterThan(0);
      expect(added.segmentIds).toEqual(
        after.segments.filter((_s, b) => (mask & (1 << b)) !== 0).map((s) => s.id),
      );
    }
    expect(after.asOf > dataset.asOf).toBe(true);
    expect(
      summary.edited.every((id) => (after.profiles[index.get(id) ?? -1]?.updated_at ?? '') > dataset.asOf),
    ).toBe(true);
  });

  it('is deterministic and leaves its input untouched', () => {
    const snapshot = JSON.stringify(dataset.profiles.slice(0, 200));
    const membership = dataset.membership.slice();

    const one = applyChurn(dataset, { seed: 3 });
    const two = applyChurn(dataset, { seed: 3 });

    expect(one.summary).toEqual(two.summary);
    expect(one.dataset.profiles).toEqual(two.dataset.profiles);
    expect(JSON.stringify(dataset.profiles.slice(0, 200))).toBe(snapshot);
    expect(dataset.membership).toEqual(membership);
  });
});

describe('sample data writers', () => {
  const small = (): SampleDataset => generateSampleProfiles({ profiles: 600, seed: 5 });

  for (const format of ['jsonl', 'csv'] as const) {
    it(`writes ${format} files a FileSegmentSource reads back as the same members`, async () => {
      const data = small();
      const dir = join(root, format);
      await writeSampleFiles(dir, data, { format });
      const source = new FileSegmentSource({ dir });

      const listed = await source.listSegments();

      // A CSV names its columns; JSONL the keys of its first rows (the source samples 20).
      const namesOf = (id: string): string[] =>
        format === 'csv'
          ? CSV_COLUMNS.filter((c) => c !== 'id')
          : [
              ...new Set(
                [...sampleSegmentMembers(data, id)]
                  .slice(0, 20)
                  .flatMap((p) => Object.keys(toSourceProfile(p).attributes)),
              ),
            ];
      expect(listed).toEqual(
        data.segments.map((s) => ({ ...s, profiles: members(data, s.id).length, attributes: namesOf(s.id) })),
      );
      for (const segment of data.segments) {
        const read: SourceProfile[] = [];
        let cursor: string | undefined;
        do {
          const page = await source.readPage(segment.id, cursor, 128);
          expect(page.skipped).toEqual([]);
          read.push(...page.profiles);
          cursor = page.next;
        } while (cursor);
        const expected = Array.from(sampleSegmentMembers(data, segment.id), toSourceProfile);
        // CSV values come back as strings.
        const asWritten =
          format === 'csv'
            ? expected.map((p) => ({
                id: p.id,
                attributes: Object.fromEntries(
                  Object.entries(p.attributes)
                    .filter(([, v]) => v !== '')
                    .map(([k, v]) => [k, String(v)]),
                ),
              }))
            : expected;
        expect(read).toEqual(asWritten);
      }
    });
  }

  /** An in-memory segment table, to check what seeding and syncing write. */
  class FakeSegmentWriter implements SegmentWriter {
    readonly segments = new Map<string, { name: string; members: Map<string, Record<string, unknown>> }>();
    puts = 0;
    removes = 0;
    async putSegment(segment: { id: string; name: string }): Promise<void> {
      const existing = this.segments.get(segment.id);
      this.segments.set(segment.id, { name: segment.name, members: existing?.members ?? new Map() });
    }
    async putMembers(
      segmentId: string,
      profiles: readonly SourceProfile[],
    ): Promise<{ added: number; replaced: number }> {
      const members = this.segments.get(segmentId)?.members;
      if (!members) throw new Error(`no segment ${segmentId}`);
      let added = 0;
      for (const p of profiles) {
        if (!members.has(p.id)) added++;
        members.set(p.id, p.attributes);
      }
      this.puts += profiles.length;
      return { added, replaced: profiles.length - added };
    }
    async removeMembers(segmentId: string, profileIds: readonly string[]): Promise<{ removed: number }> {
      const members = this.segments.get(segmentId)?.members;
      let removed = 0;
      for (const id of profileIds) if (members?.delete(id)) removed++;
      this.removes += profileIds.length;
      return { removed };
    }
  }

  const tableOf = (d: SampleDataset) =>
    new Map(
      d.segments.map((s) => [
        s.id,
        new Map(Array.from(sampleSegmentMembers(d, s.id), (p) => [p.id, toSourceProfile(p).attributes])),
      ]),
    );

  it('seeds every segment, then syncs churn by writing only the difference', async () => {
    const before = small();
    const { dataset: after, summary } = applyChurn(before, { fraction: 0.05, seed: 6 });
    const writer = new FakeSegmentWriter();

    await seedDynamoDbSegments(writer, before);
    expect(new Map([...writer.segments].map(([id, s]) => [id, s.members]))).toEqual(tableOf(before));
    writer.puts = 0;
    const written = await syncDynamoDbSegments(writer, before, after);

    expect(new Map([...writer.segments].map(([id, s]) => [id, s.members]))).toEqual(tableOf(after));
    expect(written).toEqual({ put: writer.puts, removed: writer.removes });
    const membershipsOf = (ids: string[]) =>
      before.segments.reduce((n, s) => n + members(before, s.id).filter((id) => ids.includes(id)).length, 0);
    expect(written.removed).toBe(
      summary.leftSegment.length + summary.leftAll.reduce((n, x) => n + x.segmentIds.length, 0),
    );
    expect(written.put).toBe(
      membershipsOf(summary.edited) +
        summary.joinedSegment.length +
        summary.newProfiles.reduce((n, x) => n + x.segmentIds.length, 0),
    );
  });
});
