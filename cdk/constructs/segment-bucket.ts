import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import {
  AnyPrincipal,
  ArnPrincipal,
  CompositePrincipal,
  Effect,
  ManagedPolicy,
  PolicyStatement,
  Role,
} from 'aws-cdk-lib/aws-iam';
import {
  BlockPublicAccess,
  Bucket,
  BucketEncryption,
  type CfnBucket,
  ObjectOwnership,
} from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import type { SegmentUploaderConfig } from '../segment-config.ts';

/** Every refresh is a folder under this prefix: `refreshes/<refreshId>/manifest.json` and its files. */
export const REFRESH_PREFIX = 'refreshes/';

/** `<bucket ARN>/refreshes/*`: the objects of every refresh folder, and nothing else in the bucket. */
export const refreshObjectsArn = (bucketArn: string): string => `${bucketArn}/${REFRESH_PREFIX}*`;

/**
 * The planner's checkpoints, one gzip object per run (lib/adapters/s3/checkpoints.ts): the planner
 * alone may read, write and delete here; the upload policy stays on `refreshes/`.
 */
export const CHECKPOINT_PREFIX = 'state/checkpoints/';

/** `<bucket ARN>/state/checkpoints/*`: every run's checkpoint object, and nothing else in the bucket. */
export const checkpointObjectsArn = (bucketArn: string): string => `${bucketArn}/${CHECKPOINT_PREFIX}*`;

/**
 * A checkpoint is needed while its run plans (minutes to hours); like the state table's 2-day TTL,
 * the lifecycle removes one a failed or abandoned run left behind. A replaced or deleted
 * checkpoint is never read again but holds the plan's contacts, so its old version goes after a day
 * (S3's shortest), not NONCURRENT_VERSION_DAYS.
 */
export const CHECKPOINT_DAYS = 2;
export const CHECKPOINT_OLD_VERSION_DAYS = 1;

/**
 * Days an overwritten or expired file's old version is kept: enough to undo an accidental overwrite
 * noticed the next working day (a weekend included), short enough that personal data a refresh
 * held is gone within the retention plus three days.
 */
export const NONCURRENT_VERSION_DAYS = 3;
/** An upload left unfinished this long is abandoned; its parts cost storage until aborted. */
export const INCOMPLETE_UPLOAD_DAYS = 1;
/** Server access logs (who read or wrote which key) are kept as long as the console's. */
export const ACCESS_LOG_DAYS = 90;

/** What the upload policy allows, and on what (test/infra checks it never grows a read or a delete). */
export const UPLOAD_ACTIONS = {
  objects: ['s3:PutObject', 's3:AbortMultipartUpload'],
  bucket: ['s3:GetBucketLocation'],
  listing: ['s3:ListBucket'],
} as const;

export interface SegmentBucketProps {
  refreshRetentionDays: number;
  /** Absent: no upload role; the upload policy is attached by whoever uploads from this account. */
  uploader?: SegmentUploaderConfig;
}

/**
 * The product's front door: upstream platforms drop refresh folders here. Versioned, TLS-only,
 * private, access-logged, and encrypted with S3-managed keys: every upstream writer (a warehouse's
 * UNLOAD, a SaaS role in another account) can write under SSE-S3 with no key grant, whereas a KMS
 * key would need a key-policy entry per writer and per reader; uploads under another KMS key are
 * refused, since the functions could not read them. Refresh folders expire after the retention.
 * The planner keeps its checkpoints under `state/checkpoints/`, out of the uploaders' reach.
 */
export class SegmentBucket extends Construct {
  readonly bucket: Bucket;
  readonly accessLogs: Bucket;
  /** s3:PutObject and s3:AbortMultipartUpload under `refreshes/`, for whoever drops refreshes. */
  readonly uploadPolicy: ManagedPolicy;
  /** Assumable by the configured principals (another account, a SaaS); holds the upload policy only. */
  readonly uploaderRole?: Role;

  constructor(scope: Construct, id: string, props: SegmentBucketProps) {
    super(scope, id);
    // S3 delivers access logs by bucket policy (the logging service principal, this account's
    // bucket only), so the log bucket keeps ACLs disabled; CDK grants by ACL unless this flag is on.
    this.node.setContext('@aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy', true);
    // One trust statement naming every uploader, not one per principal repeating the external id:
    // the trust policy must stay within IAM's 2,048-character quota.
    this.node.setContext('@aws-cdk/aws-iam:minimizePolicies', true);
    this.accessLogs = new Bucket(this, 'AccessLogs', {
      blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
      encryption: BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      objectOwnership: ObjectOwnership.BUCKET_OWNER_ENFORCED,
      lifecycleRules: [{ expiration: Duration.days(ACCESS_LOG_DAYS) }],
      removalPolicy: RemovalPolicy.RETAIN,
    });
    this.bucket = new Bucket(this, 'Bucket', {
      blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
      encryption: BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      minimumTLSVersion: 1.2,
      // Objects uploaded from another account belong to this one, so the functions can read them.
      objectOwnership: ObjectOwnership.BUCKET_OWNER_ENFORCED,
      versioned: true,
      serverAccessLogsBucket: this.accessLogs,
      serverAccessLogsPrefix: 'segment-bucket/',
      lifecycleRules: [
        {
          id: 'expire-refreshes',
          prefix: REFRESH_PREFIX,
          // With a versioned bucket this also removes the delete markers left once no version remains.
          expiration: Duration.days(props.refreshRetentionDays),
          noncurrentVersionExpiration: Duration.days(NONCURRENT_VERSION_DAYS),
          abortIncompleteMultipartUploadAfter: Duration.days(INCOMPLETE_UPLOAD_DAYS),
        },
        {
          id: 'expire-checkpoints',
          prefix: CHECKPOINT_PREFIX,
          expiration: Duration.days(CHECKPOINT_DAYS),
          noncurrentVersionExpiration: Duration.days(CHECKPOINT_OLD_VERSION_DAYS),
        },
      ],
      removalPolicy: RemovalPolicy.RETAIN,
    });
    // Native CloudFormation, where the L2 `eventBridgeEnabled` adds a custom-resource Lambda
    // (with an AWS managed policy) to set the same switch.
    (this.bucket.node.defaultChild as CfnBucket).notificationConfiguration = {
      eventBridgeConfiguration: { eventBridgeEnabled: true },
    };
    this.bucket.addToResourcePolicy(
      new PolicyStatement({
        sid: 'DenyUploadsUnderOtherKeys',
        effect: Effect.DENY,
        principals: [new AnyPrincipal()],
        actions: ['s3:PutObject'],
        resources: [this.bucket.arnForObjects('*')],
        conditions: { StringLike: { 's3:x-amz-server-side-encryption': 'aws:kms*' } },
      }),
    );

    this.uploadPolicy = new ManagedPolicy(this, 'UploadPolicy', {
      description:
        'autopilot-export: drop refresh folders (write and abort uploads under refreshes/; list that prefix; no read, no delete)',
      statements: [
        new PolicyStatement({
          sid: 'WriteRefreshFiles',
          actions: [...UPLOAD_ACTIONS.objects],
          resources: [refreshObjectsArn(this.bucket.bucketArn)],
        }),
        // Warehouse unloads check that their target folder is empty before writing; key names only.
        new PolicyStatement({
          sid: 'ListRefreshFolders',
          actions: [...UPLOAD_ACTIONS.listing],
          resources: [this.bucket.bucketArn],
          conditions: { StringLike: { 's3:prefix': [`${REFRESH_PREFIX}*`] } },
        }),
        new PolicyStatement({
          sid: 'FindBucketRegion',
          actions: [...UPLOAD_ACTIONS.bucket],
          resources: [this.bucket.bucketArn],
        }),
      ],
    });

    if (props.uploader) {
      this.uploaderRole = new Role(this, 'Uploader', {
        description:
          'autopilot-export: drop refresh folders into the segment bucket (the upload policy only)',
        assumedBy: new CompositePrincipal(...props.uploader.principals.map((arn) => new ArnPrincipal(arn))),
        ...(props.uploader.externalId === undefined ? {} : { externalIds: [props.uploader.externalId] }),
        managedPolicies: [this.uploadPolicy],
      });
    }
  }
}
