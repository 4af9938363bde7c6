import { useState } from 'preact/hooks';
import { type CapMeter, capMeter, type SizedSegment } from './cap-meter.ts';
import { FieldError } from './form.tsx';

const n = (value: number): string => value.toLocaleString('en-US');

/** Longest search the filter takes; a segment name is at most a few hundred characters. */
const MAX_SEARCH = 200;

/**
 * Segments picked from a searchable list with their sizes, and a live meter of the cap the
 * chosen connection allows. The search only hides rows: a selected segment stays selected.
 */
export const SegmentPicker = ({
  segments,
  selected,
  onChange,
  cap,
  error,
}: {
  segments: readonly SizedSegment[] | undefined;
  selected: readonly string[];
  onChange: (ids: string[]) => void;
  cap: number | undefined;
  error: string | undefined;
}) => {
  const [search, setSearch] = useState('');
  const needle = search.slice(0, MAX_SEARCH).trim().toLowerCase();
  const shown = (segments ?? []).filter(
    (s) => needle === '' || s.name.toLowerCase().includes(needle) || s.id.toLowerCase().includes(needle),
  );
  const toggle = (id: string, on: boolean) =>
    onChange(on ? [...selected.filter((s) => s !== id), id] : selected.filter((s) => s !== id));
  const chosen = (segments ?? []).filter((s) => selected.includes(s.id));
  return (
    <fieldset class="field" aria-describedby={error === undefined ? undefined : 'segmentIds-error'}>
      <legend>Segments</legend>
      <FieldError id="segmentIds-error" message={error} />
      <label for="segment-search">Search segments</label>
      <input
        id="segment-search"
        type="search"
        value={search}
        maxLength={MAX_SEARCH}
        onInput={(e) => setSearch((e.currentTarget as HTMLInputElement).value)}
      />
      {segments === undefined ? <p>Loading segments…</p> : null}
      {segments !== undefined && shown.length === 0 ? <p>No segment matches "{search}".</p> : null}
      <ul class="segment-list">
        {shown.map((s) => (
          <li key={s.id} class="choice">
            <input
              type="checkbox"
              id={`segment-${s.id}`}
              checked={selected.includes(s.id)}
              onChange={(e) => toggle(s.id, (e.currentTarget as HTMLInputElement).checked)}
            />
            <label for={`segment-${s.id}`}>
              {s.name} <span class="hint">({n(s.profiles)} profiles)</span>
            </label>
          </li>
        ))}
      </ul>
      {cap === undefined ? null : <CapMeterView meter={capMeter(chosen, cap)} count={chosen.length} />}
    </fieldset>
  );
};

const CapMeterView = ({ meter, count }: { meter: CapMeter; count: number }) => (
  <div class="cap-meter">
    <label for="cap-meter">Cap used</label>
    <meter
      id="cap-meter"
      min={0}
      max={meter.cap}
      high={meter.cap * 0.9}
      value={Math.min(meter.total, meter.cap)}
    >
      {Math.min(meter.percent, 100)}%
    </meter>
    <p aria-live="polite" class={meter.overBy > 0 ? 'field-error' : 'hint'}>
      {count} segment(s), {n(meter.total)} profiles of the cap of {n(meter.cap)} ({meter.percent}%)
      {meter.overBy > 0 ? `: ${n(meter.overBy)} over the cap` : ''}
    </p>
  </div>
);
