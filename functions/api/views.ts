import * as z from 'zod';
import { type Caller, seesConnectionDetails, usableBy } from '#lib/domain/access.ts';
import {
  type Connection,
  ConnectionSchema,
  DESTINATION_TYPES,
  ORTTO_REGIONS,
} from '#lib/domain/connection.ts';
import { ExportConfigSchema } from '#lib/domain/export-config.ts';
import { ExportHealthStateSchema } from '#lib/domain/export-health.ts';
import { type ExportRecord, LastRunCountsSchema } from '#lib/domain/export-record.ts';
import { RunStatusSchema } from '#lib/domain/run.ts';
import type { ExportPermissions } from '#lib/use-cases/export-access.ts';

const canUse = z.boolean().meta({
  description:
    'Whether the caller may write and run exports on it (admins; contributors when it is shared with ' +
    'contributors or names them as export users)',
});

/** A connection as an export names it: its name, type and (Ortto) region. */
export const ConnectionRefSchema = z.object({
  id: z.string(),
  displayName: z.string(),
  type: z.enum(DESTINATION_TYPES),
  region: z.enum(ORTTO_REGIONS).optional().meta({ description: "Ortto only: the account's data region" }),
});

/** Name, type and region: what anyone who may read a connection sees of it (never a setting). */
const refOf = (c: Connection): z.infer<typeof ConnectionRefSchema> => ({
  id: c.id,
  displayName: c.displayName,
  type: c.type,
  ...(c.type === 'ortto' ? { region: c.region ?? 'global' } : {}),
});

/** What non-admins see of a connection: its name, type and region, and whether they may use it. */
export const ConnectionSummarySchema = ConnectionRefSchema.extend({ canUse });

/** What admins see: everything but the API key, of which no response ever contains more than its hint. */
export const ConnectionViewSchema = ConnectionSchema.extend({
  canUse,
  region: ConnectionSchema.shape.region.meta({
    description:
      "Ortto only: the account's data region (`global` when absent); fixed, since a key works only in its region",
  }),
  keyHint: ConnectionSchema.shape.keyHint.meta({
    description:
      'The last 4 characters of the API key, to recognise which key is in use (shown as "•••• abcd"); ' +
      'absent for connections created before hints existed. Admins only: the key itself is never returned',
  }),
});
export const ConnectionAnyViewSchema = z.union([ConnectionViewSchema, ConnectionSummarySchema]);

export const connectionView = (caller: Caller, c: Connection): z.infer<typeof ConnectionAnyViewSchema> => {
  const usable = usableBy(caller, c);
  return seesConnectionDetails(caller)
    ? { ...c, ...refOf(c), canUse: usable }
    : { ...refOf(c), canUse: usable };
};

export const ExportStatusSchema = z.enum(['ready', 'running', 'no_connection', 'connection_needs_attention']);

export const ExportViewSchema = ExportConfigSchema.and(
  z.object({
    id: z.string(),
    version: z.number(),
    createdBy: z.string(),
    createdAt: z.string(),
    updatedBy: z.string(),
    updatedAt: z.string(),
    status: ExportStatusSchema,
    connection: ConnectionRefSchema.nullable(),
    activeRunId: z.string().nullable(),
    lastRun: z
      .object({
        runId: z.string(),
        status: RunStatusSchema,
        finishedAt: z.string().optional(),
        counts: LastRunCountsSchema.nullable().meta({
          description:
            'As the run view’s progress counts them (accepted, failed, dropped, in its unit); null for a ' +
            'run that ended before exports kept its counts',
        }),
      })
      .nullable(),
    health: z
      .object({
        state: ExportHealthStateSchema,
        since: z.string(),
        failingRuns: z.number().meta({ description: 'Failing runs since the export was last healthy' }),
        reason: z.string().optional(),
        runId: z.string().meta({ description: 'The run that set it' }),
      })
      .nullable()
      .meta({
        description:
          'How its runs have been ending; people are notified only when the state changes. Null until a ' +
          'run has succeeded or failed',
      }),
    permissions: z.object({ canEdit: z.boolean(), canRun: z.boolean() }),
  }),
);
export type ExportView = z.infer<typeof ExportViewSchema>;

/** An export as a save returns it: with what the save noticed but did not refuse. */
export const SavedExportViewSchema = ExportViewSchema.and(
  z.object({
    warnings: z
      .array(z.object({ path: z.string(), reason: z.string() }))
      .meta({ description: 'Mapped attributes the selected segments do not seem to carry (sampled)' }),
    webhookSecret: z
      .string()
      .optional()
      .meta({
        description:
          'The webhook’s signing secret, returned only by the save that set or changed the webhook URL (and ' +
          'by a rotation): store it now, it is never shown again',
      }),
  }),
);

export const exportView = (
  exp: ExportRecord,
  connection: Connection | undefined,
  permissions: ExportPermissions,
): ExportView => {
  const status = (() => {
    if (exp.connectionId === null || connection === undefined) return 'no_connection' as const;
    if (connection.status !== 'active') return 'connection_needs_attention' as const;
    return exp.activeRunId === undefined ? ('ready' as const) : ('running' as const);
  })();
  const { activeRunId, lastRun, health, ...rest } = exp;
  return {
    ...rest,
    status,
    connection: connection ? refOf(connection) : null,
    activeRunId: activeRunId ?? null,
    lastRun: lastRun === undefined ? null : { ...lastRun, counts: lastRun.counts ?? null },
    health:
      health === undefined
        ? null
        : {
            state: health.state,
            since: health.since,
            failingRuns: health.failingRuns,
            ...(health.reason === undefined ? {} : { reason: health.reason }),
            runId: health.runId,
          },
    permissions,
  };
};

export const SegmentViewSchema = z.object({
  id: z.string(),
  name: z.string(),
  profiles: z.number(),
  attributes: z
    .array(z.string())
    .optional()
    .meta({
      description:
        'Attribute names the segment’s profiles carry (a file’s columns, the keys of its first rows, or ' +
        'what a refresh declared), the id field excepted; absent when the source does not know them. ' +
        'A sample: a profile may carry others',
    }),
});

/** Whether a selection of segments can fit the cap: sizes are profiles, so a sum over the cap only "may" exceed it. */
export const SelectionCheckSchema = z.object({
  segmentIds: z.array(z.string()),
  cap: z.number(),
  profilesInLargest: z.number(),
  profilesInAll: z.number(),
  verdict: z.enum(['within_cap', 'may_exceed_cap', 'exceeds_cap']),
  message: z.string(),
});
