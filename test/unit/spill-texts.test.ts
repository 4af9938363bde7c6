import { readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { SpillTexts } from '#lib/adapters/spill/spill-texts.ts';
import { ContactCollector } from '#lib/domain/collector.ts';
import { DataMatchingSchema } from '#lib/domain/export-config.ts';
import { mapProfile } from '#lib/domain/mapping.ts';
import { openFds, tempDirs } from '#test/support/temp-dirs.ts';

const dir = tempDirs('spill-texts-');

/** Texts of every awkward kind: multi-byte, astral, empty, quotes and new lines, long. */
const textOf = (i: number): string =>
  [`[0,"Name ${i}"]`, `["Zoë 🎉 \\"quoted\\"\\nnew line",${i}]`, '', 'ß'.repeat(i % 50), `x${i}`][i % 5] ??
  '';

describe('contact texts that spill to a file', () => {
  it('keeps texts on the heap, and writes no file, while they are under the threshold', () => {
    const where = dir();
    const texts = new SpillTexts({ dir: where, spillAboveChars: 1_000_000 });
    for (let i = 0; i < 100; i++) texts.set(i, textOf(i));

    expect(texts.spilledBytes).toBe(0);
    expect(Array.from({ length: 100 }, (_, i) => texts.get(i))).toEqual(
      Array.from({ length: 100 }, (_, i) => textOf(i)),
    );
    texts.release();
  });

  it('reads back every text exactly once they spill, from the file and from the unwritten buffer', () => {
    const where = dir();
    // A 64-byte buffer: most texts are read from the file, the last few from memory.
    const texts = new SpillTexts({ dir: where, spillAboveChars: 200, bufferBytes: 64 });
    const expected: string[] = [];
    for (let i = 0; i < 3_000; i++) {
      expected[i] = textOf(i);
      texts.set(i, textOf(i));
    }
    // A merge's winner replaces a text; one longer than the buffer goes straight to the file.
    expected[7] = 'the winner';
    texts.set(7, 'the winner');
    expected[11] = '✓'.repeat(500);
    texts.set(11, '✓'.repeat(500));
    expected[3_000] = 'last';
    texts.set(3_000, 'last');

    expect(texts.spilledBytes).toBeGreaterThan(3_000 * 5);
    expect(expected.map((_, i) => texts.get(i))).toEqual(expected);
    // In any order, as the planning passes read them (by key, not by slot).
    for (let i = expected.length - 1; i >= 0; i -= 7) expect(texts.get(i)).toBe(expected[i]);
    texts.release();
  });

  it('leaves nothing in its directory, and closes its file when released', () => {
    const where = dir();
    const before = openFds();
    const texts = new SpillTexts({ dir: where, spillAboveChars: 10 });
    for (let i = 0; i < 100; i++) texts.set(i, textOf(i));

    expect(texts.spilledBytes).toBeGreaterThan(0);
    expect(readdirSync(where)).toEqual([]);
    expect(openFds()).toBe(before + 1);
    texts.release();
    expect(openFds()).toBe(before);
  });
});

describe('a contact store whose texts spill', () => {
  it('keeps each contact’s profile id with its text: ids of any shape, through merges, as in memory', () => {
    const matching = DataMatchingSchema.parse({
      email: 'email',
      fields: { FirstName: 'first' },
      updatedAt: 'updated',
    });
    const ids = (i: number): string =>
      [`p${i}`, `12:${i}`, `${i}:`, 'ü🎉', `${'x'.repeat(i % 40)}${i}`][i % 5] ?? '';
    const collect = (texts?: SpillTexts): ContactCollector => {
      const c = new ContactCollector({
        segmentIds: ['a', 'b'],
        cap: 1000,
        policy: 'fail',
        ...(texts === undefined ? {} : { texts }),
      });
      // Every address twice, in both segments: the later, newer profile wins half of the merges.
      for (let round = 0; round < 2; round++)
        for (let i = 0; i < 200; i++) {
          const id = round === 0 ? ids(i) : `${ids(i)}-late`;
          const attributes = { email: `person${i}@example.com`, first: `N${i}`, updated: round * (i % 2) };
          c.add(round, id, mapProfile({ id, attributes }, matching));
        }
      return c;
    };
    const spill = new SpillTexts({ dir: dir(), spillAboveChars: 0, bufferBytes: 64 });
    const spilled = collect(spill);

    expect(spill.spilledBytes).toBeGreaterThan(0);
    expect([...spilled.contacts]).toEqual([...collect().contacts]);
    expect(spilled.contacts.get('person1@example.com')?.profileId).toBe('12:1-late');
    expect(spilled.contacts.get('person2@example.com')).toMatchObject({
      profileId: '2:',
      mergedIds: ['2:-late'],
    });
    spill.release();
  });
});
