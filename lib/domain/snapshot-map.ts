import type { SnapshotEntry } from './diff.ts';

const DIGITS = '0123456789abcdefghijklmnopqrstuvwxyz';
/** A content hash (hash.ts) is two halves of eleven base-36 digits, each below 2^53. */
const HALF = 11;
const codes: number[] = new Array(2 * HALF).fill(0);

/** One half's value, or -1 when the text is not eleven lower-case base-36 digits below 2^53. */
const halfValue = (hash: string, at: number): number => {
  let n = 0;
  for (let i = at; i < at + HALF; i++) {
    const c = hash.charCodeAt(i);
    const d = c >= 48 && c <= 57 ? c - 48 : c >= 97 && c <= 122 ? c - 87 : -1;
    if (d < 0) return -1;
    n = n * 36 + d;
  }
  // Every step below the last is exact; a last one at or past 2^53 rounds to at least 2^53.
  return n <= Number.MAX_SAFE_INTEGER ? n : -1;
};

const putHalf = (value: number, at: number): void => {
  let n = value;
  for (let i = at + HALF - 1; i >= at; i--) {
    const d = n % 36;
    codes[i] = DIGITS.charCodeAt(d);
    n = (n - d) / 36;
  }
};

const HASH_EMPTY = 0;
const HASH_PACKED = 1;
const HASH_TEXT = 2;

/**
 * The frozen snapshot of a run, kept in columns: a key → slot map, each content hash as two
 * numbers, the segment masks in typed arrays, an address only where its case differs from the key,
 * so a million entries cost their keys and ~25 bytes each rather than an object and a hash string
 * apiece (bench/million-memory.ts).
 *
 * It is a `Map` to its callers (planning code takes `Map<string, SnapshotEntry>`, and keeps a map it
 * is given rather than copying it): every method is its own, the base class holds nothing. `get`
 * answers a fresh entry, so an entry is changed with `set`; one changed in place while iterating
 * (`values`, `entries`, `forEach`, `for…of`) is written back as the iteration moves on.
 */
export class SnapshotMap extends Map<string, SnapshotEntry> {
  readonly #slots = new Map<string, number>();
  /** Each slot's key: the string the map holds, for {@link keyOf}. */
  readonly #keys: string[] = [];
  readonly #free: number[] = [];
  #capacity: number;
  #used = 0;
  #hashes: Float64Array;
  #hashKind: Uint8Array;
  #segments: Int32Array;
  #maybe: Int32Array;
  /** Hashes not in the packed form (none are today; an older or foreign format stays readable). */
  readonly #hashTexts = new Map<number, string>();
  readonly #emails = new Map<number, string>();

  /** `capacity`: the entries expected (the columns grow past it, by half each time). */
  constructor(capacity = 1024) {
    super();
    this.#capacity = Math.max(16, Math.ceil(capacity));
    this.#hashes = new Float64Array(2 * this.#capacity);
    this.#hashKind = new Uint8Array(this.#capacity);
    this.#segments = new Int32Array(this.#capacity);
    this.#maybe = new Int32Array(this.#capacity);
  }

  override get size(): number {
    return this.#slots.size;
  }

  override has(key: string): boolean {
    return this.#slots.has(key);
  }

  override get(key: string): SnapshotEntry | undefined {
    const slot = this.#slots.get(key);
    return slot === undefined ? undefined : this.#entry(slot);
  }

  override set(key: string, entry: SnapshotEntry): this {
    let slot = this.#slots.get(key);
    if (slot === undefined) {
      slot = this.#free.pop() ?? this.#newSlot();
      this.#slots.set(key, slot);
      this.#keys[slot] = key;
    }
    this.#write(key, slot, entry);
    return this;
  }

  override delete(key: string): boolean {
    const slot = this.#slots.get(key);
    if (slot === undefined) return false;
    this.#slots.delete(key);
    this.#keys[slot] = '';
    this.#hashTexts.delete(slot);
    this.#emails.delete(slot);
    this.#free.push(slot);
    return true;
  }

  override clear(): void {
    this.#slots.clear();
    this.#keys.length = 0;
    this.#hashTexts.clear();
    this.#emails.clear();
    this.#free.length = 0;
    this.#used = 0;
  }

  /**
   * The key string this map holds that equals `key`, if any. A contact store that keeps this one
   * rather than its own equal copy stores each address once: at a re-run of a million contacts, whose
   * keys are nearly all in the snapshot, ~40 MB of heap less.
   */
  keyOf(key: string): string | undefined {
    const slot = this.#slots.get(key);
    return slot === undefined ? undefined : this.#keys[slot];
  }

  override keys(): MapIterator<string> {
    return this.#slots.keys();
  }

  override *entries(): MapIterator<[string, SnapshotEntry]> {
    for (const [key, slot] of this.#slots) {
      const entry = this.#entry(slot);
      // What was given, as locals: no second object per entry on a pass over a million.
      const { segments, maybe, email, hash } = entry;
      try {
        yield [key, entry];
      } finally {
        // Changed in place by the caller (not replaced with `set`, nor removed): into the columns.
        if (
          this.#slots.get(key) === slot &&
          (entry.segments !== segments ||
            entry.maybe !== maybe ||
            entry.email !== email ||
            entry.hash !== hash)
        )
          this.#write(key, slot, entry);
      }
    }
  }

  override *values(): MapIterator<SnapshotEntry> {
    for (const [, entry] of this.entries()) yield entry;
  }

  override [Symbol.iterator](): MapIterator<[string, SnapshotEntry]> {
    return this.entries();
  }

  override forEach(
    callback: (value: SnapshotEntry, key: string, map: Map<string, SnapshotEntry>) => void,
    thisArg?: unknown,
  ): void {
    for (const [key, entry] of this.entries()) callback.call(thisArg, entry, key, this);
  }

  #entry(slot: number): SnapshotEntry {
    const entry: SnapshotEntry = { hash: this.#hash(slot), segments: this.#segments[slot] ?? 0 };
    const maybe = this.#maybe[slot] ?? 0;
    if (maybe !== 0) entry.maybe = maybe;
    const email = this.#emails.get(slot);
    if (email !== undefined) entry.email = email;
    return entry;
  }

  #hash(slot: number): string {
    const kind = this.#hashKind[slot];
    if (kind === HASH_EMPTY) return '';
    if (kind === HASH_TEXT) return this.#hashTexts.get(slot) ?? '';
    putHalf(this.#hashes[2 * slot] ?? 0, 0);
    putHalf(this.#hashes[2 * slot + 1] ?? 0, HALF);
    return String.fromCharCode.apply(null, codes);
  }

  #write(key: string, slot: number, entry: SnapshotEntry): void {
    this.#writeHash(slot, entry.hash);
    this.#segments[slot] = entry.segments;
    this.#maybe[slot] = entry.maybe ?? 0;
    // The key is the lower-cased address: an address equal to it says nothing more.
    if (entry.email !== undefined && entry.email !== key) this.#emails.set(slot, entry.email);
    else this.#emails.delete(slot);
  }

  #writeHash(slot: number, hash: string): void {
    this.#hashTexts.delete(slot);
    if (hash === '') {
      this.#hashKind[slot] = HASH_EMPTY;
      return;
    }
    const high = hash.length === 2 * HALF ? halfValue(hash, 0) : -1;
    const low = high < 0 ? -1 : halfValue(hash, HALF);
    if (low < 0) {
      this.#hashKind[slot] = HASH_TEXT;
      this.#hashTexts.set(slot, hash);
      return;
    }
    this.#hashKind[slot] = HASH_PACKED;
    this.#hashes[2 * slot] = high;
    this.#hashes[2 * slot + 1] = low;
  }

  #newSlot(): number {
    if (this.#used === this.#capacity) this.#grow();
    return this.#used++;
  }

  #grow(): void {
    const capacity = Math.ceil(this.#capacity * 1.5);
    const hashes = new Float64Array(2 * capacity);
    const hashKind = new Uint8Array(capacity);
    const segments = new Int32Array(capacity);
    const maybe = new Int32Array(capacity);
    hashes.set(this.#hashes);
    hashKind.set(this.#hashKind);
    segments.set(this.#segments);
    maybe.set(this.#maybe);
    this.#capacity = capacity;
    this.#hashes = hashes;
    this.#hashKind = hashKind;
    this.#segments = segments;
    this.#maybe = maybe;
  }
}
