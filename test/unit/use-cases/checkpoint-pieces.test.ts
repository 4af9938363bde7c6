import { describe, expect, it } from 'vitest';
import type { CollectedContact } from '#lib/domain/collector.ts';
import {
  checkpointPieces,
  type PlannerCheckpoint,
  parseCheckpoint,
} from '#lib/use-cases/planning/checkpoint.ts';

const contact = (i: number): CollectedContact =>
  ({
    email: `person${i}@example.com`,
    fields: { FirstName: i % 3 === 0 ? 'Zoë 🎉' : `Name ${i}`, Note: i % 7 === 0 ? undefined : 'x' },
    segments: [i % 2],
  }) as unknown as CollectedContact;

const checkpoint = (contacts: number, snapshot: number): PlannerCheckpoint => ({
  v: 1,
  phase: 'emit',
  segmentIndex: 2,
  collector: {
    contacts: Array.from({ length: contacts }, (_, i) => [`k${i}`, contact(i)]),
    counts: { read: contacts } as never,
    heldBack: ['k1'],
    samples: [],
    capExceeded: false,
  },
  snapshot: Array.from({ length: snapshot }, (_, i) => [`s${i}`, { hash: `h${i}`, segments: 1 }]) as never,
  emitted: 0,
  listIds: ['list-1'],
  capability: 'unknown',
  requests: { listLists: 1 },
});

describe('a checkpoint in pieces', () => {
  it.each([
    [0, 0],
    [1, 0],
    [499, 1],
    [500, 500],
    [501, 1_001],
    [2_345, 17],
  ])('with %i contacts and %i snapshot entries reads back as the whole checkpoint', (contacts, snapshot) => {
    const original = checkpoint(contacts, snapshot);
    const pieces = [...checkpointPieces(original)];
    const text = pieces.join('');

    expect(JSON.parse(text)).toEqual(JSON.parse(JSON.stringify(original)));
    expect(parseCheckpoint(text)).toEqual(JSON.parse(JSON.stringify(original)));
  });

  it('never builds one piece for the whole plan', () => {
    const pieces = [...checkpointPieces(checkpoint(20_000, 20_000))];
    const total = pieces.reduce((sum, p) => sum + p.length, 0);
    expect(Math.max(...pieces.map((p) => p.length))).toBeLessThan(total / 20);
  });
});
