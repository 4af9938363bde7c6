import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { SpillTexts } from '#lib/adapters/spill/spill-texts.ts';

const dirs: string[] = [];
const dir = (): string => {
  const d = mkdtempSync(join(tmpdir(), 'spill-texts-'));
  dirs.push(d);
  return d;
};
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const openFds = (): number => readdirSync('/proc/self/fd').length;

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
