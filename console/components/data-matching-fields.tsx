import { useState } from 'preact/hooks';
import { fieldError, type Problem } from '../api/problems.ts';
import {
  CUSTOM_FIELD_TYPES,
  type CustomFieldType,
  type ExportForm,
  NAME_FIELDS,
  STANDARD_FIELDS,
  type StandardField,
} from './export-model.ts';
import { describedBy, FieldError, TextField } from './form.tsx';

const LABEL: Partial<Record<StandardField, string>> = { FirstName: 'First name', LastName: 'Last name' };
const labelOf = (f: StandardField): string => LABEL[f] ?? f;

type Matching = Pick<ExportForm, 'email' | 'fields' | 'custom' | 'updatedAt'>;

/**
 * Which profile attribute fills which Autopilot field. The API cannot list the attributes a
 * segment's profiles carry, so each is typed in; a save warns when sampled profiles lack one.
 */
export const DataMatchingFields = ({
  value,
  onChange,
  problem,
}: {
  value: Matching;
  onChange: (next: Matching) => void;
  problem: Problem | undefined;
}) => {
  const unused = STANDARD_FIELDS.filter((f) => !(f in value.fields));
  const [adding, setAdding] = useState<string>('');
  const setField = (f: StandardField, source: string | undefined) => {
    const fields = { ...value.fields };
    if (source === undefined) delete fields[f];
    else fields[f] = source;
    onChange({ ...value, fields });
  };
  const setCustom = (i: number, patch: Partial<Matching['custom'][number]>) =>
    onChange({ ...value, custom: value.custom.map((c, j) => (j === i ? { ...c, ...patch } : c)) });
  return (
    <fieldset class="field">
      <legend>Data matching</legend>
      <p class="hint">For each Autopilot field, the profile attribute that fills it.</p>
      <TextField
        id="dataMatching-email"
        label="Email (required)"
        value={value.email}
        onInput={(email) => onChange({ ...value, email })}
        error={fieldError(problem, 'dataMatching.email')}
        required
      />
      {(Object.keys(value.fields) as StandardField[]).map((f) => (
        <div key={f} class="row">
          <TextField
            id={`dataMatching-fields-${f}`}
            label={NAME_FIELDS.includes(f) ? `${labelOf(f)} (optional)` : labelOf(f)}
            value={value.fields[f] ?? ''}
            onInput={(source) => setField(f, source)}
            error={fieldError(problem, `dataMatching.fields.${f}`)}
          />
          {NAME_FIELDS.includes(f) ? null : (
            <button type="button" class="secondary" onClick={() => setField(f, undefined)}>
              Remove {labelOf(f)}
            </button>
          )}
        </div>
      ))}
      {unused.length === 0 ? null : (
        <div class="row">
          <div class="field">
            <label for="add-standard-field">Another standard field</label>
            <select
              id="add-standard-field"
              value={adding}
              onChange={(e) => setAdding((e.currentTarget as HTMLSelectElement).value)}
            >
              <option value="">Choose a field</option>
              {unused.map((f) => (
                <option key={f} value={f}>
                  {labelOf(f)}
                </option>
              ))}
            </select>
          </div>
          <button
            type="button"
            class="secondary"
            disabled={adding === ''}
            onClick={() => {
              setField(adding as StandardField, '');
              setAdding('');
            }}
          >
            Add field
          </button>
        </div>
      )}
      {value.custom.map((c, i) => (
        <CustomFieldRow
          key={i}
          index={i}
          field={c}
          problem={problem}
          onChange={(patch) => setCustom(i, patch)}
          onRemove={() => onChange({ ...value, custom: value.custom.filter((_c, j) => j !== i) })}
        />
      ))}
      <p>
        <button
          type="button"
          class="secondary"
          onClick={() =>
            onChange({ ...value, custom: [...value.custom, { name: '', type: 'string', source: '' }] })
          }
        >
          Add custom field
        </button>
      </p>
      <TextField
        id="dataMatching-updatedAt"
        label="Last-update attribute (optional)"
        hint="Decides which profile wins when two share an email."
        value={value.updatedAt}
        onInput={(updatedAt) => onChange({ ...value, updatedAt })}
        error={fieldError(problem, 'dataMatching.updatedAt')}
      />
    </fieldset>
  );
};

const CustomFieldRow = ({
  index,
  field,
  problem,
  onChange,
  onRemove,
}: {
  index: number;
  field: Matching['custom'][number];
  problem: Problem | undefined;
  onChange: (patch: Partial<Matching['custom'][number]>) => void;
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
