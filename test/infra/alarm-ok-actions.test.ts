import { describe, expect, it } from 'vitest';
import { resourcesOf, synthesize } from './support.ts';

describe('alarms say when they clear', () => {
  it('every alarm (functions, dead-letter queues, schedule, API, arrivals) notifies the topic on OK as on ALARM', () => {
    const { statelessTemplate } = synthesize();
    const alarms = Object.entries(resourcesOf(statelessTemplate, 'AWS::CloudWatch::Alarm'));

    expect(alarms.length).toBeGreaterThanOrEqual(10);
    expect(
      alarms.map(([id]) => id).filter((id) => !id.startsWith('Monitoring')).length,
    ).toBeGreaterThanOrEqual(4);
    for (const [id, alarm] of alarms) {
      const actions = alarm.Properties?.AlarmActions;
      expect(actions, id).toBeDefined();
      expect(alarm.Properties?.OKActions, id).toEqual(actions);
    }
  });

  it('a webhook delivery given up raises an alarm on the topic', () => {
    const { statelessTemplate } = synthesize();
    const alarms = Object.values(resourcesOf(statelessTemplate, 'AWS::CloudWatch::Alarm'));
    expect(alarms.map((a) => a.Properties?.MetricName)).toContain('WebhookDeliveriesFailed');
  });
});
