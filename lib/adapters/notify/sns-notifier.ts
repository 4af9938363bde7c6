import { PublishCommand, type SNSClient } from '@aws-sdk/client-sns';
import type { RunRecord } from '#lib/domain/run-record.ts';
import type { HealthChange, Notifier, RejectedRefresh } from '#lib/ports/notifier.ts';
import { describeHealthChange } from './health-message.ts';

/** SNS subjects are ASCII, at most 100 characters. */
const subjectOf = (text: string): string => text.replace(/[^\x20-\x7e]/g, '').slice(0, 100);

/** A short, email-free summary a marketer can act on. */
export const describeHealth = (
  change: HealthChange,
  consoleUrl?: string,
): { subject: string; text: string } => {
  const { headline, lines } = describeHealthChange(change, consoleUrl);
  return { subject: subjectOf(`autopilot-export: ${headline}`), text: [`${headline}.`, ...lines].join('\n') };
};

/** A held run's numbers per target and what an admin can do; never an email. */
export const describeHold = (run: RunRecord): { subject: string; text: string } => {
  const targets = (run.hold?.targets ?? []).map(
    (t) =>
      `  ${t.target}: ${t.removals} of ${t.members} members would be removed${t.exceeds ? ' (over the threshold)' : ''}`,
  );
  return {
    subject: subjectOf(`autopilot-export: run awaiting approval (${run.exportId})`),
    text: [
      `Run ${run.id} of export ${run.exportId} is held: its removals exceed the export's removal guardrail.`,
      `Removals held: ${run.hold?.removals ?? 0}. Nothing has been removed; joins and updates were sent.`,
      ...targets,
      `An admin approves (POST /runs/${run.id}/approve) or rejects (POST /runs/${run.id}/reject) the removals.`,
    ].join('\n'),
  };
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

/** Publishes export health changes, and rejected refreshes, to the stack's notification topic. */
export class SnsNotifier implements Notifier {
  constructor(private readonly options: { client: SNSClient; topicArn: string; consoleUrl?: string }) {}

  async healthChanged(change: HealthChange): Promise<void> {
    const health = describeHealth(change, this.options.consoleUrl);
    const subject = health.subject;
    // A hold is told once: the health change carries the plan's numbers and what an admin can do.
    const text =
      change.to === 'held' && change.run.hold !== undefined
        ? `${health.text}\n${describeHold(change.run).text}`
        : health.text;
    await this.options.client.send(
      new PublishCommand({
        TopicArn: this.options.topicArn,
        Subject: subject,
        Message: text,
        MessageAttributes: {
          status: { DataType: 'String', StringValue: change.to },
          exportId: { DataType: 'String', StringValue: change.exportId },
        },
      }),
    );
  }

  /** Told with the export's change of health to `held` (above), so the topic hears of a hold once. */
  async runHeld(): Promise<void> {}

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
