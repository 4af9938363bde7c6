import type { CapPolicy } from './cap.ts';
import type { ContactData } from './contact.ts';
import type { MapOutcome } from './mapping.ts';
import { challengerWins } from './merge.ts';

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
}

export interface CollectorState {
  contacts: Array<[string, CollectedContact]>;
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
  readonly contacts = new Map<string, CollectedContact>();
  readonly heldBack = new Set<string>();
  readonly samples: SkipSample[] = [];
  readonly counts: CollectorCounts;
  capExceeded = false;

  constructor(private readonly options: CollectorOptions) {
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
    const existing = this.contacts.get(contact.key);
    if (existing === undefined) {
      if (this.contacts.size >= this.options.cap) {
        this.overCap(contact.key);
        return;
      }
      this.countFieldIssues(fieldIssues);
      this.contacts.set(contact.key, {
        profileId: contact.profileId,
        updatedAt: contact.updatedAt,
        data: contact.data,
        segments: bit,
      });
      return;
    }
    existing.segments |= bit;
    if (existing.profileId === contact.profileId || existing.mergedIds?.includes(contact.profileId)) return;
    counts.merged++;
    existing.mergedIds ??= [];
    if (challengerWins(existing, contact)) {
      existing.mergedIds.push(existing.profileId);
      existing.profileId = contact.profileId;
      existing.updatedAt = contact.updatedAt;
      existing.data = contact.data;
      this.countFieldIssues(fieldIssues);
    } else {
      existing.mergedIds.push(contact.profileId);
    }
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

  /** Everything needed to resume collection in another invocation. */
  toState(): CollectorState {
    return {
      contacts: [...this.contacts],
      counts: this.counts,
      heldBack: [...this.heldBack],
      samples: this.samples,
      capExceeded: this.capExceeded,
    };
  }

  static fromState(options: CollectorOptions, state: CollectorState): ContactCollector {
    const c = new ContactCollector(options);
    for (const [k, v] of state.contacts) c.contacts.set(k, v);
    for (const k of state.heldBack) c.heldBack.add(k);
    c.samples.push(...state.samples);
    Object.assign(c.counts, state.counts);
    c.capExceeded = state.capExceeded;
    return c;
  }
}
