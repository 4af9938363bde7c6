import { Duration } from 'aws-cdk-lib';
import { Alarm, ComparisonOperator, type IAlarmAction, TreatMissingData } from 'aws-cdk-lib/aws-cloudwatch';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';

/**
 * A dead-letter queue (SSE-SQS, TLS only, 14 days: longer than any source queue's retention, as a
 * message keeps its original enqueue time when it moves) and an alarm the moment anything lands in
 * it, told to `alarmAction` on ALARM and on OK. Made in `scope` as `DeadLetterQueue` and
 * `DeadLetterAlarm`. A FIFO queue's DLQ must be FIFO too (`fifo`).
 */
export const deadLetterQueueWithAlarm = (
  scope: Construct,
  alarmDescription: string,
  alarmAction: IAlarmAction,
  options: { fifo?: boolean } = {},
): { queue: Queue; alarm: Alarm } => {
  const queue = new Queue(scope, 'DeadLetterQueue', {
    ...(options.fifo === true ? { fifo: true } : {}),
    encryption: QueueEncryption.SQS_MANAGED,
    enforceSSL: true,
    retentionPeriod: Duration.days(14),
  });
  const alarm = new Alarm(scope, 'DeadLetterAlarm', {
    alarmDescription,
    metric: queue.metricApproximateNumberOfMessagesVisible({
      period: Duration.minutes(1),
      statistic: 'Maximum',
    }),
    threshold: 0,
    comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
    evaluationPeriods: 1,
    treatMissingData: TreatMissingData.NOT_BREACHING,
  });
  alarm.addAlarmAction(alarmAction);
  // Told when it clears too, so a recovery is said as plainly as the failure.
  alarm.addOkAction(alarmAction);
  return { queue, alarm };
};
