import { Match } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  segmentTableDefinition,
  stateTableDefinition,
  TTL_ATTRIBUTE,
} from '#lib/adapters/dynamodb/tables.ts';
import { GROUPS } from '../../cdk/constructs/identity.ts';
import { resourcesOf, type Synthesized, synthesize } from './support.ts';

let s: Synthesized;
beforeAll(() => {
  s = synthesize();
});

const tableProps = (logicalIdPrefix: string): Record<string, unknown> => {
  const found = Object.entries(resourcesOf(s.statefulTemplate, 'AWS::DynamoDB::Table')).find(([id]) =>
    id.startsWith(logicalIdPrefix),
  );
  if (!found) throw new Error(`no table ${logicalIdPrefix}`);
  return found[1].Properties as Record<string, unknown>;
};

describe('stateful stack: tables', () => {
  it('declares exactly the keys, attributes and GSI of lib/adapters/dynamodb/tables.ts', () => {
    const local = { state: stateTableDefinition('x'), segments: segmentTableDefinition('x') };
    const cloud = { state: tableProps('TablesState'), segments: tableProps('TablesSegments') };
    for (const name of ['state', 'segments'] as const) {
      expect(cloud[name].KeySchema).toEqual(local[name].KeySchema);
      expect(cloud[name].AttributeDefinitions).toEqual(
        expect.arrayContaining(local[name].AttributeDefinitions ?? []),
      );
      expect(cloud[name].AttributeDefinitions).toHaveLength(local[name].AttributeDefinitions?.length ?? 0);
      expect(cloud[name].GlobalSecondaryIndexes).toEqual(local[name].GlobalSecondaryIndexes);
      expect(cloud[name].BillingMode).toBe(local[name].BillingMode);
    }
  });

  it('encrypts both tables with KMS, keeps point-in-time recovery, and retains them', () => {
    const tables = resourcesOf(s.statefulTemplate, 'AWS::DynamoDB::Table');
    expect(Object.keys(tables)).toHaveLength(2);
    for (const table of Object.values(tables)) {
      // SSEEnabled without SSEType: KMS with the AWS-managed key aws/dynamodb.
      expect(table.Properties?.SSESpecification).toEqual({ SSEEnabled: true });
      expect(table.Properties?.PointInTimeRecoverySpecification).toEqual({
        PointInTimeRecoveryEnabled: true,
      });
      expect(table.Properties?.DeletionProtectionEnabled).toBe(true);
      expect(table.DeletionPolicy).toBe('Retain');
      expect(table.UpdateReplacePolicy).toBe('Retain');
    }
  });

  it('expires state items on the TTL attribute the state store writes', () => {
    expect(tableProps('TablesState').TimeToLiveSpecification).toEqual({
      AttributeName: TTL_ATTRIBUTE,
      Enabled: true,
    });
    expect(tableProps('TablesSegments').TimeToLiveSpecification).toBeUndefined();
  });
});

describe('stateful stack: identity', () => {
  it('creates a user pool with admins, contributors and viewers, MFA required (TOTP), no self sign-up', () => {
    s.statefulTemplate.hasResourceProperties('AWS::Cognito::UserPool', {
      MfaConfiguration: 'ON',
      EnabledMfas: ['SOFTWARE_TOKEN_MFA'],
      AdminCreateUserConfig: { AllowAdminCreateUserOnly: true },
      UserPoolTier: 'PLUS',
      UserPoolAddOns: { AdvancedSecurityMode: 'ENFORCED' },
      Policies: { PasswordPolicy: Match.objectLike({ MinimumLength: 12, RequireSymbols: true }) },
    });
    const groups = Object.values(resourcesOf(s.statefulTemplate, 'AWS::Cognito::UserPoolGroup')).map(
      (g) => g.Properties?.GroupName,
    );
    expect(groups.sort()).toEqual([...GROUPS].sort());
    s.statefulTemplate.hasResourceProperties('AWS::Cognito::UserPoolClient', {
      GenerateSecret: false,
      AllowedOAuthFlowsUserPoolClient: false,
      AllowedOAuthFlows: Match.absent(),
      CallbackURLs: Match.absent(),
    });
  });

  it('serves managed login on a domain named after the stack and account, or the configured prefix', () => {
    s.statefulTemplate.hasResourceProperties('AWS::Cognito::UserPoolDomain', {
      ManagedLoginVersion: 2,
      Domain: { 'Fn::Join': ['', ['autopilotexport-stateful-', { Ref: 'AWS::AccountId' }]] },
    });
    synthesize({ signInDomainPrefix: 'acme-exports' }).statefulTemplate.hasResourceProperties(
      'AWS::Cognito::UserPoolDomain',
      { Domain: 'acme-exports' },
    );
  });

  it('creates no user pool when an external OIDC issuer is configured', () => {
    const external = synthesize({
      oidcIssuer: 'https://login.example.com/',
      oidcAudience: 'autopilot-export',
      consoleClientId: 'console-spa',
    });
    external.statefulTemplate.resourceCountIs('AWS::Cognito::UserPool', 0);
    external.statefulTemplate.resourceCountIs('AWS::Cognito::UserPoolDomain', 0);
    external.statelessTemplate.resourceCountIs('AWS::Cognito::UserPoolClient', 0);
    external.statelessTemplate.hasResourceProperties('AWS::ApiGatewayV2::Authorizer', {
      AuthorizerType: 'JWT',
      JwtConfiguration: {
        Issuer: 'https://login.example.com/',
        Audience: ['autopilot-export', 'console-spa'],
      },
    });
  });
});
