import { useState } from 'preact/hooks';
import { type Api, type Connection, call, type Schemas } from '../api/client.ts';
import { fieldError, keyFieldError, otherErrors, type Problem } from '../api/problems.ts';
import { DestinationFields } from '../components/destination-fields.tsx';
import { type ExportUser, ExportUsersField } from '../components/export-users.tsx';
import { FieldError, ProblemAlert, SubmitButton, TextField } from '../components/form.tsx';
import { LimitsFields } from '../components/limits-fields.tsx';
import { SharingField } from '../components/sharing-field.tsx';
import { href, navigate } from '../router.ts';
import type { Session } from '../session.ts';
import { DESTINATION_TEXT, type DestinationType, DOCUMENTED_RATE, type OrttoRegion } from './labels.ts';
import { optionalNumber } from './numbers.ts';

type NoticeVersion = Schemas['CreateConnectionInput']['consent']['noticeVersion'];
/** The privacy notice this console shows; the API refuses consent to any other version. */
const NOTICE_VERSION: NoticeVersion = '2026-11';

/** The cap a connection gets unless the admin changes it (the API's default). */
const DEFAULT_CAP = 100_000;

const FIELDS = [
  'displayName',
  'type',
  'region',
  'apiKey',
  'consent',
  'sharing',
  'exportUsers',
  'ratePerSecond',
  'cap',
] as const;

export const ConnectionNewPage = ({
  api,
  session,
  onCreated,
}: {
  api: Api;
  session: Session;
  onCreated: (c: Connection) => void;
}) => {
  const [displayName, setDisplayName] = useState('');
  const [type, setType] = useState<DestinationType>('autopilot');
  const [region, setRegion] = useState<OrttoRegion>('global');
  const [apiKey, setApiKey] = useState('');
  const [consent, setConsent] = useState(false);
  const [sharing, setSharing] = useState<Connection['sharing']>('admins');
  const [exportUsers, setExportUsers] = useState<ExportUser[]>([]);
  const [rate, setRate] = useState('');
  // The API's default cap, shown so the admin sees what they agree to.
  const [cap, setCap] = useState(String(DEFAULT_CAP));
  const [busy, setBusy] = useState(false);
  const [problem, setProblem] = useState<Problem | undefined>();

  if (session.role !== 'admin') {
    return (
      <section aria-labelledby="page-title">
        <h1 id="page-title" tabIndex={-1}>
          Add connection
        </h1>
        <p>Only admins can add connections.</p>
      </section>
    );
  }

  const submit = async (event: Event) => {
    event.preventDefault();
    setBusy(true);
    setProblem(undefined);
    const ratePerSecond = optionalNumber(rate);
    const result = await call(
      api.POST('/connections', {
        body: {
          displayName,
          type,
          // Autopilot has no region: the API refuses one.
          ...(type === 'ortto' ? { region } : {}),
          apiKey,
          // Sent as ticked or not: the API's own check explains a missing consent.
          consent: { accepted: consent as true, noticeVersion: NOTICE_VERSION },
          sharing,
          exportUsers,
          ...(ratePerSecond === undefined ? {} : { ratePerSecond }),
          cap: Number(cap.trim()),
        },
      }),
    );
    setBusy(false);
    if (result.ok) {
      onCreated(result.data);
      navigate({ page: 'connections' });
    } else setProblem(result.problem);
  };

  const rest = otherErrors(problem, FIELDS);
  const platform = DESTINATION_TEXT[type];
  return (
    <section aria-labelledby="page-title">
      <h1 id="page-title" tabIndex={-1}>
        Add connection
      </h1>
      <p>
        <a href={href({ page: 'connections' })}>Back to connections</a>
      </p>
      <form onSubmit={(e) => void submit(e)} noValidate>
        <ProblemAlert problem={problem} others={rest} />
        <TextField
          id="displayName"
          label="Display name"
          value={displayName}
          onInput={setDisplayName}
          error={fieldError(problem, 'displayName')}
          required
        />
        <DestinationFields
          type={type}
          region={region}
          onType={setType}
          onRegion={setRegion}
          typeError={fieldError(problem, 'type')}
          regionError={fieldError(problem, 'region')}
        />
        <TextField
          id="apiKey"
          label={`${platform} API key`}
          type="password"
          autoComplete="new-password"
          hint={`Checked with ${platform} when you save, then kept in the secret store; only its last 4 characters are shown again.`}
          value={apiKey}
          onInput={setApiKey}
          error={keyFieldError(problem, 'apiKey', platform)}
          required
        />
        <ConsentField
          platform={platform}
          checked={consent}
          onChange={setConsent}
          error={fieldError(problem, 'consent')}
        />
        <SharingField value={sharing} onChange={setSharing} error={fieldError(problem, 'sharing')} />
        <ExportUsersField
          idPrefix="new"
          users={exportUsers}
          onChange={setExportUsers}
          session={session}
          problem={problem}
        />
        <LimitsFields
          idPrefix=""
          rate={rate}
          onRate={setRate}
          rateHint={`Leave blank for the deployment's default (${platform} documents ${DOCUMENTED_RATE[type]} per second).`}
          cap={cap}
          onCap={setCap}
          problem={problem}
        />
        <SubmitButton busy={busy} label="Save connection" busyLabel="Saving…" />
      </form>
    </section>
  );
};

const ConsentField = ({
  platform,
  checked,
  onChange,
  error,
}: {
  platform: string;
  checked: boolean;
  onChange: (value: boolean) => void;
  error: string | undefined;
}) => (
  <fieldset class="field">
    <legend>Data sharing</legend>
    <p id="consent-text" class="notice">
      Exports send your customers' email addresses and the fields you map to {platform}, a third party, under
      its own privacy terms. Only export contacts your organisation may share with {platform} (privacy notice
      version {NOTICE_VERSION}).
    </p>
    <div class="choice">
      <input
        type="checkbox"
        id="consent"
        name="consent"
        checked={checked}
        aria-invalid={error === undefined ? undefined : 'true'}
        aria-describedby={error === undefined ? 'consent-text' : 'consent-text consent-error'}
        onChange={(e) => onChange((e.currentTarget as HTMLInputElement).checked)}
      />
      <label for="consent">I have read this and accept it on behalf of my organisation</label>
    </div>
    <FieldError id="consent-error" message={error} />
  </fieldset>
);
