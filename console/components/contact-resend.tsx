import { useState } from 'preact/hooks';
import { type Api, call } from '../api/client.ts';
import { fieldError, otherErrors, type Problem } from '../api/problems.ts';
import { runHref } from './export-labels.ts';
import { ProblemAlert, SubmitButton, TextField } from './form.tsx';

/** Autopilot's limit on an address; longer input is refused before it is sent anywhere. */
const MAX_EMAIL = 254;

/**
 * "Re-send a contact": one contact's current data and memberships, as a small run of the export.
 * The address stays in the field; the started run is linked, never the address echoed.
 */
export const ContactResend = ({ api, exportId }: { api: Api; exportId: string }) => {
  const [email, setEmail] = useState('');
  const [busy, setBusy] = useState(false);
  const [problem, setProblem] = useState<Problem | undefined>();
  const [started, setStarted] = useState<string | undefined>();
  const [local, setLocal] = useState<string | undefined>();

  const submit = async (event: Event) => {
    event.preventDefault();
    setProblem(undefined);
    setStarted(undefined);
    const value = email.trim();
    if (value === '' || value.length > MAX_EMAIL) {
      setLocal(value === '' ? 'Enter the email address to re-send.' : `At most ${MAX_EMAIL} characters.`);
      return;
    }
    setLocal(undefined);
    setBusy(true);
    const result = await call(
      api.POST('/exports/{id}/contacts/{email}/resend', { params: { path: { id: exportId, email: value } } }),
    );
    setBusy(false);
    if (result.ok) setStarted(result.data.id);
    else setProblem(result.problem);
  };

  const error = local ?? fieldError(problem, 'path.email');
  return (
    <section class="panel" aria-labelledby="resend-title">
      <h2 id="resend-title">Re-send a contact</h2>
      <form aria-labelledby="resend-title" onSubmit={(e) => void submit(e)} noValidate>
        <ProblemAlert problem={problem} others={otherErrors(problem, ['path.email'])} />
        <TextField
          id="resend-email"
          label="Email address"
          hint="Sends this contact's current data and every list it belongs to now, as a small run."
          value={email}
          onInput={setEmail}
          error={error}
          autoComplete="off"
        />
        <SubmitButton busy={busy} label="Re-send contact" busyLabel="Starting…" />
      </form>
      {started === undefined ? null : (
        <p role="status">
          Started: <a href={runHref(started)}>open the run</a>.
        </p>
      )}
    </section>
  );
};
