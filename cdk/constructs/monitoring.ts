import { Duration } from 'aws-cdk-lib';
import type { IHttpApi } from 'aws-cdk-lib/aws-apigatewayv2';
import {
  Alarm,
  AlarmStatusWidget,
  ComparisonOperator,
  Dashboard,
  GraphWidget,
  type IAlarm,
  type IAlarmAction,
  type IMetric,
  Metric,
  TreatMissingData,
} from 'aws-cdk-lib/aws-cloudwatch';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { METRICS_NAMESPACE, SERVICE_NAME } from '../config.ts';
import type { WorkQueue } from './work-queue.ts';

/** A run-level EMF counter: Powertools Metrics adds the default dimension `service`. */
export const runMetric = (name: string, period: Duration = Duration.minutes(5)): Metric =>
  new Metric({
    namespace: METRICS_NAMESPACE,
    metricName: name,
    dimensionsMap: { service: SERVICE_NAME },
    statistic: 'Sum',
    period,
  });

/** 429s from Autopilot per 5 minutes that mean the rate budget is set above what the account gets. */
export const DESTINATION_THROTTLED_THRESHOLD = 50;

export interface MonitoringProps {
  dashboardName: string;
  /** Every function by its short name (alarm ids and labels are derived from it). */
  functions: Record<string, IFunction>;
  queues: { plan: WorkQueue; send: WorkQueue };
  /** Other queues whose depth the dashboard shows (the refresh arrival's dead-letter queue). */
  moreQueues?: ReadonlyArray<readonly [string, IQueue]>;
  httpApi: IHttpApi;
  /** Alarms created elsewhere (DLQ depth, schedule, API) shown on the dashboard. */
  otherAlarms: IAlarm[];
  alarmAction: IAlarmAction;
}

/**
 * Alarms (failed and partially failed runs, destination throttling, Lambda errors and throttles)
 * to the notification topic, and one dashboard an operator opens first.
 */
export class Monitoring extends Construct {
  readonly dashboard: Dashboard;
  readonly alarms: Alarm[] = [];

  constructor(scope: Construct, id: string, props: MonitoringProps) {
    super(scope, id);
    const alarm = (alarmId: string, description: string, metric: IMetric, threshold: number): void => {
      const a = new Alarm(this, alarmId, {
        alarmDescription: description,
        metric,
        threshold,
        comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        evaluationPeriods: 1,
        treatMissingData: TreatMissingData.NOT_BREACHING,
      });
      a.addAlarmAction(props.alarmAction);
      // The topic also hears the alarm clear, so a recovery is said as plainly as the failure.
      a.addOkAction(props.alarmAction);
      this.alarms.push(a);
    };

    alarm(
      'RunsFailedAlarm',
      'An export run failed (GET /runs/{id} has the reason).',
      runMetric('RunsFailed'),
      1,
    );
    alarm(
      'RunsCompletedWithErrorsAlarm',
      'An export run finished with contacts that Autopilot rejected (GET /runs/{id} has the error samples).',
      runMetric('RunsCompletedWithErrors'),
      1,
    );
    alarm(
      'DestinationThrottledAlarm',
      `Autopilot answered 429 at least ${DESTINATION_THROTTLED_THRESHOLD} times in 5 minutes: lower the connection's rate budget.`,
      runMetric('DestinationThrottled'),
      DESTINATION_THROTTLED_THRESHOLD,
    );
    alarm(
      'WebhookDeliveriesFailedAlarm',
      'A webhook delivery was given up after its retries (the log line "webhook delivery failed" names the export and the status).',
      runMetric('WebhookDeliveriesFailed'),
      1,
    );
    for (const [name, fn] of Object.entries(props.functions)) {
      const title = name[0]?.toUpperCase() + name.slice(1);
      alarm(
        `${title}ErrorsAlarm`,
        `The ${name} function failed (unhandled error or timeout); see its log group.`,
        fn.metricErrors({ period: Duration.minutes(5), statistic: 'Sum' }),
        1,
      );
      alarm(
        `${title}ThrottlesAlarm`,
        `Lambda throttled the ${name} function (account concurrency exhausted?).`,
        fn.metricThrottles({ period: Duration.minutes(5), statistic: 'Sum' }),
        1,
      );
    }

    const fns = Object.entries(props.functions);
    const queues: ReadonlyArray<readonly [string, IQueue]> = [
      ['plan', props.queues.plan.queue],
      ['plan DLQ', props.queues.plan.deadLetterQueue],
      ['send', props.queues.send.queue],
      ['send DLQ', props.queues.send.deadLetterQueue],
      ...(props.moreQueues ?? []),
    ];
    this.dashboard = new Dashboard(this, 'Dashboard', {
      dashboardName: props.dashboardName,
      defaultInterval: Duration.days(1),
    });
    this.dashboard.addWidgets(
      new AlarmStatusWidget({ title: 'Alarms', alarms: [...this.alarms, ...props.otherAlarms], width: 24 }),
    );
    this.dashboard.addWidgets(
      new GraphWidget({
        title: 'Runs by status',
        left: ['RunsSucceeded', 'RunsCompletedWithErrors', 'RunsFailed', 'RunsCancelled', 'RunsSkipped'].map(
          (m) => runMetric(m, Duration.hours(1)),
        ),
        width: 12,
      }),
      new GraphWidget({
        title: 'Contacts',
        left: ['ContactsAccepted', 'ContactsFailed', 'ContactsDropped'].map((m) =>
          runMetric(m, Duration.hours(1)),
        ),
        width: 12,
      }),
    );
    this.dashboard.addWidgets(
      new GraphWidget({
        title: 'Autopilot requests vs throttled (429)',
        left: [runMetric('DestinationRequests', Duration.minutes(1))],
        right: [runMetric('DestinationThrottled', Duration.minutes(1))],
        width: 12,
      }),
      new GraphWidget({
        title: 'Queue depth (visible messages)',
        left: queues.map(([label, q]) =>
          q.metricApproximateNumberOfMessagesVisible({
            label,
            statistic: 'Maximum',
            period: Duration.minutes(1),
          }),
        ),
        right: [
          props.queues.plan.queue.metricApproximateAgeOfOldestMessage({ label: 'plan oldest (s)' }),
          props.queues.send.queue.metricApproximateAgeOfOldestMessage({ label: 'send oldest (s)' }),
        ],
        width: 12,
      }),
    );
    this.dashboard.addWidgets(
      new GraphWidget({
        title: 'Function errors and throttles',
        left: fns.map(([name, fn]) => fn.metricErrors({ label: `${name} errors`, statistic: 'Sum' })),
        right: fns.map(([name, fn]) => fn.metricThrottles({ label: `${name} throttles`, statistic: 'Sum' })),
        width: 8,
      }),
      new GraphWidget({
        title: 'Function duration (p95, ms)',
        left: fns.map(([name, fn]) => fn.metricDuration({ label: name, statistic: 'p95' })),
        width: 8,
      }),
      new GraphWidget({
        title: 'Management API',
        left: [
          props.httpApi.metricCount({ label: 'requests', statistic: 'Sum' }),
          props.httpApi.metricClientError({ label: '4xx', statistic: 'Sum' }),
          props.httpApi.metricServerError({ label: '5xx', statistic: 'Sum' }),
        ],
        right: [props.httpApi.metricLatency({ label: 'latency p95', statistic: 'p95' })],
        width: 8,
      }),
    );
  }
}
