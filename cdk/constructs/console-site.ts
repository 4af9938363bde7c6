import { Duration, Fn, RemovalPolicy } from 'aws-cdk-lib';
import { Certificate } from 'aws-cdk-lib/aws-certificatemanager';
import {
  AllowedMethods,
  type BehaviorOptions,
  CachePolicy,
  Distribution,
  HeadersFrameOption,
  HeadersReferrerPolicy,
  HttpVersion,
  OriginProtocolPolicy,
  OriginRequestPolicy,
  PriceClass,
  ResponseHeadersPolicy,
  SecurityPolicyProtocol,
  ViewerProtocolPolicy,
} from 'aws-cdk-lib/aws-cloudfront';
import { HttpOrigin, S3BucketOrigin } from 'aws-cdk-lib/aws-cloudfront-origins';
import { BlockPublicAccess, Bucket, BucketEncryption, ObjectOwnership } from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { CONSOLE_SECURITY_HEADERS, contentSecurityPolicy } from '../../console/security-headers.ts';
import type { ConsoleConfig } from '../config.ts';
import { ROUTES } from './http-api.ts';

export interface ConsoleSiteProps {
  /** The HTTP API's endpoint, `https://<id>.execute-api.<region>.amazonaws.com`. */
  apiEndpoint: string;
  /** Origins the console fetches besides its own (the OIDC issuer and its token endpoint). */
  connectSrc: string[];
  config: ConsoleConfig;
}

/** HSTS for two years: the site is HTTPS-only and never goes back. */
export const HSTS_MAX_AGE = Duration.days(730);

/**
 * CloudFront path patterns that go to the API: one per first path segment of its routes
 * (`/connections*` covers `/connections` and `/connections/{id}/rotate-key`). Derived from the
 * routes, so a new resource is served through the console's origin without another list to edit.
 */
export const apiPathPatterns = (routes: ReadonlyArray<{ path: string }> = ROUTES): string[] => {
  const segments = new Set(routes.map((r) => r.path.split('/')[1] ?? ''));
  return [...segments]
    .filter((s) => s !== '')
    .sort()
    .map((s) => (s.includes('.') ? `/${s}` : `/${s}*`));
};

/**
 * The web console in the cloud: its files in a private bucket that only this distribution can read
 * (origin access control), and the management API as a second origin of the same distribution, so
 * the console calls the API same-origin (no CORS). Every answer carries the console's security
 * headers (console/security-headers.ts, the same the local server sends) plus HSTS.
 */
export class ConsoleSite extends Construct {
  readonly files: Bucket;
  readonly logs: Bucket;
  readonly distribution: Distribution;
  readonly headers: ResponseHeadersPolicy;
  /** `https://<custom domain or distribution domain>`, no trailing slash. */
  readonly url: string;

  constructor(scope: Construct, id: string, props: ConsoleSiteProps) {
    super(scope, id);
    // Access logs of the distribution and of the files bucket. CloudFront's standard logs are
    // written with ACLs, hence object-writer ownership on this bucket (and only on it).
    this.logs = new Bucket(this, 'Logs', {
      blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
      encryption: BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      objectOwnership: ObjectOwnership.OBJECT_WRITER,
      lifecycleRules: [{ expiration: Duration.days(90) }],
      removalPolicy: RemovalPolicy.RETAIN,
    });
    this.files = new Bucket(this, 'Files', {
      blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
      encryption: BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      objectOwnership: ObjectOwnership.BUCKET_OWNER_ENFORCED,
      serverAccessLogsBucket: this.logs,
      serverAccessLogsPrefix: 'files-bucket/',
      // Built files only: the deployment puts them back on every deploy and removes them on delete.
      removalPolicy: RemovalPolicy.DESTROY,
    });

    this.headers = new ResponseHeadersPolicy(this, 'SecurityHeaders', {
      comment: 'autopilot-export console: the same headers as npm run serve, plus HSTS',
      securityHeadersBehavior: {
        contentSecurityPolicy: {
          contentSecurityPolicy: contentSecurityPolicy({ connectSrc: props.connectSrc }),
          override: true,
        },
        contentTypeOptions: { override: true },
        frameOptions: { frameOption: HeadersFrameOption.DENY, override: true },
        referrerPolicy: {
          referrerPolicy: referrerPolicyOf(CONSOLE_SECURITY_HEADERS['referrer-policy']),
          override: true,
        },
        strictTransportSecurity: {
          accessControlMaxAge: HSTS_MAX_AGE,
          includeSubdomains: true,
          override: true,
        },
      },
    });

    // `https://host` → `host`.
    const apiHost = Fn.select(2, Fn.split('/', props.apiEndpoint));
    const toApi: BehaviorOptions = {
      origin: new HttpOrigin(apiHost, { protocolPolicy: OriginProtocolPolicy.HTTPS_ONLY }),
      viewerProtocolPolicy: ViewerProtocolPolicy.HTTPS_ONLY,
      allowedMethods: AllowedMethods.ALLOW_ALL,
      // Never cached: every answer depends on the caller. With caching off, this policy forwards
      // the Authorization header and every viewer header but Host, which API Gateway must not see
      // (AWS re:Post, "How can I configure CloudFront to forward the Authorization header").
      cachePolicy: CachePolicy.CACHING_DISABLED,
      originRequestPolicy: OriginRequestPolicy.ALL_VIEWER_EXCEPT_HOST_HEADER,
      responseHeadersPolicy: this.headers,
    };

    const { domain, webAclArn } = props.config;
    this.distribution = new Distribution(this, 'Distribution', {
      comment: 'autopilot-export console and API',
      defaultRootObject: 'index.html',
      defaultBehavior: {
        origin: S3BucketOrigin.withOriginAccessControl(this.files),
        viewerProtocolPolicy: ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
        cachePolicy: CachePolicy.CACHING_OPTIMIZED,
        responseHeadersPolicy: this.headers,
      },
      additionalBehaviors: Object.fromEntries(apiPathPatterns().map((pattern) => [pattern, toApi])),
      httpVersion: HttpVersion.HTTP2_AND_3,
      // A security policy takes a custom certificate: with the default *.cloudfront.net one,
      // CloudFront fixes it at TLSv1 (acknowledged in cdk/stacks/nag.ts).
      ...(domain
        ? {
            domainNames: [domain.name],
            minimumProtocolVersion: SecurityPolicyProtocol.TLS_V1_2_2021,
            certificate: Certificate.fromCertificateArn(this, 'Certificate', domain.certificateArn),
          }
        : {}),
      ...(webAclArn ? { webAclId: webAclArn } : {}),
      priceClass: PriceClass.PRICE_CLASS_100,
      enableLogging: true,
      logBucket: this.logs,
      logFilePrefix: 'distribution/',
    });
    this.url = `https://${domain?.name ?? this.distribution.distributionDomainName}`;
  }
}

const referrerPolicyOf = (value: string | undefined): HeadersReferrerPolicy => {
  const found = Object.values(HeadersReferrerPolicy).find((p) => p === value);
  if (found === undefined) throw new Error(`Unknown referrer policy ${value}`);
  return found;
};
