import { Fn, Token } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import type { ConsoleConfig } from '../config.ts';
import type { ConsoleIdentity } from '../stacks/stateful-stack.ts';
import { ConsoleDeployment, type ConsoleRuntimeConfig } from './console-deployment.ts';
import { CONSOLE_SCOPES, ConsoleSignIn } from './console-sign-in.ts';
import { ConsoleSite } from './console-site.ts';

export interface ConsoleProps {
  apiEndpoint: string;
  identity: ConsoleIdentity;
  config: ConsoleConfig;
}

/** `https://host/path` → `https://host`, for a literal URL or a deploy-time one. */
export const originOf = (url: string): string =>
  Token.isUnresolved(url) ? Fn.join('', ['https://', Fn.select(2, Fn.split('/', url))]) : new URL(url).origin;

/**
 * The console in the cloud: the site (bucket and distribution, the API behind it), the console's
 * sign-in client (Cognito pool) or the configured one (external issuer), and the deployment of the
 * built console with its `/console/config.json`.
 */
export class Console extends Construct {
  readonly site: ConsoleSite;
  readonly signIn?: ConsoleSignIn;
  readonly deployment: ConsoleDeployment;
  /** The console's OIDC client id: the API accepts its tokens. */
  readonly clientId: string;
  readonly runtimeConfig: ConsoleRuntimeConfig;

  constructor(scope: Construct, id: string, props: ConsoleProps) {
    super(scope, id);
    const { identity } = props;
    // The console fetches the issuer's discovery document, and (Cognito) the token endpoint on the
    // managed login domain; nothing else leaves the console's origin.
    const connectSrc =
      identity.kind === 'cognito'
        ? [originOf(identity.issuer), identity.signInUrl]
        : [originOf(identity.issuer)];
    this.site = new ConsoleSite(this, 'Site', {
      apiEndpoint: props.apiEndpoint,
      connectSrc,
      config: props.config,
    });
    const redirectUri = `${this.site.url}/`;
    if (identity.kind === 'cognito') {
      this.signIn = new ConsoleSignIn(this, 'SignIn', {
        userPoolId: identity.userPoolId,
        consoleUrl: redirectUri,
      });
      this.clientId = this.signIn.client.userPoolClientId;
    } else {
      this.clientId = identity.clientId;
    }
    this.runtimeConfig = {
      auth: {
        kind: 'oidc',
        issuer: identity.issuer,
        clientId: this.clientId,
        redirectUri,
        scopes: [...CONSOLE_SCOPES],
      },
    };
    this.deployment = new ConsoleDeployment(this, 'Deployment', {
      site: this.site,
      config: this.runtimeConfig,
    });
  }

  get url(): string {
    return this.site.url;
  }
}
