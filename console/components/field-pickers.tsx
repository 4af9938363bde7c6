import { useState } from 'preact/hooks';
import { type AttributeChoices, offerNote, segmentsText } from './attribute-choices.ts';
import type { StandardField } from './export-model.ts';

/**
 * "Add field": the attributes the selected segments carry, each with how many of them carry it.
 * A native select, so the keyboard and type-ahead work as everywhere else; the option text starts
 * with the attribute's name for that reason.
 */
export const AttributePicker = ({
  offer,
  onPick,
}: {
  offer: AttributeChoices;
  onPick: (attribute: string) => void;
}) => {
  const [picked, setPicked] = useState('');
  // The offer changes with the selection and the mapping: a pick no longer offered is no pick.
  const current = offer.choices.some((c) => c.name === picked) ? picked : '';
  const note = offerNote(offer);
  if (offer.choices.length === 0) return <p class="hint">{note}</p>;
  return (
    <div class="field">
      <label for="add-attribute">Attribute to add</label>
      <p id="add-attribute-hint" class="hint">
        {note ??
          'Adds the standard field it names (first_name → First name), otherwise a custom field whose type you choose.'}
      </p>
      <div class="picker-row">
        <select
          id="add-attribute"
          value={current}
          aria-describedby="add-attribute-hint"
          onChange={(e) => setPicked((e.currentTarget as HTMLSelectElement).value)}
        >
          <option value="">Choose an attribute</option>
          {offer.choices.map((c) => (
            <option key={c.name} value={c.name}>
              {c.name} (in {c.carriedBy} of {segmentsText(offer.selected)})
            </option>
          ))}
        </select>
        <button
          type="button"
          class="secondary"
          disabled={current === ''}
          onClick={() => {
            onPick(current);
            setPicked('');
          }}
        >
          Add field
        </button>
      </div>
    </div>
  );
};

/** A standard field chosen by name, its attribute typed by hand (one the segments' sample lacks). */
export const StandardFieldPicker = ({
  unused,
  labelOf,
  onAdd,
}: {
  unused: readonly StandardField[];
  labelOf: (f: StandardField) => string;
  onAdd: (field: StandardField) => void;
}) => {
  const [adding, setAdding] = useState<string>('');
  if (unused.length === 0) return null;
  return (
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
          onAdd(adding as StandardField);
          setAdding('');
        }}
      >
        Add standard field
      </button>
    </div>
  );
};
