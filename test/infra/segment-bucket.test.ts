import { beforeAll, describe, expect, it } from 'vitest';
import {
  ACCESS_LOG_DAYS,
  INCOMPLETE_UPLOAD_DAYS,
  NONCURRENT_VERSION_DAYS,
} from '../../cdk/constructs/segment-bucket.ts';
import { asArray, idOf, resourcesOf, type Statement, type Synthesized, synthesize } from './support.ts';

const ROOT = 'arn:aws:iam::123456789012:root';
const ROLE = 'arn:aws:iam::210987654321:role/warehouse/unload';

let s: Synthesized;
beforeAll(() => {
  s = synthesize();
});

type Props = Record<string, unknown>;
const propsOf = (template: Synthesized['statefulTemplate'], id: string): Props => {
  const found = resourcesOf(template)[id];
  if (!found) throw new Error(`no resource ${id}`);
  return found.Properties ?? {};
};
const bucketId = () => idOf(s.stateful.segments.bucket);
const bucketArn = () => ({ 'Fn::GetAtt': [bucketId(), 'Arn'] });
const refreshObjects = () => ({ 'Fn::Join': ['', [bucketArn(), '/refreshes/*']] });
const bucketPolicy = (template: Synthesized['statefulTemplate'], bucket: string): Statement[] => {
  const policy = Object.values(resourcesOf(template, 'AWS::S3::BucketPolicy')).find(
    (p) => JSON.stringify(p.Properties?.Bucket) === JSON.stringify({ Ref: bucket }),
  );
  return ((policy?.Properties?.PolicyDocument ?? { Statement: [] }) as { Statement: Statement[] }).Statement;
};
const uploadStatements = (template: Synthesized['statefulTemplate'], policyId: string): Statement[] =>
  (propsOf(template, policyId).PolicyDocument as { Statement: Statement[] }).Statement;

describe('segment bucket', () => {
  it('is private, TLS-only (1.2 and later), versioned, S3-encrypted, owner-enforced and retained', () => {
    const bucket = resourcesOf(s.statefulTemplate)[bucketId()];
    expect(bucket?.DeletionPolicy).toBe('Retain');
    expect(bucket?.UpdateReplacePolicy).toBe('Retain');
    expect(bucket?.Properties).toMatchObject({
      BucketEncryption: {
        ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }],
      },
      VersioningConfiguration: { Status: 'Enabled' },
      PublicAccessBlockConfiguration: {
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      },
      OwnershipControls: { Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' }] },
    });
    const denies = bucketPolicy(s.statefulTemplate, bucketId()).filter((st) => st.Effect === 'Deny');
    const conditions = denies.map((st) => JSON.stringify(st.Condition));
    expect(conditions).toContain(JSON.stringify({ Bool: { 'aws:SecureTransport': 'false' } }));
    expect(conditions).toContain(JSON.stringify({ NumericLessThan: { 's3:TlsVersion': 1.2 } }));
  });

  it('refuses uploads under another KMS key, which the functions could not read', () => {
    const deny = bucketPolicy(s.statefulTemplate, bucketId()).find(
      (st) =>
        st.Effect === 'Deny' && JSON.stringify(st.Condition).includes('s3:x-amz-server-side-encryption'),
    );
    expect(deny).toMatchObject({
      Action: 's3:PutObject',
      Principal: { AWS: '*' },
      Condition: { StringLike: { 's3:x-amz-server-side-encryption': 'aws:kms*' } },
    });
  });

  it('sends its events to EventBridge natively, with no custom-resource Lambda', () => {
    expect(propsOf(s.statefulTemplate, bucketId()).NotificationConfiguration).toEqual({
      EventBridgeConfiguration: { EventBridgeEnabled: true },
    });
    expect(Object.keys(resourcesOf(s.statefulTemplate, 'Custom::S3BucketNotifications'))).toEqual([]);
    expect(
      Object.keys(resourcesOf(s.statefulTemplate)).filter((id) =>
        id.startsWith('BucketNotificationsHandler'),
      ),
    ).toEqual([]);
  });

  it('expires refresh folders after 14 days by default, old versions 3 days later, stale uploads after a day', () => {
    expect(propsOf(s.statefulTemplate, bucketId()).LifecycleConfiguration).toEqual({
      Rules: [
        {
          Id: 'expire-refreshes',
          Prefix: 'refreshes/',
          Status: 'Enabled',
          ExpirationInDays: 14,
          NoncurrentVersionExpiration: { NoncurrentDays: NONCURRENT_VERSION_DAYS },
          AbortIncompleteMultipartUpload: { DaysAfterInitiation: INCOMPLETE_UPLOAD_DAYS },
        },
        // Planner checkpoints go after 2 days as the state table's TTL took them; a replaced one's
        // old version (it holds the plan's contacts) after a day, S3's earliest.
        {
          Id: 'expire-checkpoints',
          Prefix: 'state/checkpoints/',
          Status: 'Enabled',
          ExpirationInDays: 2,
          NoncurrentVersionExpiration: { NoncurrentDays: 1 },
        },
      ],
    });
    const custom = synthesize({ refreshRetentionDays: '45' });
    const rules = (
      propsOf(custom.statefulTemplate, idOf(custom.stateful.segments.bucket)).LifecycleConfiguration as {
        Rules: Props[];
      }
    ).Rules;
    expect(rules.map((r) => r.ExpirationInDays)).toEqual([45, 2]);
  });

  it('logs server access to its own retained, private, TLS-only log bucket by bucket policy, not ACLs', () => {
    const logsId = idOf(s.stateful.segments.accessLogs);
    expect(propsOf(s.statefulTemplate, bucketId()).LoggingConfiguration).toEqual({
      DestinationBucketName: { Ref: logsId },
      LogFilePrefix: 'segment-bucket/',
    });
    const logs = resourcesOf(s.statefulTemplate)[logsId];
    expect(logs?.DeletionPolicy).toBe('Retain');
    expect(logs?.Properties).toMatchObject({
      OwnershipControls: { Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' }] },
      LifecycleConfiguration: { Rules: [{ ExpirationInDays: ACCESS_LOG_DAYS, Status: 'Enabled' }] },
      PublicAccessBlockConfiguration: { BlockPublicAcls: true, RestrictPublicBuckets: true },
    });
    expect(logs?.Properties?.AccessControl).toBeUndefined();
    const delivery = bucketPolicy(s.statefulTemplate, logsId).find((st) => st.Effect === 'Allow');
    expect(delivery).toMatchObject({
      Principal: { Service: 'logging.s3.amazonaws.com' },
      Action: 's3:PutObject',
      Condition: { ArnLike: { 'aws:SourceArn': bucketArn() } },
    });
  });
});

describe('upload permission', () => {
  const policyId = () => idOf(s.stateful.segments.uploadPolicy);

  it('writes and aborts uploads under refreshes/ only, lists that prefix only, and never reads or deletes', () => {
    const statements = uploadStatements(s.statefulTemplate, policyId());
    const allowed = statements.flatMap((st) =>
      asArray(st.Action).map((action) => ({ action, resource: st.Resource, condition: st.Condition })),
    );
    expect(statements.every((st) => st.Effect === 'Allow')).toBe(true);
    expect(allowed).toEqual([
      { action: 's3:PutObject', resource: refreshObjects(), condition: undefined },
      { action: 's3:AbortMultipartUpload', resource: refreshObjects(), condition: undefined },
      {
        action: 's3:ListBucket',
        resource: bucketArn(),
        condition: { StringLike: { 's3:prefix': ['refreshes/*'] } },
      },
      { action: 's3:GetBucketLocation', resource: bucketArn(), condition: undefined },
    ]);
    expect(allowed.some((a) => /Get(Object)|Delete|\*/.test(a.action))).toBe(false);
  });

  it('outputs the policy for principals of this account, and creates no role unless principals are configured', () => {
    const outputs = s.statefulTemplate.toJSON().Outputs as Record<string, { Value: unknown }>;
    expect(outputs.SegmentUploadPolicyArn?.Value).toEqual({ Ref: policyId() });
    expect(outputs.SegmentBucketName?.Value).toEqual({ Ref: bucketId() });
    expect(outputs.SegmentUploaderRoleArn).toBeUndefined();
    expect(s.stateful.segments.uploaderRole).toBeUndefined();
    const roles = Object.values(resourcesOf(s.statefulTemplate, 'AWS::IAM::Role'));
    expect(roles.some((r) => JSON.stringify(r.Properties?.ManagedPolicyArns).includes(policyId()))).toBe(
      false,
    );
  });

  it('lets the configured principals assume a role holding the upload policy and nothing else, with the external id', () => {
    const custom = synthesize({
      segmentUploaderPrincipals: `${ROOT},${ROLE}`,
      segmentUploaderExternalId: 'ext-42',
    });
    const role = custom.stateful.segments.uploaderRole;
    if (!role) throw new Error('principals are configured');
    const props = propsOf(custom.statefulTemplate, idOf(role));
    expect(props.ManagedPolicyArns).toEqual([{ Ref: idOf(custom.stateful.segments.uploadPolicy) }]);
    expect(props.Policies).toBeUndefined();
    expect(props.AssumeRolePolicyDocument).toEqual({
      Version: '2012-10-17',
      Statement: [
        {
          Action: 'sts:AssumeRole',
          Effect: 'Allow',
          Principal: { AWS: [ROOT, ROLE] },
          Condition: { StringEquals: { 'sts:ExternalId': 'ext-42' } },
        },
      ],
    });
    const attached = Object.values(resourcesOf(custom.statefulTemplate, 'AWS::IAM::Policy')).filter((p) =>
      JSON.stringify(p.Properties?.Roles).includes(idOf(role)),
    );
    expect(attached).toEqual([]);
    const outputs = custom.statefulTemplate.toJSON().Outputs as Record<string, { Value: unknown }>;
    expect(outputs.SegmentUploaderRoleArn?.Value).toEqual({ 'Fn::GetAtt': [idOf(role), 'Arn'] });
  });

  it('asks for no external id when none is configured', () => {
    const custom = synthesize({ segmentUploaderPrincipals: ROOT });
    const role = custom.stateful.segments.uploaderRole;
    if (!role) throw new Error('principals are configured');
    const trust = propsOf(custom.statefulTemplate, idOf(role)).AssumeRolePolicyDocument as {
      Statement: Statement[];
    };
    expect(trust.Statement).toEqual([
      { Action: 'sts:AssumeRole', Effect: 'Allow', Principal: { AWS: ROOT } },
    ]);
  });
});
