import { fieldError, type Problem } from '../api/problems.ts';
import { TextField } from './form.tsx';

/** Where the export's health changes are posted besides the stack's own topic. */
export const NotificationFields = ({
  value,
  onChange,
  problem,
}: {
  value: string;
  onChange: (webhookUrl: string) => void;
  problem: Problem | undefined;
}) => (
  <fieldset class="field">
    <legend>Notifications</legend>
    <p class="hint">
      People are told when the export starts failing, its key is rejected, a run is held or it recovers; not
      on every run.
    </p>
    <TextField
      id="webhookUrl"
      label="Webhook URL (optional)"
      type="url"
      hint="HTTPS; Slack-compatible. Leave empty for no webhook. Setting or changing it makes a new signing secret."
      value={value}
      onInput={onChange}
      error={fieldError(problem, 'notifications.webhookUrl')}
      autoComplete="url"
    />
  </fieldset>
);
