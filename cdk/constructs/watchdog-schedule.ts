import { Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import { Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { Schedule, ScheduleExpression, ScheduleGroup } from 'aws-cdk-lib/aws-scheduler';
import { LambdaInvoke } from 'aws-cdk-lib/aws-scheduler-targets';
import { Construct } from 'constructs';

export interface WatchdogScheduleProps {
  watchdog: IFunction;
  /** How often the watchdog looks for runs that stopped moving. */
  every: Duration;
}

/**
 * Invokes the watchdog every few minutes, in its own schedule group, with a role that may invoke the
 * watchdog and nothing else. A missed invocation costs nothing: the next one finds the same runs.
 */
export class WatchdogSchedule extends Construct {
  readonly schedule: Schedule;
  readonly group: ScheduleGroup;
  readonly role: Role;

  constructor(scope: Construct, id: string, props: WatchdogScheduleProps) {
    super(scope, id);
    this.group = new ScheduleGroup(this, 'Group', { removalPolicy: RemovalPolicy.DESTROY });
    this.role = new Role(this, 'Role', {
      description: 'EventBridge Scheduler: invoke the autopilot-export watchdog',
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
      description:
        'autopilot-export watchdog: ends runs with no progress (stalled) so no export stays wedged',
      scheduleGroup: this.group,
      schedule: ScheduleExpression.rate(props.every),
      target: new LambdaInvoke(props.watchdog, {
        role: this.role,
        retryAttempts: 0,
        maxEventAge: Duration.minutes(5),
      }),
    });
  }
}
