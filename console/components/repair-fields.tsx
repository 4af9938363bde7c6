import { fieldError, type Problem } from '../api/problems.ts';
import type { RepairForm } from './export-model.ts';
import { FieldError } from './form.tsx';

/**
 * Drift repair's settings, under "Advanced" (list mode only: membership fields are not read back).
 * Off by default, since reading every list back costs a request per 100 members.
 */
export const RepairFields = ({
  value,
  onChange,
  problem,
}: {
  value: RepairForm;
  onChange: (next: RepairForm) => void;
  problem: Problem | undefined;
}) => {
  const error = fieldError(problem, 'repair');
  return (
    <details class="field" open={error !== undefined || value.everyRun || value.removeForeign}>
      <summary>Advanced: list repair</summary>
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
          <span class="hint">
            {' '}
            (each run first reads its lists back, so contacts removed by hand in Autopilot are added again;
            about one request per 100 members)
          </span>
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
          Remove members the product never sent
          <span class="hint"> (on a repair, and only from lists this product created or adopted)</span>
        </label>
      </div>
      <FieldError id="repair-error" message={error} />
    </details>
  );
};
