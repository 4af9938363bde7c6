import { describe, expect, it } from 'vitest';
import { decide, emptyDiffTotals, tally } from '#lib/domain/diff.ts';
import { contentHash } from '#lib/domain/hash.ts';
import { contactData } from '#test/fixtures/builders.ts';

describe('decide', () => {
  it('a contact not in the snapshot is added and joins all its segments', () => {
    expect(decide({ hash: 'h1', segments: 0b101 }, undefined)).toEqual({
      change: 'added',
      current: 0b101,
      joins: 0b101,
      leaves: 0,
    });
  });

  it('same hash and segments is unchanged; a different hash is changed', () => {
    expect(decide({ hash: 'h1', segments: 1 }, { hash: 'h1', segments: 1 }).change).toBe('unchanged');
    expect(decide({ hash: 'h2', segments: 1 }, { hash: 'h1', segments: 1 }).change).toBe('changed');
  });

  it('reports per-segment joins and leaves independently of content changes', () => {
    expect(decide({ hash: 'h1', segments: 0b110 }, { hash: 'h1', segments: 0b011 })).toEqual({
      change: 'unchanged',
      current: 0b110,
      joins: 0b100,
      leaves: 0b001,
    });
  });

  it('a contact only in the snapshot has left every segment it was in', () => {
    expect(decide(undefined, { hash: 'h1', segments: 0b011 })).toEqual({
      change: 'left',
      current: 0,
      joins: 0,
      leaves: 0b011,
    });
  });

  it('a membership-only snapshot entry (no hash) counts as changed so its data is sent again', () => {
    expect(decide({ hash: 'h1', segments: 1 }, { hash: '', segments: 1 }).change).toBe('changed');
  });

  it('tallies totals and per-segment joins/leaves', () => {
    const totals = emptyDiffTotals(2);
    tally(totals, decide({ hash: 'a', segments: 0b11 }, undefined));
    tally(totals, decide(undefined, { hash: 'b', segments: 0b10 }));
    tally(totals, decide({ hash: 'c', segments: 0b01 }, { hash: 'c', segments: 0b01 }));
    expect(totals).toEqual({ added: 1, changed: 0, unchanged: 1, left: 1, joins: [1, 1], leaves: [0, 1] });
  });
});

describe('uncertain memberships', () => {
  it('are joined again while wanted and removed once not, and never counted as certain', () => {
    const previous = { hash: 'h', segments: 0b001, maybe: 0b110 };
    // Still in segments 0 and 1: 1 is joined again (it may never have happened); 2 is removed.
    expect(decide({ hash: 'h', segments: 0b011 }, previous)).toEqual({
      change: 'unchanged',
      current: 0b011,
      joins: 0b010,
      leaves: 0b100,
    });
    // Gone from every segment: everything that may be true is undone.
    expect(decide(undefined, previous)).toEqual({ change: 'left', current: 0, joins: 0, leaves: 0b111 });
  });

  it('a contact known only through uncertain memberships counts as added', () => {
    expect(decide({ hash: 'h', segments: 0b01 }, { hash: '', segments: 0, maybe: 0b11 })).toEqual({
      change: 'added',
      current: 0b01,
      joins: 0b01,
      leaves: 0b10,
    });
  });
});

describe('contentHash', () => {
  it('ignores key order and notices any value change', () => {
    const a = { ...contactData('a@example.com', { FirstName: 'A', LastName: 'B' }), custom: {} };
    const b = { ...contactData('a@example.com', { LastName: 'B', FirstName: 'A' }), custom: {} };
    expect(contentHash(a)).toBe(contentHash(b));
    expect(contentHash(a)).not.toBe(
      contentHash(contactData('a@example.com', { FirstName: 'A', LastName: 'C' })),
    );
    expect(contentHash(a)).not.toBe(contentHash({ ...a, custom: { Seats: { type: 'integer', value: 1 } } }));
    expect(contentHash({ ...a, custom: { Seats: { type: 'integer', value: 1 } } })).not.toBe(
      contentHash({ ...a, custom: { Seats: { type: 'string', value: '1' } } }),
    );
  });
});
