import { ArnFormat, Duration, Stack } from 'aws-cdk-lib';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import { PolicyStatement, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Key } from 'aws-cdk-lib/aws-kms';
import { Topic } from 'aws-cdk-lib/aws-sns';
import { EmailSubscription } from 'aws-cdk-lib/aws-sns-subscriptions';
import { Construct } from 'constructs';

export interface NotificationsProps {
  /** Subscribed to the topic when set (the owner confirms the subscription by e-mail). */
  alertEmail?: string;
}

/**
 * One SNS topic for alarms and for run notifications (failed / partially failed runs), encrypted
 * with a customer-managed KMS key: CloudWatch alarms cannot publish to a topic under the
 * AWS-managed `aws/sns` key, whose policy cannot be changed to let them in.
 */
export class Notifications extends Construct {
  readonly topic: Topic;
  readonly key: Key;
  readonly alarmAction: SnsAction;

  constructor(scope: Construct, id: string, props: NotificationsProps) {
    super(scope, id);
    this.key = new Key(this, 'Key', {
      description: 'autopilot-export notification topic',
      enableKeyRotation: true,
      pendingWindow: Duration.days(7),
    });
    this.key.addToResourcePolicy(
      new PolicyStatement({
        sid: 'AllowCloudWatchAlarmsToPublish',
        principals: [new ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
        // In a key policy `*` is this key.
        resources: ['*'],
        // Only alarms of this account: CloudWatch acting for another account must not use the key.
        conditions: {
          StringEquals: { 'aws:SourceAccount': Stack.of(this).account },
          ArnLike: {
            'aws:SourceArn': Stack.of(this).formatArn({
              service: 'cloudwatch',
              resource: 'alarm',
              resourceName: '*',
              arnFormat: ArnFormat.COLON_RESOURCE_NAME,
            }),
          },
        },
      }),
    );
    this.topic = new Topic(this, 'Topic', {
      displayName: 'autopilot-export alerts and run notifications',
      masterKey: this.key,
      enforceSSL: true,
    });
    if (props.alertEmail) this.topic.addSubscription(new EmailSubscription(props.alertEmail));
    this.alarmAction = new SnsAction(this.topic);
  }
}
