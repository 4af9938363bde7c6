import type { RunRecord } from '#lib/domain/run-record.ts';

/** Tells people about runs that need attention (SNS topic in AWS, the console locally). */
export interface Notifier {
  runFinished(run: RunRecord): Promise<void>;
}
