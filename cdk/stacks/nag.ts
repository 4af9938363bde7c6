import { Validations } from 'aws-cdk-lib';
import type { CfnFunction } from 'aws-cdk-lib/aws-lambda';
import type { IConstruct } from 'constructs';
import { SECRET_PREFIX } from '../config.ts';
import type { StatefulStack } from './stateful-stack.ts';
import type { StatelessStack } from './stateless-stack.ts';

/** One accepted cdk-nag finding: where, which, and why. */
export interface NagAcknowledgement {
  scope: IConstruct;
  /** The finding as cdk-nag names it (`AwsSolutions-IAM5[Resource::…]`). */
  finding: string;
  reason: string;
}

const REASONS = {
  tableIndexes:
    "CDK's table grant adds '<table ARN>/index/*' so queries on the table's own GSIs are allowed; it covers this one table's indexes (the state table has gsi1 only).",
  secretPrefix:
    'One secret per connection, created at runtime by the API and named autopilot-export/connections/<connectionId>; the ARN ends in a random suffix, so the prefix wildcard is the narrowest possible scope.',
  topicKey:
    "Publishing to an SSE-KMS topic needs kms:GenerateDataKey* and kms:Decrypt (AWS SNS docs); CDK's topic grant scopes them to the topic's own key.",
  refreshVersions:
    "CDK's grantInvoke adds '<refresh function ARN>:*' (its versions and aliases); the schedule's role can still invoke nothing but the scheduled refresh.",
  watchdogVersions:
    "CDK's grantInvoke adds '<watchdog ARN>:*' (its versions and aliases); the watchdog schedule's role can still invoke nothing but the watchdog.",
  publicOpenApi:
    'GET /openapi.json serves the public API description so clients can discover the API before signing in; it returns no data and every other route requires a JWT.',
} as const;

/**
 * The findings this design accepts, each on the narrowest construct and with its reason. Finding
 * ids are derived from the same values the stack uses, so a change to a scope shows up as a new,
 * unacknowledged finding instead of being silently covered.
 */
export const nagAcknowledgements = (stacks: {
  stateful: StatefulStack;
  stateless: StatelessStack;
}): NagAcknowledgement[] => {
  const { stateful, stateless } = stacks;
  const iam5 = (what: string): string => `AwsSolutions-IAM5[${what}]`;
  const secretArn = `arn:<AWS::Partition>:secretsmanager:<AWS::Region>:<AWS::AccountId>:secret:${SECRET_PREFIX}*`;
  const refreshId = stateless.getLogicalId(stateless.refresh.fn.node.defaultChild as CfnFunction);
  const watchdogId = stateless.getLogicalId(stateless.watchdog.fn.node.defaultChild as CfnFunction);
  const functions = [
    stateless.planner,
    stateless.refresh,
    stateless.sender,
    stateless.api,
    stateless.watchdog,
  ];
  const readsSegments = [stateless.planner, stateless.refresh, stateless.api];

  return [
    ...functions.map((f) => ({
      scope: f.role,
      finding: iam5(`Resource::${stateful.stateTable.exportName}/index/*`),
      reason: REASONS.tableIndexes,
    })),
    ...[stateless.planner, stateless.sender, stateless.api].map((f) => ({
      scope: f.role,
      finding: iam5(`Resource::${secretArn}`),
      reason: REASONS.secretPrefix,
    })),
    ...[stateless.planner, stateless.sender, stateless.watchdog].map((f) => ({
      scope: f.role,
      finding: iam5('Action::kms:GenerateDataKey*'),
      reason: REASONS.topicKey,
    })),
    ...(stateful.segmentTable.indexes.length > 0
      ? readsSegments.map((f) => ({
          scope: f.role,
          finding: iam5(`Resource::${stateful.segmentTable.exportName}/index/*`),
          reason: REASONS.tableIndexes,
        }))
      : []),
    {
      scope: stateless.schedule.role,
      finding: iam5(`Resource::<${refreshId}.Arn>:*`),
      reason: REASONS.refreshVersions,
    },
    {
      scope: stateless.watchdogSchedule.role,
      finding: iam5(`Resource::<${watchdogId}.Arn>:*`),
      reason: REASONS.watchdogVersions,
    },
    {
      scope: stateless.httpApi.route('GET', '/openapi.json'),
      finding: 'AwsSolutions-APIG4',
      reason: REASONS.publicOpenApi,
    },
  ];
};

/** Records every acknowledgement with CDK's native mechanism (cdk-nag 3). */
export const acknowledgeNagFindings = (stacks: {
  stateful: StatefulStack;
  stateless: StatelessStack;
}): void => {
  for (const a of nagAcknowledgements(stacks)) {
    Validations.of(a.scope).acknowledge({ id: `AwsSolutions::${a.finding}`, reason: a.reason });
  }
};
