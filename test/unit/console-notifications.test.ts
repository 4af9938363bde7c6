import { describe, expect, it } from 'vitest';
import { ExportConfigSchema } from '#lib/domain/export-config.ts';
import { changedSettings } from '../../console/components/export-diff.ts';
import { emptyForm, formOf, inputOf } from '../../console/components/export-model.ts';
import { type Health, healthText } from '../../console/components/health-text.ts';
import { leaveWebhookSecret, takeWebhookSecret } from '../../console/components/webhook-secret.ts';
import { anExportView } from '../fixtures/console-views.ts';

const view = anExportView;

const HOOK = 'https://hooks.slack.com/services/T000/B000/XXXX';

describe('console export form: webhook URL', () => {
  // A PUT without `notifications` removes the webhook: an edit of anything else must not drop it.
  it('an edit of another setting keeps the webhook the export already has', () => {
    const loaded = view({ notifications: { webhookUrl: HOOK } });
    const form = { ...formOf(loaded), name: 'Renamed' };
    expect(form.webhookUrl).toBe(HOOK);
    expect(inputOf(form, loaded).notifications).toEqual({ webhookUrl: HOOK });
  });

  it('sends the URL trimmed, in a document the export schema accepts', () => {
    const form = {
      ...emptyForm(),
      name: 'New',
      connectionId: 'c',
      segmentIds: ['a'],
      webhookUrl: ` ${HOOK} `,
    };
    const input = inputOf(form, undefined);
    expect(input.notifications).toEqual({ webhookUrl: HOOK });
    expect(ExportConfigSchema.safeParse(input).success).toBe(true);
  });

  it('a cleared field leaves notifications out, which removes the webhook', () => {
    const loaded = view({ notifications: { webhookUrl: HOOK } });
    const input = inputOf({ ...formOf(loaded), webhookUrl: '  ' }, loaded);
    expect('notifications' in input).toBe(false);
  });

  it('a new export starts with no webhook', () => {
    expect(emptyForm().webhookUrl).toBe('');
    expect('notifications' in inputOf({ ...emptyForm(), name: 'N' }, undefined)).toBe(false);
  });

  it('a stale edit names a webhook someone else changed', () => {
    const loaded = view();
    expect(changedSettings(loaded, view({ notifications: { webhookUrl: HOOK } }))).toEqual(['Webhook URL']);
  });
});

describe('console: the webhook secret is handed to the export page once', () => {
  it('is taken once, by the export it belongs to', () => {
    leaveWebhookSecret('exp-1', 'whsec_abc');
    expect(takeWebhookSecret('exp-1')).toBe('whsec_abc');
    expect(takeWebhookSecret('exp-1')).toBeUndefined();
  });

  it('is dropped when another page takes it first, so it never shows up later', () => {
    leaveWebhookSecret('exp-1', 'whsec_abc');
    expect(takeWebhookSecret('exp-2')).toBeUndefined();
    expect(takeWebhookSecret('exp-1')).toBeUndefined();
  });
});

const health = (patch: Partial<Health>): Health => ({
  state: 'healthy',
  since: '2026-03-04T05:06:07.000Z',
  failingRuns: 0,
  runId: 'run-9',
  ...patch,
});

describe('console: export health in words', () => {
  it('says when no run has ended yet', () => {
    expect(healthText(null)).toBe('No finished run yet');
  });

  it('says healthy', () => {
    expect(healthText(health({}))).toBe('Healthy');
  });

  it('says how many runs have been failing, since when and why', () => {
    expect(
      healthText(health({ state: 'failing', failingRuns: 3, reason: '2 contacts refused by Autopilot' })),
    ).toBe('Failing (3 runs, since 2026-03-04 05:06 UTC, 2 contacts refused by Autopilot)');
    expect(healthText(health({ state: 'failing', failingRuns: 1 }))).toBe(
      'Failing (1 run, since 2026-03-04 05:06 UTC)',
    );
  });

  it('cuts a long reason so a list row stays readable', () => {
    const text = healthText(health({ state: 'failing', failingRuns: 2, reason: 'x'.repeat(5_000) }));
    expect(text.length).toBeLessThan(300);
    expect(text).toMatch(/x…\)$/);
  });

  it('says the key was rejected, and since when', () => {
    expect(healthText(health({ state: 'key_rejected', failingRuns: 1 }))).toBe(
      'Key rejected (since 2026-03-04 05:06 UTC)',
    );
  });

  it('says a run is held for approval', () => {
    expect(healthText(health({ state: 'held' }))).toBe('Held for approval');
  });
});
