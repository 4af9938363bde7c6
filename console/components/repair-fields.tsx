import { fieldError, type Problem } from '../api/problems.ts';
import type { RepairForm } from './export-model.ts';
import { FieldError } from './form.tsx';
import { REPAIR_WORDS, type RepairTarget } from './repair-text.ts';

/**
 * Drift repair's settings, under "Advanced", in list and tag mode (membership fields are not read
 * back). Off by default, since reading every list or tag back costs a request per 100 (500) members.
 */
export const RepairFields = ({
  target,
  value,
  onChange,
  problem,
}: {
  target: RepairTarget;
  value: RepairForm;
  onChange: (next: RepairForm) => void;
  problem: Problem | undefined;
}) => {
  const error = fieldError(problem, 'repair');
  const words = REPAIR_WORDS[target];
  return (
    <details class="field" open={error !== undefined || value.everyRun || value.removeForeign}>
      <summary>Advanced: {target} repair</summary>
      <div class="choice">
        <input
          type="checkbox"
          id="repair-everyRun"
          checked={value.everyRun}
          aria-describedby={error === undefined ? undefined : 'repair-error'}
          onChange={(e) => onChange({ ...value, everyRun: (e.currentTarget as HTMLInputElement).checked })}
        />
        <label for="repair-everyRun">
          Repair on every run
          <span class="hint"> ({words.everyRunHint})</span>
        </label>
      </div>
      <div class="choice">
        <input
          type="checkbox"
          id="repair-removeForeign"
          checked={value.removeForeign}
          aria-describedby={error === undefined ? undefined : 'repair-error'}
          onChange={(e) =>
            onChange({ ...value, removeForeign: (e.currentTarget as HTMLInputElement).checked })
          }
        />
        <label for="repair-removeForeign">
          {words.removeForeign}
          <span class="hint"> ({words.removeForeignHint})</span>
        </label>
      </div>
      <FieldError id="repair-error" message={error} />
    </details>
  );
};
