import { describeTarget, membershipTargets, oneOwnerAdvice } from '#lib/domain/membership-targets.ts';
import { endRun } from '../run-lifecycle.ts';
import type { Context } from './context.ts';

/**
 * Each list, membership field or tag belongs to one export per connection. A run reserves its targets
 * (a dry run only looks) and fails, before reading anything, when another export holds one: two
 * exports writing one list would remove each other's contacts.
 */
export const targetsTaken = async (ctx: Context): Promise<boolean> => {
  const { deps, run, exp, connection } = ctx;
  const targets = membershipTargets(exp, ctx.segments);
  const conflicts =
    run.trigger === 'dry-run'
      ? (await deps.targets.owners(connection.id, targets)).flatMap((owner, i) => {
          const t = targets[i];
          return owner !== undefined && owner !== exp.id && t !== undefined ? [{ ...t, owner }] : [];
        })
      : await deps.targets.claim(connection.id, exp.id, targets);
  if (conflicts.length === 0) return false;
  const names = conflicts.map((c) => `${describeTarget(c)} (used by export ${c.owner})`).join(', ');
  await endRun(
    deps,
    run,
    'failed',
    `This export shares ${names} with another export on the same connection. ${oneOwnerAdvice(exp.membership)}`,
  );
  return true;
};
