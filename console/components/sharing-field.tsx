import type { Connection } from '../api/client.ts';
import { SHARING_TEXT } from '../pages/labels.ts';
import { FieldError } from './form.tsx';

type Sharing = Connection['sharing'];
const OPTIONS: Sharing[] = ['admins', 'admins+contributors'];

/** "Who can use it": which roles may write and run exports on the connection. */
export const SharingField = ({
  value,
  onChange,
  error,
}: {
  value: Sharing;
  onChange: (value: Sharing) => void;
  error: string | undefined;
}) => (
  <fieldset class="field" aria-describedby={error === undefined ? undefined : 'sharing-error'}>
    <legend>Who can use it</legend>
    {OPTIONS.map((option) => (
      <div key={option} class="choice">
        <input
          type="radio"
          id={`sharing-${option}`}
          name="sharing"
          value={option}
          checked={value === option}
          onChange={() => onChange(option)}
        />
        <label for={`sharing-${option}`}>{SHARING_TEXT[option]}</label>
      </div>
    ))}
    <FieldError id="sharing-error" message={error} />
  </fieldset>
);
