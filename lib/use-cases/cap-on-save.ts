import { ValidationError } from '#lib/domain/errors.ts';
import type { ExportConfig } from '#lib/domain/export-config.ts';
import { checkSelection, type SelectionDeps } from './segment-selection.ts';

const n = (value: number): string => value.toLocaleString('en-US');

/**
 * Refuses to save a selection a run is known to fail on: the export fails over the cap (policy
 * `fail`) and a selected segment alone holds more profiles than the cap a run applies (the lower of
 * the export's and its connection's). Segments that only together exceed it are saved: profiles
 * shared between them or invalid may still fit, which only a run can tell.
 */
export const refuseKnownOverCap = async (
  deps: Pick<SelectionDeps, 'segments' | 'connections'>,
  config: Pick<ExportConfig, 'segmentIds' | 'connectionId' | 'cap' | 'capPolicy'>,
): Promise<void> => {
  if (config.capPolicy !== 'fail' || config.segmentIds.length === 0) return;
  const { segments, selection } = await checkSelection(deps, {
    segmentIds: config.segmentIds,
    connectionId: config.connectionId ?? undefined,
    cap: config.cap,
  });
  if (selection?.verdict !== 'exceeds_cap') return;
  const { cap } = selection;
  const over = segments
    .filter((s) => config.segmentIds.includes(s.id) && s.profiles > cap)
    .map(
      (s) =>
        `"${s.name}" (${s.id}) has ${n(s.profiles)} profiles, ${n(s.profiles - cap)} over the cap of ${n(cap)}`,
    );
  throw new ValidationError([
    {
      path: 'segmentIds',
      reason:
        `${over.join('; ')}: a run would fail on the cap. Choose smaller segments, or send up to the cap ` +
        '(capPolicy "truncate").',
    },
  ]);
};
