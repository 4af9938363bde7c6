import { Duration } from 'aws-cdk-lib';
import { AccessLogFormat } from 'aws-cdk-lib/aws-apigateway';
import {
  HttpApi as HttpApiL2,
  HttpMethod,
  HttpNoneAuthorizer,
  type HttpRoute,
  HttpStage,
  LogGroupLogDestination,
} from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpJwtAuthorizer } from 'aws-cdk-lib/aws-apigatewayv2-authorizers';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import { Alarm, ComparisonOperator, type IAlarmAction, TreatMissingData } from 'aws-cdk-lib/aws-cloudwatch';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';

export interface RouteSpec {
  method: HttpMethod;
  path: string;
  /** No JWT required (the OpenAPI document only). */
  public?: boolean;
}

const route = (method: HttpMethod, path: string): RouteSpec => ({ method, path });

/**
 * Every route, spelled out: no greedy `{proxy+}`, so "every route but one has the authorizer" is
 * a property the tests can check and API Gateway answers unknown paths itself. The API function
 * answers them all.
 */
export const ROUTES: readonly RouteSpec[] = [
  { method: HttpMethod.GET, path: '/openapi.json', public: true },
  route(HttpMethod.GET, '/connections'),
  route(HttpMethod.POST, '/connections'),
  route(HttpMethod.GET, '/connections/{id}'),
  route(HttpMethod.PATCH, '/connections/{id}'),
  route(HttpMethod.DELETE, '/connections/{id}'),
  route(HttpMethod.POST, '/connections/{id}/rotate-key'),
  route(HttpMethod.GET, '/exports'),
  route(HttpMethod.POST, '/exports'),
  route(HttpMethod.GET, '/exports/{id}'),
  route(HttpMethod.PUT, '/exports/{id}'),
  route(HttpMethod.DELETE, '/exports/{id}'),
  route(HttpMethod.POST, '/exports/{id}/duplicate'),
  route(HttpMethod.PUT, '/exports/{id}/schedule'),
  // Answers 202 {runId, estimate} once the run is recorded; the planner plans it from its queue.
  route(HttpMethod.POST, '/exports/{id}/runs'),
  route(HttpMethod.GET, '/exports/{id}/runs'),
  route(HttpMethod.GET, '/runs/{id}'),
  route(HttpMethod.POST, '/runs/{id}/cancel'),
  route(HttpMethod.POST, '/runs/{id}/approve'),
  route(HttpMethod.POST, '/runs/{id}/reject'),
  route(HttpMethod.POST, '/runs/{id}/retry-failed'),
  route(HttpMethod.POST, '/exports/{id}/contacts/{email}/resend'),
  route(HttpMethod.GET, '/segments'),
  route(HttpMethod.GET, '/me'),
  route(HttpMethod.GET, '/audit'),
];

export interface HttpApiProps {
  api: IFunction;
  /** Token issuer (Cognito: the user pool's provider URL). */
  jwtIssuer: string;
  /** Accepted `aud` (ID token) / `client_id` (access token) values. */
  jwtAudience: string[];
  alarmAction: IAlarmAction;
}

/** Stage-wide throttling: far above what a few operators click, far below what hurts the table. */
export const THROTTLE = { rateLimit: 50, burstLimit: 100 } as const;

/**
 * The management API: API Gateway HTTP API, JWT authorizer on every route but the OpenAPI
 * document, JSON access logs, stage throttling, and an alarm on 5xx answers.
 */
export class HttpApi extends Construct {
  readonly httpApi: HttpApiL2;
  readonly stage: HttpStage;
  readonly accessLogs: LogGroup;
  readonly serverErrorAlarm: Alarm;
  /** By route key, e.g. `GET /openapi.json`. */
  readonly routes = new Map<string, HttpRoute>();

  constructor(scope: Construct, id: string, props: HttpApiProps) {
    super(scope, id);
    const authorizer = new HttpJwtAuthorizer('Jwt', props.jwtIssuer, {
      jwtAudience: props.jwtAudience,
      identitySource: ['$request.header.Authorization'],
    });
    this.httpApi = new HttpApiL2(this, 'Api', {
      description: 'autopilot-export management API',
      createDefaultStage: false,
      defaultAuthorizer: authorizer,
    });
    this.accessLogs = new LogGroup(this, 'AccessLogs', { retention: RetentionDays.THREE_MONTHS });
    this.stage = new HttpStage(this, 'DefaultStage', {
      httpApi: this.httpApi,
      stageName: '$default',
      autoDeploy: true,
      throttle: THROTTLE,
      accessLogSettings: {
        destination: new LogGroupLogDestination(this.accessLogs),
        format: AccessLogFormat.custom(
          JSON.stringify({
            requestId: '$context.requestId',
            requestTime: '$context.requestTime',
            ip: '$context.identity.sourceIp',
            userAgent: '$context.identity.userAgent',
            routeKey: '$context.routeKey',
            status: '$context.status',
            responseLength: '$context.responseLength',
            latencyMs: '$context.responseLatency',
            integrationLatencyMs: '$context.integrationLatency',
            integrationError: '$context.integrationErrorMessage',
            authorizerError: '$context.authorizer.error',
            sub: '$context.authorizer.claims.sub',
          }),
        ),
      },
    });

    const integration = new HttpLambdaIntegration('ApiIntegration', props.api);
    for (const r of ROUTES) {
      const [created] = this.httpApi.addRoutes({
        path: r.path,
        methods: [r.method],
        integration,
        ...(r.public ? { authorizer: new HttpNoneAuthorizer() } : {}),
      });
      if (created) this.routes.set(`${r.method} ${r.path}`, created);
    }

    this.serverErrorAlarm = new Alarm(this, 'ServerErrorAlarm', {
      alarmDescription: 'The management API answered 5xx (see the API function logs and the access log).',
      metric: this.httpApi.metricServerError({
        period: Duration.minutes(5),
        statistic: 'Sum',
      }),
      threshold: 5,
      comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: TreatMissingData.NOT_BREACHING,
    });
    this.serverErrorAlarm.addAlarmAction(props.alarmAction);
    // Told when it clears too, so a recovery is said as plainly as the failure.
    this.serverErrorAlarm.addOkAction(props.alarmAction);
  }

  /** The route for `method path`; throws for a route this API does not declare. */
  route(method: string, path: string): HttpRoute {
    const found = this.routes.get(`${method} ${path}`);
    if (!found) throw new Error(`No route ${method} ${path}`);
    return found;
  }

  /** `https://<id>.execute-api.<region>.amazonaws.com` (the `$default` stage has no path). */
  get url(): string {
    return this.httpApi.apiEndpoint;
  }
}
