import { useState } from 'preact/hooks';
import type { Connection } from '../api/client.ts';
import { fieldError, type Problem } from '../api/problems.ts';
import type { Session } from '../session.ts';
import { FieldError } from './form.tsx';

export type ExportUser = Connection['exportUsers'][number];

/**
 * Named export users: contributors listed here may use the connection even when it is shared with
 * admins only. Users are matched by id; the label is only what admins read. "Add yourself" comes
 * first because it needs no id typed.
 */
export const ExportUsersField = ({
  users,
  onChange,
  session,
  problem,
  idPrefix,
}: {
  users: ExportUser[];
  onChange: (users: ExportUser[]) => void;
  session: Session;
  problem: Problem | undefined;
  idPrefix: string;
}) => {
  const [newId, setNewId] = useState('');
  const [newLabel, setNewLabel] = useState('');
  const listed = users.some((u) => u.id === session.id);
  const add = () => {
    const id = newId.trim();
    if (id === '') return;
    const label = newLabel.trim();
    onChange([...users, label === '' ? { id } : { id, label }]);
    setNewId('');
    setNewLabel('');
  };
  const listError = problem?.errors.find((e) => e.path === 'exportUsers')?.reason;
  return (
    <fieldset class="field" aria-describedby={`${idPrefix}-users-hint`}>
      <legend>Export users</legend>
      <p id={`${idPrefix}-users-hint`} class="hint">
        Contributors named here may run exports on this connection even when it is shared with admins only.
        Viewers stay read-only.
      </p>
      {users.length === 0 ? <p>No one is named.</p> : null}
      <ul class="users">
        {users.map((user, i) => {
          const error = fieldError(problem, `exportUsers[${i}]`);
          return (
            <li key={user.id}>
              <span id={`${idPrefix}-user-${i}`}>
                {user.label === undefined ? user.id : `${user.label} (${user.id})`}
              </span>{' '}
              <button
                type="button"
                aria-describedby={`${idPrefix}-user-${i}`}
                onClick={() => onChange(users.filter((_, j) => j !== i))}
              >
                Remove
              </button>
              <FieldError id={`${idPrefix}-user-${i}-error`} message={error} />
            </li>
          );
        })}
      </ul>
      <FieldError id={`${idPrefix}-users-error`} message={listError} />
      {listed ? null : (
        <p>
          <button
            type="button"
            onClick={() =>
              onChange([
                ...users,
                session.name === undefined ? { id: session.id } : { id: session.id, label: session.name },
              ])
            }
          >
            Add yourself
          </button>
        </p>
      )}
      <div class="add-user">
        <label for={`${idPrefix}-new-user-id`}>User id</label>
        <input
          id={`${idPrefix}-new-user-id`}
          type="text"
          autoComplete="off"
          value={newId}
          onInput={(e) => setNewId((e.currentTarget as HTMLInputElement).value)}
        />
        <label for={`${idPrefix}-new-user-label`}>Name (optional)</label>
        <input
          id={`${idPrefix}-new-user-label`}
          type="text"
          autoComplete="off"
          value={newLabel}
          onInput={(e) => setNewLabel((e.currentTarget as HTMLInputElement).value)}
        />
        <button type="button" onClick={add} disabled={newId.trim() === ''}>
          Add user
        </button>
      </div>
    </fieldset>
  );
};
