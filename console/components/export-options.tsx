import { fieldError, type Problem } from '../api/problems.ts';
import { estimateText } from './export-labels.ts';
import type { ExportForm } from './export-model.ts';
import { FieldError } from './form.tsx';
import { GuardrailFields } from './guardrail-fields.tsx';
import { RepairFields } from './repair-fields.tsx';

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

/** How membership reaches Autopilot, what happens to leavers, and what a run does over the cap. */
export const ExportOptions = ({
  value,
  onChange,
  problem,
  estimates,
}: {
  value: Options;
  onChange: (next: Options) => void;
  problem: Problem | undefined;
  /** Each mode's upper-bound price for the selected segments, when the API gave one. */
  estimates: Record<Options['membership'], { requests: number; seconds: number }> | undefined;
}) => (
  <>
    <Radios
      name="membership"
      legend="Membership in Autopilot"
      value={value.membership}
      choices={[
        [
          'list',
          'A list per segment (each segment’s contacts join its own list)',
          estimates && estimateText(estimates.list),
        ],
        [
          'field',
          'A field per segment (a true/false custom field on each contact)',
          estimates && estimateText(estimates.field),
        ],
      ]}
      onChange={(membership) => onChange({ ...value, membership })}
      error={fieldError(problem, 'membership')}
    />
    <Radios
      name="onLeave"
      legend="When a contact leaves a segment"
      value={value.onLeave}
      choices={[
        ['remove', 'Take them off the list (or set the field to false)'],
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
    {value.membership === 'list' ? (
      <RepairFields
        value={value.repair}
        onChange={(repair) => onChange({ ...value, repair })}
        problem={problem}
      />
    ) : null}
  </>
);
