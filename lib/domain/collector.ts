import type { CapPolicy } from './cap.ts';
import { type ContactCodec, jsonCodec } from './contact-codec.ts';
import { type ContactRecord, ContactStore, type TextStash } from './contact-store.ts';
import type { MapOutcome } from './mapping.ts';
import { challengerWins } from './merge.ts';

export type { CollectedContact, ContactRecord, TextStash } from './contact-store.ts';
export { ContactStore, memoryTexts } from './contact-store.ts';

export interface SkipSample {
  profileId: string;
  segmentId: string;
  reason: string;
}

export interface CollectorCounts {
  profilesRead: number;
  profilesPerSegment: number[];
  /** Profiles skipped, by reason (`email_missing`, `email_invalid_domain`, ...). */
  invalid: Record<string, number>;
  /** Values dropped from otherwise exported contacts, by `field: reason`. */
  fieldIssues: Record<string, number>;
  /** Profiles folded into another profile's contact because they share its email. */
  merged: number;
  /** Profiles not exported because the cap was reached (policy `truncate`). */
  overCapProfiles: number;
}

const MAX_SAMPLES = 20;

export interface CollectorOptions {
  segmentIds: readonly string[];
  cap: number;
  policy: CapPolicy;
  /** Keys already in Autopilot: when they fall over the cap they are held back, not treated as leavers. */
  isKnown?: (key: string) => boolean;
  /** How each contact's data is kept until its message is built (default: its JSON). */
  codec?: ContactCodec;
  /** Where a new store keeps its data texts (default: on the heap); the caller releases it. */
  texts?: TextStash;
  /**
   * An equal key string held elsewhere (the frozen snapshot's), kept in place of the profile's own
   * so an address that is in both is stored once; undefined when there is none.
   */
  sharedKey?: (key: string) => string | undefined;
}

export interface CollectorState {
  /** Every contact, as {@link ContactRecord}s, or a whole store (a parsed checkpoint's, adopted as is). */
  contacts: Iterable<ContactRecord> | ContactStore;
  counts: CollectorCounts;
  heldBack: string[];
  samples: SkipSample[];
  capExceeded: boolean;
}

/**
 * Phase one of planning, pure and in memory bounded by the cap: maps, validates and merges profiles
 * segment by segment. Profiles are merged by the documented rule; distinct contacts never exceed the cap.
 */
export class ContactCollector {
  readonly contacts: ContactStore;
  readonly heldBack = new Set<string>();
  readonly samples: SkipSample[] = [];
  readonly counts: CollectorCounts;
  capExceeded = false;

  constructor(
    private readonly options: CollectorOptions,
    store?: ContactStore,
  ) {
    this.contacts = store ?? new ContactStore(options.codec ?? jsonCodec, options.texts);
    this.contacts.codec = options.codec ?? jsonCodec;
    this.counts = {
      profilesRead: 0,
      profilesPerSegment: options.segmentIds.map(() => 0),
      invalid: {},
      fieldIssues: {},
      merged: 0,
      overCapProfiles: 0,
    };
  }

  /** Adds one mapped profile read from the segment at `segmentIndex`. */
  add(segmentIndex: number, profileId: string, outcome: MapOutcome): void {
    const { counts } = this;
    counts.profilesRead++;
    counts.profilesPerSegment[segmentIndex] = (counts.profilesPerSegment[segmentIndex] ?? 0) + 1;
    if (!outcome.ok) {
      counts.invalid[outcome.reason] = (counts.invalid[outcome.reason] ?? 0) + 1;
      this.sample(profileId, segmentIndex, outcome.reason);
      return;
    }
    const { contact, fieldIssues } = outcome;
    const bit = 1 << segmentIndex;
    const { contacts } = this;
    const slot = contacts.slotOf(contact.key);
    if (slot === undefined) {
      if (contacts.size >= this.options.cap) {
        this.overCap(contact.key);
        return;
      }
      this.countFieldIssues(fieldIssues);
      const key = this.options.sharedKey?.(contact.key) ?? contact.key;
      contacts.insert(key, contact.profileId, contact.updatedAt, bit, this.encode(contact));
      return;
    }
    contacts.addSegments(slot, bit);
    const incumbent = contacts.profileIdAt(slot);
    if (incumbent === contact.profileId || contacts.mergedAt(slot)?.includes(contact.profileId)) return;
    counts.merged++;
    if (challengerWins({ profileId: incumbent, updatedAt: contacts.updatedAtSlot(slot) }, contact)) {
      contacts.addMerged(slot, incumbent);
      contacts.replace(slot, contact.profileId, contact.updatedAt, this.encode(contact));
      this.countFieldIssues(fieldIssues);
    } else {
      contacts.addMerged(slot, contact.profileId);
    }
  }

  private encode(contact: { key: string; data: Parameters<ContactCodec['encode']>[0] }): string {
    return this.contacts.codec.encode(contact.data, contact.key);
  }

  /** Counts a profile whose mapping was impossible for a reason outside mapping (e.g. malformed source row). */
  skip(segmentIndex: number, profileId: string, reason: string): void {
    this.counts.profilesRead++;
    this.counts.profilesPerSegment[segmentIndex] = (this.counts.profilesPerSegment[segmentIndex] ?? 0) + 1;
    this.counts.invalid[reason] = (this.counts.invalid[reason] ?? 0) + 1;
    this.sample(profileId, segmentIndex, reason);
  }

  private overCap(key: string): void {
    if (this.options.policy === 'fail') {
      this.capExceeded = true;
      return;
    }
    this.counts.overCapProfiles++;
    if (this.options.isKnown?.(key)) this.heldBack.add(key);
  }

  private countFieldIssues(issues: ReadonlyArray<{ field: string; reason: string }>): void {
    for (const issue of issues) {
      const key = `${issue.field}: ${issue.reason}`;
      this.counts.fieldIssues[key] = (this.counts.fieldIssues[key] ?? 0) + 1;
    }
  }

  private sample(profileId: string, segmentIndex: number, reason: string): void {
    if (this.samples.length < MAX_SAMPLES) {
      this.samples.push({ profileId, segmentId: this.options.segmentIds[segmentIndex] ?? '', reason });
    }
  }

  /** Everything needed to resume collection in another invocation (a copy of every record). */
  toState(): CollectorState {
    return { ...this.liveState(), contacts: [...this.contacts.records()] };
  }

  /** The same, with the contacts read from the store as they are iterated: what a checkpoint streams. */
  liveState(): CollectorState & { contacts: Iterable<ContactRecord> } {
    return {
      contacts: { [Symbol.iterator]: () => this.contacts.records() },
      counts: this.counts,
      heldBack: [...this.heldBack],
      samples: this.samples,
      capExceeded: this.capExceeded,
    };
  }

  /** A collector resumed from its state; a `ContactStore` given as the contacts is adopted as it is. */
  static fromState(options: CollectorOptions, state: CollectorState): ContactCollector {
    const adopted = state.contacts instanceof ContactStore ? state.contacts : undefined;
    const c = new ContactCollector(options, adopted);
    if (adopted === undefined)
      for (const record of state.contacts as Iterable<ContactRecord>) c.contacts.restore(record);
    for (const k of state.heldBack) c.heldBack.add(k);
    c.samples.push(...state.samples);
    Object.assign(c.counts, state.counts);
    c.capExceeded = state.capExceeded;
    return c;
  }
}
