import type { RefreshReader } from '#lib/ports/refresh-reader.ts';
import type { RefreshEntry } from '#lib/ports/refreshes.ts';

/** Reasons kept per rejection: enough to act on, and a ledger item and a notification stay small. */
export const MAX_REASONS = 20;
const MAX_REASON_CHARS = 1000;

/**
 * What an arriving refresh is (docs/architecture.md#refresh-arrival), found out once: its manifest
 * read and validated, every declared row count and checksum verified against its files, and each
 * segment's profile count and attributes read. Any problem of the refresh itself rejects it with the
 * reasons; a store that cannot be reached throws (the reader's), so the arrival is retried.
 */
export const inspectRefresh = async (
  reader: RefreshReader,
  refreshId: string,
  arrivedAt: string,
): Promise<RefreshEntry> => {
  const read = await reader.manifest(refreshId);
  if (!read.ok) return rejected(refreshId, arrivedAt, read.problems);
  const { createdAt } = read.manifest;
  const mismatches = await reader.verify(refreshId);
  if (mismatches.length > 0) return rejected(refreshId, arrivedAt, mismatches, createdAt);
  const facts = await reader.facts(refreshId);
  if (!facts.ok) return rejected(refreshId, arrivedAt, facts.problems, createdAt);
  return { refreshId, outcome: 'complete', createdAt, arrivedAt, segments: facts.segments };
};

const rejected = (
  refreshId: string,
  arrivedAt: string,
  problems: readonly string[],
  createdAt?: string,
): RefreshEntry => ({
  refreshId,
  outcome: 'rejected',
  ...(createdAt === undefined ? {} : { createdAt }),
  arrivedAt,
  reasons: boundedReasons(problems),
});

/** The first `MAX_REASONS` problems, each cut to a readable length, and how many more there were. */
export const boundedReasons = (problems: readonly string[]): string[] => {
  const kept = problems
    .slice(0, MAX_REASONS)
    .map((p) => (p.length > MAX_REASON_CHARS ? `${p.slice(0, MAX_REASON_CHARS - 1)}…` : p));
  const more = problems.length - kept.length;
  if (more > 0) kept.push(`…and ${more} more problem${more === 1 ? '' : 's'}`);
  return kept.length > 0 ? kept : ['(no reason given)'];
};
