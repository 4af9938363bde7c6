import { fieldError, type Problem } from '../api/problems.ts';
import type { GuardrailForm } from './export-model.ts';
import { TextField } from './form.tsx';

/**
 * The removal guardrail's settings, folded under "Advanced": most exports keep the defaults (hold a
 * run that would remove more than 10% of a list and more than 100 contacts).
 */
export const GuardrailFields = ({
  value,
  onChange,
  problem,
}: {
  value: GuardrailForm;
  onChange: (next: GuardrailForm) => void;
  problem: Problem | undefined;
}) => {
  const invalid =
    fieldError(problem, 'removalGuardrail.maxFraction') ??
    fieldError(problem, 'removalGuardrail.minContacts');
  return (
    <details class="field" open={invalid !== undefined || !value.enabled}>
      <summary>Advanced: removal guardrail</summary>
      <div class="choice">
        <input
          type="checkbox"
          id="guardrail-enabled"
          checked={value.enabled}
          onChange={(e) => onChange({ ...value, enabled: (e.currentTarget as HTMLInputElement).checked })}
        />
        <label for="guardrail-enabled">
          Hold a run that would remove many contacts until an admin approves
          <span class="hint"> (an empty segment by mistake never empties a list)</span>
        </label>
      </div>
      {value.enabled ? (
        <>
          <TextField
            id="guardrail-percent"
            label="Hold when removals exceed this share of a list (%)"
            type="number"
            step="1"
            min="0"
            value={value.percent}
            onInput={(percent) => onChange({ ...value, percent })}
            error={fieldError(problem, 'removalGuardrail.maxFraction')}
          />
          <TextField
            id="guardrail-min"
            label="…and exceed this many contacts"
            type="number"
            step="1"
            min="0"
            value={value.minContacts}
            onInput={(minContacts) => onChange({ ...value, minContacts })}
            error={fieldError(problem, 'removalGuardrail.minContacts')}
          />
        </>
      ) : null}
    </details>
  );
};
