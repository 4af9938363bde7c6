import { useState } from 'preact/hooks';
import { type Api, call } from '../api/client.ts';
import type { Problem } from '../api/problems.ts';
import { runHref } from '../components/export-labels.ts';
import type { ExportView } from '../components/export-model.ts';
import { ProblemAlert } from '../components/form.tsx';
import { leaveNotice } from '../components/notice.ts';
import { REPAIR_WORDS, repairTargetOf } from '../components/repair-text.ts';
import { href, navigate } from '../router.ts';

type Busy = 'run' | 'dry-run' | 'repair' | 'schedule' | 'duplicate' | 'delete' | undefined;

/**
 * What the caller may do with an export: run, dry-run and repair (each opens the run's page), schedule,
 * duplicate, delete (after a confirmation) and edit. Only the controls the views allow are shown;
 * the API is what enforces them.
 */
export const ExportActions = ({
  api,
  exp,
  onChanged,
}: {
  api: Api;
  exp: ExportView;
  onChanged: (text: string) => void;
}) => {
  const [busy, setBusy] = useState<Busy>();
  const [problem, setProblem] = useState<Problem | undefined>();
  const [confirming, setConfirming] = useState(false);
  const path = { path: { id: exp.id } };

  const act = async <T,>(kind: Busy, request: Promise<{ data?: T; error?: unknown; response: Response }>) => {
    setBusy(kind);
    setProblem(undefined);
    const result = await call(request);
    setBusy(undefined);
    if (!result.ok) setProblem(result.problem);
    return result.ok ? result.data : undefined;
  };
  const start = async (dryRun: boolean) => {
    const started = await act(
      dryRun ? 'dry-run' : 'run',
      api.POST('/exports/{id}/runs', { params: { ...path, query: { dryRun: dryRun ? 'true' : 'false' } } }),
    );
    if (started !== undefined) window.location.hash = runHref(started.runId);
  };
  const repair = async () => {
    const started = await act(
      'repair',
      api.POST('/exports/{id}/runs', { params: path, body: { repair: true } }),
    );
    if (started !== undefined) window.location.hash = runHref(started.runId);
  };
  const schedule = async () => {
    const next = !exp.scheduled;
    const saved = await act(
      'schedule',
      api.PUT('/exports/{id}/schedule', { params: path, body: { scheduled: next } }),
    );
    if (saved !== undefined) onChanged(next ? 'Schedule turned on.' : 'Schedule turned off.');
  };
  const duplicate = async () => {
    const copy = await act('duplicate', api.POST('/exports/{id}/duplicate', { params: path }));
    if (copy === undefined) return;
    leaveNotice(
      `Duplicated "${exp.name}". Change the copy's list titles before running it: it names the same lists.`,
    );
    navigate({ page: 'export', id: copy.id });
  };
  const remove = async () => {
    setBusy('delete');
    setProblem(undefined);
    const result = await call(
      api.DELETE('/exports/{id}', { params: path }).then((r) => ({ ...r, data: r.data ?? {} })),
    );
    setBusy(undefined);
    if (!result.ok) {
      setProblem(result.problem);
      return;
    }
    leaveNotice(`Deleted "${exp.name}".`);
    navigate({ page: 'exports' });
  };

  const { canEdit, canRun } = exp.permissions;
  const repairTarget = repairTargetOf(exp.membership);
  const repairWords = repairTarget === undefined ? undefined : REPAIR_WORDS[repairTarget];
  if (!canEdit && !canRun) return null;
  return (
    <section class="panel" aria-labelledby="actions-title">
      <h2 id="actions-title">Actions</h2>
      <ProblemAlert problem={problem} />
      <div class="actions">
        {canRun ? (
          <>
            <button type="button" disabled={busy !== undefined} onClick={() => void start(false)}>
              {busy === 'run' ? 'Starting…' : 'Run now'}
            </button>
            <button
              type="button"
              class="secondary"
              disabled={busy !== undefined}
              onClick={() => void start(true)}
            >
              {busy === 'dry-run' ? 'Starting…' : 'Dry run'}
            </button>
            {repairWords === undefined ? null : (
              <button
                type="button"
                class="secondary"
                disabled={busy !== undefined}
                aria-busy={busy === 'repair' ? 'true' : undefined}
                aria-describedby="repair-hint"
                onClick={() => void repair()}
              >
                {busy === 'repair' ? 'Starting…' : repairWords.button}
              </button>
            )}
          </>
        ) : null}
        {canEdit ? (
          <>
            <a class="button secondary" href={href({ page: 'export-edit', id: exp.id })}>
              Edit
            </a>
            <button
              type="button"
              class="secondary"
              disabled={busy !== undefined}
              onClick={() => void schedule()}
            >
              {busy === 'schedule' ? 'Saving…' : exp.scheduled ? 'Turn schedule off' : 'Turn schedule on'}
            </button>
            <button
              type="button"
              class="secondary"
              disabled={busy !== undefined}
              onClick={() => void duplicate()}
            >
              {busy === 'duplicate' ? 'Duplicating…' : 'Duplicate'}
            </button>
            <button
              type="button"
              class="danger"
              disabled={busy !== undefined}
              aria-expanded={confirming ? 'true' : 'false'}
              onClick={() => setConfirming(true)}
            >
              Delete…
            </button>
          </>
        ) : null}
      </div>
      {canRun && repairWords !== undefined ? (
        <p id="repair-hint" class="hint">
          {repairWords.hint}
        </p>
      ) : null}
      {canEdit && confirming ? (
        <fieldset id="delete-confirm" class="alert">
          <legend>
            Delete "{exp.name}"? It also forgets which contacts it sent; lists already in Autopilot stay.
          </legend>
          <button type="button" class="danger" disabled={busy !== undefined} onClick={() => void remove()}>
            {busy === 'delete' ? 'Deleting…' : 'Delete export'}
          </button>{' '}
          <button type="button" class="secondary" onClick={() => setConfirming(false)}>
            Keep it
          </button>
        </fieldset>
      ) : null}
    </section>
  );
};
