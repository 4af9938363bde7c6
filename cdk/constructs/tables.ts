import { RemovalPolicy } from 'aws-cdk-lib';
import { AttributeType, BillingMode, ProjectionType, Table, TableEncryption } from 'aws-cdk-lib/aws-dynamodb';
import { Construct } from 'constructs';

/** Attribute DynamoDB's TTL deletes state items by (lib/adapters/dynamodb/tables.ts: TTL_ATTRIBUTE). */
export const TTL_ATTRIBUTE = 'expiresAt';

const common = {
  billingMode: BillingMode.PAY_PER_REQUEST,
  pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
  // AWS-owned keys are not auditable; a customer key adds cost and key-policy upkeep for no gain here.
  encryption: TableEncryption.AWS_MANAGED,
  deletionProtection: true,
  removalPolicy: RemovalPolicy.RETAIN,
} as const;

/**
 * The state table (connections, exports, runs, batches, snapshots, rate budgets) and the default
 * segment source table. Keys mirror lib/adapters/dynamodb/tables.ts (test/infra compares them);
 * key design in lib/adapters/dynamodb/README.md.
 */
export class Tables extends Construct {
  readonly state: Table;
  readonly segments: Table;

  constructor(scope: Construct, id: string) {
    super(scope, id);
    this.state = new Table(this, 'State', {
      ...common,
      partitionKey: { name: 'pk', type: AttributeType.STRING },
      sortKey: { name: 'sk', type: AttributeType.STRING },
      timeToLiveAttribute: TTL_ATTRIBUTE,
    });
    this.state.addGlobalSecondaryIndex({
      indexName: 'gsi1',
      partitionKey: { name: 'gsi1pk', type: AttributeType.STRING },
      sortKey: { name: 'gsi1sk', type: AttributeType.STRING },
      projectionType: ProjectionType.ALL,
    });
    this.segments = new Table(this, 'Segments', {
      ...common,
      partitionKey: { name: 'pk', type: AttributeType.STRING },
      sortKey: { name: 'sk', type: AttributeType.STRING },
    });
  }
}
