import { Duration, RemovalPolicy, Stack, TimeZone } from 'aws-cdk-lib';
import { Alarm, ComparisonOperator, type IAlarmAction, TreatMissingData } from 'aws-cdk-lib/aws-cloudwatch';
import { Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { Schedule, ScheduleExpression, ScheduleGroup, ScheduleTargetInput } from 'aws-cdk-lib/aws-scheduler';
import { LambdaInvoke } from 'aws-cdk-lib/aws-scheduler-targets';
import { Construct } from 'constructs';

export interface RefreshScheduleProps {
  /** The function running the planner's `scheduledRefresh` handler. */
  refresh: IFunction;
  /** EventBridge Scheduler cron fields, e.g. `0 2 * * ? *`. */
  cron: string;
  /** IANA time zone the cron is read in. */
  timeZone: string;
  alarmAction: IAlarmAction;
}

/** The fixed input of the planner's `scheduledRefresh` handler: "start every scheduled export". */
export const SCHEDULED_REFRESH_INPUT = { kind: 'scheduled-refresh' } as const;

/**
 * The scheduled refresh: one EventBridge Scheduler schedule (cron in a time zone, so 02:00 stays
 * 02:00 across daylight saving) invoking the refresh function, in its own schedule group so its
 * metrics are ours alone. The schedule's role may invoke that function and nothing else.
 */
export class RefreshSchedule extends Construct {
  readonly schedule: Schedule;
  readonly group: ScheduleGroup;
  /** Assumable by EventBridge Scheduler for this account's schedule group only; invokes the refresh function only. */
  readonly role: Role;
  readonly droppedAlarm: Alarm;

  constructor(scope: Construct, id: string, props: RefreshScheduleProps) {
    super(scope, id);
    this.group = new ScheduleGroup(this, 'Group', { removalPolicy: RemovalPolicy.DESTROY });
    this.role = new Role(this, 'Role', {
      description: 'EventBridge Scheduler: invoke the autopilot-export scheduled refresh',
      assumedBy: new ServicePrincipal('scheduler.amazonaws.com', {
        conditions: {
          StringEquals: {
            'aws:SourceAccount': Stack.of(this).account,
            'aws:SourceArn': this.group.scheduleGroupArn,
          },
        },
      }),
    });
    this.schedule = new Schedule(this, 'Schedule', {
      description: 'autopilot-export scheduled refresh: starts a run of every export with scheduled = true',
      scheduleGroup: this.group,
      schedule: ScheduleExpression.expression(`cron(${props.cron})`, TimeZone.of(props.timeZone)),
      target: new LambdaInvoke(props.refresh, {
        role: this.role,
        input: ScheduleTargetInput.fromObject(SCHEDULED_REFRESH_INPUT),
        // Delivery retries only; a repeated refresh skips every export whose run is still active.
        retryAttempts: 3,
        maxEventAge: Duration.hours(1),
      }),
    });
    this.droppedAlarm = new Alarm(this, 'DroppedAlarm', {
      alarmDescription:
        'EventBridge Scheduler could not invoke the scheduled refresh (retries exhausted); the refresh did not start.',
      metric: this.group.metricDropped({ period: Duration.minutes(5), statistic: 'Sum' }),
      threshold: 0,
      comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: TreatMissingData.NOT_BREACHING,
    });
    this.droppedAlarm.addAlarmAction(props.alarmAction);
    // Told when it clears too, so a recovery is said as plainly as the failure.
    this.droppedAlarm.addOkAction(props.alarmAction);
  }
}
