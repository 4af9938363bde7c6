import { fieldError, type Problem } from '../api/problems.ts';
import { TextField } from './form.tsx';

/**
 * Tag mode (Ortto): the tag each selected segment's members carry. Blank keeps the API's default,
 * "Segment <name>", which the placeholder-like hint shows; the API's reason shows at the segment.
 */
export const TagNames = ({
  segments,
  value,
  onChange,
  problem,
}: {
  /** The selected segments, in the order chosen. */
  segments: ReadonlyArray<{ id: string; name: string }>;
  value: Record<string, string>;
  onChange: (next: Record<string, string>) => void;
  problem: Problem | undefined;
}) =>
  segments.length === 0 ? null : (
    <fieldset class="field">
      <legend>Tags in Ortto</legend>
      <p class="hint">
        Each segment's members carry its own tag; an Ortto audience can filter on it. Each tag belongs to one
        segment (tags differing only in case count as the same).
      </p>
      {segments.map((s) => (
        <TextField
          key={s.id}
          id={`tag-${s.id}`}
          label={`Tag for ${s.name}`}
          hint={`Blank: "Segment ${s.name}"`}
          value={value[s.id] ?? ''}
          onInput={(tag) => onChange({ ...value, [s.id]: tag })}
          error={fieldError(problem, `membershipTags.${s.id}`)}
        />
      ))}
    </fieldset>
  );
