import { isTerminal } from '#lib/domain/run.ts';
import type { RunRecord } from '#lib/domain/run-record.ts';

/** Every run ended, and its counts add up. */
export const countsAddUp = (runs: readonly RunRecord[]): string[] =>
  runs.flatMap((r) => {
    const out: string[] = [];
    const p = r.progress;
    if (!isTerminal(r.status)) out.push(`run ${r.id} is still ${r.status}`);
    if (r.batchesTotal !== undefined && p.batchesDone > r.batchesTotal) {
      out.push(`run ${r.id}: batchesDone ${p.batchesDone} > batchesTotal ${r.batchesTotal}`);
    }
    const counted = p.accepted + p.failed + p.dropped;
    if (r.itemsPlanned !== undefined && counted > r.itemsPlanned) {
      out.push(`run ${r.id}: accepted+failed+dropped ${counted} > planned ${r.itemsPlanned}`);
    }
    const finished = r.status === 'succeeded' || r.status === 'completed_with_errors';
    if (finished && r.trigger !== 'dry-run') {
      if (p.batchesDone !== r.batchesTotal)
        out.push(`run ${r.id} ${r.status} with ${p.batchesDone}/${r.batchesTotal} batches`);
      if (counted !== r.itemsPlanned)
        out.push(`run ${r.id} ${r.status} counting ${counted} of ${r.itemsPlanned}`);
    }
    if (r.status === 'succeeded' && (p.failed > 0 || p.dropped > 0))
      out.push(`run ${r.id} succeeded with failures`);
    return out;
  });

/** No API key and no whole address of the data in any log line (masked ones look like `u***@…`). */
export const logsClean = (
  lines: readonly string[],
  secrets: readonly string[],
  rawAddresses: Iterable<string>,
): string[] => {
  const addresses = new Set([...rawAddresses].map((a) => a.toLowerCase()));
  const out: string[] = [];
  for (const line of lines) {
    if (secrets.some((k) => line.includes(k))) out.push(`API key in a log line: ${line.slice(0, 120)}`);
    for (let at = line.indexOf('@'); at !== -1; at = line.indexOf('@', at + 1)) {
      let start = at;
      while (start > 0 && /[A-Za-z0-9._%+-]/.test(line[start - 1] ?? '')) start--;
      let end = at + 1;
      while (end < line.length && /[A-Za-z0-9.-]/.test(line[end] ?? '')) end++;
      const candidate = line.slice(start, end).toLowerCase();
      if (start < at && addresses.has(candidate)) out.push(`raw email in a log line: ${line.slice(0, 120)}`);
    }
  }
  return out.slice(0, 3);
};
