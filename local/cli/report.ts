import { autopilotCosts } from '#lib/adapters/autopilot/cost-model.ts';
import type { RunRecord } from '#lib/domain/run-record.ts';
import { checksPass, type SegmentCheck } from '../verify.ts';

/** The destination a run exported into, as the summary names it and prices its time. */
export interface DestinationLabel {
  name: string;
  documentedRate: number;
}

const AUTOPILOT: DestinationLabel = {
  name: 'Autopilot',
  documentedRate: autopilotCosts.documentedRatePerSecond,
};

const n = (v: number): string => v.toLocaleString('en-US');

export const duration = (ms: number): string => {
  const s = Math.round(ms / 1000);
  if (s < 60) return `${(ms / 1000).toFixed(1)} s`;
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const rest = s % 60;
  return h > 0 ? `${h} h ${m} min` : `${m} min ${rest} s`;
};

const list = (counts: Record<string, number>, label: (k: string) => string = (k) => k): string =>
  Object.entries(counts)
    .sort((a, b) => b[1] - a[1])
    .map(([k, v]) => `${label(k)} ${n(v)}`)
    .join(' · ');

const REQUEST_LABELS: Record<string, string> = {
  bulkUpsert: 'bulk upsert',
  bulkUpsertWithList: 'bulk upsert + list',
  upsertWithList: 'upsert + list',
  listRemove: 'list removal',
  membershipCheck: 'membership check',
  listLists: 'list lookup',
  createList: 'list creation',
};

/** A progress line for a terminal (rewritten in place) or a log (one line every few seconds). */
export const progressLine = (run: RunRecord, startedAt: number): string => {
  const elapsed = duration(Date.now() - startedAt);
  if (run.status === 'planning' && run.batchesTotal === undefined) {
    return `  planning… ${elapsed}`;
  }
  const total = run.batchesTotal ?? 0;
  const done = run.progress.batchesDone;
  const share = total === 0 ? 1 : done / total;
  const width = 30;
  const bar = '█'.repeat(Math.round(share * width)).padEnd(width, '░');
  const requests = Object.values(run.progress.requests).reduce((a, b) => a + b, 0);
  return `  ${bar} ${(share * 100).toFixed(0).padStart(3)}%  batches ${n(done)}/${n(total)} · requests ${n(requests)} · 429s ${n(run.progress.throttled)} · ${elapsed}`;
};

/** The summary of one run, for a marketer (what happened) and an engineer (how). */
export const summarise = (run: RunRecord, title: string, destination = AUTOPILOT): string => {
  const lines: string[] = [];
  const took = run.durationMs ?? 0;
  lines.push(`${title} — ${run.status.replaceAll('_', ' ')} in ${duration(took)}  (run ${run.id})`);
  if (run.reason) lines.push(`  Reason               ${run.reason}`);
  const p = run.planning;
  if (p) {
    const segments = p.segments.map((s) => `${s.name} ${n(s.profiles)}`).join(' · ');
    lines.push(`  Profiles read        ${n(p.profilesRead)}  (${segments})`);
    const invalidTotal = Object.values(p.invalid).reduce((a, b) => a + b, 0);
    lines.push(
      `  Contacts             ${n(p.distinct)} distinct · ${n(invalidTotal)} skipped (invalid email) · ${n(p.merged)} duplicates merged`,
    );
    if (invalidTotal > 0)
      lines.push(`    skipped because    ${list(p.invalid, (k) => k.replace(/^email_/, ''))}`);
    if (p.overCapProfiles > 0)
      lines.push(`    over the cap       ${n(p.overCapProfiles)} profiles not exported`);
    const fieldIssues = Object.values(p.fieldIssues).reduce((a, b) => a + b, 0);
    if (fieldIssues > 0) lines.push(`  Values dropped       ${list(p.fieldIssues)}`);
    lines.push(
      `  Changes              ${n(p.added)} new · ${n(p.changed)} changed · ${n(p.unchanged)} unchanged · ${n(p.left)} left every segment`,
    );
    const joins = p.joins.reduce((a, b) => a + b, 0);
    const leaves = p.leaves.reduce((a, b) => a + b, 0);
    lines.push(`  Memberships          ${n(joins)} joined · ${n(leaves)} left`);
  }
  const pr = run.progress;
  lines.push(
    `  Delivered            ${n(pr.accepted)} contact operations · ${n(pr.failed)} failed · ${n(pr.dropped)} not sent`,
  );
  if (pr.failed > 0) lines.push(`    failed because     ${list(pr.failedByReason)}`);
  const requests = Object.values(pr.requests).reduce((a, b) => a + b, 0);
  lines.push(
    requests === 0
      ? '  Requests             none recorded'
      : `  Requests             ${n(requests)}  (${list(pr.requests, (k) => REQUEST_LABELS[k] ?? k)}) · ${n(pr.throttled)} answered 429 (${((pr.throttled / requests) * 100).toFixed(2)}%)`,
  );
  if (run.estimate && !run.estimate.upperBound) {
    const e = run.estimate;
    lines.push(
      `  Estimate             ${n(e.totalRequests)} requests planned · floor ${n(e.floorRequests)} · budget ${e.ratePerSecond}/s`,
    );
    const sendMs = took > 0 && run.planningFinishedAt ? took : 0;
    if (sendMs > 0 && requests > 0) {
      lines.push(
        `  Achieved rate        ${(requests / (sendMs / 1000)).toFixed(1)} requests/s over the whole run`,
      );
    }
    lines.push(
      `  At ${destination.name}'s documented ${destination.documentedRate} requests/s this run would take ${duration((requests / destination.documentedRate) * 1000)}.`,
    );
  }
  return lines.join('\n');
};

/** The stand-in's fault counts in a line: "reset after 3 (3 took effect) · error 503 before 12". */
export const faultSummary = (counts: Record<string, { injected: number; applied: number }>): string => {
  const entries = Object.entries(counts).sort((a, b) => b[1].injected - a[1].injected);
  if (entries.length === 0) return 'none struck';
  return entries
    .map(([name, c]) => `${name} ${n(c.injected)}${c.applied > 0 ? ` (${n(c.applied)} took effect)` : ''}`)
    .join(' · ');
};

const TARGET_WORDS = { list: 'list', field: 'membership field', tag: 'segment tag' } as const;

/** The closing line of `npm start`: does every list (field, tag) in the destination equal its segment? */
export const verificationLine = (
  checks: readonly SegmentCheck[],
  mode: 'list' | 'field' | 'tag',
  reads: { total: number; throttled: number },
  destination = AUTOPILOT,
): string => {
  const ok = checksPass(checks);
  const what = TARGET_WORDS[mode];
  const verdict = ok
    ? `every ${destination.name} ${what} equals its segment`
    : `${destination.name} ${what}s differ from their segments`;
  const detail = checks
    .map(
      (c) =>
        `${c.segment}: ${n(c.actual)}/${n(c.expected)}${c.missing || c.extra ? ` (${c.missing} missing, ${c.extra} extra)` : ''}${c.duplicates ? ` (and ${c.duplicates} more list${c.duplicates > 1 ? 's' : ''} titled like it)` : ''}`,
    )
    .join(' · ');
  return `${ok ? '✔' : '✘'} Verification: ${verdict} — ${detail}  (read back in ${n(reads.total)} requests, ${n(reads.throttled)} answered 429)`;
};
