import { describe, expect, it } from 'vitest';
import {
  canCancel,
  durationText,
  type ExportView,
  etaText,
  progressOf,
  type Run,
  reasonText,
  skipped,
} from '../../console/components/run-format.ts';
import type { Session } from '../../console/session.ts';

const run = (over: Partial<Run> = {}, progress: Partial<Run['progress']> = {}): Run => ({
  id: 'run-1',
  exportId: 'exp-1',
  trigger: 'on-demand',
  status: 'sending',
  reason: null,
  requestedBy: 'dev-contributor',
  createdAt: '2026-12-03T14:00:00.000Z',
  finishedAt: null,
  durationMs: null,
  progress: {
    unit: 'memberships',
    batchesDone: 0,
    batchesTotal: null,
    percent: null,
    accepted: 0,
    failed: 0,
    dropped: 0,
    failedByReason: {},
    requests: {},
    throttled: 0,
    ...progress,
  },
  eta: null,
  estimate: null,
  planning: null,
  dryRun: null,
  errorSamples: [],
  ...over,
});

const NOW = Date.parse('2026-12-03T14:00:00.000Z');
const at = (ms: number) => new Date(NOW + ms).toISOString();

describe('console run text: ETA', () => {
  it('rounds up to whole seconds, then minutes, so it never promises sooner than the API', () => {
    expect(etaText(at(1_000), NOW)).toBe('about 1 second left');
    expect(etaText(at(44_200), NOW)).toBe('about 45 seconds left');
    expect(etaText(at(60_000), NOW)).toBe('about 1 minute left');
    expect(etaText(at(61_000), NOW)).toBe('about 2 minutes left');
    expect(etaText(at(2 * 3_600_000 + 4 * 60_000 + 1), NOW)).toBe('about 2 h 5 min left');
  });

  it('says "finishing now" once the ETA is due, and nothing without a usable one', () => {
    expect(etaText(at(0), NOW)).toBe('finishing now');
    expect(etaText(at(-5_000), NOW)).toBe('finishing now');
    expect(etaText(null, NOW)).toBeUndefined();
    expect(etaText('not a date', NOW)).toBeUndefined();
  });
});

describe('console run text: durations', () => {
  it('uses tenths below 10 s, whole seconds below a minute, then minutes and hours', () => {
    expect(durationText(0)).toBe('0 s');
    expect(durationText(420)).toBe('0.4 s');
    expect(durationText(9_940)).toBe('9.9 s');
    expect(durationText(12_400)).toBe('12 s');
    expect(durationText(185_000)).toBe('3 min 5 s');
    expect(durationText(180_000)).toBe('3 min');
    expect(durationText(7_500_000)).toBe('2 h 5 min');
    expect(durationText(-1)).toBe('unknown');
  });
});

describe('console run text: progress', () => {
  it('has no bar value while planning, and says what planning does', () => {
    const p = progressOf(run({ status: 'planning' }));
    expect(p.value).toBeUndefined();
    expect(p.text).toContain('Planning');
  });

  it('gives the percent with the batches it comes from, bounded to 0–100', () => {
    expect(progressOf(run({}, { percent: 42, batchesDone: 21, batchesTotal: 50 }))).toEqual({
      value: 42,
      text: '42% (21 of 50 batches)',
    });
    expect(progressOf(run({}, { percent: 130, batchesDone: 1, batchesTotal: 1 })).value).toBe(100);
  });

  it('counts skipped profiles as invalid by every reason plus those over the cap, unknown before planning', () => {
    expect(skipped(run())).toBeNull();
    const planning = {
      segments: [],
      profilesRead: 10,
      distinct: 9,
      invalid: { missing_at: 2, invalid_domain: 1 },
      fieldIssues: {},
      merged: 1,
      overCapProfiles: 4,
      heldBack: 0,
      added: 0,
      changed: 0,
      unchanged: 0,
      left: 0,
      joins: [],
      leaves: [],
    };
    expect(skipped(run({ planning }))).toBe(7);
  });

  it('puts known reasons in words and keeps an unknown one readable', () => {
    expect(reasonText('missing_at')).toBe('email has no @');
    expect(reasonText('rejected_by_autopilot')).toBe('rejected by autopilot');
  });
});

describe('console run permissions: who sees Cancel', () => {
  const exp = (canRun: boolean) => ({ permissions: { canEdit: canRun, canRun } }) as ExportView;
  const as = (role: Session['role']): Session => ({ token: 't', id: `dev-${role}`, role });

  it('offers Cancel on an active run to admins, and to contributors only where the export lets them run it', () => {
    expect(canCancel(as('admin'), undefined, run())).toBe(true);
    expect(canCancel(as('contributor'), exp(true), run())).toBe(true);
    expect(canCancel(as('contributor'), exp(false), run())).toBe(false);
    expect(canCancel(as('contributor'), undefined, run())).toBe(false);
  });

  it('never offers it to viewers, nor on a run that has ended', () => {
    expect(canCancel(as('viewer'), exp(true), run())).toBe(false);
    expect(canCancel(as('admin'), exp(true), run({ status: 'succeeded' }))).toBe(false);
    expect(canCancel(as('contributor'), exp(true), run({ status: 'planning' }))).toBe(true);
  });
});
