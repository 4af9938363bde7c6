import { fieldError, type Problem } from '../api/problems.ts';
import { estimateText } from './export-labels.ts';
import type { ExportForm, MembershipMode } from './export-model.ts';
import { FieldError } from './form.tsx';
import { GuardrailFields } from './guardrail-fields.tsx';
import { RepairFields } from './repair-fields.tsx';
import { repairTargetOf } from './repair-text.ts';

type Options = Pick<ExportForm, 'membership' | 'onLeave' | 'capPolicy' | 'guardrail' | 'repair'>;
type Choice = Exclude<keyof Options, 'guardrail' | 'repair'>;

const Radios = <K extends Choice>({
  name,
  legend,
  value,
  choices,
  onChange,
  error,
}: {
  name: K;
  legend: string;
  value: Options[K];
  choices: ReadonlyArray<[Options[K], string, string?]>;
  onChange: (value: Options[K]) => void;
  error: string | undefined;
}) => (
  <fieldset class="field" aria-describedby={error === undefined ? undefined : `${name}-error`}>
    <legend>{legend}</legend>
    {choices.map(([v, label, hint]) => (
      <div key={v} class="choice">
        <input
          type="radio"
          id={`${name}-${v}`}
          name={name}
          value={v}
          checked={value === v}
          onChange={() => onChange(v)}
        />
        <label for={`${name}-${v}`}>
          {label}
          {hint === undefined ? null : <span class="hint"> ({hint})</span>}
        </label>
      </div>
    ))}
    <FieldError id={`${name}-error`} message={error} />
  </fieldset>
);

const MODE_CHOICES: Record<MembershipMode, string> = {
  list: 'A list per segment (each segment’s contacts join its own list)',
  field: 'A field per segment (a true/false custom field on each contact)',
  tag: 'A tag per segment (each segment’s contacts carry its own tag)',
};

/**
 * How membership reaches the destination (only the modes it has are offered), what happens to
 * leavers, and what a run does over the cap.
 */
export const ExportOptions = ({
  value,
  onChange,
  problem,
  estimates,
  modes,
  destination,
}: {
  value: Options;
  onChange: (next: Options) => void;
  problem: Problem | undefined;
  /** Each offered mode's upper-bound price for the selected segments, when the API gave one. */
  estimates: Partial<Record<MembershipMode, { requests: number; seconds: number }>> | undefined;
  modes: readonly MembershipMode[];
  /** The chosen connection's platform ("Autopilot", "Ortto"); undefined while none is chosen. */
  destination: string | undefined;
}) => {
  const repairTarget = repairTargetOf(value.membership);
  return (
    <>
      <Radios
        name="membership"
        legend={destination === undefined ? 'Membership' : `Membership in ${destination}`}
        value={value.membership}
        choices={modes.map((mode): [MembershipMode, string, string?] => {
          const estimate = estimates?.[mode];
          return estimate === undefined
            ? [mode, MODE_CHOICES[mode]]
            : [mode, MODE_CHOICES[mode], estimateText(estimate)];
        })}
        onChange={(membership) => onChange({ ...value, membership })}
        error={fieldError(problem, 'membership')}
      />
      <Radios
        name="onLeave"
        legend="When a contact leaves a segment"
        value={value.onLeave}
        choices={[
          [
            'remove',
            value.membership === 'tag'
              ? 'Remove the segment’s tag from them'
              : 'Take them off the list (or set the field to false)',
          ],
          ['keep', 'Leave them as they are'],
        ]}
        onChange={(onLeave) => onChange({ ...value, onLeave })}
        error={fieldError(problem, 'onLeave')}
      />
      <Radios
        name="capPolicy"
        legend="Over the cap"
        value={value.capPolicy}
        choices={[
          ['fail', 'Send nothing: the run fails'],
          ['truncate', 'Send up to the cap, and report the rest as not sent'],
        ]}
        onChange={(capPolicy) => onChange({ ...value, capPolicy })}
        error={fieldError(problem, 'capPolicy')}
      />
      {value.onLeave === 'remove' ? (
        <GuardrailFields
          value={value.guardrail}
          onChange={(guardrail) => onChange({ ...value, guardrail })}
          problem={problem}
        />
      ) : null}
      {repairTarget === undefined ? null : (
        <RepairFields
          target={repairTarget}
          value={value.repair}
          onChange={(repair) => onChange({ ...value, repair })}
          problem={problem}
        />
      )}
    </>
  );
};
