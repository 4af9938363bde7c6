import { ValidationError } from '#lib/domain/errors.ts';
import { webhookSecretId, webhookUrlProblem } from '#lib/domain/export-config.ts';
import type { SecretProvider } from '#lib/ports/secret-provider.ts';

/** How an export's webhook is signed: a secret the product makes, kept in the secret store. */
export interface WebhookDeps {
  webhooks?: {
    secrets: Pick<SecretProvider, 'putApiKey' | 'deleteApiKey'>;
    /** A fresh random signing secret. */
    newSecret: () => string;
    /** Local mode: plain http://127.0.0.1 is accepted. */
    allowLoopbackHttp: boolean;
  };
}

const PATH = 'notifications.webhookUrl';

/** Refuses a webhook URL this deployment will not call (the schema checked its shape already). */
export const checkWebhookUrl = (deps: WebhookDeps, url: string | undefined): void => {
  if (url === undefined) return;
  if (deps.webhooks === undefined)
    throw new ValidationError([{ path: PATH, reason: 'webhooks are not available in this deployment' }]);
  const problem = webhookUrlProblem(url, deps.webhooks.allowLoopbackHttp);
  if (problem !== undefined) throw new ValidationError([{ path: PATH, reason: problem }]);
};

/**
 * Keeps the signing secret in step with the URL once the save succeeded: a URL set or changed gets a
 * new secret (a new receiver never shares the old one's), returned to the caller this once; a URL
 * removed deletes it. Otherwise nothing changes and nothing is returned. To rotate a secret, change
 * the URL (or remove it, save, and set it again).
 */
export const syncWebhookSecret = async (
  deps: WebhookDeps,
  exportId: string,
  before: string | undefined,
  after: string | undefined,
): Promise<string | undefined> => {
  const webhooks = deps.webhooks;
  if (webhooks === undefined || before === after) return undefined;
  if (after === undefined) {
    await webhooks.secrets.deleteApiKey(webhookSecretId(exportId));
    return undefined;
  }
  const secret = webhooks.newSecret();
  await webhooks.secrets.putApiKey(webhookSecretId(exportId), secret);
  return secret;
};
