/** `person/merge` (docs/ortto.md#merging-people): local checks, one request, positional outcomes. */
import { PermanentError, ValidationError } from '#lib/domain/errors.ts';
import {
  errorBodyOf,
  expectAnswer,
  failureOf,
  type MergeOutcome,
  mapMergeAnswer,
  mapRefusedBatch,
  RESEND,
} from './answers.ts';
import {
  encodeMergeOptions,
  encodePerson,
  type MergeOptions,
  type OrttoPerson,
  refuseConsentFields,
  type WirePerson,
} from './encoding.ts';
import type { OrttoRequester } from './requester.ts';
import { MergeAnswerSchema } from './schemas.ts';

/** Most people in one `person/merge`, and the most bytes in its body (Ortto says 2 MB: the smaller reading). */
export const ORTTO_MERGE_LIMIT = 100;
export const ORTTO_MAX_PAYLOAD_BYTES = 2_000_000;

const MERGE = { route: 'POST /v1/person/merge' };
const isSuccess = (status: number): boolean => status >= 200 && status < 300;

const mergeWire = async (
  http: OrttoRequester,
  wire: readonly WirePerson[],
  request: Record<string, unknown>,
  mayResend: boolean,
): Promise<MergeOutcome[]> => {
  const body = JSON.stringify({ people: wire, ...request });
  const bytes = Buffer.byteLength(body);
  if (bytes > ORTTO_MAX_PAYLOAD_BYTES) {
    throw new PermanentError(
      `Ortto ${MERGE.route} refused before sending: ${wire.length} people make ${bytes} bytes, ` +
        `at most ${ORTTO_MAX_PAYLOAD_BYTES} are allowed (send fewer people)`,
      { reason: 'payload_too_large' },
    );
  }
  const res = await http.post('merge', '/person/merge', body);
  const { secrets } = http;
  if (isSuccess(res.status)) {
    const answer = expectAnswer(MERGE, res, MergeAnswerSchema, secrets);
    return mapMergeAnswer(MERGE, res.status, answer.people, wire.length, secrets);
  }
  const refused = res.status === 400 ? mapRefusedBatch(errorBodyOf(res), wire.length, secrets) : undefined;
  if (refused === undefined) throw failureOf(MERGE, res, secrets);
  const again = refused.flatMap((o, j) => (o === RESEND ? [j] : []));
  if (again.length > 0 && mayResend) {
    const resent = await mergeWire(
      http,
      again.flatMap((j) => wire[j] ?? []),
      request,
      false,
    );
    again.forEach((j, k) => {
      refused[j] = resent[k] ?? RESEND;
    });
  }
  return refused.map(
    (o): MergeOutcome =>
      o === RESEND ? { ok: false, status: 'invalid', reason: 'refused with its batch twice' } : o,
  );
};

/**
 * `person/merge`: 1–100 people, one outcome each in input order. A person with a consent field
 * refuses the whole call (ValidationError, nothing sent); a person with a value Ortto could not
 * take fails on its own without being sent. A batch Ortto refused for its invalid people is sent
 * again once without them.
 */
export const mergePeople = async (
  http: OrttoRequester,
  people: readonly OrttoPerson[],
  options: MergeOptions,
): Promise<MergeOutcome[]> => {
  if (people.length === 0 || people.length > ORTTO_MERGE_LIMIT) {
    throw new PermanentError(
      `Ortto ${MERGE.route} refused before sending: ${people.length} people (1–${ORTTO_MERGE_LIMIT} allowed)`,
      { reason: 'merge_size' },
    );
  }
  const request = encodeMergeOptions(options);
  for (const person of people) refuseConsentFields(person);
  const outcomes: (MergeOutcome | undefined)[] = people.map(() => undefined);
  const wire: WirePerson[] = [];
  const positions: number[] = [];
  people.forEach((person, i) => {
    try {
      wire.push(encodePerson(person, options.mergeBy));
      positions.push(i);
    } catch (err) {
      if (!(err instanceof ValidationError)) throw err;
      outcomes[i] = { ok: false, status: 'invalid', reason: `not sent: ${err.message.slice(0, 300)}` };
    }
  });
  if (wire.length > 0) {
    const sent = await mergeWire(http, wire, request, true);
    sent.forEach((outcome, j) => {
      const i = positions[j];
      if (i !== undefined) outcomes[i] = outcome;
    });
  }
  return outcomes.map((o): MergeOutcome => o ?? { ok: false, status: 'invalid', reason: 'not sent' });
};
