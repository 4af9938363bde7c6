import { beforeAll, describe, expect, it } from 'vitest';
import { PlannerEnvSchema } from '../../functions/shared/env.ts';
import {
  asArray,
  identityStatements,
  idOf,
  resourcesOf,
  type Statement,
  type Synthesized,
  synthesize,
} from './support.ts';

const imported = (name: string) => ({ 'Fn::ImportValue': `AutopilotExport-Stateful-${name}` });
const checkpointObjects = { 'Fn::Join': ['', [imported('SegmentBucketArn'), '/state/checkpoints/*']] };

type Role = Parameters<typeof idOf>[0];
const s3Statements = (built: Synthesized, role: Role): Statement[] =>
  (identityStatements(built.statelessTemplate).get(idOf(role)) ?? []).filter((st) =>
    asArray(st.Action).some((a) => a.startsWith('s3:')),
  );
const variables = (built: Synthesized, fn: Role): Record<string, unknown> => {
  const props = resourcesOf(built.statelessTemplate, 'AWS::Lambda::Function')[idOf(fn)]?.Properties as
    | { Environment: { Variables: Record<string, unknown> } }
    | undefined;
  if (!props) throw new Error(`no function ${idOf(fn)}`);
  return props.Environment.Variables;
};

describe.each([
  ['segments from S3 refreshes', {}],
  ['segments from the table', { segmentSource: 'dynamodb' }],
])('planner checkpoints in the segment bucket, %s', (_, context) => {
  let s: Synthesized;
  beforeAll(() => {
    s = synthesize(context);
  });

  it('tells the planner alone the bucket and the prefix', () => {
    expect(variables(s, s.stateless.planner.fn)).toMatchObject({
      CHECKPOINT_BUCKET: imported('SegmentBucketName'),
      CHECKPOINT_PREFIX: 'state/checkpoints/',
    });
    expect(PlannerEnvSchema.shape.CHECKPOINT_PREFIX.parse(undefined)).toBe('state/checkpoints/');
    // glibc hands freed buffers back, so a million-profile run's resident set does not climb phase by phase.
    expect(variables(s, s.stateless.planner.fn)).toMatchObject({
      MALLOC_MMAP_THRESHOLD_: '131072',
      MALLOC_TRIM_THRESHOLD_: '131072',
    });
    for (const fn of [s.stateless.refresh, s.stateless.sender, s.stateless.api, s.stateless.watchdog]) {
      expect(variables(s, fn.fn).CHECKPOINT_BUCKET).toBeUndefined();
    }
  });

  it('lets the planner get, put and delete objects under state/checkpoints/ only, and list that prefix only', () => {
    const checkpointStatements = s3Statements(s, s.stateless.planner.role).filter(
      (st) => !JSON.stringify(st.Resource).includes('/refreshes/'),
    );
    expect(checkpointStatements).toEqual([
      {
        Effect: 'Allow',
        Action: ['s3:GetObject', 's3:PutObject', 's3:DeleteObject', 's3:AbortMultipartUpload'],
        Resource: checkpointObjects,
      },
      {
        Effect: 'Allow',
        Action: 's3:ListBucket',
        Resource: imported('SegmentBucketArn'),
        Condition: { StringLike: { 's3:prefix': ['state/checkpoints/*'] } },
      },
    ]);
  });

  it('gives no other function the checkpoints', () => {
    const functions = [s.stateless.refresh, s.stateless.sender, s.stateless.api, s.stateless.watchdog];
    for (const fn of [...functions, ...(s.stateless.arrival ? [s.stateless.arrival] : [])]) {
      expect(JSON.stringify(s3Statements(s, fn.role))).not.toContain('state/');
    }
  });
});

describe('the upload permission and checkpoints', () => {
  it('covers nothing under state/, with or without an upload role', () => {
    const built = synthesize({ segmentUploaderPrincipals: 'arn:aws:iam::123456789012:root' });
    const upload = resourcesOf(built.statefulTemplate, 'AWS::IAM::ManagedPolicy')[
      idOf(built.stateful.segments.uploadPolicy)
    ];
    const text = JSON.stringify(upload?.Properties?.PolicyDocument);
    expect(text).toContain('/refreshes/*');
    expect(text).not.toContain('state/');
    expect(text).not.toMatch(/"Arn"\]\},"\/\*"/);
  });
});
