import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SpillTexts } from '#lib/adapters/spill/spill-texts.ts';
import { ContactCollector, ContactStore } from '#lib/domain/collector.ts';
import { matchingCodec } from '#lib/domain/contact-codec.ts';
import type { SnapshotEntry } from '#lib/domain/diff.ts';
import { DataMatchingSchema } from '#lib/domain/export-config.ts';
import { mapProfile } from '#lib/domain/mapping.ts';
import {
  checkpointPieces,
  type PlannerCheckpoint,
  parseCheckpoint,
} from '#lib/use-cases/planning/checkpoint.ts';
import { decisions } from '#lib/use-cases/planning/decide.ts';

const matching = DataMatchingSchema.parse({
  email: 'email',
  fields: { FirstName: 'first' },
  custom: [{ name: 'Seats', type: 'integer', source: 'seats' }],
  updatedAt: 'updated',
});
const options = {
  segmentIds: ['a', 'b'],
  cap: 1_000_000,
  policy: 'fail' as const,
  codec: matchingCodec(matching),
};

const collectorOf = (contacts: number): ContactCollector => {
  const c = new ContactCollector(options);
  for (let i = 0; i < contacts; i++) {
    const attributes = {
      email: i % 5 === 0 ? `Person${i}@Example.com` : `person${i}@example.com`,
      first: i % 3 === 0 ? 'Zoë 🎉 "quoted"\nnew line' : `Name ${i}`,
      ...(i % 7 === 0 ? {} : { seats: i }),
      updated: i % 4 === 0 ? undefined : 1_700_000_000_000 + i,
    };
    c.add(i % 2, `p${i}`, mapProfile({ id: `p${i}`, attributes }, matching));
  }
  // A merge, so a contact carries the profiles folded into it.
  if (contacts > 1)
    c.add(1, 'p-late', mapProfile({ id: 'p-late', attributes: { email: 'person1@example.com' } }, matching));
  return c;
};

const snapshotOf = (entries: number): Map<string, SnapshotEntry> =>
  new Map(
    Array.from({ length: entries }, (_, i): [string, SnapshotEntry] => [
      `s${i}@example.com`,
      {
        hash: i % 9 === 0 ? '' : `h${i}`,
        segments: i % 4,
        ...(i % 3 === 0 ? { maybe: 2 } : {}),
        ...(i % 5 === 0 ? { email: `S${i}@example.com` } : {}),
      },
    ]),
  );

const checkpointOf = (contacts: number, snapshot: number): PlannerCheckpoint => ({
  v: 2,
  phase: 'emit',
  segmentIndex: 2,
  collector: collectorOf(contacts).liveState(),
  codec: options.codec.id,
  snapshot: snapshotOf(snapshot),
  emitted: 0,
  listIds: ['list-1'],
  capability: 'unknown',
  requests: { listLists: 1 },
});

/** The text cut every `size` characters, wherever that falls (mid-line, mid-character pair). */
const cut = (text: string, size: number): string[] => {
  const out: string[] = [];
  for (let i = 0; i < text.length; i += size) out.push(text.slice(i, i + size));
  return out;
};

const resumed = (checkpoint: PlannerCheckpoint) => {
  const collector = ContactCollector.fromState(options, checkpoint.collector);
  return {
    contacts: [...collector.contacts],
    state: { ...collector.toState(), contacts: [...collector.contacts.records()] },
    snapshot: [...checkpoint.snapshot],
    rest: { ...checkpoint, collector: undefined, snapshot: undefined },
  };
};

describe('a checkpoint, line by line', () => {
  it.each([
    [0, 0],
    [1, 0],
    [999, 1],
    [1_000, 1_000],
    [2_345, 1_017],
  ])(
    'with %i contacts and %i snapshot entries reads back as the same collector, snapshot and envelope',
    (contacts, snapshot) => {
      const original = checkpointOf(contacts, snapshot);
      const text = [...checkpointPieces(original)].join('');

      const expected = resumed(checkpointOf(contacts, snapshot));
      expect(resumed(parseCheckpoint(text))).toEqual(expected);
      // Pieces as an adapter may give them back: cut anywhere, not where the saver cut.
      expect(resumed(parseCheckpoint(cut(text, 37)))).toEqual(expected);
    },
  );

  it('keeps every contact exactly: data, merged profiles, update times, case of the address', () => {
    const parsed = parseCheckpoint([...checkpointPieces(checkpointOf(50, 0))].join(''));
    const again = ContactCollector.fromState(options, parsed.collector);
    const original = collectorOf(50);

    expect([...again.contacts]).toEqual([...original.contacts]);
    expect(again.contacts.get('person0@example.com')?.data.email).toBe('Person0@Example.com');
    expect(again.contacts.get('person1@example.com')?.mergedIds).toEqual(['p-late']);
    expect(again.contacts.get('person4@example.com')?.updatedAt).toBeUndefined();
  });

  it('lets go of the pieces it was given once read: an adapter’s source (the whole gzip body) is freed', () => {
    const text = [...checkpointPieces(checkpointOf(30, 12))].join('');
    let closed = false;
    // As the S3 adapter's: a generator over the body, which it holds until the generator finishes.
    function* pieces(): Generator<string> {
      try {
        yield* cut(text, 50);
      } finally {
        closed = true;
      }
    }
    const parsed = parseCheckpoint(pieces());

    expect(closed).toBe(true);
    expect(resumed(parsed)).toEqual(resumed(checkpointOf(30, 12)));
  });

  it('is one line per contact and per snapshot entry, and never one piece for the whole plan', () => {
    const pieces = [...checkpointPieces(checkpointOf(20_000, 20_000))];
    const text = pieces.join('');
    const total = text.length;

    expect(text.split('\n').filter((l) => l !== '')).toHaveLength(1 + 20_000 + 20_000);
    expect(Math.max(...pieces.map((p) => p.length))).toBeLessThan(total / 20);
  });

  it('reads into a spill file as into memory: the same contacts and the same planning decisions', () => {
    const dir = mkdtempSync(join(tmpdir(), 'checkpoint-spill-'));
    try {
      const text = [...checkpointPieces(checkpointOf(2_345, 1_017))].join('');
      const spilled = new SpillTexts({ dir, spillAboveChars: 1_000, bufferBytes: 4096 });
      const inFile = ContactCollector.fromState(options, parseCheckpoint(cut(text, 37), spilled).collector);
      const inMemory = ContactCollector.fromState(options, parseCheckpoint(text).collector);

      expect(spilled.spilledBytes).toBeGreaterThan(0);
      expect([...inFile.contacts.records()]).toEqual([...inMemory.contacts.records()]);
      const snapshot = snapshotOf(1_017);
      expect([...decisions(inFile, snapshot, 2)]).toEqual([...decisions(inMemory, snapshot, 2)]);
      // A collector that goes on adding (a resumed collection) spills its new contacts too.
      const fresh = new ContactCollector({
        ...options,
        texts: new SpillTexts({ dir, spillAboveChars: 1_000, bufferBytes: 4096 }),
      });
      const original = collectorOf(2_345);
      for (const record of original.contacts.records()) fresh.contacts.restore(record);
      expect([...fresh.contacts]).toEqual([...original.contacts]);
      inFile.contacts.release();
      fresh.contacts.release();
      expect(readdirSync(dir)).toEqual([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses a checkpoint cut short, naming what is missing', () => {
    const lines = [...checkpointPieces(checkpointOf(10, 5))].join('').split('\n');
    const short = lines.slice(0, 8).join('\n');

    expect(() => parseCheckpoint(short)).toThrow(/truncated: 10 contacts announced, 7 found/);
  });

  it('reads a checkpoint saved before the line layout (one JSON document, contacts as objects)', () => {
    const data = { email: 'Ann@example.com', fields: { FirstName: 'Ann' }, custom: {} };
    const v1 = JSON.stringify({
      v: 1,
      phase: 'emit',
      segmentIndex: 1,
      collector: {
        contacts: [
          ['ann@example.com', { profileId: '7', updatedAt: 5, data, segments: 3, mergedIds: ['8'] }],
        ],
        counts: { profilesRead: 2 },
        heldBack: [],
        samples: [],
        capExceeded: false,
      },
      snapshot: [['bob@example.com', { hash: 'h', segments: 1 }]],
      emitted: 0,
      requests: {},
    });

    const parsed = parseCheckpoint(cut(v1, 10));

    expect(parsed.codec).toBe('json');
    expect(parsed.collector.contacts).toBeInstanceOf(ContactStore);
    const collector = ContactCollector.fromState({ ...options, codec: undefined }, parsed.collector);
    expect(collector.contacts.get('ann@example.com')).toEqual({
      profileId: '7',
      updatedAt: 5,
      data,
      segments: 3,
      mergedIds: ['8'],
    });
    expect([...parsed.snapshot]).toEqual([['bob@example.com', { hash: 'h', segments: 1 }]]);
  });
});
