import { App } from 'aws-cdk-lib';
import { defineAutopilotExport } from './stacks/autopilot-export.ts';

defineAutopilotExport(new App());
