import { CfnOutput, Stack, type StackProps } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import type { DeployConfig } from '../config.ts';
import { Identity } from '../constructs/identity.ts';
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

/** Whom the API's JWT authorizer trusts. */
export interface JwtTrust {
  issuer: string;
  audience: string[];
}

/**
 * What must survive a redeploy or a stateless-stack teardown: the tables (RETAIN, deletion
 * protection, PITR) and, unless an external OIDC issuer is configured, the user pool.
 */
export class StatefulStack extends Stack {
  readonly stateTable: TableRef;
  readonly segmentTable: TableRef;
  readonly jwt: JwtTrust;
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
      description: 'Upstream segmentation writes segments here (lib/adapters/dynamodb/README.md)',
    });

    if (props.config.oidc) {
      this.jwt = { issuer: props.config.oidc.issuer, audience: props.config.oidc.audience };
      new CfnOutput(this, 'JwtIssuer', { value: props.config.oidc.issuer });
    } else {
      const identity = new Identity(this, 'Identity');
      const { userPool, client } = identity;
      this.identity = identity;
      this.jwt = {
        issuer: this.exportValue(userPool.userPoolProviderUrl, { name: this.exportName('JwtIssuer') }),
        audience: [this.exportValue(client.userPoolClientId, { name: this.exportName('JwtAudience') })],
      };
      new CfnOutput(this, 'JwtIssuer', { value: userPool.userPoolProviderUrl });
      new CfnOutput(this, 'UserPoolId', { value: userPool.userPoolId });
      new CfnOutput(this, 'UserPoolClientId', { value: client.userPoolClientId });
    }
  }

  /** `<stack name>-<name>`: export names are per account and region, so two deployments can coexist. */
  exportName(name: string): string {
    return `${this.stackName}-${name}`;
  }
}
