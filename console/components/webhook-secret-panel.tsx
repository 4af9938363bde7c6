import { useState } from 'preact/hooks';

type Copy = 'copied' | 'failed' | undefined;

/**
 * The webhook signing secret a save just returned. The API never returns it again and the console
 * keeps it nowhere, so the panel says so; dismissing it forgets it.
 */
export const WebhookSecretPanel = ({ secret, onDismiss }: { secret: string; onDismiss: () => void }) => {
  const [copy, setCopy] = useState<Copy>();
  const copySecret = async () => {
    try {
      await navigator.clipboard.writeText(secret);
      setCopy('copied');
    } catch {
      // No clipboard permission (or an insecure origin): the secret is on screen to select by hand.
      setCopy('failed');
    }
  };
  const dismiss = () => {
    onDismiss();
    // The panel held focus; the page title is where the rest of the page starts.
    document.getElementById('page-title')?.focus();
  };
  return (
    <section class="panel secret" aria-labelledby="webhook-secret-title">
      <h2 id="webhook-secret-title">Webhook signing secret</h2>
      <p id="webhook-secret-warning">
        This secret is shown once: store it now; it signs every delivery (X-Autopilot-Export-Signature).
      </p>
      <p>
        <code id="webhook-secret">{secret}</code>
      </p>
      <p>
        <button type="button" aria-describedby="webhook-secret-warning" onClick={() => void copySecret()}>
          Copy secret
        </button>{' '}
        <button type="button" class="secondary" onClick={dismiss}>
          Dismiss
        </button>
      </p>
      <p aria-live="polite">
        {copy === 'copied'
          ? 'Copied to the clipboard.'
          : copy === 'failed'
            ? 'Could not copy; select the secret and copy it by hand.'
            : ''}
      </p>
    </section>
  );
};
