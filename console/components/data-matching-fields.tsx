import { useEffect, useMemo, useState } from 'preact/hooks';
import { fieldError, type Problem } from '../api/problems.ts';
import {
  type Added,
  addAttribute,
  attributeChoices,
  mappedAttributes,
  type SegmentAttributes,
} from './attribute-choices.ts';
import { CustomFieldRow } from './custom-field-row.tsx';
import { type DataMatchingForm, NAME_FIELDS, STANDARD_FIELDS, type StandardField } from './export-model.ts';
import { AttributePicker, StandardFieldPicker } from './field-pickers.tsx';
import { TextField } from './form.tsx';

const LABEL: Partial<Record<StandardField, string>> = { FirstName: 'First name', LastName: 'Last name' };
const labelOf = (f: StandardField): string => LABEL[f] ?? f;

/** Where focus goes after a pick: the first thing the person still has to decide. */
const focusAfter = (added: Added): string =>
  added.kind === 'standard'
    ? `dataMatching-fields-${added.field}`
    : `dataMatching-custom-${added.index}-type`;

const addedText = (added: Added, attribute: string, next: DataMatchingForm): string =>
  added.kind === 'standard'
    ? `${labelOf(added.field)} now reads ${attribute}.`
    : `Added custom field ${added.index + 1}, "${next.custom[added.index]?.name}", from ${attribute}: choose its type.`;

/**
 * Which profile attribute fills which Autopilot field. Further fields come from the attributes the
 * selected segments report (GET /segments), or are typed in: a segment's list is a sample, and a
 * save warns when sampled profiles lack a mapped attribute.
 */
export const DataMatchingFields = ({
  value,
  onChange,
  problem,
  segments,
  selectedIds,
}: {
  value: DataMatchingForm;
  onChange: (next: DataMatchingForm) => void;
  problem: Problem | undefined;
  segments: readonly SegmentAttributes[] | undefined;
  selectedIds: readonly string[];
}) => {
  const [focusId, setFocusId] = useState<string | undefined>();
  const [announced, setAnnounced] = useState('');
  useEffect(() => {
    if (focusId === undefined) return;
    document.getElementById(focusId)?.focus();
    setFocusId(undefined);
  }, [focusId]);
  const offer = useMemo(
    () => attributeChoices(segments, selectedIds, mappedAttributes(value)),
    [segments, selectedIds, value],
  );
  const unused = STANDARD_FIELDS.filter((f) => !(f in value.fields));
  const setField = (f: StandardField, source: string | undefined) => {
    const fields = { ...value.fields };
    if (source === undefined) delete fields[f];
    else fields[f] = source;
    onChange({ ...value, fields });
  };
  const setCustom = (i: number, patch: Partial<DataMatchingForm['custom'][number]>) =>
    onChange({ ...value, custom: value.custom.map((c, j) => (j === i ? { ...c, ...patch } : c)) });
  const pick = (attribute: string) => {
    const { next, added } = addAttribute(value, attribute);
    onChange(next);
    setAnnounced(addedText(added, attribute, next));
    setFocusId(focusAfter(added));
  };
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
      <fieldset class="field">
        <legend>Add a field</legend>
        <AttributePicker offer={offer} onPick={pick} />
        <p class="hint" role="status">
          {announced}
        </p>
        <StandardFieldPicker unused={unused} labelOf={labelOf} onAdd={(f) => setField(f, '')} />
        <p>
          <button
            type="button"
            id="add-custom-field"
            class="secondary"
            onClick={() =>
              onChange({ ...value, custom: [...value.custom, { name: '', type: 'string', source: '' }] })
            }
          >
            Add custom field
          </button>
        </p>
      </fieldset>
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
