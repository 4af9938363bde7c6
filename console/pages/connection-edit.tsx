import { useState } from 'preact/hooks';
import { type Api, type Connection, call } from '../api/client.ts';
import { fieldError, isStale, otherErrors, type Problem } from '../api/problems.ts';
import { ExportUsersField } from '../components/export-users.tsx';
import { ProblemAlert, SubmitButton, TextField } from '../components/form.tsx';
import { LimitsFields } from '../components/limits-fields.tsx';
import { SharingField } from '../components/sharing-field.tsx';
import type { Session } from '../session.ts';
import { optionalNumber } from './numbers.ts';

const FIELDS = ['displayName', 'sharing', 'exportUsers', 'ratePerSecond', 'cap'] as const;

/**
 * Rename, re-share, rate budget and cap. Sends the version it read: when someone else saved first,
 * the API refuses and this form offers Reload instead of overwriting their change.
 */
export const ConnectionEditForm = ({
  api,
  session,
  connection,
  onSaved,
  onReload,
}: {
  api: Api;
  session: Session;
  connection: Connection;
  onSaved: () => void;
  onReload: () => void;
}) => {
  const [displayName, setDisplayName] = useState(connection.displayName);
  const [sharing, setSharing] = useState(connection.sharing);
  const [exportUsers, setExportUsers] = useState(connection.exportUsers);
  const [rate, setRate] = useState(String(connection.ratePerSecond));
  const [cap, setCap] = useState(String(connection.cap));
  const [busy, setBusy] = useState(false);
  const [problem, setProblem] = useState<Problem | undefined>();

  const submit = async (event: Event) => {
    event.preventDefault();
    setBusy(true);
    setProblem(undefined);
    const ratePerSecond = optionalNumber(rate);
    const capValue = optionalNumber(cap);
    const result = await call(
      api.PATCH('/connections/{id}', {
        params: { path: { id: connection.id } },
        body: {
          version: connection.version,
          displayName,
          sharing,
          exportUsers,
          ...(ratePerSecond === undefined ? {} : { ratePerSecond }),
          ...(capValue === undefined ? {} : { cap: capValue }),
        },
      }),
    );
    setBusy(false);
    if (result.ok) onSaved();
    else setProblem(result.problem);
  };

  const stale = isStale(problem);
  const rest = otherErrors(problem, FIELDS);
  return (
    <form class="panel" aria-labelledby="edit-title" onSubmit={(e) => void submit(e)} noValidate>
      <h2 id="edit-title">Settings</h2>
      <ProblemAlert problem={problem} others={rest}>
        {stale ? (
          <p>
            Your changes were not saved.{' '}
            <button type="button" onClick={onReload}>
              Reload
            </button>
          </p>
        ) : null}
      </ProblemAlert>
      <TextField
        id="edit-displayName"
        label="Display name"
        value={displayName}
        onInput={setDisplayName}
        error={fieldError(problem, 'displayName')}
      />
      <SharingField value={sharing} onChange={setSharing} error={fieldError(problem, 'sharing')} />
      <ExportUsersField
        idPrefix="edit"
        users={exportUsers}
        onChange={setExportUsers}
        session={session}
        problem={problem}
      />
      <LimitsFields
        idPrefix="edit-"
        rate={rate}
        onRate={setRate}
        cap={cap}
        onCap={setCap}
        problem={problem}
      />
      <SubmitButton
        busy={busy || stale}
        label="Save changes"
        busyLabel={stale ? 'Save changes' : 'Saving…'}
      />
    </form>
  );
};
