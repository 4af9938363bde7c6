import { describe, expect, it } from 'vitest';
import {
  canCancel,
  durationText,
  etaText,
  lastRunCountsText,
  matchingLines,
  progressOf,
  type Run,
  reasonText,
  requestKindText,
  skipped,
} from '../../console/components/run-format.ts';
import { aRunView } from '../fixtures/console-views.ts';

/** A run still sending, nothing counted yet: the shared fixture with what differs from an ended one. */
const run = (over: Partial<Run> = {}, progress: Partial<Run['progress']> = {}): Run =>
  aRunView(
    { status: 'sending', finishedAt: null, durationMs: null, ...over },
    { unit: 'memberships', batchesDone: 0, batchesTotal: null, percent: null, accepted: 0, ...progress },
  );

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

  it('reads the email_ prefix planning gives an email rejection', () => {
    expect(reasonText('email_missing_at')).toBe('email has no @');
    expect(reasonText('email_invalid_domain')).toBe('invalid email domain');
  });

  it('names every request kind a plan counts, in words', () => {
    for (const kind of [
      'listLists',
      'createList',
      'membershipCheck',
      'upsertWithList',
      'bulkUpsertWithList',
    ]) {
      expect(requestKindText(kind)).not.toBe(kind);
    }
  });
});

describe('console run permissions: who sees Cancel', () => {
  const allowed = (canCancel: boolean) => ({ permissions: { canCancel } });

  it('offers Cancel on an active run exactly when the API says the caller may cancel it', () => {
    expect(canCancel(run(allowed(true)))).toBe(true);
    expect(canCancel(run({ status: 'planning', ...allowed(true) }))).toBe(true);
    expect(canCancel(run(allowed(false)))).toBe(false);
  });

  it('never offers it on a run that has ended', () => {
    expect(canCancel(run({ status: 'succeeded', ...allowed(true) }))).toBe(false);
    expect(canCancel(run({ status: 'cancelled', ...allowed(true) }))).toBe(false);
  });
});

describe('console run format: what a list says of a last run', () => {
  it('names the counts in the run’s unit', () => {
    expect(lastRunCountsText({ unit: 'contacts', accepted: 1200, failed: 3, dropped: 0 })).toBe(
      '1,200 contacts delivered, 3 failed, 0 not sent',
    );
    expect(lastRunCountsText({ unit: 'memberships', accepted: 5, failed: 0, dropped: 2 })).toBe(
      '5 list memberships delivered, 0 failed, 2 not sent',
    );
  });

  it('says nothing for a run that ended before exports kept its counts', () => {
    expect(lastRunCountsText(null)).toBe('');
  });
});

describe('console run format: the settings a run used', () => {
  it('lists the data matching as Autopilot field from profile field', () => {
    expect(
      matchingLines({
        email: 'email',
        fields: { FirstName: 'first_name', Company: 'org' },
        custom: [{ name: 'Plan', type: 'string', source: 'plan' }],
        updatedAt: 'updated_at',
      }),
    ).toEqual([
      'Email from email',
      'First name from first_name',
      'Company from org',
      'Plan (custom, string) from plan',
      'Last update read from updated_at',
    ]);
  });

  it('leaves out standard fields the form left empty and a missing last-update attribute', () => {
    expect(matchingLines({ email: 'mail', fields: { LastName: '' }, custom: [] })).toEqual([
      'Email from mail',
    ]);
  });
});
