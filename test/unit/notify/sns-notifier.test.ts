import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import { SnsNotifier } from '#lib/adapters/notify/sns-notifier.ts';
import type { HealthChange } from '#lib/ports/notifier.ts';
import { aRun } from '#test/fixtures/state-records.ts';

const sns = mockClient(SNSClient);
afterEach(() => sns.reset());

const heldRun = aRun({
  id: 'run-9',
  status: 'awaiting_approval',
  hold: {
    targets: [{ segmentId: 'seg-a', target: 'Newsletter', members: 1000, removals: 1000, exceeds: true }],
    at: '2026-12-03T06:00:00.000Z',
    firstBatch: 3,
    removals: 1000,
  },
});

const heldChange: HealthChange = {
  exportId: 'exp-1',
  exportName: 'Weekly',
  from: 'healthy',
  to: 'held',
  failingRuns: 0,
  run: heldRun,
};

describe('the SNS topic hears of a hold once', () => {
  it('the change of health to held carries the numbers and what an admin can do; the hold itself publishes nothing more', async () => {
    sns.on(PublishCommand).resolves({});
    const notifier = new SnsNotifier({ client: new SNSClient({}), topicArn: 'arn:aws:sns:eu-west-1:1:t' });

    await notifier.runHeld();
    await notifier.healthChanged(heldChange);

    const published = sns.commandCalls(PublishCommand);
    expect(published).toHaveLength(1);
    const message = published[0]?.args[0].input.Message ?? '';
    expect(message).toContain('a run is held for approval');
    expect(message).toContain('Newsletter: 1000 of 1000 members would be removed (over the threshold)');
    expect(message).toContain('POST /runs/run-9/approve');
  });
});
