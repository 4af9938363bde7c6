import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import {
  AccountRecovery,
  FeaturePlan,
  ManagedLoginVersion,
  Mfa,
  StandardThreatProtectionMode,
  UserPool,
  type UserPoolClient,
  type UserPoolDomain,
} from 'aws-cdk-lib/aws-cognito';
import { Construct } from 'constructs';

/** The groups the API maps to roles (the JWT's `cognito:groups` claim). */
export const GROUPS = ['admins', 'contributors', 'viewers'] as const;

/**
 * The default identity provider: a Cognito user pool for the few people who run exports. Admins
 * create users (no self sign-up); every user signs in with a strong password plus a TOTP app.
 * The Plus feature plan turns on threat protection (compromised-credential and risky sign-in
 * checks), which costs cents for a pool of operators.
 */
export interface IdentityProps {
  /** Prefix of the managed login domain, `https://<prefix>.auth.<region>.amazoncognito.com`. */
  signInDomainPrefix: string;
}

export class Identity extends Construct {
  readonly userPool: UserPool;
  readonly client: UserPoolClient;
  /** Managed login (the console's sign-in page); the console's app client is in the stateless stack. */
  readonly domain: UserPoolDomain;

  constructor(scope: Construct, id: string, props: IdentityProps) {
    super(scope, id);
    this.userPool = new UserPool(this, 'UserPool', {
      selfSignUpEnabled: false,
      signInAliases: { email: true },
      autoVerify: { email: true },
      signInCaseSensitive: false,
      mfa: Mfa.REQUIRED,
      mfaSecondFactor: { otp: true, sms: false },
      passwordPolicy: {
        minLength: 12,
        requireLowercase: true,
        requireUppercase: true,
        requireDigits: true,
        requireSymbols: true,
        tempPasswordValidity: Duration.days(3),
      },
      accountRecovery: AccountRecovery.EMAIL_ONLY,
      featurePlan: FeaturePlan.PLUS,
      standardThreatProtectionMode: StandardThreatProtectionMode.FULL_FUNCTION,
      deletionProtection: true,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    for (const [i, group] of GROUPS.entries()) {
      this.userPool.addGroup(`Group-${group}`, {
        groupName: group,
        precedence: i,
        description: `autopilot-export ${group}`,
      });
    }
    // A public client (no secret) for the CLI and browser; the API authorizer takes its id as audience.
    this.client = this.userPool.addClient('ApiClient', {
      generateSecret: false,
      // Tokens come from the Cognito API (CLI, SDK); no hosted UI, so no OAuth flows or callback URLs.
      disableOAuth: true,
      authFlows: { userSrp: true, userPassword: true },
      preventUserExistenceErrors: true,
      accessTokenValidity: Duration.hours(1),
      idTokenValidity: Duration.hours(1),
      refreshTokenValidity: Duration.days(30),
      enableTokenRevocation: true,
    });
    this.domain = this.userPool.addDomain('SignIn', {
      cognitoDomain: { domainPrefix: props.signInDomainPrefix },
      managedLoginVersion: ManagedLoginVersion.NEWER_MANAGED_LOGIN,
    });
  }
}
