import { fieldError, type Problem } from '../api/problems.ts';
import { CUSTOM_FIELD_TYPES, type CustomFieldType, type DataMatchingForm } from './export-model.ts';
import { describedBy, FieldError, TextField } from './form.tsx';

type CustomField = DataMatchingForm['custom'][number];

/** One typed custom field: its Autopilot name, its type, and the profile attribute that fills it. */
export const CustomFieldRow = ({
  index,
  field,
  problem,
  onChange,
  onRemove,
}: {
  index: number;
  field: CustomField;
  problem: Problem | undefined;
  onChange: (patch: Partial<CustomField>) => void;
  onRemove: () => void;
}) => {
  const id = `dataMatching-custom-${index}`;
  const path = `dataMatching.custom.${index}`;
  const typeError = fieldError(problem, `${path}.type`);
  return (
    <fieldset class="field custom-field">
      <legend>Custom field {index + 1}</legend>
      <TextField
        id={`${id}-name`}
        label="Autopilot field name"
        value={field.name}
        onInput={(name) => onChange({ name })}
        error={fieldError(problem, `${path}.name`)}
      />
      <div class="field">
        <label for={`${id}-type`}>Type</label>
        <select
          id={`${id}-type`}
          value={field.type}
          aria-describedby={describedBy(typeError !== undefined && `${id}-type-error`)}
          onChange={(e) =>
            onChange({ type: (e.currentTarget as HTMLSelectElement).value as CustomFieldType })
          }
        >
          {CUSTOM_FIELD_TYPES.map((t) => (
            <option key={t} value={t}>
              {t}
            </option>
          ))}
        </select>
        <FieldError id={`${id}-type-error`} message={typeError} />
      </div>
      <TextField
        id={`${id}-source`}
        label="Profile attribute"
        value={field.source}
        onInput={(source) => onChange({ source })}
        error={fieldError(problem, `${path}.source`)}
      />
      <button type="button" class="secondary" onClick={onRemove}>
        Remove custom field {index + 1}
      </button>
    </fieldset>
  );
};
