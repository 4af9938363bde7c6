import { CAP_POLICY_TEXT, MEMBERSHIP_TEXT, ON_LEAVE_TEXT, whenText } from '../components/export-labels.ts';
import type { ExportView } from '../components/export-model.ts';
import { REPAIR_WORDS, repairSettingText, repairTargetOf } from '../components/repair-text.ts';

const n = (value: number): string => value.toLocaleString('en-US');

/** An export's settings, read-only, with segment names where the segment source knows them. */
export const ExportSettings = ({
  exp,
  segmentNames,
}: {
  exp: ExportView;
  segmentNames: Map<string, string>;
}) => {
  const m = exp.dataMatching;
  const repair = repairTargetOf(exp.membership);
  return (
    <dl class="facts">
      <dt>Connection</dt>
      <dd>{exp.connection?.displayName ?? 'None (detached)'}</dd>
      <dt>Segments</dt>
      <dd>{exp.segmentIds.map((id) => segmentNames.get(id) ?? id).join(', ')}</dd>
      <dt>Email</dt>
      <dd>{m.email}</dd>
      <dt>Standard fields</dt>
      <dd>
        {Object.keys(m.fields).length === 0
          ? 'None'
          : Object.entries(m.fields)
              .map(([field, source]) => `${field} ← ${source}`)
              .join(', ')}
      </dd>
      <dt>Custom fields</dt>
      <dd>
        {m.custom.length === 0
          ? 'None'
          : m.custom.map((c) => `${c.name} (${c.type}) ← ${c.source}`).join(', ')}
      </dd>
      <dt>Last-update attribute</dt>
      <dd>{m.updatedAt ?? 'None'}</dd>
      <dt>Membership</dt>
      <dd>{MEMBERSHIP_TEXT[exp.membership]}</dd>
      <dt>When a contact leaves</dt>
      <dd>{ON_LEAVE_TEXT[exp.onLeave]}</dd>
      {repair === undefined ? null : (
        <>
          <dt>{REPAIR_WORDS[repair].setting}</dt>
          <dd>{repairSettingText(repair, exp.repair)}</dd>
        </>
      )}
      <dt>Cap</dt>
      <dd>
        {n(exp.cap)} contacts; over it: {CAP_POLICY_TEXT[exp.capPolicy]}
      </dd>
      <dt>Schedule</dt>
      <dd>{exp.scheduled ? 'On' : 'Off'}</dd>
      <dt>Last changed</dt>
      <dd>
        {whenText(exp.updatedAt)} by {exp.updatedBy}
      </dd>
    </dl>
  );
};
