import type { SourceProfile } from '#lib/domain/contact.ts';
import { checkEmail } from '#lib/domain/email.ts';
import type { ExportConfigInput } from '#lib/domain/export-config.ts';
import type { Rng } from './rng.ts';

/** A random export and its data, before and after churn. */
export interface Scenario {
  mode: 'list' | 'field';
  /** What the destination does with a list carried by a bulk upsert. */
  bulkHonoursList: boolean;
  /** What the connection believes about that when the scenario starts. */
  believed: 'unknown' | 'supported' | 'unsupported';
  segments: Array<{ id: string; name: string }>;
  /** Members per segment id, for the first run and after churn. */
  before: Map<string, SourceProfile[]>;
  after: Map<string, SourceProfile[]>;
  /** Contacts that unsubscribed in Autopilot before the export ever ran. */
  unsubscribed: string[];
  /** A contact Autopilot refuses permanently during the faulty runs. */
  refused: string | undefined;
  config: Partial<ExportConfigInput>;
  /** Every address that appears in the data, as written (for the no-raw-email-in-logs check). */
  addresses: Set<string>;
}

const NAMES = ['Newsletter', 'Customers', 'VIP', 'Churn risk', 'Trial users'];

const profile = (rng: Rng, n: number, variant: number): SourceProfile => {
  const local = `user${n}`;
  // Some profiles share an address in another case (merged); some have no valid address at all.
  const email =
    variant === 1 ? `User${n}@Example.COM` : variant === 2 ? `not-an-email-${n}` : `${local}@example.com`;
  return {
    id: `p${n}-${variant}`,
    attributes: { email, first_name: `First${n}`, last_name: rng.chance(0.5) ? `Last${n}` : '' },
  };
};

/** Builds a scenario from the seed's generator: 1–3 overlapping segments of up to ~120 profiles. */
export const buildScenario = (rng: Rng): Scenario => {
  const population = rng.int(15, 90);
  const segmentCount = rng.int(1, 3);
  const segments = rng
    .shuffle(NAMES)
    .slice(0, segmentCount)
    .map((name, i) => ({ id: `seg-${i}`, name }));
  const pick = (density: number): SourceProfile[] => {
    const members: SourceProfile[] = [];
    for (let n = 0; n < population; n++) {
      if (!rng.chance(density)) continue;
      members.push(profile(rng, n, 0));
      if (rng.chance(0.05)) members.push(profile(rng, n, 1));
      if (rng.chance(0.03)) members.push(profile(rng, n, 2));
    }
    return members;
  };
  const before = new Map(segments.map((s) => [s.id, pick(rng.next() * 0.8 + 0.1)]));
  const after = new Map<string, SourceProfile[]>();
  for (const s of segments) {
    const members = before.get(s.id) ?? [];
    const kept = members.filter(() => !rng.chance(0.15));
    const renamed = kept.map((p) =>
      rng.chance(0.1) ? { ...p, attributes: { ...p.attributes, first_name: `Renamed${p.id}` } } : p,
    );
    const joined: SourceProfile[] = [];
    for (let n = population; n < population + rng.int(0, 10); n++) joined.push(profile(rng, n, 0));
    // Now and then a segment comes back empty (an upstream mistake): the lists must follow it.
    after.set(s.id, rng.chance(0.05) ? [] : [...renamed, ...joined]);
  }
  const addresses = new Set<string>();
  for (const m of [...before.values(), ...after.values()])
    for (const p of m) addresses.add(String(p.attributes.email));
  const validKeys = [...addresses].flatMap((a) => {
    const c = checkEmail(a);
    return c.ok ? [c.key] : [];
  });
  const mode = rng.chance(0.5) ? 'list' : 'field';
  return {
    mode,
    bulkHonoursList: rng.chance(0.5),
    believed: rng.pick(['unknown', 'supported', 'unsupported'] as const),
    segments,
    before,
    after,
    unsubscribed: rng.shuffle(validKeys).slice(0, rng.int(0, 3)),
    refused: rng.chance(0.25) && validKeys.length > 0 ? rng.pick(validKeys) : undefined,
    config: {
      membership: mode,
      segmentIds: segments.map((s) => s.id),
      dataMatching: {
        email: 'email',
        fields: { FirstName: 'first_name', LastName: 'last_name' },
        custom: [],
      },
    },
    addresses,
  };
};

/** The valid, distinct email keys of one segment's members: what its list (or flag) must hold. */
export const expectedKeys = (members: readonly SourceProfile[]): Set<string> => {
  const keys = new Set<string>();
  for (const p of members) {
    const c = checkEmail(p.attributes.email);
    if (c.ok) keys.add(c.key);
  }
  return keys;
};
