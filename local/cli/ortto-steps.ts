import { DynamoDbRateBudget } from '#lib/adapters/dynamodb/rate-budget.ts';
import { checkEmail } from '#lib/domain/email.ts';
import type { LocalRuntime } from '../runtime.ts';
import type { SampleDataset } from '../sample-data.ts';
import { checksPass } from '../verify.ts';
import { verifyAgainstOrtto } from '../verify-ortto.ts';
import { type DestinationLabel, verificationLine } from './report.ts';

export const ORTTO: DestinationLabel = { name: 'Ortto', documentedRate: 10 };

/** How many people the demo unsubscribes in Ortto between the runs (their data changes in run 2). */
const UNSUBSCRIBED = 5;

/**
 * As a person would in an Ortto email's footer: a few people whose profiles the churn edits
 * unsubscribe before the re-run, which then merges them again. Answers everyone's email permission
 * as it stands now, for the verification to compare.
 */
export const unsubscribeSome = (
  runtime: LocalRuntime & { ortto: NonNullable<LocalRuntime['ortto']> },
  dataset: SampleDataset,
  editedProfileIds: readonly string[],
): { unsubscribed: number; consentBefore: Map<string, unknown> } => {
  const { standIn, apiKey } = runtime.ortto;
  const byId = new Map(dataset.profiles.map((p) => [p.id, p]));
  let unsubscribed = 0;
  for (const id of editedProfileIds) {
    if (unsubscribed >= UNSUBSCRIBED) break;
    const email = byId.get(id)?.email;
    const checked = email === undefined ? undefined : checkEmail(email);
    if (checked?.ok !== true || standIn.personByEmail(apiKey, checked.key) === undefined) continue;
    standIn.unsubscribe(apiKey, checked.key);
    unsubscribed++;
  }
  const consentBefore = new Map<string, unknown>();
  for (const person of standIn.people(apiKey)) {
    const email = person.fields['str::email'];
    if (typeof email === 'string') consentBefore.set(email.toLowerCase(), person.fields['bol::p']);
  }
  return { unsubscribed, consentBefore };
};

/**
 * Reads the Ortto stand-in back through its public API at the connection's budget: every segment
 * tag must be on exactly its segment's members, `tags/get` must count the same, and nobody's email
 * permission may have changed. Answers whether all of that holds, having printed it.
 */
export const verifyOrtto = async (
  runtime: LocalRuntime & { ortto: NonNullable<LocalRuntime['ortto']> },
  options: {
    dataset: SampleDataset;
    tags: Array<{ segmentId: string; name: string; tag: string }>;
    consentBefore: Map<string, unknown>;
    connection: { id: string; ratePerSecond: number };
  },
): Promise<boolean> => {
  const { standIn, apiKey } = runtime.ortto;
  const verified = await verifyAgainstOrtto({
    baseUrl: standIn.url,
    apiKey,
    dataset: options.dataset,
    tags: options.tags,
    consentBefore: options.consentBefore,
    pacing: {
      rateBudget: new DynamoDbRateBudget({
        client: runtime.dynamo,
        tableName: runtime.env.sender.STATE_TABLE,
      }),
      connectionId: options.connection.id,
      ratePerSecond: options.connection.ratePerSecond,
    },
  });
  console.log(verificationLine(verified.checks, 'tag', verified.requests, ORTTO));
  const miscounted = verified.counts.filter((c) => (c.counted ?? 0) !== c.readBack);
  console.log(
    miscounted.length === 0
      ? '  ✔ tags/get counts every segment tag as read back'
      : `  ✘ tags/get counts differ: ${miscounted.map((c) => `${c.tag} ${c.counted ?? 'absent'} vs ${c.readBack}`).join(' · ')}`,
  );
  const writes = standIn.permissionWrites(apiKey).length;
  const consentOk = verified.consentChanged === 0 && writes === 0;
  console.log(
    consentOk
      ? '  ✔ Consent: nobody re-subscribed or unsubscribed; no email or SMS permission was ever sent'
      : `  ✘ Consent: ${verified.consentChanged} people's email permission changed; ${writes} permission writes received`,
  );
  return checksPass(verified.checks) && miscounted.length === 0 && consentOk;
};
