import { join } from 'node:path';
import { type Duration, RemovalPolicy } from 'aws-cdk-lib';
import { Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Architecture } from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { METRICS_NAMESPACE, SERVICE_NAME } from '../config.ts';
import {
  assertLocalEsbuild,
  FUNCTION_ENTRIES,
  FUNCTION_HANDLERS,
  type FunctionName,
  type HandlerName,
  nodejsBundlingOptions,
  REPO_ROOT,
  RUNTIME,
} from './bundling.ts';

/**
 * Which `functions/<name>/index.ts` to deploy, and which of its exports this function runs: optional
 * (`handler`) for an entry exporting `handler`, required for one exporting named handlers only.
 */
type Entry = {
  [N in FunctionName]: 'handler' extends HandlerName<N>
    ? { name: N; handler?: HandlerName<N> }
    : { name: N; handler: HandlerName<N> };
}[FunctionName];

export type HouseFunctionProps = Entry & {
  description: string;
  timeout: Duration;
  memorySize: number;
  /** The function's own settings (its env schema in functions/shared/env.ts). */
  environment: Record<string, string>;
  /** Node and V8 flags for NODE_OPTIONS, after the house's own. */
  nodeOptions?: readonly string[];
  /** @default 'INFO' */
  logLevel?: 'DEBUG' | 'INFO' | 'WARN' | 'ERROR';
  /** For a function invoked asynchronously (EventBridge): its retries and where failed events go. */
  asyncInvoke?: { retryAttempts: number; maxEventAge: Duration; deadLetterQueue: IQueue };
};

/** Settings every function gets besides its own: Powertools, and source-mapped stack traces. */
export const houseEnvironment = (
  logLevel: string,
  nodeOptions: readonly string[] = [],
): Record<string, string> => ({
  POWERTOOLS_SERVICE_NAME: SERVICE_NAME,
  POWERTOOLS_METRICS_NAMESPACE: METRICS_NAMESPACE,
  POWERTOOLS_LOG_LEVEL: logLevel,
  NODE_OPTIONS: ['--enable-source-maps', ...nodeOptions].join(' '),
});

/**
 * The house Lambda: arm64, newest Node.js, one CommonJS bundle (AWS SDK from the runtime) built by local
 * esbuild, its own log group with a retention, and its own role that starts with nothing but
 * writing to that log group (no AWS managed policy). Grants are added by the stack.
 */
export class HouseFunction extends Construct {
  readonly fn: NodejsFunction;
  readonly role: Role;
  readonly logGroup: LogGroup;

  constructor(scope: Construct, id: string, props: HouseFunctionProps) {
    super(scope, id);
    assertLocalEsbuild();
    const handler: string = props.handler ?? 'handler';
    if (!(FUNCTION_HANDLERS[props.name] as readonly string[]).includes(handler)) {
      throw new Error(`${FUNCTION_ENTRIES[props.name]} exports no handler "${handler}"`);
    }

    this.logGroup = new LogGroup(this, 'Logs', {
      retention: RetentionDays.ONE_MONTH,
      // The stateless stack is replaceable; its logs expire after a month anyway.
      removalPolicy: RemovalPolicy.DESTROY,
    });
    this.role = new Role(this, 'Role', {
      assumedBy: new ServicePrincipal('lambda.amazonaws.com'),
      description: `autopilot-export ${props.name} function${handler === 'handler' ? '' : ` (${handler})`}`,
    });
    this.logGroup.grantWrite(this.role);

    this.fn = new NodejsFunction(this, 'Function', {
      entry: join(REPO_ROOT, FUNCTION_ENTRIES[props.name]),
      handler,
      projectRoot: REPO_ROOT,
      depsLockFilePath: join(REPO_ROOT, 'package-lock.json'),
      runtime: RUNTIME,
      architecture: Architecture.ARM_64,
      description: props.description,
      timeout: props.timeout,
      memorySize: props.memorySize,
      role: this.role,
      logGroup: this.logGroup,
      environment: { ...houseEnvironment(props.logLevel ?? 'INFO', props.nodeOptions), ...props.environment },
      bundling: nodejsBundlingOptions(),
      ...(props.asyncInvoke ?? {}),
    });
  }
}
