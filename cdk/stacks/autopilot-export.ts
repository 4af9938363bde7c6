import { type App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { type DeployConfig, readDeployConfig } from '../config.ts';
import { acknowledgeNagFindings } from './nag.ts';
import { StatefulStack } from './stateful-stack.ts';
import { StatelessStack } from './stateless-stack.ts';

export const STACK_IDS = {
  stateful: 'AutopilotExport-Stateful',
  stateless: 'AutopilotExport-Stateless',
} as const;

export interface AutopilotExportApp {
  config: DeployConfig;
  stateful: StatefulStack;
  stateless: StatelessStack;
}

/**
 * The whole system on an App: config from context, both stacks (environment-agnostic: no
 * lookups, so synth needs no credentials), and cdk-nag's AwsSolutions checks, which fail the
 * synth on any finding not acknowledged with a reason.
 */
export const defineAutopilotExport = (app: App): AutopilotExportApp => {
  const config = readDeployConfig(app);
  const description = 'autopilot-export: segment exports into Autopilot';
  const stateful = new StatefulStack(app, STACK_IDS.stateful, {
    config,
    description: `${description} (data)`,
  });
  const stateless = new StatelessStack(app, STACK_IDS.stateless, {
    config,
    description: `${description} (compute)`,
    stateTable: stateful.stateTable,
    segmentTable: stateful.segmentTable,
    segmentBucket: stateful.segmentBucket,
    jwt: stateful.jwt,
    consoleIdentity: stateful.signIn,
  });
  // Values cross by named exports (cdk/stacks/stateful-stack.ts), which CDK does not track as a dependency.
  stateless.addStackDependency(stateful);
  acknowledgeNagFindings({ stateful, stateless });
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  return { config, stateful, stateless };
};
