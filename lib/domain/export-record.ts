import * as z from 'zod';
import { ExportConfigSchema } from './export-config.ts';
import { ExportHealthSchema } from './export-health.ts';
import { RunStatusSchema } from './run.ts';

const iso = z.string().min(1);

/**
 * What the export keeps of its last run's outcome, named as the run view names them: contacts or
 * list memberships (`unit`) Autopilot accepted, that failed, and that were not sent.
 */
export const LastRunCountsSchema = z.object({
  unit: z.enum(['memberships', 'contacts']),
  accepted: z.number(),
  failed: z.number(),
  dropped: z.number(),
});
export type LastRunCounts = z.infer<typeof LastRunCountsSchema>;

/** An export as stored: its configuration, who saved it when, and the system's run locks. */
export const ExportRecordSchema = ExportConfigSchema.and(
  z.object({
    id: z.string().min(1),
    createdBy: z.string(),
    createdAt: iso,
    updatedBy: z.string(),
    updatedAt: iso,
    version: z.number().int().min(1),
    /** The run holding the export's one-active-run lock. */
    activeRunId: z.string().optional(),
    /** The dry run holding the export's one-active-dry-run lock (dry runs never block real runs). */
    activeDryRunId: z.string().optional(),
    lastRun: z
      .object({
        runId: z.string(),
        status: RunStatusSchema,
        finishedAt: iso.optional(),
        /** Absent on records written before the counts were kept. */
        counts: LastRunCountsSchema.optional(),
      })
      .optional(),
    /** How its runs have been ending (absent until a run that says so has ended). The system's. */
    health: ExportHealthSchema.optional(),
  }),
);
export type ExportRecord = z.infer<typeof ExportRecordSchema>;

/** Which of an export's two run locks: one real run and one dry run may be active at once. */
export type RunSlot = 'run' | 'dry-run';
