import { Logger as PowertoolsLoggerImpl } from '@aws-lambda-powertools/logger';
import { MetricUnit, Metrics as PowertoolsMetricsImpl } from '@aws-lambda-powertools/metrics';
import type { Logger } from '#lib/ports/logger.ts';
import type { MetricName, Metrics } from '#lib/ports/metrics.ts';

/** Structured JSON logs through Powertools; `child` keys (runId, exportId, batchNo) land on every line. */
export class PowertoolsLogger implements Logger {
  constructor(private readonly inner: PowertoolsLoggerImpl = new PowertoolsLoggerImpl()) {}

  debug(message: string, fields: Record<string, unknown> = {}): void {
    this.inner.debug(message, fields);
  }
  info(message: string, fields: Record<string, unknown> = {}): void {
    this.inner.info(message, fields);
  }
  warn(message: string, fields: Record<string, unknown> = {}): void {
    this.inner.warn(message, fields);
  }
  error(message: string, fields: Record<string, unknown> = {}): void {
    this.inner.error(message, fields);
  }
  child(keys: Record<string, unknown>): Logger {
    const child = this.inner.createChild();
    child.appendKeys(keys);
    return new PowertoolsLogger(child);
  }
}

/**
 * Counters as CloudWatch embedded metrics; `flush` once at the end of each invocation (the handler
 * wrapper in functions/shared/observability.ts does).
 */
export class PowertoolsMetrics implements Metrics {
  constructor(private readonly inner: PowertoolsMetricsImpl = new PowertoolsMetricsImpl()) {}

  count(name: MetricName, value = 1): void {
    if (value > 0) this.inner.addMetric(name, MetricUnit.Count, value);
  }

  /** Publishes what this invocation counted; nothing when it counted nothing (Powertools would warn). */
  flush(): void {
    if (this.inner.hasStoredMetrics()) this.inner.publishStoredMetrics();
  }

  /** The `ColdStart` metric with the function's name as its dimension; Powertools emits it once per environment. */
  coldStart(functionName: string): void {
    this.inner.captureColdStartMetric(functionName);
  }
}
