import { describe, expect, it } from 'vitest';
import { capExceeded, effectiveCap } from '#lib/domain/cap.ts';
import { ContactCollector } from '#lib/domain/collector.ts';
import { DataMatchingSchema } from '#lib/domain/export-config.ts';
import { mapProfile } from '#lib/domain/mapping.ts';
import { challengerWins, compareProfileIds } from '#lib/domain/merge.ts';

const matching = DataMatchingSchema.parse({
  email: 'email',
  fields: { FirstName: 'first' },
  updatedAt: 'updated',
});
const segments = ['seg-a', 'seg-b', 'seg-c'];

const collect = (
  rows: Array<[segment: number, id: string, attributes: Record<string, unknown>]>,
  options: Partial<ConstructorParameters<typeof ContactCollector>[0]> = {},
): ContactCollector => {
  const c = new ContactCollector({ segmentIds: segments, cap: 100, policy: 'fail', ...options });
  for (const [segment, id, attributes] of rows) c.add(segment, id, mapProfile({ id, attributes }, matching));
  return c;
};

describe('merge rule', () => {
  it('prefers the most recently updated profile', () => {
    expect(challengerWins({ profileId: '1', updatedAt: 10 }, { profileId: '2', updatedAt: 20 })).toBe(true);
    expect(challengerWins({ profileId: '2', updatedAt: 20 }, { profileId: '1', updatedAt: 10 })).toBe(false);
  });

  it('prefers a profile with an update time over one without', () => {
    expect(challengerWins({ profileId: '1', updatedAt: undefined }, { profileId: '9', updatedAt: 5 })).toBe(
      true,
    );
    expect(challengerWins({ profileId: '9', updatedAt: 5 }, { profileId: '1', updatedAt: undefined })).toBe(
      false,
    );
  });

  it('breaks ties by the lowest profile id, numerically for numeric ids', () => {
    expect(challengerWins({ profileId: '10', updatedAt: 5 }, { profileId: '9', updatedAt: 5 })).toBe(true);
    expect(
      challengerWins({ profileId: 'b', updatedAt: undefined }, { profileId: 'a', updatedAt: undefined }),
    ).toBe(true);
    expect(compareProfileIds('9', '10')).toBeLessThan(0);
    expect(compareProfileIds('p-10', 'p-9')).toBeLessThan(0);
  });
});

describe('ContactCollector', () => {
  it('merges profiles sharing an email (any case), keeps the winner and the union of segments', () => {
    const c = collect([
      [0, '1', { email: 'ann@example.com', first: 'Old', updated: '2026-01-01' }],
      [1, '2', { email: 'ANN@example.com', first: 'New', updated: '2026-06-01' }],
      [2, '3', { email: 'bob@example.com', first: 'Bob' }],
    ]);
    expect(c.contacts.size).toBe(2);
    const ann = c.contacts.get('ann@example.com');
    expect(ann?.profileId).toBe('2');
    expect(ann?.data.fields.FirstName).toBe('New');
    expect(ann?.segments).toBe(0b011);
    expect(c.counts.merged).toBe(1);
  });

  it('counts a merged profile once even when it appears in several segments', () => {
    const c = collect([
      [0, '1', { email: 'ann@example.com' }],
      [0, '2', { email: 'ann@example.com' }],
      [1, '2', { email: 'ann@example.com' }],
      [2, '1', { email: 'ann@example.com' }],
    ]);
    expect(c.counts.merged).toBe(1);
    expect(c.contacts.get('ann@example.com')?.segments).toBe(0b111);
  });

  it('is independent of reading order for the winner', () => {
    const rows: Array<[number, string, Record<string, unknown>]> = [
      [0, '5', { email: 'x@example.com', first: 'A', updated: 100 }],
      [1, '3', { email: 'x@example.com', first: 'B', updated: 100 }],
      [2, '4', { email: 'x@example.com', first: 'C', updated: 50 }],
    ];
    const forward = collect(rows).contacts.get('x@example.com');
    const backward = collect([...rows].reverse()).contacts.get('x@example.com');
    expect(forward?.profileId).toBe('3');
    expect(backward?.profileId).toBe('3');
  });

  it('counts invalid profiles by reason and keeps a few samples without the address', () => {
    const c = collect([
      [0, '1', { email: 'no-at-sign' }],
      [0, '2', {}],
      [1, '3', { email: 'also-bad' }],
    ]);
    expect(c.counts.invalid).toEqual({ email_missing_at: 2, email_missing: 1 });
    expect(c.samples).toEqual([
      { profileId: '1', segmentId: 'seg-a', reason: 'email_missing_at' },
      { profileId: '2', segmentId: 'seg-a', reason: 'email_missing' },
      { profileId: '3', segmentId: 'seg-b', reason: 'email_missing_at' },
    ]);
    expect(c.counts.profilesPerSegment).toEqual([2, 1, 0]);
  });

  it('flags the cap as exceeded on the first distinct contact past it (policy fail)', () => {
    const c = collect(
      [
        [0, '1', { email: 'a@example.com' }],
        [0, '2', { email: 'b@example.com' }],
        [1, '1', { email: 'a@example.com' }],
      ],
      { cap: 2 },
    );
    expect(c.capExceeded).toBe(false);
    c.add(1, '3', mapProfile({ id: '3', attributes: { email: 'c@example.com' } }, matching));
    expect(c.capExceeded).toBe(true);
    expect(c.contacts.size).toBe(2);
  });

  it('truncates at the cap in reading order, holding back known contacts rather than losing them', () => {
    const c = collect(
      [
        [0, '1', { email: 'a@example.com' }],
        [0, '2', { email: 'b@example.com' }],
        [1, '3', { email: 'c@example.com' }],
        [1, '4', { email: 'd@example.com' }],
        [2, '1', { email: 'a@example.com' }],
      ],
      { cap: 2, policy: 'truncate', isKnown: (k) => k === 'd@example.com' },
    );
    expect([...c.contacts.keys()]).toEqual(['a@example.com', 'b@example.com']);
    expect(c.counts.overCapProfiles).toBe(2);
    expect([...c.heldBack]).toEqual(['d@example.com']);
    expect(c.contacts.get('a@example.com')?.segments).toBe(0b101);
  });

  it('keeps the shared copy of a new contact’s key when there is one, asked once per contact', () => {
    const asked: string[] = [];
    const c = collect(
      [
        [0, 'p1', { email: 'Ann@Example.com' }],
        [1, 'p1', { email: 'Ann@Example.com' }],
        [0, 'p2', { email: 'bob@example.com' }],
      ],
      {
        sharedKey: (key) => {
          asked.push(key);
          return key === 'ann@example.com' ? 'ann@example.com' : undefined;
        },
      },
    );
    expect(asked).toEqual(['ann@example.com', 'bob@example.com']);
    expect([...c.contacts.keys()]).toEqual(['ann@example.com', 'bob@example.com']);
    expect(c.contacts.segmentsOf('ann@example.com')).toBe(0b11);
  });

  it('resumes from its saved state with identical results', () => {
    const rows: Array<[number, string, Record<string, unknown>]> = [
      [0, '1', { email: 'a@example.com', updated: 1 }],
      [0, '2', { email: 'bad' }],
      [1, '3', { email: 'A@example.com', updated: 2 }],
      [2, '4', { email: 'b@example.com' }],
    ];
    const whole = collect(rows);
    const first = collect(rows.slice(0, 2));
    const resumed = ContactCollector.fromState(
      { segmentIds: segments, cap: 100, policy: 'fail' },
      JSON.parse(JSON.stringify(first.toState())),
    );
    for (const [segment, id, attributes] of rows.slice(2)) {
      resumed.add(segment, id, mapProfile({ id, attributes }, matching));
    }
    expect(resumed.toState()).toEqual(whole.toState());
  });
});

describe('cap', () => {
  it('names every segment and its size in the error', () => {
    const error = capExceeded(100_001, 100_000, [
      { id: 'seg-a', name: 'VIP', profiles: 60_000 },
      { id: 'seg-b', name: 'Lapsed', profiles: 55_000 },
    ]);
    expect(error.message).toContain('more than 100,000 distinct contacts');
    expect(error.message).toContain('"VIP" (seg-a): 60,000 profiles');
    expect(error.message).toContain('"Lapsed" (seg-b): 55,000 profiles');
    expect(error.message).toContain('nothing was sent');
  });

  it('applies the lower of the export cap and the connection cap', () => {
    expect(effectiveCap(100_000, 50_000)).toBe(50_000);
    expect(effectiveCap(10, 50_000)).toBe(10);
  });
});
