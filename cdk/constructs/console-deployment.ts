import { join } from 'node:path';
import { AssetHashType, DockerImage, RemovalPolicy, Stack } from 'aws-cdk-lib';
import { type IRole, Policy, PolicyStatement, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import {
  BucketDeployment,
  CacheControl,
  type ISource,
  Source,
  type SourceConfig,
} from 'aws-cdk-lib/aws-s3-deployment';
import { Construct, type IConstruct } from 'constructs';
import { buildConsoleSiteSync } from '../../scripts/build-console.ts';
import { REPO_ROOT } from './bundling.ts';
import type { ConsoleSite } from './console-site.ts';

/** Where the console reads how to sign in (`GET /console/config.json`). */
export const CONSOLE_CONFIG_KEY = 'console/config.json';

/** `/console/config.json` in the cloud; locally, local/console-assets.ts answers `{"auth":{"kind":"local"}}`. */
export interface ConsoleRuntimeConfig {
  auth: { kind: 'oidc'; issuer: string; clientId: string; redirectUri: string; scopes: string[] };
}

export interface ConsoleDeploymentProps {
  site: ConsoleSite;
  config: ConsoleRuntimeConfig;
}

/**
 * Puts the built console and its config.json into the site's bucket on every deploy, then
 * invalidates the distribution (the files keep their names from deploy to deploy).
 *
 * CDK's BucketDeployment grants its handler `s3:GetObject*`/`List*`/`GetBucket*` on the whole asset
 * bucket, read-write on the site bucket, and CloudFront invalidation on `*`. Here its role is handed
 * over immutable, so none of that is added, and the one policy below names exactly what the handler
 * does: read the two source objects, sync and empty the site bucket, invalidate this distribution.
 */
export class ConsoleDeployment extends Construct {
  readonly role: Role;
  readonly policy: Policy;
  readonly logGroup: LogGroup;
  readonly deployment: BucketDeployment;
  /** The sources as the handler reads them: asset bucket and zip key of each. */
  readonly sources: SourceConfig[];

  constructor(scope: Construct, id: string, props: ConsoleDeploymentProps) {
    super(scope, id);
    const { site } = props;
    this.role = new Role(this, 'Role', {
      assumedBy: new ServicePrincipal('lambda.amazonaws.com'),
      description: 'autopilot-export console deployment (copies the console into its bucket)',
    });
    this.logGroup = new LogGroup(this, 'Logs', {
      retention: RetentionDays.ONE_MONTH,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    this.logGroup.grantWrite(this.role);
    const fixedRole: IRole = this.role.withoutPolicyUpdates();

    // Bound here rather than by BucketDeployment, so the policy can name each source object.
    const holder = new Construct(this, 'Sources');
    this.sources = [consoleFiles(), Source.jsonData(CONSOLE_CONFIG_KEY, props.config, { escape: true })].map(
      (source) => source.bind(holder, { handlerRole: fixedRole }),
    );
    const bound: ISource[] = this.sources.map((config) => ({ bind: () => config }));

    this.policy = new Policy(this, 'Policy', {
      roles: [this.role],
      statements: [
        new PolicyStatement({
          actions: ['s3:GetObject'],
          resources: this.sources.map((s) => s.bucket.arnForObjects(s.zipObjectKey)),
        }),
        new PolicyStatement({
          actions: ['s3:ListBucket', 's3:GetBucketTagging'],
          resources: [site.files.bucketArn],
        }),
        new PolicyStatement({
          actions: ['s3:PutObject', 's3:DeleteObject'],
          resources: [site.files.arnForObjects('*')],
        }),
        new PolicyStatement({
          actions: ['cloudfront:CreateInvalidation', 'cloudfront:GetInvalidation'],
          resources: [site.distribution.distributionArn],
        }),
      ],
    });

    this.deployment = new BucketDeployment(this, 'Deploy', {
      sources: bound,
      destinationBucket: site.files,
      distribution: site.distribution,
      distributionPaths: ['/*'],
      // Browsers revalidate every file (ETag), as with `npm run serve`: app.js keeps its name.
      cacheControl: [CacheControl.noCache()],
      // The bucket is removed with the stack; it must be emptied first.
      retainOnDelete: false,
      memoryLimit: 256,
      role: fixedRole,
      logGroup: this.logGroup,
    });
    // The handler must not run before its permissions exist.
    this.deployment.node.addDependency(this.role, this.policy);
  }

  /** CDK's shared BucketDeployment handler (one per stack, at the stack's root). */
  get handler(): IConstruct {
    const found = Stack.of(this).node.children.find((c) =>
      c.node.id.startsWith('Custom::CDKBucketDeployment'),
    );
    if (!found) throw new Error('BucketDeployment created no handler');
    return found;
  }
}

/** The console built by this repository's esbuild (never Docker), laid out as the site serves it. */
const consoleFiles = (): ISource =>
  Source.asset(join(REPO_ROOT, 'console'), {
    assetHashType: AssetHashType.OUTPUT,
    bundling: {
      // Required by the type, never pulled: local bundling always succeeds or throws.
      image: DockerImage.fromRegistry('public.ecr.aws/docker/library/node:24-slim'),
      local: {
        tryBundle: (outputDir: string) => {
          buildConsoleSiteSync(outputDir);
          return true;
        },
      },
    },
  });
