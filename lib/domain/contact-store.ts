import type { ContactData } from './contact.ts';
import { type ContactCodec, jsonCodec } from './contact-codec.ts';

/** One distinct contact after merging: the winning profile's data and every segment it is in. */
export interface CollectedContact {
  profileId: string;
  updatedAt: number | undefined;
  data: ContactData;
  /** Bit i set ⇔ the contact is in the export's i-th segment. */
  segments: number;
  /** Other profiles merged into this contact (rare; kept to count each loser once). */
  mergedIds?: string[];
}

/**
 * One stored contact as a checkpoint line carries it: the data is the codec's text, never decoded
 * on the way through. `updatedAt` is null when the profile had no update time.
 */
export type ContactRecord =
  | [key: string, profileId: string, updatedAt: number | null, segments: number, data: string]
  | [
      key: string,
      profileId: string,
      updatedAt: number | null,
      segments: number,
      data: string,
      mergedIds: string[],
    ];

const INITIAL_CAPACITY = 1024;

/**
 * A slot's stashed text: the profile id behind its length, then the data text. The id goes where
 * the text goes (to the spill file at a million contacts: ~33 MB of heap less), and is read back
 * with it, when a message is built or a repeated profile is merged.
 */
const packed = (profileId: string, text: string): string => `${profileId.length}:${profileId}${text}`;

const unpacked = (stashed: string): { profileId: string; text: string } => {
  const colon = stashed.indexOf(':');
  if (colon < 1) return { profileId: '', text: '' }; // a slot never set
  const end = colon + 1 + Number(stashed.slice(0, colon));
  return { profileId: stashed.slice(colon + 1, end), text: stashed.slice(end) };
};

/**
 * Where a store keeps its contacts' data texts, by slot: the biggest part of a contact (~105
 * characters of a sample contact's ~220 bytes). The default keeps them on the heap; a planner
 * hands the store one that moves them to a file once they are many (lib/adapters/spill).
 */
export interface TextStash {
  /** Keeps `text` as the slot's (replacing any it had). */
  set(slot: number, text: string): void;
  /** The slot's text ('' for a slot never set). */
  get(slot: number): string;
  /** Lets go of every text (a file is closed and removed); nothing is read afterwards. */
  release(): void;
}

/** The texts on the heap, one string per slot. */
export const memoryTexts = (): TextStash => {
  const texts: string[] = [];
  return {
    set: (slot, text) => {
      texts[slot] = text;
    },
    get: (slot) => texts[slot] ?? '',
    release: () => {
      texts.length = 0;
    },
  };
};

/**
 * The collector's contacts in parallel columns: a key → slot map, the update time and segment mask
 * in typed arrays, and the profile id with the data text per slot in a {@link TextStash}. At a
 * million contacts an object per contact (and one per field) is what ran the planner out of heap;
 * here a contact costs its key and 12 bytes, plus its id and text wherever the stash keeps them.
 * Read through {@link get}, which decodes.
 */
export class ContactStore implements Iterable<[string, CollectedContact]> {
  /** How data texts are read back; set by the collector that adopts a store parsed elsewhere. */
  codec: ContactCodec;
  private readonly slots = new Map<string, number>();
  /** Slots handed out (a slot is never reused: merges replace in place). */
  private count = 0;
  private updated = new Float64Array(INITIAL_CAPACITY);
  private masks = new Int32Array(INITIAL_CAPACITY);
  /** Sparse: only contacts that absorbed other profiles. */
  private readonly merged = new Map<number, string[]>();

  constructor(
    codec: ContactCodec = jsonCodec,
    private readonly texts: TextStash = memoryTexts(),
  ) {
    this.codec = codec;
  }

  /** Frees the texts' stash (a spill file): the store is not read afterwards. */
  release(): void {
    this.texts.release();
  }

  get size(): number {
    return this.slots.size;
  }

  has(key: string): boolean {
    return this.slots.has(key);
  }

  keys(): IterableIterator<string> {
    return this.slots.keys();
  }

  /** The contact, decoded (a fresh object each call: changing it changes nothing stored). */
  get(key: string): CollectedContact | undefined {
    const slot = this.slots.get(key);
    return slot === undefined ? undefined : this.contactAt(key, slot);
  }

  /** The contact's segment mask without decoding its data (0 when absent). */
  segmentsOf(key: string): number {
    const slot = this.slots.get(key);
    return slot === undefined ? 0 : (this.masks[slot] ?? 0);
  }

  *entries(): IterableIterator<[string, CollectedContact]> {
    for (const [key, slot] of this.slots) yield [key, this.contactAt(key, slot)];
  }

  [Symbol.iterator](): IterableIterator<[string, CollectedContact]> {
    return this.entries();
  }

  /** Every contact as a record, in insertion order (what a checkpoint saves). */
  *records(): IterableIterator<ContactRecord> {
    for (const [key, slot] of this.slots) {
      const { profileId, text } = unpacked(this.texts.get(slot));
      const head = [key, profileId, this.updatedAtSlot(slot) ?? null, this.masks[slot] ?? 0, text] as const;
      const merged = this.merged.get(slot);
      yield merged === undefined ? [...head] : [...head, merged];
    }
  }

  /** Adds a record as {@link records} gave it (a resumed collector; the key must be new). */
  restore(record: ContactRecord): void {
    const [key, profileId, updatedAt, segments, text, mergedIds] = record;
    const slot = this.insert(key, profileId, updatedAt ?? undefined, segments, text);
    if (mergedIds !== undefined && mergedIds.length > 0) this.merged.set(slot, [...mergedIds]);
  }

  // ── what the collector changes ──

  slotOf(key: string): number | undefined {
    return this.slots.get(key);
  }

  insert(
    key: string,
    profileId: string,
    updatedAt: number | undefined,
    segments: number,
    text: string,
  ): number {
    const slot = this.count++;
    if (slot === this.masks.length) this.grow();
    this.slots.set(key, slot);
    this.texts.set(slot, packed(profileId, text));
    this.updated[slot] = updatedAt ?? Number.NaN;
    this.masks[slot] = segments;
    return slot;
  }

  /** Read from the stash (a file read once the texts are spilled): only merges ask. */
  profileIdAt(slot: number): string {
    return unpacked(this.texts.get(slot)).profileId;
  }

  updatedAtSlot(slot: number): number | undefined {
    const t = this.updated[slot] ?? Number.NaN;
    return Number.isNaN(t) ? undefined : t;
  }

  mergedAt(slot: number): readonly string[] | undefined {
    return this.merged.get(slot);
  }

  addSegments(slot: number, bits: number): void {
    this.masks[slot] = (this.masks[slot] ?? 0) | bits;
  }

  /** Records `loser` as merged into the contact at `slot`. */
  addMerged(slot: number, loser: string): void {
    const list = this.merged.get(slot);
    if (list === undefined) this.merged.set(slot, [loser]);
    else list.push(loser);
  }

  /** The challenger's profile becomes the contact's. */
  replace(slot: number, profileId: string, updatedAt: number | undefined, text: string): void {
    this.updated[slot] = updatedAt ?? Number.NaN;
    this.texts.set(slot, packed(profileId, text));
  }

  private contactAt(key: string, slot: number): CollectedContact {
    const merged = this.merged.get(slot);
    const { profileId, text } = unpacked(this.texts.get(slot));
    return {
      profileId,
      updatedAt: this.updatedAtSlot(slot),
      data: this.codec.decode(text, key),
      segments: this.masks[slot] ?? 0,
      ...(merged === undefined ? {} : { mergedIds: [...merged] }),
    };
  }

  private grow(): void {
    const updated = new Float64Array(this.masks.length * 2);
    updated.set(this.updated);
    this.updated = updated;
    const masks = new Int32Array(this.masks.length * 2);
    masks.set(this.masks);
    this.masks = masks;
  }
}
