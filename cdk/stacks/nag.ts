import { Validations } from 'aws-cdk-lib';
import type { CfnFunction } from 'aws-cdk-lib/aws-lambda';
import type { CfnBucket } from 'aws-cdk-lib/aws-s3';
import type { IConstruct } from 'constructs';
import { SECRET_PREFIX } from '../config.ts';
import { CHECKPOINT_PREFIX, REFRESH_PREFIX } from '../constructs/segment-bucket.ts';
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
    'One secret per connection (and per export webhook), created at runtime by the API and named autopilot-export/connections/<connectionId> (webhooks/<exportId> under it); the ARN ends in a random suffix, so the prefix wildcard is the narrowest possible scope.',
  topicKey:
    "Publishing to an SSE-KMS topic needs kms:GenerateDataKey* and kms:Decrypt (AWS SNS docs); CDK's topic grant scopes them to the topic's own key.",
  refreshVersions:
    "CDK's grantInvoke adds '<refresh function ARN>:*' (its versions and aliases); the schedule's role can still invoke nothing but the scheduled refresh.",
  watchdogVersions:
    "CDK's grantInvoke adds '<watchdog ARN>:*' (its versions and aliases); the watchdog schedule's role can still invoke nothing but the watchdog.",
  consoleFiles:
    "The console deployment syncs the built console into its own bucket, adding and removing whatever files the build has: '<files bucket>/*' is that bucket's objects and nothing else.",
  deploymentRuntime:
    "CDK's BucketDeployment handler is CDK's own Python function; aws-cdk-lib pins its runtime and offers no option to choose another. It runs only during deploys.",
  geoRestriction:
    'The console and API serve operators wherever they work; every API path requires a signed-in JWT and the API stage is throttled, so a country block adds no protection worth its false refusals.',
  noWaf:
    'No web ACL is configured (set consoleWebAclArn to attach one): the site is static files, and every API path requires a JWT and is throttled at the API stage.',
  defaultCertificate:
    'No custom domain is configured (set consoleDomainName and consoleCertificateArn for TLSv1.2_2021): with the default *.cloudfront.net certificate CloudFront fixes the security policy at TLSv1, which browsers negotiate up to TLS 1.3.',
  refreshObjects:
    'Refresh folders are named by the upstream platform when it drops them (refreshes/<refreshId>/), so no deploy-time ARN can name one; the wildcard allows s3:GetObject alone, on objects under refreshes/ only.',
  checkpointObjects:
    "Each run's checkpoint is its own object (state/checkpoints/<runId>.json.gz, and a large one's body beside it, <runId>.<random>.body.gz), named when the run starts, so no deploy-time ARN can name one; the wildcard allows the planner s3:GetObject, s3:PutObject, s3:DeleteObject and s3:AbortMultipartUpload under state/checkpoints/ only.",
  uploadPrefix:
    'The upstream platform creates each refresh folder (refreshes/<refreshId>/) as it uploads; the upload policy may only write and abort uploads under refreshes/, never read or delete.',
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
  const arrival = stateless.arrival ? [stateless.arrival] : [];
  const functions = [
    stateless.planner,
    stateless.refresh,
    stateless.sender,
    stateless.api,
    stateless.watchdog,
    ...arrival,
  ];
  const readsSegments = [stateless.planner, stateless.refresh, stateless.api];
  // From S3 refreshes the refresh function only sizes segments, from the refresh ledger.
  const readsRefreshes = [stateless.planner, stateless.api, ...arrival];
  const segmentBucketId = stateful.getLogicalId(stateful.segments.bucket.node.defaultChild as CfnBucket);

  return [
    ...functions.map((f) => ({
      scope: f.role,
      finding: iam5(`Resource::${stateful.stateTable.exportName}/index/*`),
      reason: REASONS.tableIndexes,
    })),
    ...[stateless.planner, stateless.sender, stateless.api, stateless.watchdog].map((f) => ({
      scope: f.role,
      finding: iam5(`Resource::${secretArn}`),
      reason: REASONS.secretPrefix,
    })),
    ...[stateless.planner, stateless.sender, stateless.watchdog, ...arrival].map((f) => ({
      scope: f.role,
      finding: iam5('Action::kms:GenerateDataKey*'),
      reason: REASONS.topicKey,
    })),
    ...(stateless.segmentSource === 's3'
      ? readsRefreshes.map((f) => ({
          scope: f.role,
          finding: iam5(`Resource::${stateful.segmentBucket.exportName}/${REFRESH_PREFIX}*`),
          reason: REASONS.refreshObjects,
        }))
      : []),
    {
      scope: stateless.planner.role,
      finding: iam5(`Resource::${stateful.segmentBucket.exportName}/${CHECKPOINT_PREFIX}*`),
      reason: REASONS.checkpointObjects,
    },
    {
      scope: stateful.segments.uploadPolicy,
      finding: iam5(`Resource::<${segmentBucketId}.Arn>/${REFRESH_PREFIX}*`),
      reason: REASONS.uploadPrefix,
    },
    ...(stateful.segmentTable.indexes.length > 0 && stateless.segmentSource === 'dynamodb'
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
    ...consoleFindings(stateless),
    {
      scope: stateless.httpApi.route('GET', '/openapi.json'),
      finding: 'AwsSolutions-APIG4',
      reason: REASONS.publicOpenApi,
    },
  ];
};

/** The console's findings: CloudFront options this deployment has not configured, and CDK's handler. */
const consoleFindings = (stateless: StatelessStack): NagAcknowledgement[] => {
  const { site, deployment } = stateless.console;
  const config = stateless.consoleConfig;
  const filesId = stateless.getLogicalId(site.files.node.defaultChild as CfnBucket);
  const distribution = site.distribution;
  return [
    {
      scope: deployment.policy,
      finding: `AwsSolutions-IAM5[Resource::<${filesId}.Arn>/*]`,
      reason: REASONS.consoleFiles,
    },
    { scope: deployment.handler, finding: 'AwsSolutions-L1', reason: REASONS.deploymentRuntime },
    { scope: distribution, finding: 'AwsSolutions-CFR1', reason: REASONS.geoRestriction },
    ...(config.webAclArn === undefined
      ? [{ scope: distribution, finding: 'AwsSolutions-CFR2', reason: REASONS.noWaf }]
      : []),
    ...(config.domain === undefined
      ? [{ scope: distribution, finding: 'AwsSolutions-CFR4', reason: REASONS.defaultCertificate }]
      : []),
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
