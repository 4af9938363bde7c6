import { describe, expect, it } from 'vitest';
import { resourcesOf, synthesize } from './support.ts';

describe('alarms say when they clear', () => {
  it('every monitoring alarm notifies the topic on OK as on ALARM', () => {
    const { statelessTemplate } = synthesize();
    const alarms = Object.entries(resourcesOf(statelessTemplate, 'AWS::CloudWatch::Alarm')).filter(([id]) =>
      id.startsWith('Monitoring'),
    );

    expect(alarms.length).toBeGreaterThanOrEqual(5);
    for (const [id, alarm] of alarms) {
      const actions = alarm.Properties?.AlarmActions;
      expect(actions, id).toBeDefined();
      expect(alarm.Properties?.OKActions, id).toEqual(actions);
    }
  });
});
