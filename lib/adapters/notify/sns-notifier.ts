import { PublishCommand, type SNSClient } from '@aws-sdk/client-sns';
import type { RunRecord } from '#lib/domain/run-record.ts';
import type { Notifier, RejectedRefresh } from '#lib/ports/notifier.ts';

/** SNS subjects are ASCII, at most 100 characters. */
const subjectOf = (text: string): string => text.replace(/[^\x20-\x7e]/g, '').slice(0, 100);

/** A short, email-free summary a marketer can act on. */
export const describeRun = (run: RunRecord): { subject: string; text: string } => {
  const status = run.status.replaceAll('_', ' ');
  const p = run.progress;
  const reasons = Object.entries(p.failedByReason)
    .map(([reason, n]) => `  ${reason}: ${n}`)
    .join('\n');
  const text = [
    `Run ${run.id} of export ${run.exportId} ${status}.`,
    run.reason ? `Reason: ${run.reason}` : undefined,
    `Contacts delivered: ${p.accepted}; failed: ${p.failed}; not sent: ${p.dropped}.`,
    reasons ? `Failures by reason:\n${reasons}` : undefined,
    run.durationMs === undefined ? undefined : `Duration: ${Math.round(run.durationMs / 1000)} s.`,
  ]
    .filter((l) => l !== undefined)
    .join('\n');
  return { subject: subjectOf(`autopilot-export: run ${status} (${run.exportId})`), text };
};

/** What was wrong with a refused refresh, and what to do about it. */
export const describeRefresh = (refresh: RejectedRefresh): { subject: string; text: string } => ({
  subject: subjectOf(`autopilot-export: refresh rejected (${refresh.refreshId})`),
  text: [
    `Refresh ${refresh.refreshId} was rejected: no export reads it and no run started.`,
    'Problems:',
    ...refresh.reasons.map((r) => `  ${r}`),
    'Fix the files or the manifest and upload them as a new refresh id; this id stays rejected.',
  ].join('\n'),
});

/** Publishes failed and partially failed runs, and rejected refreshes, to the stack's notification topic. */
export class SnsNotifier implements Notifier {
  constructor(private readonly options: { client: SNSClient; topicArn: string }) {}

  async runFinished(run: RunRecord): Promise<void> {
    const { subject, text } = describeRun(run);
    await this.options.client.send(
      new PublishCommand({
        TopicArn: this.options.topicArn,
        Subject: subject,
        Message: text,
        MessageAttributes: {
          status: { DataType: 'String', StringValue: run.status },
          exportId: { DataType: 'String', StringValue: run.exportId },
        },
      }),
    );
  }

  async refreshRejected(refresh: RejectedRefresh): Promise<void> {
    const { subject, text } = describeRefresh(refresh);
    await this.options.client.send(
      new PublishCommand({
        TopicArn: this.options.topicArn,
        Subject: subject,
        Message: text,
        MessageAttributes: {
          status: { DataType: 'String', StringValue: 'refresh_rejected' },
          refreshId: { DataType: 'String', StringValue: refresh.refreshId },
        },
      }),
    );
  }
}
