import { useState } from 'preact/hooks';
import { type Api, call } from '../api/client.ts';
import { keyFieldError, type Problem } from '../api/problems.ts';
import { ProblemAlert, SubmitButton, TextField } from '../components/form.tsx';

/**
 * Replaces the API key (checked with Autopilot first). A key of another Autopilot account needs
 * an explicit confirmation: every export on the connection then sends everything again.
 */
export const RotateKeyForm = ({ api, id, onRotated }: { api: Api; id: string; onRotated: () => void }) => {
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
        label="New Autopilot API key"
        type="password"
        autoComplete="new-password"
        value={apiKey}
        onInput={setApiKey}
        error={keyFieldError(problem, 'apiKey')}
      />
      {otherAccount || newAccount ? (
        <div class="choice">
          <input
            type="checkbox"
            id="rotate-newAccount"
            checked={newAccount}
            onChange={(e) => setNewAccount((e.currentTarget as HTMLInputElement).checked)}
          />
          <label for="rotate-newAccount">
            This key opens a different Autopilot account: every export on this connection sends everything
            again
          </label>
        </div>
      ) : null}
      <SubmitButton busy={busy} label="Replace key" busyLabel="Checking the key…" />
    </form>
  );
};
