/**
 * What each of the planner's large structures weighs at N profiles (issue 14: the planner's peak at
 * 1,000,000 must stay ≤ 512 MB), measured as heap growth after a full GC, one structure at a time:
 * the contact store (its key map, profile ids, data texts, typed arrays), the frozen snapshot map
 * and the fold it is read from, and the queueing pass's sorted key arrays; checkpoint bytes too.
 *
 *   node --expose-gc --import tsx bench/million-memory.ts [--profiles 200000] [--seed 42]
 *
 * Profiles go through a JSON round trip first, so every string is the collector's own (as a page
 * parsed from S3 gives it), never shared with the generated dataset.
 */

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { gunzipSync } from 'node:zlib';
import { compressMembers } from '#lib/adapters/dynamodb/checkpoints.ts';
import { SpillTexts } from '#lib/adapters/spill/spill-texts.ts';
import { ContactCollector, type ContactStore } from '#lib/domain/collector.ts';
import { matchingCodec } from '#lib/domain/contact-codec.ts';
import type { SnapshotEntry } from '#lib/domain/diff.ts';
import type { DataMatching } from '#lib/domain/export-config.ts';
import { canonicalContact, hashCanonical } from '#lib/domain/hash.ts';
import { mapProfile } from '#lib/domain/mapping.ts';
import { SnapshotFold } from '#lib/domain/snapshot-fold.ts';
import { SnapshotMap } from '#lib/domain/snapshot-map.ts';
import { checkpointPieces, parseCheckpoint } from '#lib/use-cases/planning/checkpoint.ts';
import { generateSampleProfiles, SAMPLE_DATA_MATCHING, toSourceProfile } from '#local/sample-data.ts';

const { values } = parseArgs({
  options: { profiles: { type: 'string', default: '200000' }, seed: { type: 'string', default: '42' } },
});
const profiles = Number(values.profiles);
if (!Number.isInteger(profiles) || profiles < 1000) throw new Error('--profiles: a whole number ≥ 1000');
const gc = (globalThis as { gc?: () => void }).gc;
if (gc === undefined) throw new Error('run with node --expose-gc --import tsx');

const heapMB = (): number => {
  gc();
  gc();
  const m = process.memoryUsage();
  return (m.heapUsed + m.external) / 2 ** 20;
};
const rows: Array<[string, number]> = [];
const note = (what: string, mb: number): void => {
  rows.push([what, mb]);
  console.log(
    `${what.padEnd(44)} ${mb.toFixed(1).padStart(8)} MB  ${((mb * 2 ** 20) / profiles).toFixed(0)} B/profile`,
  );
};

const matching = SAMPLE_DATA_MATCHING as unknown as DataMatching;
const dataset = generateSampleProfiles({ profiles, seed: Number(values.seed) });
const segmentIds = dataset.segments.map((s) => s.id);

const collector = new ContactCollector({
  segmentIds,
  cap: Number.MAX_SAFE_INTEGER,
  policy: 'fail',
  codec: matchingCodec(matching),
});
for (let s = 0; s < segmentIds.length; s++) {
  for (let i = 0; i < dataset.profiles.length; i++) {
    if (((dataset.membership[i] ?? 0) & (1 << s)) === 0) continue;
    const profile = JSON.parse(JSON.stringify(toSourceProfile(dataset.profiles[i] as never)));
    collector.add(s, profile.id, mapProfile(profile, matching));
  }
}
const store = collector.contacts;
// The store's own total is its parts, measured at the end: the dataset's strings make a before/after
// reading here unreliable (the JSON round trip above flattens them as it goes).
console.log(`${store.size} contacts collected`);
let before = heapMB();

// The snapshot a re-run freezes: one entry per contact, as the previous run would have written it.
before = heapMB();
const snapshot = new Map<string, SnapshotEntry>();
for (const [key, c] of store)
  snapshot.set(key, { hash: hashCanonical(canonicalContact(c.data)), segments: c.segments });
note('snapshot map (re-run, a Map of objects)', heapMB() - before);

before = heapMB();
const compact = new SnapshotMap(snapshot.size);
for (const [key, e] of snapshot) compact.set(key, e);
note('snapshot map (compact columns, keys shared)', heapMB() - before);
before = heapMB();
// As a continuation reads it: every key a string of its own, as its checkpoint line gives it.
const reread = new SnapshotMap(snapshot.size);
for (const [key, e] of snapshot) reread.set(JSON.parse(JSON.stringify(key)) as string, e);
note('snapshot map (compact, from a checkpoint)', heapMB() - before);
compact.clear();

before = heapMB();
const fold = new SnapshotFold();
for (const [key, e] of snapshot)
  fold.put({ key, hash: e.hash, segmentIds: segmentIds.filter((_, i) => e.segments & (1 << i)) });
note('snapshot fold (while read)', heapMB() - before);

before = heapMB();
const sorted = [...store.keys()].sort();
note('queueing pass: sorted keys', heapMB() - before);
sorted.length = 0;

before = heapMB();
const { members } = compressMembers(
  checkpointPieces({
    v: 2,
    phase: 'emit',
    segmentIndex: 3,
    collector: collector.liveState(),
    snapshot: [],
    emitted: 0,
    requests: {},
  }),
);
const gzipMB = members.reduce((n, m) => n + m.length, 0) / 2 ** 20;
note(`checkpoint gzip (${gzipMB.toFixed(1)} MB held while saved)`, heapMB() - before);
before = heapMB();
// As the S3 adapter loads it: one string per gzip member, inflated as the parser asks.
const parsed = parseCheckpoint(
  (function* () {
    for (const m of members) yield gunzipSync(m).toString('utf8');
  })(),
);
note('checkpoint parsed (a second store)', heapMB() - before);

// The store's parts: drop one at a time and see what comes back.
before = heapMB();
store.release();
note('store: profile ids and data texts', before - heapMB());
const parts = store as unknown as Record<string, unknown>;
for (const [field, what] of [['slots', 'store: key → slot map with keys']] as const) {
  before = heapMB();
  const value = parts[field];
  if (Array.isArray(value)) value.length = 0;
  else if (value instanceof Map) value.clear();
  else throw new Error(`the store has no field ${field}`);
  note(what, before - heapMB());
}

// The same checkpoint read into a store whose texts spill to a file (what the planner wires).
const dir = mkdtempSync(join(tmpdir(), 'million-memory-'));
before = heapMB();
const spill = new SpillTexts({ dir, spillAboveChars: 16_000_000 });
const spilled = parseCheckpoint(
  (function* () {
    for (const m of members) yield gunzipSync(m).toString('utf8');
  })(),
  spill,
);
note(
  `checkpoint parsed, texts spilled (${(spill.spilledBytes / 2 ** 20).toFixed(0)} MB file)`,
  heapMB() - before,
);
(spilled.collector.contacts as ContactStore).release();
rmSync(dir, { recursive: true, force: true });
void fold.size;
void parsed;
void reread.size;
