import { describe, expect, it } from 'vitest';
import type { SnapshotEntry } from '#lib/domain/diff.ts';
import { contentHash } from '#lib/domain/hash.ts';
import { SnapshotMap } from '#lib/domain/snapshot-map.ts';
import { contactData } from '#test/fixtures/builders.ts';

/** What an entry means: an absent `maybe` is 0, an address equal to its key says nothing. */
const meaning = (key: string, e: SnapshotEntry | undefined) =>
  e === undefined
    ? undefined
    : {
        hash: e.hash,
        segments: e.segments,
        maybe: e.maybe ?? 0,
        email: e.email === key ? undefined : e.email,
      };

/** A tiny deterministic generator (mulberry32), so a failure replays. */
const random = (seed: number) => () => {
  seed = (seed + 0x6d2b79f5) | 0;
  let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
};

describe('SnapshotMap', () => {
  it('answers what a Map would through a long run of sets, overwrites and deletes', () => {
    const next = random(7);
    const hashes = [
      '',
      contentHash(contactData('ann@example.com')),
      'h1',
      'zzzzzzzzzzzzzzzzzzzzzz',
      'ABCDEFGHIJKabcdefghijk',
    ];
    const map = new SnapshotMap(4);
    const model = new Map<string, SnapshotEntry>();
    for (let i = 0; i < 5000; i++) {
      const key = `c${Math.floor(next() * 300)}@example.com`;
      if (next() < 0.25) {
        expect(map.delete(key)).toBe(model.delete(key));
        continue;
      }
      const entry: SnapshotEntry = {
        hash: hashes[Math.floor(next() * hashes.length)] ?? '',
        segments: Math.floor(next() * 2 ** 31) | (next() < 0.1 ? 1 << 31 : 0),
      };
      if (next() < 0.3) entry.maybe = Math.floor(next() * 8);
      if (next() < 0.3) entry.email = next() < 0.5 ? key : key.toUpperCase();
      map.set(key, entry);
      model.set(key, entry);
    }
    expect(map.size).toBe(model.size);
    for (const [key, entry] of model) {
      expect(map.has(key)).toBe(true);
      expect(meaning(key, map.get(key))).toEqual(meaning(key, entry));
    }
    expect(map.get('nobody@example.com')).toBeUndefined();
    expect(map.has('nobody@example.com')).toBe(false);
    expect(new Set(map.keys())).toEqual(new Set(model.keys()));
    expect([...map].map(([k, e]) => [k, meaning(k, e)])).toEqual(
      [...model].map(([k, e]) => [k, meaning(k, e)]),
    );
  });

  it('keeps a content hash exactly, and any other text as it was given', () => {
    const map = new SnapshotMap();
    const real = contentHash(contactData('Ann@Example.com', { FirstName: 'Ann' }));
    // Past 2^53 in the first half: not a hash.ts hash, so kept as text.
    const over = `${'z'.repeat(11)}${'0'.repeat(11)}`;
    for (const hash of [real, '0'.repeat(22), over, 'short', 'ÄÖÜ', '']) {
      map.set('a@example.com', { hash, segments: 1 });
      expect(map.get('a@example.com')?.hash).toBe(hash);
    }
  });

  it('is a Map to code that keeps a given Map rather than copying it', () => {
    const map = new SnapshotMap();
    map.set('a@example.com', { hash: '', segments: 3 });
    const asMap = (entries: Iterable<[string, SnapshotEntry]>): Map<string, SnapshotEntry> =>
      entries instanceof Map ? entries : new Map(entries);
    expect(asMap(map)).toBe(map);
  });

  it('writes back an entry changed in place while iterating, as a Map of objects would keep it', () => {
    const map = new SnapshotMap();
    map.set('a@example.com', { hash: 'x', segments: 0b111, maybe: 0b1000 });
    map.set('b@example.com', { hash: 'y', segments: 0b010 });
    for (const entry of map.values()) {
      entry.segments &= ~0b010;
      if (entry.maybe !== undefined) entry.maybe &= ~0b1000;
    }
    expect(map.get('a@example.com')).toEqual({ hash: 'x', segments: 0b101 });
    expect(map.get('b@example.com')).toEqual({ hash: 'y', segments: 0 });
    map.forEach((entry) => {
      entry.hash = 'z';
    });
    expect(map.get('b@example.com')?.hash).toBe('z');
  });

  it('lets an entry replaced or removed while iterating stay as the loop left it', () => {
    const map = new SnapshotMap();
    for (const key of ['a', 'b', 'c']) map.set(key, { hash: '', segments: 1 });
    for (const [key, entry] of map.entries()) {
      if (key === 'a') map.set(key, { ...entry, segments: 6 });
      if (key === 'b') map.delete('c');
    }
    expect(map.get('a')?.segments).toBe(6);
    expect(map.has('c')).toBe(false);
    expect(map.size).toBe(2);
    // An early break still writes back the entry the loop was on.
    for (const entry of map.values()) {
      entry.segments = 9;
      break;
    }
    expect(map.get('a')?.segments).toBe(9);
  });

  it('reuses a removed entry’s room and grows past its expected size', () => {
    const map = new SnapshotMap(16);
    for (let i = 0; i < 100; i++) map.set(`k${i}`, { hash: '', segments: i });
    for (let i = 0; i < 100; i += 2) map.delete(`k${i}`);
    for (let i = 100; i < 150; i++) map.set(`k${i}`, { hash: '', segments: i });
    expect(map.size).toBe(100);
    for (let i = 1; i < 150; i += i < 100 ? 2 : 1) expect(map.get(`k${i}`)?.segments).toBe(i);
    map.clear();
    expect(map.size).toBe(0);
    expect([...map]).toEqual([]);
  });

  it('names the key it holds for an equal one, and none once the entry is removed or replaced by another', () => {
    const map = new SnapshotMap(16);
    map.set('a@example.com', { hash: '', segments: 1 });
    map.set('b@example.com', { hash: '', segments: 2 });
    expect(map.keyOf(['a', '@example.com'].join(''))).toBe('a@example.com');
    expect(map.keyOf('c@example.com')).toBeUndefined();
    map.delete('a@example.com');
    expect(map.keyOf('a@example.com')).toBeUndefined();
    // The freed slot goes to the next key: it names that key, not the removed one.
    map.set('c@example.com', { hash: '', segments: 3 });
    expect(map.keyOf('c@example.com')).toBe('c@example.com');
    expect(map.keyOf('b@example.com')).toBe('b@example.com');
    map.clear();
    expect(map.keyOf('b@example.com')).toBeUndefined();
  });
});
