import { useState } from 'preact/hooks';
import { type AnyConnection, type Api, call } from '../api/client.ts';
import { fieldError, isStale, otherErrors, type Problem } from '../api/problems.ts';
import { capMeter, overCapReason } from '../components/cap-meter.ts';
import { ConnectionPicker } from '../components/connection-picker.tsx';
import { DataMatchingFields } from '../components/data-matching-fields.tsx';
import { changedSettings } from '../components/export-diff.ts';
import {
  type ExportForm,
  type ExportView,
  emptyForm,
  formOf,
  inputOf,
  modeAfterChoosing,
  modesFor,
} from '../components/export-model.ts';
import { ExportOptions } from '../components/export-options.tsx';
import { ProblemAlert, SubmitButton, TextField } from '../components/form.tsx';
import { leaveNotice } from '../components/notice.ts';
import { NotificationFields } from '../components/notification-fields.tsx';
import { SegmentPicker } from '../components/segment-picker.tsx';
import { TagNames } from '../components/tag-names.tsx';
import { useSegments } from '../components/use-segments.ts';
import { leaveWebhookSecret } from '../components/webhook-secret.ts';
import { navigate } from '../router.ts';
import { DESTINATION_TEXT } from './labels.ts';

const FIELDS = [
  'name',
  'connectionId',
  'segmentIds',
  'dataMatching',
  'membership',
  'membershipTags',
  'onLeave',
  'capPolicy',
  'repair',
  'notifications',
];

/** What was stale: the settings someone else changed, or undefined until the current export is read. */
type Stale = { changed: string[]; by: string } | undefined;

/**
 * The export's settings as a form. Saving stores them and never starts a run; an edit sends the
 * version it read, so a concurrent change is shown (what changed) and offered as Reload, never
 * overwritten.
 */
export const ExportEditor = ({
  api,
  loaded,
  connections,
  onReload,
}: {
  api: Api;
  loaded: ExportView | undefined;
  connections: AnyConnection[];
  onReload: () => void;
}) => {
  const [form, setForm] = useState<ExportForm>(() => (loaded === undefined ? emptyForm() : formOf(loaded)));
  const [busy, setBusy] = useState(false);
  const [problem, setProblem] = useState<Problem | undefined>();
  const [overCap, setOverCap] = useState<string | undefined>();
  const [stale, setStale] = useState<Stale>();
  const segments = useSegments(api, form.segmentIds, form.connectionId, loaded?.cap);
  const edit = (patch: Partial<ExportForm>) => setForm((f) => ({ ...f, ...patch }));
  const connectionOf = (id: string) => connections.find((c) => c.id === id);
  const connection = connectionOf(form.connectionId);
  // A connection offers only its destination's modes (Ortto: tags); choosing one adapts the mode.
  const chooseConnection = (connectionId: string) =>
    setForm((f) => ({
      ...f,
      connectionId,
      membership: modeAfterChoosing(f.membership, connectionOf(connectionId)),
    }));

  const submit = async (event: Event) => {
    event.preventDefault();
    setProblem(undefined);
    // In the order they were picked, so the refusal names them as the person chose them.
    const byId = new Map((segments.segments ?? []).map((s) => [s.id, s]));
    const chosen = form.segmentIds.flatMap((id) => byId.get(id) ?? []);
    const reason =
      segments.selection === undefined
        ? undefined
        : overCapReason(chosen, capMeter(chosen, segments.selection.cap), form.capPolicy);
    setOverCap(reason);
    if (reason !== undefined) return;
    setBusy(true);
    const body = inputOf(form, loaded);
    const result = await call(
      loaded === undefined
        ? api.POST('/exports', { body })
        : api.PUT('/exports/{id}', {
            params: { path: { id: loaded.id } },
            body: { ...body, version: loaded.version },
          }),
    );
    if (result.ok) {
      if (result.data.webhookSecret !== undefined)
        leaveWebhookSecret(result.data.id, result.data.webhookSecret);
      leaveNotice(
        'Saved. Nothing was sent: saving never runs an export.',
        result.data.warnings.map((w) => `${w.path}: ${w.reason}`),
      );
      navigate({ page: 'export', id: result.data.id });
      return;
    }
    setBusy(false);
    setProblem(result.problem);
    if (loaded !== undefined && isStale(result.problem)) {
      const current = await call(api.GET('/exports/{id}', { params: { path: { id: loaded.id } } }));
      if (current.ok)
        setStale({ changed: changedSettings(loaded, current.data), by: current.data.updatedBy });
    }
  };

  const isConflict = isStale(problem);
  const rest = otherErrors(problem, FIELDS);
  const connectionError = fieldError(problem, 'connectionId');
  return (
    <form aria-label="Export settings" onSubmit={(e) => void submit(e)} noValidate>
      <ProblemAlert problem={problem} others={rest}>
        {isConflict ? (
          <>
            <p>Your changes were not saved.</p>
            {stale === undefined ? null : (
              <p>
                Changed by {stale.by} since you opened it:{' '}
                {stale.changed.length === 0 ? 'nothing you can see here' : stale.changed.join(', ')}.
              </p>
            )}
            <button type="button" onClick={onReload}>
              Reload
            </button>
          </>
        ) : null}
      </ProblemAlert>
      {overCap === undefined ? null : (
        <div class="alert" role="alert">
          <p>Not saved. {overCap}</p>
        </div>
      )}
      <TextField
        id="name"
        label="Name"
        value={form.name}
        onInput={(name) => edit({ name })}
        error={fieldError(problem, 'name')}
        required
      />
      <ConnectionPicker
        value={form.connectionId}
        connections={connections}
        onChange={chooseConnection}
        error={connectionError}
      />
      {segments.problem === undefined ? null : <ProblemAlert problem={segments.problem} />}
      <SegmentPicker
        segments={segments.segments}
        selected={form.segmentIds}
        onChange={(segmentIds) => edit({ segmentIds })}
        cap={segments.selection?.cap}
        error={fieldError(problem, 'segmentIds')}
      />
      <DataMatchingFields
        value={form}
        onChange={edit}
        problem={problem}
        segments={segments.segments}
        selectedIds={form.segmentIds}
      />
      <ExportOptions
        value={form}
        onChange={edit}
        problem={problem}
        estimates={segments.selection?.estimates}
        modes={modesFor(connection)}
        destination={connection === undefined ? undefined : DESTINATION_TEXT[connection.type]}
      />
      {form.membership === 'tag' ? (
        <TagNames
          segments={form.segmentIds.map((id) => ({
            id,
            name: segments.segments?.find((s) => s.id === id)?.name ?? id,
          }))}
          value={form.membershipTags}
          onChange={(membershipTags) => edit({ membershipTags })}
          problem={problem}
        />
      ) : null}
      <NotificationFields
        value={form.webhookUrl}
        onChange={(webhookUrl) => edit({ webhookUrl })}
        problem={problem}
      />
      <p class="hint">Saving does not run the export.</p>
      <SubmitButton
        busy={busy || isConflict}
        label="Save export"
        busyLabel={isConflict ? 'Save export' : 'Saving…'}
      />
    </form>
  );
};
