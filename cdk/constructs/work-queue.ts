import { Duration } from 'aws-cdk-lib';
import type { Alarm, IAlarmAction } from 'aws-cdk-lib/aws-cloudwatch';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { deadLetterQueueWithAlarm } from './dead-letter.ts';

export interface WorkQueueProps {
  /** Human name used in descriptions and the alarm ("plan", "send"). */
  purpose: string;
  /** The consuming Lambda's timeout; the visibility timeout is six times it (AWS guidance). */
  consumerTimeout: Duration;
  /** Receives beyond this move a message to the DLQ. */
  maxReceiveCount?: number;
  /**
   * A FIFO queue (and DLQ): senders give every message its group and deduplication id, so
   * content-based deduplication stays off.
   */
  fifo?: boolean;
  alarmAction: IAlarmAction;
}

export const MAX_RECEIVE_COUNT = 5;

/**
 * A work queue with its dead-letter queue and an alarm on the DLQ's depth. Both queues use
 * SQS-managed encryption (SSE-SQS) and refuse non-TLS requests.
 */
export class WorkQueue extends Construct {
  readonly queue: Queue;
  readonly deadLetterQueue: Queue;
  readonly deadLetterAlarm: Alarm;

  constructor(scope: Construct, id: string, props: WorkQueueProps) {
    super(scope, id);
    const dead = deadLetterQueueWithAlarm(
      this,
      `Messages in the ${props.purpose} dead-letter queue. Inspect them, fix the cause, then re-drive (docs/deploy.md).`,
      props.alarmAction,
      { fifo: props.fifo === true },
    );
    this.deadLetterQueue = dead.queue;
    this.deadLetterAlarm = dead.alarm;
    this.queue = new Queue(this, 'Queue', {
      ...(props.fifo === true ? { fifo: true, contentBasedDeduplication: false } : {}),
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(4),
      visibilityTimeout: Duration.seconds(props.consumerTimeout.toSeconds() * 6),
      deadLetterQueue: {
        queue: this.deadLetterQueue,
        maxReceiveCount: props.maxReceiveCount ?? MAX_RECEIVE_COUNT,
      },
    });
  }
}
