import type { AnyConnection } from '../api/client.ts';
import { destinationText } from '../pages/labels.ts';
import { describedBy, FieldError } from './form.tsx';

/** The export's connection, among those the caller may use, and where it sends contacts. */
export const ConnectionPicker = ({
  value,
  connections,
  onChange,
  error,
}: {
  value: string;
  connections: AnyConnection[];
  onChange: (connectionId: string) => void;
  error: string | undefined;
}) => {
  const chosen = connections.find((c) => c.id === value);
  return (
    <div class="field">
      <label for="connectionId">Connection</label>
      <select
        id="connectionId"
        value={value}
        aria-invalid={error === undefined ? undefined : 'true'}
        aria-describedby={describedBy(
          chosen !== undefined && 'connectionId-destination',
          error !== undefined && 'connectionId-error',
        )}
        onChange={(e) => onChange((e.currentTarget as HTMLSelectElement).value)}
      >
        <option value="">Choose a connection</option>
        {connections.map((c) => (
          <option key={c.id} value={c.id}>
            {c.displayName}
          </option>
        ))}
      </select>
      {chosen === undefined ? null : (
        <p id="connectionId-destination" class="hint">
          Sends to {destinationText(chosen)}.
        </p>
      )}
      {connections.length === 0 ? (
        <p class="hint">No connection you may use; ask an admin to share one.</p>
      ) : null}
      <FieldError id="connectionId-error" message={error} />
    </div>
  );
};
