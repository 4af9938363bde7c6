import {
  DESTINATION_TEXT,
  type DestinationType,
  type OrttoRegion,
  REGION_HOST,
  REGION_TEXT,
} from '../pages/labels.ts';
import { describedBy, FieldError } from './form.tsx';

const TYPES: DestinationType[] = ['autopilot', 'ortto'];
const REGIONS: OrttoRegion[] = ['global', 'eu', 'au'];

/**
 * Which platform a new connection opens and, for Ortto, the account's region: both fixed once it is
 * saved (a key works only on its own platform and region).
 */
export const DestinationFields = ({
  type,
  region,
  onType,
  onRegion,
  typeError,
  regionError,
}: {
  type: DestinationType;
  region: OrttoRegion;
  onType: (type: DestinationType) => void;
  onRegion: (region: OrttoRegion) => void;
  typeError: string | undefined;
  regionError: string | undefined;
}) => (
  <>
    <fieldset
      class="field"
      aria-describedby={describedBy('type-hint', typeError !== undefined && 'type-error')}
    >
      <legend>Destination</legend>
      <p id="type-hint" class="hint">
        Where exports send contacts. It cannot change later: another destination is another connection.
      </p>
      {TYPES.map((option) => (
        <div key={option} class="choice">
          <input
            type="radio"
            id={`type-${option}`}
            name="type"
            value={option}
            checked={type === option}
            onChange={() => onType(option)}
          />
          <label for={`type-${option}`}>{DESTINATION_TEXT[option]}</label>
        </div>
      ))}
      <FieldError id="type-error" message={typeError} />
    </fieldset>
    {type === 'ortto' ? (
      <div class="field">
        <label for="region">Ortto region</label>
        <select
          id="region"
          value={region}
          aria-invalid={regionError === undefined ? undefined : 'true'}
          aria-describedby={describedBy('region-hint', regionError !== undefined && 'region-error')}
          onChange={(e) => onRegion((e.currentTarget as HTMLSelectElement).value as OrttoRegion)}
        >
          {REGIONS.map((r) => (
            <option key={r} value={r}>
              {REGION_TEXT[r]} ({REGION_HOST[r]})
            </option>
          ))}
        </select>
        <p id="region-hint" class="hint">
          The region of the Ortto account: its key works only there, and the region cannot change later.
        </p>
        <FieldError id="region-error" message={regionError} />
      </div>
    ) : null}
  </>
);
