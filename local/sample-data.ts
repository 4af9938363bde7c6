import { mkdir, open } from 'node:fs/promises';
import { join } from 'node:path';
import { encodeCsvRecord } from '#lib/adapters/segments/csv.ts';
import { MANIFEST_FILE, type SegmentManifestEntry } from '#lib/adapters/segments/manifest.ts';
import type { SourceProfile } from '#lib/domain/contact.ts';
import type { DynamoDbSegmentWriter } from '#local/dynamodb-segment-writer.ts';

/*
 * Deterministic sample segments for `npm start`, tests and benchmarks. The same seed always gives
 * the same data. It is deliberately imperfect, like real CRM data: ~1% invalid emails of several
 * kinds, ~1% emails shared by two profile ids (some differing only in case), numbers and booleans
 * sometimes written as strings, and a few values no coercion can save.
 */

export interface SampleProfile {
  id: string;
  email: string;
  first_name: string;
  last_name: string;
  company?: string;
  city: string;
  country: string;
  plan: string;
  /** Usually an integer; ~5% a numeric string; rarely junk ("lots"). */
  seats: number | string;
  /** Usually a float; rarely junk ("n/a"). */
  lifetime_value: number | string;
  /** Usually a boolean; ~5% "yes"/"no"; rarely junk ("maybe"). */
  trial: boolean | string;
  /** `YYYY-MM-DD` */
  signup_date: string;
  /** ISO timestamp */
  updated_at: string;
}

export interface SampleSegment {
  id: string;
  name: string;
}

/**
 * How the sample profiles map onto Autopilot contacts (what `npm start` and the benchmarks export):
 * five standard fields, five typed custom fields, merges decided by update time.
 */
export const SAMPLE_DATA_MATCHING = {
  email: 'email',
  fields: {
    FirstName: 'first_name',
    LastName: 'last_name',
    Company: 'company',
    MailingCity: 'city',
    MailingCountry: 'country',
  },
  custom: [
    { name: 'Plan', type: 'string', source: 'plan' },
    { name: 'Seats', type: 'integer', source: 'seats' },
    { name: 'Lifetime Value', type: 'float', source: 'lifetime_value' },
    { name: 'Trial', type: 'boolean', source: 'trial' },
    { name: 'Signup Date', type: 'date', source: 'signup_date' },
  ],
  updatedAt: 'updated_at',
} as const;

export const SAMPLE_SEGMENTS: readonly SampleSegment[] = [
  { id: 'newsletter', name: 'Newsletter subscribers' },
  { id: 'active-customers', name: 'Active customers' },
  { id: 'vip', name: 'VIP' },
];

/**
 * Profiles plus one membership byte each (bit i ⇔ member of `segments[i]`): ~30 MB for 100,000
 * profiles. Every profile is in at least one segment, so `profiles.length` is the number of
 * distinct profiles an export of all segments sees.
 */
export interface SampleDataset {
  seed: number;
  /** The moment the data describes; every `updated_at` is at or before it. */
  asOf: string;
  segments: readonly SampleSegment[];
  profiles: SampleProfile[];
  membership: Uint8Array;
  /** Numeric suffix of the next new profile id. */
  nextIndex: number;
}

export const CSV_COLUMNS = [
  'id',
  'email',
  'first_name',
  'last_name',
  'company',
  'city',
  'country',
  'plan',
  'seats',
  'lifetime_value',
  'trial',
  'signup_date',
  'updated_at',
] as const satisfies ReadonlyArray<keyof SampleProfile>;

const DEFAULT_AS_OF = '2025-06-01T00:00:00.000Z';
const DAY_MS = 86_400_000;
const NEWSLETTER = 1;
const ACTIVE = 2;
const VIP = 4;
const ALL_SEGMENTS = NEWSLETTER | ACTIVE | VIP;

/** mulberry32: tiny, fast and good enough for sample data. */
export class SeededRandom {
  private state: number;
  constructor(seed: number) {
    this.state = seed >>> 0;
  }
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  /** Integer in [min, max]. */
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.next() * items.length)] as T;
  }
}

// biome-ignore format: word lists read better dense
const FIRST_NAMES = [
  'Olivia', 'Liam', 'Emma', 'Noah', 'Ava', 'Elijah', 'Sophia', 'Lucas', 'Mia', 'Mateo', 'Zoë', 'José',
  'Chloé', 'Søren', 'Aiko', 'Priya', 'Chen', 'Fatima', 'Mohammed', 'Anna', 'Lars', 'Ingrid', 'Kwame',
  'Amara', 'Diego', 'Lucía', 'Hana', 'Yuki', 'Olga', 'Ivan', 'Grace', 'Jack', 'Isla', 'Oscar', 'Freya',
  'Leo', 'Niamh', 'Seán', 'Marie', 'Pierre',
];
// biome-ignore format: word lists read better dense
const LAST_NAMES = [
  'Smith', 'Johnson', 'Williams', 'Brown', 'García', 'Müller', 'Schmidt', "O'Brien", 'Nguyen', 'Kim',
  'Patel', 'Singh', 'Rossi', 'Dubois', 'Jansen', 'Kowalski', 'Novak', 'Andersson', 'Nielsen', 'Tanaka',
  'Sato', 'Silva', 'Santos', 'Costa', 'Murphy', 'Kelly', 'Walsh', 'López', 'Martínez', 'Hernández',
  'van der Berg', 'De Luca', 'Fischer', 'Weber', 'Wagner', 'Becker', 'Hoffmann', 'Schulz', 'Koch', 'Lee',
];
// biome-ignore format: word lists read better dense
const COMPANIES = [
  'Acme Corp', 'Globex', 'Initech', 'Umbrella Ltd', 'Stark Industries', 'Wayne Enterprises', 'Hooli',
  'Pied Piper', 'Vandelay Industries', 'Smith, Jones & Partners', '"Blue Sky" Ventures', 'Müller GmbH',
  'Café Olé', 'Northwind Traders', 'Contoso', 'Fabrikam', 'Tailspin Toys', 'Wide World Importers',
  'Adventure Works', 'Litware',
];
// biome-ignore format: word lists read better dense
const PLACES: ReadonlyArray<readonly [city: string, country: string]> = [
  ['London', 'United Kingdom'], ['Manchester', 'United Kingdom'], ['Dublin', 'Ireland'],
  ['Berlin', 'Germany'], ['München', 'Germany'], ['Paris', 'France'], ['Lyon', 'France'],
  ['Amsterdam', 'Netherlands'], ['Madrid', 'Spain'], ['Barcelona', 'Spain'], ['Lisbon', 'Portugal'],
  ['Rome', 'Italy'], ['Milan', 'Italy'], ['Stockholm', 'Sweden'], ['Copenhagen', 'Denmark'],
  ['Oslo', 'Norway'], ['Warsaw', 'Poland'], ['Prague', 'Czechia'], ['New York', 'United States'],
  ['San Francisco', 'United States'], ['Austin', 'United States'], ['Toronto', 'Canada'],
  ['Sydney', 'Australia'], ['Melbourne', 'Australia'], ['Tokyo', 'Japan'], ['Singapore', 'Singapore'],
  ['São Paulo', 'Brazil'], ['Mexico City', 'Mexico'], ['Cape Town', 'South Africa'], ['Bengaluru', 'India'],
];
const DOMAINS = [
  'example.com',
  'example.org',
  'example.net',
  'mail.example.com',
  'example.co.uk',
  'example.de',
];
const PLANS = ['free', 'starter', 'pro', 'enterprise'];

/** The kinds of broken address real exports contain; each fails email validation differently. */
const INVALID_EMAILS: ReadonlyArray<(local: string, domain: string) => string> = [
  (local, domain) => `${local}${domain}`, // missing @
  (local, domain) => `${local.slice(0, 1)} ${local.slice(1)}@${domain}`, // inner space
  (local) => `${local}@example`, // no top-level domain
  (local) => `${local}@exa_mple.com`, // invalid character in the domain
  () => '', // empty
  (local, domain) => `${local}@@${domain}`, // two @
  (_local, domain) => `@${domain}`, // no local part
  (local, domain) => `${local}@${domain}.`, // empty last label
];

const ascii = (name: string): string =>
  name
    .normalize('NFD')
    .replace(/[^A-Za-z0-9]/g, '')
    .toLowerCase();

const round2 = (n: number): number => Math.round(n * 100) / 100;

/** Same address, different case: `Ann.Lee1@Example.com`. */
const recase = (email: string): string => {
  const varied = email.replace(/(^|[.@])([a-z])/g, (_m, sep: string, ch: string) => sep + ch.toUpperCase());
  return varied === email ? email.toUpperCase() : varied;
};

const drawMembership = (rng: SeededRandom): number => {
  // Targets: newsletter ~70%, active ~40%, VIP ~8% (mostly active customers); none left out.
  const active = rng.chance(0.4);
  const vip = active ? rng.chance(0.17) : rng.chance(0.02);
  const newsletter = active ? rng.chance(0.265) : vip ? rng.chance(0.5) : true;
  return (newsletter ? NEWSLETTER : 0) | (active ? ACTIVE : 0) | (vip ? VIP : 0);
};

const profileId = (n: number): string => `p${String(n).padStart(6, '0')}`;

interface Draft {
  profile: SampleProfile;
  invalidEmail: boolean;
}

const makeProfile = (rng: SeededRandom, n: number, mask: number, asOfMs: number): Draft => {
  const first = rng.pick(FIRST_NAMES);
  const last = rng.pick(LAST_NAMES);
  const [city, country] = rng.pick(PLACES);
  const domain = rng.pick(DOMAINS);
  const style = rng.int(0, 2);
  const local =
    style === 0
      ? `${ascii(first)}.${ascii(last)}${n}`
      : style === 1
        ? `${ascii(first).slice(0, 1)}${ascii(last)}${n}`
        : `${ascii(first)}_${ascii(last)}${n}`;
  const invalidEmail = rng.chance(0.01);
  let email = invalidEmail ? rng.pick(INVALID_EMAILS)(local, domain) : `${local}@${domain}`;
  if (!invalidEmail && rng.chance(0.02)) email = recase(email);

  const vip = (mask & VIP) !== 0;
  const active = (mask & ACTIVE) !== 0;
  const plan = vip
    ? rng.pick(['pro', 'enterprise', 'enterprise'])
    : active
      ? rng.pick(['starter', 'starter', 'pro', 'pro', 'enterprise'])
      : rng.pick(['free', 'free', 'free', 'starter']);
  const seatCount =
    plan === 'free'
      ? 1
      : plan === 'starter'
        ? rng.int(1, 5)
        : plan === 'pro'
          ? rng.int(3, 50)
          : rng.int(20, 2000);
  let seats: number | string = rng.chance(0.05) ? String(seatCount) : seatCount;
  const base = plan === 'free' ? 0 : plan === 'starter' ? 2_000 : plan === 'pro' ? 20_000 : 250_000;
  let lifetimeValue: number | string = round2(rng.next() * base * (vip ? 1.5 : 1));
  const trialFlag = plan === 'free' || plan === 'starter' ? rng.chance(0.2) : rng.chance(0.03);
  let trial: boolean | string = rng.chance(0.05) ? (trialFlag ? 'yes' : 'no') : trialFlag;
  // A few values no coercion can save.
  if (rng.chance(0.001)) seats = rng.pick(['lots', 'many', '10-20']);
  if (rng.chance(0.001)) lifetimeValue = rng.pick(['n/a', 'unknown']);
  if (rng.chance(0.001)) trial = rng.pick(['maybe', 'unknown']);

  const earliest = Date.UTC(2016, 0, 1);
  const signup = earliest + Math.floor(rng.next() * (asOfMs - 30 * DAY_MS - earliest));
  const signupDay = signup - (signup % DAY_MS);
  const updated = signupDay + Math.floor(rng.next() * (asOfMs - signupDay));
  const profile: SampleProfile = {
    id: profileId(n),
    email,
    first_name: first,
    last_name: last,
    company: rng.chance(0.1) ? undefined : rng.pick(COMPANIES),
    city,
    country,
    plan,
    seats,
    lifetime_value: lifetimeValue,
    trial,
    signup_date: new Date(signupDay).toISOString().slice(0, 10),
    updated_at: new Date(updated).toISOString(),
  };
  return { profile, invalidEmail };
};

export interface SampleOptions {
  profiles: number;
  seed: number;
  /** The moment the data describes (default 2025-06-01T00:00:00Z). */
  asOf?: string;
}

/** `profiles` distinct profiles across three overlapping segments; the same seed gives the same data. */
export const generateSampleProfiles = (options: SampleOptions): SampleDataset => {
  const rng = new SeededRandom(options.seed);
  const asOf = options.asOf ?? DEFAULT_AS_OF;
  const asOfMs = Date.parse(asOf);
  const count = options.profiles;
  const profiles: SampleProfile[] = new Array(count);
  const membership = new Uint8Array(count);
  const invalid = new Uint8Array(count);
  for (let i = 0; i < count; i++) {
    const mask = drawMembership(rng);
    const { profile, invalidEmail } = makeProfile(rng, i + 1, mask, asOfMs);
    if (!invalidEmail && i > 0 && rng.chance(0.01)) {
      // Another profile id with the address of an earlier profile: the merge rule's job.
      const j = rng.int(0, i - 1);
      const original = profiles[j] as SampleProfile;
      if (invalid[j] === 0) {
        profile.email = rng.chance(0.4) ? recase(original.email) : original.email;
        if (profile.updated_at === original.updated_at) {
          profile.updated_at = new Date(Date.parse(profile.updated_at) - 1000).toISOString();
        }
      }
    }
    profiles[i] = profile;
    membership[i] = mask;
    invalid[i] = invalidEmail ? 1 : 0;
  }
  return { seed: options.seed, asOf, segments: SAMPLE_SEGMENTS, profiles, membership, nextIndex: count + 1 };
};

/** A profile as a `SegmentSource` yields it: the id apart, absent values left out. */
export const toSourceProfile = (profile: SampleProfile): SourceProfile => {
  const { id, ...rest } = profile;
  const attributes: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(rest)) if (value !== undefined) attributes[key] = value;
  return { id, attributes };
};

/** Members of one segment, in dataset order. */
export function* sampleSegmentMembers(dataset: SampleDataset, segmentId: string): Generator<SampleProfile> {
  const bit = segmentBit(dataset, segmentId);
  for (let i = 0; i < dataset.profiles.length; i++) {
    if (((dataset.membership[i] as number) & bit) !== 0) yield dataset.profiles[i] as SampleProfile;
  }
}

const segmentBit = (dataset: SampleDataset, segmentId: string): number => {
  const index = dataset.segments.findIndex((s) => s.id === segmentId);
  if (index < 0) throw new Error(`No sample segment "${segmentId}"`);
  return 1 << index;
};

// ---------------------------------------------------------------------------------------------
// Churn

export interface ChurnSummary {
  /** Attributes changed (a name or the plan, and `updated_at`); memberships unchanged. */
  edited: string[];
  /** Left one segment, still in another. */
  leftSegment: Array<{ profileId: string; segmentId: string }>;
  /** Left every segment (and so the dataset). */
  leftAll: Array<{ profileId: string; segmentIds: string[] }>;
  /** Existing profiles that entered a segment they were not in. */
  joinedSegment: Array<{ profileId: string; segmentId: string }>;
  /** Profiles new to the dataset. */
  newProfiles: Array<{ profileId: string; segmentIds: string[] }>;
  /** Distinct profiles touched: the sum of the above. */
  changedProfiles: number;
}

export interface ChurnOptions {
  /** Share of profiles that change (default 0.01). */
  fraction?: number;
  seed: number;
}

const segmentIdsOf = (dataset: SampleDataset, mask: number): string[] =>
  dataset.segments.filter((_s, i) => (mask & (1 << i)) !== 0).map((s) => s.id);

const bitCount = (mask: number): number => (mask & 1) + ((mask >> 1) & 1) + ((mask >> 2) & 1);

/**
 * A new dataset one day later where `fraction` of the profiles changed: half edited, and an eighth
 * each leaving one segment, leaving all, joining another segment, or new. The input is not modified.
 */
export const applyChurn = (
  dataset: SampleDataset,
  options: ChurnOptions,
): { dataset: SampleDataset; summary: ChurnSummary } => {
  const rng = new SeededRandom(options.seed);
  const total = dataset.profiles.length;
  const changes = Math.round(total * (options.fraction ?? 0.01));
  const eighth = Math.round(changes / 8);
  const targets = { leftSegment: eighth, joinedSegment: eighth, leftAll: eighth, newProfiles: eighth };
  const edits = Math.max(0, changes - 4 * eighth);
  const asOfMs = Date.parse(dataset.asOf) + DAY_MS;
  const profiles = dataset.profiles.slice();
  const membership = dataset.membership.slice();
  const summary: ChurnSummary = {
    edited: [],
    leftSegment: [],
    leftAll: [],
    joinedSegment: [],
    newProfiles: [],
    changedProfiles: 0,
  };

  // Draw distinct profiles (a lazy Fisher–Yates); ones unfit for a role wait for a later role.
  const order = new Uint32Array(total);
  for (let i = 0; i < total; i++) order[i] = i;
  let drawn = 0;
  const deferred: number[] = [];
  const take = (fits: (i: number) => boolean): number | undefined => {
    const d = deferred.findIndex(fits);
    if (d >= 0) return deferred.splice(d, 1)[0];
    while (drawn < total) {
      const j = drawn + Math.floor(rng.next() * (total - drawn));
      const i = order[j] as number;
      order[j] = order[drawn] as number;
      order[drawn++] = i;
      if (fits(i)) return i;
      deferred.push(i);
    }
    return undefined;
  };
  const maskOf = (i: number): number => membership[i] as number;
  const randomBit = (mask: number, set: boolean): number => {
    const bits = [NEWSLETTER, ACTIVE, VIP].filter((b) => ((b & mask) !== 0) === set);
    return rng.pick(bits);
  };

  for (let n = 0; n < targets.leftSegment; n++) {
    const i = take((k) => bitCount(maskOf(k)) >= 2);
    if (i === undefined) break;
    const bit = randomBit(maskOf(i), true);
    membership[i] = maskOf(i) & ~bit;
    summary.leftSegment.push({
      profileId: idAt(profiles, i),
      segmentId: segmentIdsOf(dataset, bit)[0] as string,
    });
  }
  for (let n = 0; n < targets.joinedSegment; n++) {
    const i = take((k) => maskOf(k) !== ALL_SEGMENTS);
    if (i === undefined) break;
    const bit = randomBit(maskOf(i), false);
    membership[i] = maskOf(i) | bit;
    summary.joinedSegment.push({
      profileId: idAt(profiles, i),
      segmentId: segmentIdsOf(dataset, bit)[0] as string,
    });
  }
  for (let n = 0; n < targets.leftAll; n++) {
    const i = take(() => true);
    if (i === undefined) break;
    summary.leftAll.push({ profileId: idAt(profiles, i), segmentIds: segmentIdsOf(dataset, maskOf(i)) });
    membership[i] = 0;
  }
  for (let n = 0; n < edits; n++) {
    const i = take(() => true);
    if (i === undefined) break;
    profiles[i] = edit(rng, profiles[i] as SampleProfile, asOfMs);
    summary.edited.push(idAt(profiles, i));
  }

  // Leavers of every segment drop out; new profiles are appended.
  const kept = membership.reduce((n, mask) => n + (mask === 0 ? 0 : 1), 0);
  const nextProfiles: SampleProfile[] = new Array(kept);
  const nextMembership = new Uint8Array(kept + targets.newProfiles);
  let k = 0;
  for (let i = 0; i < total; i++) {
    if (membership[i] === 0) continue;
    nextProfiles[k] = profiles[i] as SampleProfile;
    nextMembership[k++] = membership[i] as number;
  }
  let nextIndex = dataset.nextIndex;
  for (let n = 0; n < targets.newProfiles; n++) {
    const mask = drawMembership(rng);
    const { profile } = makeProfile(rng, nextIndex++, mask, asOfMs);
    nextProfiles.push(profile);
    nextMembership[k++] = mask;
    summary.newProfiles.push({ profileId: profile.id, segmentIds: segmentIdsOf(dataset, mask) });
  }
  summary.changedProfiles =
    summary.edited.length +
    summary.leftSegment.length +
    summary.leftAll.length +
    summary.joinedSegment.length +
    summary.newProfiles.length;
  return {
    dataset: {
      ...dataset,
      asOf: new Date(asOfMs).toISOString(),
      profiles: nextProfiles,
      membership: nextMembership.subarray(0, k),
      nextIndex,
    },
    summary,
  };
};

const idAt = (profiles: readonly SampleProfile[], i: number): string => (profiles[i] as SampleProfile).id;

const other = <T>(rng: SeededRandom, items: readonly T[], current: T): T => {
  for (;;) {
    const candidate = rng.pick(items);
    if (candidate !== current) return candidate;
  }
};

/** A name or plan change, stamped within the last day before `asOfMs`. */
const edit = (rng: SeededRandom, profile: SampleProfile, asOfMs: number): SampleProfile => {
  const changed = { ...profile, updated_at: new Date(asOfMs - rng.int(1, DAY_MS - 1)).toISOString() };
  const kind = rng.int(0, 3);
  if (kind === 0 || kind === 3) changed.last_name = other(rng, LAST_NAMES, profile.last_name);
  if (kind === 1) changed.first_name = other(rng, FIRST_NAMES, profile.first_name);
  if (kind === 2 || kind === 3) changed.plan = other(rng, PLANS, profile.plan);
  return changed;
};

// ---------------------------------------------------------------------------------------------
// Writers

export interface SampleFilesOptions {
  format: 'jsonl' | 'csv';
}

/** Writes the `FileSegmentSource` layout: `segments.json` plus one file per segment. */
export const writeSampleFiles = async (
  dir: string,
  dataset: SampleDataset,
  options: SampleFilesOptions,
): Promise<SegmentManifestEntry[]> => {
  await mkdir(dir, { recursive: true });
  const manifest: SegmentManifestEntry[] = dataset.segments.map((s) => ({
    id: s.id,
    name: s.name,
    file: `${s.id}.${options.format}`,
  }));
  for (const entry of manifest) {
    const file = await open(join(dir, entry.file), 'w');
    try {
      let chunk = options.format === 'csv' ? encodeCsvRecord(CSV_COLUMNS) : '';
      for (const profile of sampleSegmentMembers(dataset, entry.id)) {
        chunk +=
          options.format === 'csv'
            ? encodeCsvRecord(CSV_COLUMNS.map((c) => (profile[c] === undefined ? '' : String(profile[c]))))
            : `${JSON.stringify(profile)}\n`;
        if (chunk.length > 1 << 20) {
          await file.write(chunk);
          chunk = '';
        }
      }
      await file.write(chunk);
    } finally {
      await file.close();
    }
  }
  const manifestFile = await open(join(dir, MANIFEST_FILE), 'w');
  try {
    await manifestFile.write(`${JSON.stringify(manifest, null, 2)}\n`);
  } finally {
    await manifestFile.close();
  }
  return manifest;
};

export type SegmentWriter = Pick<DynamoDbSegmentWriter, 'putSegment' | 'putMembers' | 'removeMembers'>;

/** Writes every segment and its members into the segment table. */
export const seedDynamoDbSegments = async (writer: SegmentWriter, dataset: SampleDataset): Promise<void> => {
  for (const segment of dataset.segments) {
    await writer.putSegment(segment);
    await writer.putMembers(
      segment.id,
      Array.from(sampleSegmentMembers(dataset, segment.id), toSourceProfile),
    );
  }
};

/**
 * Brings the segment table from `before` to `after` (e.g. after `applyChurn`): puts new and changed
 * members, removes leavers; unchanged members are not written.
 */
export const syncDynamoDbSegments = async (
  writer: SegmentWriter,
  before: SampleDataset,
  after: SampleDataset,
): Promise<{ put: number; removed: number }> => {
  const beforeIndex = indexById(before);
  const afterIndex = indexById(after);
  let put = 0;
  let removed = 0;
  for (const segment of after.segments) {
    const bitAfter = segmentBit(after, segment.id);
    const bitBefore = before.segments.some((s) => s.id === segment.id) ? segmentBit(before, segment.id) : 0;
    if (bitBefore === 0) await writer.putSegment(segment);
    const puts: SourceProfile[] = [];
    for (const profile of sampleSegmentMembers(after, segment.id)) {
      const j = beforeIndex.get(profile.id);
      const was = j === undefined ? undefined : before.profiles[j];
      const wasMember = j !== undefined && ((before.membership[j] as number) & bitBefore) !== 0;
      if (!wasMember || !was || !sameProfile(was, profile)) puts.push(toSourceProfile(profile));
    }
    const leavers: string[] = [];
    if (bitBefore !== 0) {
      for (const profile of sampleSegmentMembers(before, segment.id)) {
        const k = afterIndex.get(profile.id);
        if (k === undefined || ((after.membership[k] as number) & bitAfter) === 0) leavers.push(profile.id);
      }
    }
    if (puts.length > 0) await writer.putMembers(segment.id, puts);
    if (leavers.length > 0) await writer.removeMembers(segment.id, leavers);
    put += puts.length;
    removed += leavers.length;
  }
  return { put, removed };
};

const indexById = (dataset: SampleDataset): Map<string, number> => {
  const index = new Map<string, number>();
  dataset.profiles.forEach((p, i) => {
    index.set(p.id, i);
  });
  return index;
};

export const sameProfile = (a: SampleProfile, b: SampleProfile): boolean =>
  a === b || CSV_COLUMNS.every((c) => a[c] === b[c]);
