import { MEMBERSHIP_TEXT, ON_LEAVE_TEXT } from './export-labels.ts';
import { count, matchingLines, type Run } from './run-format.ts';

/**
 * What this run was set up to do, from the configuration frozen when it started (an edit of the
 * export since does not show here). A run recorded before runs kept it shows what it still knows.
 */
export const RunSettingsFacts = ({ run }: { run: Run }) => {
  const config = run.config;
  const sizes = new Map((run.planning?.segments ?? []).map((s) => [s.id, s]));
  const segmentText = (id: string): string => {
    const s = sizes.get(id);
    return s === undefined ? id : `${s.name} (${count(s.profiles)} profiles)`;
  };
  if (config === null) {
    return (
      <>
        <dt>Membership</dt>
        <dd>{run.progress.unit === 'memberships' ? MEMBERSHIP_TEXT.list : MEMBERSHIP_TEXT.field}</dd>
        <dt>Segments</dt>
        <dd>
          {run.planning === null
            ? 'Known once planning has read them'
            : run.planning.segments.map((s) => segmentText(s.id)).join(', ')}
        </dd>
      </>
    );
  }
  return (
    <>
      <dt>Segments</dt>
      <dd>{config.segmentIds.map(segmentText).join(', ')}</dd>
      <dt>Membership</dt>
      <dd>{MEMBERSHIP_TEXT[config.membership]}</dd>
      <dt>Contacts who leave a segment</dt>
      <dd>{ON_LEAVE_TEXT[config.onLeave]}</dd>
      <dt>Data matching</dt>
      <dd>
        <ul>
          {matchingLines(config.dataMatching).map((line) => (
            <li key={line}>{line}</li>
          ))}
        </ul>
      </dd>
    </>
  );
};
