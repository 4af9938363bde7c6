import { Duration } from 'aws-cdk-lib';
import type { Alarm, IAlarmAction } from 'aws-cdk-lib/aws-cloudwatch';
import { Match, Rule } from 'aws-cdk-lib/aws-events';
import { LambdaFunction } from 'aws-cdk-lib/aws-events-targets';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import type { Queue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { deadLetterQueueWithAlarm } from './dead-letter.ts';
import { REFRESH_PREFIX } from './segment-bucket.ts';

/** The key of a refresh's manifest; its arrival is the refresh (docs/deploy.md#dropping-segments). */
export const MANIFEST_KEY_PATTERN = `${REFRESH_PREFIX}*/manifest.json`;

/**
 * EventBridge's delivery to the function: retries of a failed invocation request (throttled, for
 * instance). A refresh whose event is never delivered is never seen, so delivery keeps trying for
 * hours before the event goes to the dead-letter queue.
 */
export const ARRIVAL_DELIVERY = { retryAttempts: 8, maxEventAge: Duration.hours(6) } as const;
/**
 * Lambda's own retries once the event is queued for the function (EventBridge invokes it
 * asynchronously): an arrival that fails twice more goes to the same dead-letter queue, as the
 * same event. A repeated arrival is harmless: a recorded refresh starts nothing.
 */
export const ARRIVAL_ASYNC = { retryAttempts: 2, maxEventAge: Duration.hours(6) } as const;

export interface RefreshArrivalRuleProps {
  /** The segment bucket; only its manifests' events match. */
  bucketName: string;
  alarmAction: IAlarmAction;
}

/**
 * S3 "Object Created" events for `refreshes/<refreshId>/manifest.json` in the segment bucket, sent
 * to the refresh arrival function; events that cannot be delivered or keep failing land in one
 * dead-letter queue (kept 14 days) with an alarm on its depth. The queue exists before the function
 * (the function's own async dead-letter queue is set when it is created); `deliverTo` adds it.
 */
export class RefreshArrivalRule extends Construct {
  readonly rule: Rule;
  readonly deadLetterQueue: Queue;
  readonly deadLetterAlarm: Alarm;

  constructor(scope: Construct, id: string, props: RefreshArrivalRuleProps) {
    super(scope, id);
    const dead = deadLetterQueueWithAlarm(
      this,
      'A refresh arrival failed or could not be delivered: its exports did not start. Inspect the dead-letter queue, fix the cause, then replay (docs/deploy.md).',
      props.alarmAction,
    );
    this.deadLetterQueue = dead.queue;
    this.deadLetterAlarm = dead.alarm;
    this.rule = new Rule(this, 'Rule', {
      description: 'autopilot-export: a refresh manifest arrived in the segment bucket',
      eventPattern: {
        source: ['aws.s3'],
        detailType: ['Object Created'],
        detail: {
          bucket: { name: [props.bucketName] },
          object: { key: Match.wildcard(MANIFEST_KEY_PATTERN) },
        },
      },
    });
  }

  /** Sends matching events to the arrival function (created with `deadLetterQueue` as its async DLQ). */
  deliverTo(arrival: IFunction): void {
    this.rule.addTarget(
      new LambdaFunction(arrival, { deadLetterQueue: this.deadLetterQueue, ...ARRIVAL_DELIVERY }),
    );
  }
}
