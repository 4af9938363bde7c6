import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { App, type CfnElement, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import type { IConstruct } from 'constructs';
import { REPO_ROOT } from '../../cdk/constructs/bundling.ts';
import { type AutopilotExportApp, defineAutopilotExport } from '../../cdk/stacks/autopilot-export.ts';

/** The context cdk.json gives the CLI (feature flags), so tests synthesize what `cdk synth` does. */
const cdkJsonContext = (): Record<string, unknown> =>
  (JSON.parse(readFileSync(join(REPO_ROOT, 'cdk.json'), 'utf8')) as { context?: Record<string, unknown> })
    .context ?? {};

export interface Synthesized extends AutopilotExportApp {
  app: App;
  statefulTemplate: Template;
  statelessTemplate: Template;
}

/** The whole app with extra context (`-c` values); bundling skipped so it takes about a second. */
export const buildApp = (context: Record<string, unknown> = {}): AutopilotExportApp & { app: App } => {
  const app = new App({ context: { ...cdkJsonContext(), 'aws:cdk:bundling-stacks': [], ...context } });
  return { app, ...defineAutopilotExport(app) };
};

export const synthesize = (context: Record<string, unknown> = {}): Synthesized => {
  const built = buildApp(context);
  return {
    ...built,
    statefulTemplate: Template.fromStack(built.stateful),
    statelessTemplate: Template.fromStack(built.stateless),
  };
};

type Resources = Record<string, { Type: string; Properties?: Record<string, unknown>; [k: string]: unknown }>;

export const resourcesOf = (template: Template, type?: string): Resources => {
  const all = template.toJSON().Resources as Resources;
  return Object.fromEntries(Object.entries(all).filter(([, r]) => type === undefined || r.Type === type));
};

/** The logical id of an L2 construct's CloudFormation resource. */
export const idOf = (construct: IConstruct): string =>
  Stack.of(construct).getLogicalId(construct.node.defaultChild as CfnElement);

export interface Statement {
  Effect: string;
  Action: string | string[];
  Resource?: unknown;
  NotAction?: unknown;
  NotResource?: unknown;
  Principal?: unknown;
  Condition?: unknown;
}

export const asArray = <T>(v: T | T[] | undefined): T[] =>
  v === undefined ? [] : Array.isArray(v) ? v : [v];

/** Identity-policy statements by the role (logical id) they are attached to. */
export const identityStatements = (template: Template): Map<string, Statement[]> => {
  const byRole = new Map<string, Statement[]>();
  const add = (role: unknown, statements: Statement[]): void => {
    const id = (role as { Ref?: string }).Ref ?? JSON.stringify(role);
    byRole.set(id, [...(byRole.get(id) ?? []), ...statements]);
  };
  for (const policy of Object.values(resourcesOf(template, 'AWS::IAM::Policy'))) {
    const props = policy.Properties as { Roles?: unknown[]; PolicyDocument: { Statement: Statement[] } };
    for (const role of props.Roles ?? []) add(role, props.PolicyDocument.Statement);
  }
  for (const [id, role] of Object.entries(resourcesOf(template, 'AWS::IAM::Role'))) {
    const inline = (role.Properties?.Policies ?? []) as { PolicyDocument: { Statement: Statement[] } }[];
    for (const p of inline) add({ Ref: id }, p.PolicyDocument.Statement);
  }
  return byRole;
};

/** Every action a role may perform, with the resources, flattened. */
export const grantsOf = (statements: Statement[]): { action: string; resource: unknown }[] =>
  statements
    .filter((s) => s.Effect === 'Allow')
    .flatMap((s) =>
      asArray(s.Action).flatMap((action) => asArray(s.Resource).map((resource) => ({ action, resource }))),
    );
