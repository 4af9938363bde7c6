import { authorize, type Caller } from '#lib/domain/access.ts';
import { ConflictError } from '#lib/domain/errors.ts';
import type { ExportConfig } from '#lib/domain/export-config.ts';
import { describeTarget, membershipTargets, oneOwnerAdvice } from '#lib/domain/membership-targets.ts';
import type { Exports } from '#lib/ports/exports.ts';
import type { SegmentInfo } from '#lib/ports/segment-source.ts';
import type { TargetOwners } from '#lib/ports/target-owners.ts';

/**
 * Reserves the export's lists (membership fields, tags) on its connection, so a second export naming
 * the same list is refused when it is saved: two exports writing one list remove each other's
 * contacts. The answer names the export that holds it.
 */
export const reserveTargets = async (
  deps: { targets: Pick<TargetOwners, 'claim'>; exports: Pick<Exports, 'get'> },
  exportId: string,
  config: ExportConfig,
  segments: readonly SegmentInfo[],
): Promise<void> => {
  if (config.connectionId === null) return;
  const conflicts = await deps.targets.claim(
    config.connectionId,
    exportId,
    membershipTargets(config, segments),
  );
  if (conflicts.length === 0) return;
  const holders = await Promise.all(conflicts.map((c) => deps.exports.get(c.owner)));
  const what = conflicts
    .map((c, i) => `${describeTarget(c)} belongs to export "${holders[i]?.name ?? c.owner}" (${c.owner})`)
    .join('; ');
  throw new ConflictError(`${what}. ${oneOwnerAdvice(config.membership)}`, {
    code: 'target_in_use',
    targets: conflicts,
  });
};

/** After a save: gives up what the export no longer uses (on its old connection, everything). */
export const releaseUnused = async (
  targets: Pick<TargetOwners, 'release'>,
  exportId: string,
  before: { connectionId: string | null },
  after: { config: ExportConfig; segments: readonly SegmentInfo[] },
): Promise<void> => {
  const { config, segments } = after;
  if (before.connectionId !== null && before.connectionId !== config.connectionId) {
    await targets.release(before.connectionId, exportId);
  }
  if (config.connectionId !== null) {
    await targets.release(config.connectionId, exportId, membershipTargets(config, segments));
  }
};

/**
 * Letting an export take over a list this product did not create (and remove its other members) is an
 * admin's decision: a contributor may keep the setting as it is, never turn it on.
 */
export const authorizeAdoption = (caller: Caller, wanted: boolean, stored: boolean): void => {
  if (wanted && !stored) authorize(caller, 'connection:manage');
};
