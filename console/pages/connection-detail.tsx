import { useState } from 'preact/hooks';
import { type Api, call, isDetailed } from '../api/client.ts';
import { AuditLog } from '../components/audit-log.tsx';
import { ProblemAlert } from '../components/form.tsx';
import { KeyHint } from '../components/key-hint.tsx';
import { useLoad } from '../components/use-load.ts';
import { href } from '../router.ts';
import type { Session } from '../session.ts';
import { ConnectionEditForm } from './connection-edit.tsx';
import { ConnectionRemove } from './connection-remove.tsx';
import { RotateKeyForm } from './connection-rotate.tsx';
import { capText, destinationText, rateText, SHARING_TEXT, STATUS_TEXT } from './labels.ts';

export const ConnectionDetailPage = ({
  api,
  session,
  id,
  onRemoved,
}: {
  api: Api;
  session: Session;
  id: string;
  onRemoved: (message: string) => void;
}) => {
  const [load, reload] = useLoad(
    () => call(api.GET('/connections/{id}', { params: { path: { id } } })),
    [api, id],
  );
  const [notice, setNotice] = useState<string | undefined>();
  const done = (message: string) => {
    setNotice(message);
    reload();
  };
  const title = load.state === 'loaded' ? load.data.displayName : 'Connection';
  return (
    <section aria-labelledby="page-title">
      <h1 id="page-title" tabIndex={-1}>
        {title}
      </h1>
      <p>
        <a href={href({ page: 'connections' })}>Back to connections</a>
      </p>
      {notice === undefined ? null : (
        <p class="flash" role="status">
          {notice}
        </p>
      )}
      {load.state === 'loading' ? <p aria-live="polite">Loading the connection…</p> : null}
      {load.state === 'failed' ? <ProblemAlert problem={load.problem} /> : null}
      {load.state === 'loaded' && !isDetailed(load.data) ? (
        <>
          <p>Type: {destinationText(load.data)}. Admins see and change its settings.</p>
          <p>
            {load.data.canUse
              ? 'You can use this connection in your exports.'
              : 'You cannot use this connection in your exports.'}
          </p>
        </>
      ) : null}
      {load.state === 'loaded' && isDetailed(load.data) ? (
        <>
          <dl class="facts">
            <dt>Type</dt>
            <dd>{destinationText(load.data)}</dd>
            <dt>Status</dt>
            <dd>{STATUS_TEXT[load.data.status]}</dd>
            <dt>API key</dt>
            <dd>
              <KeyHint hint={load.data.keyHint} unknown="Kept in the secret store; never shown" />
            </dd>
            <dt>Who can use it</dt>
            <dd>{SHARING_TEXT[load.data.sharing]}</dd>
            <dt>Export users</dt>
            <dd>
              {load.data.exportUsers.length === 0
                ? 'No one is named'
                : load.data.exportUsers.map((u) => u.label ?? u.id).join(', ')}
            </dd>
            <dt>Rate budget</dt>
            <dd>{rateText(load.data.ratePerSecond)}</dd>
            <dt>Cap</dt>
            <dd>{capText(load.data.cap)}</dd>
            <dt>Data sharing accepted</dt>
            <dd>
              by {load.data.consent.acceptedBy} on {load.data.consent.acceptedAt} (notice{' '}
              {load.data.consent.noticeVersion})
            </dd>
          </dl>
          {session.role === 'admin' ? (
            <>
              <ConnectionEditForm
                key={load.data.version}
                api={api}
                session={session}
                connection={load.data}
                onSaved={() => done('Settings saved.')}
                onReload={() => done('Reloaded: showing the latest settings.')}
              />
              <RotateKeyForm api={api} connection={load.data} onRotated={() => done('API key replaced.')} />
              <ConnectionRemove api={api} connection={load.data} onRemoved={onRemoved} />
              <AuditLog key={load.data.version} api={api} resource={`connection/${id}`} />
            </>
          ) : null}
        </>
      ) : null}
    </section>
  );
};
