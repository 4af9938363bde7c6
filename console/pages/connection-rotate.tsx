import { useState } from 'preact/hooks';
import { type Api, type Connection, call } from '../api/client.ts';
import { keyFieldError, type Problem } from '../api/problems.ts';
import { ProblemAlert, SubmitButton, TextField } from '../components/form.tsx';
import { DESTINATION_TEXT, destinationText } from './labels.ts';

/**
 * Replaces the API key (checked first with the connection's destination, in its region). A key of
 * another Autopilot account needs an explicit confirmation: every export on the connection then sends
 * everything again. Ortto cannot tell accounts apart, so there the admin says so up front.
 */
export const RotateKeyForm = ({
  api,
  connection,
  onRotated,
}: {
  api: Api;
  connection: Pick<Connection, 'id' | 'type' | 'region'>;
  onRotated: () => void;
}) => {
  const { id } = connection;
  const platform = DESTINATION_TEXT[connection.type];
  const ortto = connection.type === 'ortto';
  const [apiKey, setApiKey] = useState('');
  const [newAccount, setNewAccount] = useState(false);
  const [busy, setBusy] = useState(false);
  const [problem, setProblem] = useState<Problem | undefined>();

  const otherAccount = problem?.extra.code === 'different_account';
  const submit = async (event: Event) => {
    event.preventDefault();
    setBusy(true);
    setProblem(undefined);
    const result = await call(
      api.POST('/connections/{id}/rotate-key', {
        params: { path: { id } },
        body: { apiKey, ...(newAccount ? { newAccount: true } : {}) },
      }),
    );
    setBusy(false);
    if (result.ok) {
      setApiKey('');
      setNewAccount(false);
      onRotated();
    } else setProblem(result.problem);
  };

  return (
    <form class="panel" aria-labelledby="rotate-title" onSubmit={(e) => void submit(e)} noValidate>
      <h2 id="rotate-title">Replace the API key</h2>
      <ProblemAlert problem={problem} />
      <TextField
        id="rotate-apiKey"
        label={`New ${platform} API key`}
        type="password"
        autoComplete="new-password"
        {...(ortto
          ? {
              hint: `Checked with ${destinationText(connection)}; a key of another region is refused.`,
            }
          : {})}
        value={apiKey}
        onInput={setApiKey}
        error={keyFieldError(problem, 'apiKey', platform)}
      />
      {ortto || otherAccount || newAccount ? (
        <div class="choice">
          <input
            type="checkbox"
            id="rotate-newAccount"
            checked={newAccount}
            onChange={(e) => setNewAccount((e.currentTarget as HTMLInputElement).checked)}
          />
          <label for="rotate-newAccount">
            This key opens a different {platform} account: every export on this connection sends everything
            again
          </label>
          {ortto ? (
            <p class="hint">
              Ortto cannot tell one account from another: tick this when the account changes.
            </p>
          ) : null}
        </div>
      ) : null}
      <SubmitButton busy={busy} label="Replace key" busyLabel="Checking the key…" />
    </form>
  );
};
