import * as z from 'zod';
import { FatalRunError, TransientError, ValidationError } from '#lib/domain/errors.ts';
import { parseOrThrow } from '#lib/domain/validation.ts';
import type { Clock } from '#lib/ports/clock.ts';
import type { Destination } from '#lib/ports/destination.ts';
import type { Logger } from '#lib/ports/logger.ts';
import type { SecretProvider } from '#lib/ports/secret-provider.ts';
import type { Connection, StateStore } from '#lib/ports/state-store.ts';

export interface ConnectionDeps {
  store: StateStore;
  secrets: SecretProvider;
  destination: Destination;
  clock: Clock;
  logger: Logger;
  newId: () => string;
}

/** The data-privacy notice admins accept; a new version needs a new acceptance. */
export const PRIVACY_NOTICE_VERSION = '2026-11';
export const DEFAULT_RATE_PER_SECOND = 5;
export const DEFAULT_CONNECTION_CAP = 100_000;

const apiKey = z
  .string()
  .trim()
  .min(8, 'is too short to be an Autopilot API key')
  .max(256, 'is too long to be an Autopilot API key')
  .regex(/^[\x21-\x7e]+$/, 'must not contain spaces or non-printable characters');

export const CreateConnectionInputSchema = z.object({
  displayName: z.string().trim().min(1, 'must not be empty').max(200),
  apiKey,
  consent: z.object({
    accepted: z.literal(true, 'must be true: an admin has to accept the data-privacy notice'),
    noticeVersion: z.literal(
      PRIVACY_NOTICE_VERSION,
      `must be "${PRIVACY_NOTICE_VERSION}", the current notice`,
    ),
  }),
  sharing: z.enum(['admins', 'admins+contributors']).default('admins'),
  cap: z.number().int().positive().max(10_000_000).default(DEFAULT_CONNECTION_CAP),
  // Autopilot documents 5/s and raises it per account on request.
  ratePerSecond: z.number().positive().max(1000).default(DEFAULT_RATE_PER_SECOND),
});
export type CreateConnectionInput = z.input<typeof CreateConnectionInputSchema>;

/** Autopilot refused the key (or could not be asked); the message says which. */
export class KeyVerificationError extends Error {
  override readonly name = 'KeyVerificationError';
  constructor(
    message: string,
    readonly retryable: boolean,
  ) {
    super(message);
  }
}

/** Asks the destination whether a key works, with one cheap authenticated read. Never logs the key. */
export const verifyApiKey = async (destination: Destination, key: string): Promise<void> => {
  try {
    await destination.open(key).verify();
  } catch (error) {
    if (error instanceof FatalRunError) {
      throw new KeyVerificationError('Autopilot rejected this API key; check it and try again.', false);
    }
    if (error instanceof TransientError) {
      throw new KeyVerificationError(
        'Autopilot could not be reached to verify the key; try again shortly.',
        true,
      );
    }
    throw new KeyVerificationError(
      `Autopilot refused the verification request: ${(error as Error).message}`,
      false,
    );
  }
};

/**
 * Creates a connection: refuses without consent, verifies the key against Autopilot, keeps the key
 * only in the secret store and records who consented and when. The returned record has no key.
 */
export const createConnection = async (
  deps: ConnectionDeps,
  input: unknown,
  actor: string,
): Promise<Connection> => {
  const parsed = parseOrThrow(CreateConnectionInputSchema, input);
  await verifyApiKey(deps.destination, parsed.apiKey);
  const now = new Date(deps.clock.now()).toISOString();
  const connection: Connection = {
    id: deps.newId(),
    displayName: parsed.displayName,
    type: 'autopilot',
    status: 'active',
    consent: { acceptedBy: actor, acceptedAt: now, noticeVersion: parsed.consent.noticeVersion },
    sharing: parsed.sharing,
    cap: parsed.cap,
    ratePerSecond: parsed.ratePerSecond,
    bulkMembership: { state: 'unknown' },
    createdBy: actor,
    createdAt: now,
    updatedBy: actor,
    updatedAt: now,
    version: 1,
  };
  await deps.secrets.putApiKey(connection.id, parsed.apiKey);
  try {
    if (!(await deps.store.putConnection(connection, { expectNew: true }))) {
      throw new ValidationError([{ path: 'id', reason: 'a connection with this id already exists' }]);
    }
  } catch (error) {
    await deps.secrets.deleteApiKey(connection.id);
    throw error;
  }
  deps.logger.info('connection created', {
    connectionId: connection.id,
    by: actor,
    sharing: connection.sharing,
  });
  return connection;
};
