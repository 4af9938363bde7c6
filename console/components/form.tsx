import type { ComponentChildren } from 'preact';
import type { Problem } from '../api/problems.ts';

/** The error next to a control, tied to it by `aria-describedby` so a screen reader reads both. */
export const FieldError = ({ id, message }: { id: string; message: string | undefined }) =>
  message === undefined ? null : (
    <p id={id} class="field-error">
      {message}
    </p>
  );

export const describedBy = (...ids: (string | false | undefined)[]): string | undefined => {
  const list = ids.filter((x): x is string => typeof x === 'string');
  return list.length > 0 ? list.join(' ') : undefined;
};

interface TextFieldProps {
  id: string;
  label: string;
  value: string;
  onInput: (value: string) => void;
  error: string | undefined;
  hint?: string;
  type?: 'text' | 'password' | 'number' | 'url';
  required?: boolean;
  autoComplete?: string;
  step?: string;
  min?: string;
}

export const TextField = (props: TextFieldProps) => {
  const errorId = `${props.id}-error`;
  const hintId = `${props.id}-hint`;
  return (
    <div class="field">
      <label for={props.id}>{props.label}</label>
      {props.hint === undefined ? null : (
        <p id={hintId} class="hint">
          {props.hint}
        </p>
      )}
      <input
        id={props.id}
        name={props.id}
        // Preact types `type` as a union per input kind; every kind here takes these attributes.
        type={(props.type ?? 'text') as 'text'}
        value={props.value}
        required={props.required}
        autoComplete={props.autoComplete ?? 'off'}
        step={props.step}
        min={props.min}
        aria-invalid={props.error === undefined ? undefined : 'true'}
        aria-describedby={describedBy(
          props.hint !== undefined && hintId,
          props.error !== undefined && errorId,
        )}
        onInput={(e) => props.onInput((e.currentTarget as HTMLInputElement).value)}
      />
      <FieldError id={errorId} message={props.error} />
    </div>
  );
};

/** The form-level message: the API's detail in words, announced when it appears. */
export const ProblemAlert = ({
  problem,
  others = [],
  children,
}: {
  problem: Problem | undefined;
  /** The problem's errors that name no field on the form, listed under its detail. */
  others?: readonly string[];
  children?: ComponentChildren;
}) =>
  problem === undefined ? null : (
    <div class="alert" role="alert">
      <p>{problem.detail}</p>
      {children}
      {others.length > 0 ? (
        <ul>
          {others.map((r) => (
            <li key={r}>{r}</li>
          ))}
        </ul>
      ) : null}
    </div>
  );

/** A submit button that shows the action is under way and cannot be pressed twice. */
export const SubmitButton = ({
  busy,
  label,
  busyLabel,
}: {
  busy: boolean;
  label: string;
  busyLabel: string;
}) => (
  <button type="submit" disabled={busy} aria-busy={busy ? 'true' : undefined}>
    {busy ? busyLabel : label}
  </button>
);
