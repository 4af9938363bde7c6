import { describe, expect, it } from 'vitest';
import { ApiEnvSchema, loadEnv } from '#functions/shared/env.ts';

const base = {
  STATE_TABLE: 'state',
  SEGMENT_TABLE: 'segments',
  PLAN_QUEUE_URL: 'https://sqs.eu-west-1.amazonaws.com/1/plan',
};

describe('AUDIT_RETENTION_DAYS', () => {
  it('keeps audit entries 400 days unless the deployment says otherwise', () => {
    expect(loadEnv(ApiEnvSchema, base).AUDIT_RETENTION_DAYS).toBe(400);
    expect(loadEnv(ApiEnvSchema, { ...base, AUDIT_RETENTION_DAYS: '30' }).AUDIT_RETENTION_DAYS).toBe(30);
  });

  it.each(['0', '-5', '1.5', 'forever', '3651'])('refuses %s, naming the variable', (value) => {
    expect(() => loadEnv(ApiEnvSchema, { ...base, AUDIT_RETENTION_DAYS: value })).toThrow(
      /env\.AUDIT_RETENTION_DAYS: /,
    );
  });
});
