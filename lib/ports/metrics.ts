/** Operational counters (CloudWatch EMF through Powertools in Lambda). */
export type MetricName =
  | 'RunsSucceeded'
  | 'RunsCompletedWithErrors'
  | 'RunsFailed'
  | 'RunsCancelled'
  | 'RunsSkipped'
  | 'RunsStalled'
  | 'ContactsAccepted'
  | 'ContactsFailed'
  | 'ContactsDropped'
  | 'DestinationRequests'
  | 'DestinationThrottled'
  | 'BatchesDeadLettered'
  | 'BatchesRequeued'
  | 'WebhookDeliveriesFailed';

export interface Metrics {
  count(name: MetricName, value?: number): void;
}

export const noMetrics: Metrics = { count: () => {} };
