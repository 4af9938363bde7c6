import type { Context } from 'aws-lambda';
import type { ScopedLogger } from '#lib/adapters/observability/scoped-logger.ts';
import type { Metrics } from '#lib/ports/metrics.ts';

/** Metrics as a function sees them: the use cases count, the handler wrapper publishes. */
export type InvocationMetrics = Metrics & {
  /** Publishes what the invocation counted. */
  flush?(): void;
  /** Counts a cold start of `functionName`. */
  coldStart?(functionName: string): void;
};

/** What the handler wrapper needs of a function's logger and metrics. */
export interface Observability {
  /** Runs `work` with `keys` on every line logged inside it, by the function's logger and its children. */
  withLogKeys<T>(keys: Record<string, unknown>, work: () => Promise<T>): Promise<T>;
  coldStart(functionName: string): void;
  flushMetrics(): void;
}

export const observability = (logger: ScopedLogger, metrics: InvocationMetrics): Observability => ({
  withLogKeys: (keys, work) => logger.withKeys(keys, work),
  coldStart: (functionName) => metrics.coldStart?.(functionName),
  flushMetrics: () => metrics.flush?.(),
});

/** For handlers built without a function's wiring (tests): no keys added, nothing published. */
export const unobserved: Observability = {
  withLogKeys: (_keys, work) => work(),
  coldStart: () => {},
  flushMetrics: () => {},
};

/**
 * The keys Powertools' `addContext` writes on every line of an invocation. They come from the log
 * scope instead of the logger instance, so concurrent invocations sharing one logger (the local
 * runtime's) keep their own.
 */
export const lambdaContextKeys = (context: Context, coldStart: boolean): Record<string, unknown> => ({
  cold_start: coldStart,
  function_arn: context.invokedFunctionArn,
  function_memory_size: context.memoryLimitInMB,
  function_name: context.functionName,
  function_request_id: context.awsRequestId,
});

/**
 * Every Lambda handler runs inside this: the Lambda context (request id, function name, cold start)
 * on every line the invocation logs, the `ColdStart` metric on its environment's first invocation,
 * and the metrics it counted published when it ends, however it ends. Each function's `index.ts`
 * creates its handlers once per execution environment, so the first call of one is its cold start.
 */
export const lambdaHandler = <E, R>(
  obs: Observability,
  handler: (event: E, context: Context) => Promise<R>,
): ((event: E, context: Context) => Promise<R>) => {
  let cold = true;
  return async (event, context) => {
    const coldStart = cold;
    cold = false;
    if (coldStart) obs.coldStart(context.functionName);
    try {
      return await obs.withLogKeys(lambdaContextKeys(context, coldStart), () => handler(event, context));
    } finally {
      obs.flushMetrics();
    }
  };
};
