import { problem } from '#functions/shared/http/problems.ts';
import { json, param, problems } from '#functions/shared/http/route-helpers.ts';
import type { RunRecord } from '#lib/domain/run-record.ts';
import type { AuditDeps } from '#lib/use-cases/audit.ts';
import { runPermissionsFor } from '#lib/use-cases/export-access.ts';
import { runGoverningConnections } from '#lib/use-cases/manage-runs.ts';
import { resendContact } from '#lib/use-cases/resend.ts';
import { retryFailed } from '#lib/use-cases/retry-failed.ts';
import type { StartRunDeps, StartRunResult } from '#lib/use-cases/start-run.ts';
import type { ApiDeps } from './deps.ts';
import type { Route, RouteContext } from './route.ts';
import { RunViewSchema, runView } from './run-view.ts';

const startDeps = (deps: ApiDeps): StartRunDeps & AuditDeps => ({
  ...deps,
  ...deps.state,
  destinations: deps.destinations,
  newId: () => deps.newId('run'),
});

/** 202 with the run, or 409 naming the active run, as `POST /exports/{id}/runs` answers. */
const answer = async (ctx: RouteContext, result: StartRunResult) => {
  const run: RunRecord = result.run;
  const links = { run: `/runs/${run.id}` };
  if (!result.started) {
    const detail = run.reason ?? 'Another run of this export is in progress.';
    return problem(409, detail, { runId: run.id, links });
  }
  const permissions = runPermissionsFor(ctx.caller, await runGoverningConnections(ctx.deps.state, run));
  return json(202, runView(run, [], ctx.deps.clock.now(), permissions));
};

/** Runs that name their contacts (docs/architecture.md#re-send-and-retry). */
export const resendRoutes: Route[] = [
  {
    method: 'POST',
    path: '/exports/{id}/contacts/{email}/resend',
    operationId: 'resendContact',
    summary:
      'Send one contact’s current data and every membership it has now (a small run of the export, 202 at ' +
      'once); the email is never echoed back',
    action: 'run:start',
    responses: [
      { status: 202, description: 'Started: the run', schema: RunViewSchema },
      ...problems(400, 401, 403, 404, 409),
    ],
    handle: async (ctx) =>
      answer(
        ctx,
        await resendContact(startDeps(ctx.deps), param(ctx, 'id'), param(ctx, 'email'), ctx.caller),
      ),
  },
  {
    method: 'POST',
    path: '/runs/{id}/retry-failed',
    operationId: 'retryFailedContacts',
    summary:
      'Send again exactly the contacts that failed in an ended run (at most 1,000), as a new run of its export ' +
      'that records `retryOf`',
    action: 'run:start',
    responses: [
      { status: 202, description: 'Started: the run', schema: RunViewSchema },
      ...problems(401, 403, 404, 409),
    ],
    handle: async (ctx) =>
      answer(
        ctx,
        await retryFailed(
          { ...startDeps(ctx.deps), batches: ctx.deps.state.batches },
          param(ctx, 'id'),
          ctx.caller,
        ),
      ),
  },
];
