import { Aws, CfnOutput, Stack, type StackProps } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import type { DeployConfig } from '../config.ts';
import { Identity } from '../constructs/identity.ts';
import { SegmentBucket } from '../constructs/segment-bucket.ts';
import { Tables } from '../constructs/tables.ts';

export interface StatefulStackProps extends StackProps {
  config: DeployConfig;
}

/** A table as the stateless stack sees it: an ARN imported by a stable, readable export name. */
export interface TableRef {
  tableArn: string;
  exportName: string;
  /** Index names, so grants cover them. */
  indexes: string[];
}

/** The segment bucket as the stateless stack sees it: its name and ARN, imported by export name. */
export interface BucketRef {
  bucketName: string;
  bucketArn: string;
  /** The ARN's export name (it appears in IAM findings, cdk/stacks/nag.ts). */
  exportName: string;
}

/** Whom the API's JWT authorizer trusts. */
export interface JwtTrust {
  issuer: string;
  audience: string[];
}

/**
 * How the console signs in: at the stack's Cognito pool (the stateless stack adds the console's app
 * client, whose callback is the distribution's URL), or with a client at an external issuer.
 */
export type ConsoleIdentity =
  | { kind: 'cognito'; userPoolId: string; issuer: string; signInUrl: string }
  | { kind: 'oidc'; issuer: string; clientId: string };

/**
 * What must survive a redeploy or a stateless-stack teardown: the tables (RETAIN, deletion
 * protection, PITR), the segment bucket and its access logs (RETAIN) and, unless an external OIDC
 * issuer is configured, the user pool.
 */
export class StatefulStack extends Stack {
  readonly stateTable: TableRef;
  /** Read only with `segmentSource: dynamodb`; kept either way, so switching loses no data. */
  readonly segmentTable: TableRef;
  readonly segments: SegmentBucket;
  readonly segmentBucket: BucketRef;
  readonly jwt: JwtTrust;
  readonly signIn: ConsoleIdentity;
  readonly identity?: Identity;

  constructor(scope: Construct, id: string, props: StatefulStackProps) {
    super(scope, id, props);
    const tables = new Tables(this, 'Tables');
    // Everything the stateless stack needs crosses by a named export rather than CDK's generated
    // ones: the names are readable, appear in IAM findings and acknowledgements (cdk/stacks/nag.ts)
    // without a hash, and the stateless stack can be replaced freely.
    const ref = (name: string, tableArn: string, indexes: string[]): TableRef => {
      const exportName = this.exportName(`${name}Arn`);
      return { tableArn: this.exportValue(tableArn, { name: exportName }), exportName, indexes };
    };
    this.stateTable = ref('StateTable', tables.state.tableArn, ['gsi1']);
    this.segmentTable = ref('SegmentTable', tables.segments.tableArn, []);
    new CfnOutput(this, 'StateTableName', { value: tables.state.tableName });
    new CfnOutput(this, 'SegmentTableName', {
      value: tables.segments.tableName,
      description:
        'With segmentSource=dynamodb, upstream segmentation writes segments here (lib/adapters/dynamodb/README.md)',
    });

    this.segments = new SegmentBucket(this, 'Segment', props.config.segments);
    const { bucket, uploadPolicy, uploaderRole, accessLogs } = this.segments;
    const bucketArnExport = this.exportName('SegmentBucketArn');
    this.segmentBucket = {
      bucketArn: this.exportValue(bucket.bucketArn, { name: bucketArnExport }),
      bucketName: this.exportValue(bucket.bucketName, { name: this.exportName('SegmentBucketName') }),
      exportName: bucketArnExport,
    };
    new CfnOutput(this, 'SegmentBucketName', {
      value: bucket.bucketName,
      description: 'Drop refresh folders here: refreshes/<refreshId>/ with manifest.json written last',
    });
    new CfnOutput(this, 'SegmentUploadPolicyArn', {
      value: uploadPolicy.managedPolicyArn,
      description: 'Attach to whoever drops refreshes from this account (write under refreshes/ only)',
    });
    if (uploaderRole) {
      new CfnOutput(this, 'SegmentUploaderRoleArn', {
        value: uploaderRole.roleArn,
        description: 'Assumed by segmentUploaderPrincipals to drop refreshes (the upload policy only)',
      });
    }
    new CfnOutput(this, 'SegmentAccessLogBucketName', {
      value: accessLogs.bucketName,
      description: 'Server access logs of the segment bucket',
    });

    if (props.config.oidc) {
      const { issuer, audience, consoleClientId } = props.config.oidc;
      this.jwt = { issuer, audience };
      this.signIn = { kind: 'oidc', issuer, clientId: consoleClientId };
      new CfnOutput(this, 'JwtIssuer', { value: issuer });
    } else {
      const identity = new Identity(this, 'Identity', {
        signInDomainPrefix: props.config.console.signInDomainPrefix ?? this.defaultSignInDomainPrefix(),
      });
      const { userPool, client, domain } = identity;
      this.identity = identity;
      const exported = (name: string, value: string) =>
        this.exportValue(value, { name: this.exportName(name) });
      this.jwt = {
        issuer: exported('JwtIssuer', userPool.userPoolProviderUrl),
        audience: [exported('JwtAudience', client.userPoolClientId)],
      };
      this.signIn = {
        kind: 'cognito',
        userPoolId: exported('UserPoolId', userPool.userPoolId),
        issuer: this.jwt.issuer,
        signInUrl: exported('SignInUrl', domain.baseUrl()),
      };
      new CfnOutput(this, 'JwtIssuer', { value: userPool.userPoolProviderUrl });
      new CfnOutput(this, 'UserPoolId', { value: userPool.userPoolId });
      new CfnOutput(this, 'UserPoolClientId', { value: client.userPoolClientId });
      new CfnOutput(this, 'SignInUrl', {
        value: domain.baseUrl(),
        description: 'Cognito managed login (the console sends users here to sign in)',
      });
    }
  }

  /**
   * `<stack name, lowercase>-<account id>`: Cognito domain prefixes are unique per region across all
   * accounts, so the account keeps it free, and the stack name lets two deployments coexist.
   */
  defaultSignInDomainPrefix(): string {
    const name = [...this.stackName.toLowerCase().slice(0, 50)]
      .map((ch) => (/[a-z0-9]/.test(ch) ? ch : '-'))
      .join('');
    return `${name}-${Aws.ACCOUNT_ID}`;
  }

  /** `<stack name>-<name>`: export names are per account and region, so two deployments can coexist. */
  exportName(name: string): string {
    return `${this.stackName}-${name}`;
  }
}
