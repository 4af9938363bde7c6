import { Duration } from 'aws-cdk-lib';
import {
  CfnManagedLoginBranding,
  OAuthScope,
  UserPool,
  UserPoolClient,
  UserPoolClientIdentityProvider,
} from 'aws-cdk-lib/aws-cognito';
import { Construct } from 'constructs';

/** What the console asks for: who the user is, nothing more (roles come from the token's groups). */
export const CONSOLE_SCOPES = ['openid', 'email', 'profile'] as const;

export interface ConsoleSignInProps {
  /** The stateful stack's pool, by its exported id. */
  userPoolId: string;
  /** The console's URL (`https://…/`): the only callback and sign-out destination. */
  consoleUrl: string;
}

/**
 * The console's app client at the stack's Cognito pool: public (no secret, the code runs in the
 * browser), authorization code grant only, redirects only to the console itself. Cognito checks a PKCE
 * verifier whenever the authorization request carried a challenge, but cannot require one of a
 * client: the console always sends an S256 challenge (console/auth). It lives
 * beside the distribution because its callback is the distribution's URL, and the pool must not
 * depend on the replaceable stack.
 */
export class ConsoleSignIn extends Construct {
  readonly client: UserPoolClient;
  readonly branding: CfnManagedLoginBranding;

  constructor(scope: Construct, id: string, props: ConsoleSignInProps) {
    super(scope, id);
    const userPool = UserPool.fromUserPoolId(this, 'UserPool', props.userPoolId);
    this.client = new UserPoolClient(this, 'Client', {
      userPool,
      userPoolClientName: 'autopilot-export console',
      generateSecret: false,
      // No password or SRP flows from the browser: sign-in happens on the managed login pages.
      authFlows: {},
      oAuth: {
        flows: { authorizationCodeGrant: true, implicitCodeGrant: false, clientCredentials: false },
        scopes: [OAuthScope.OPENID, OAuthScope.EMAIL, OAuthScope.PROFILE],
        callbackUrls: [props.consoleUrl],
        logoutUrls: [props.consoleUrl],
      },
      supportedIdentityProviders: [UserPoolClientIdentityProvider.COGNITO],
      preventUserExistenceErrors: true,
      accessTokenValidity: Duration.hours(1),
      idTokenValidity: Duration.hours(1),
      // The console keeps tokens in memory only and renews nothing; a short refresh token is enough.
      refreshTokenValidity: Duration.hours(12),
      enableTokenRevocation: true,
    });
    // Managed login (version 2) serves an app client's pages only once a style is assigned to it.
    this.branding = new CfnManagedLoginBranding(this, 'Branding', {
      userPoolId: props.userPoolId,
      clientId: this.client.userPoolClientId,
      useCognitoProvidedValues: true,
    });
  }
}
