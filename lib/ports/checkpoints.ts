/** Planner checkpoints, so planning resumes in a new invocation (DynamoDB in AWS, expiring after 2 days). */
export interface Checkpoints {
  /**
   * Replaces the run's checkpoint. `data` may come in pieces (their concatenation is the text), so a
   * large checkpoint is never one string in memory: the adapter compresses the pieces as they come.
   */
  save(runId: string, data: string | Iterable<string>): Promise<void>;
  load(runId: string): Promise<string | undefined>;
  delete(runId: string): Promise<void>;
}
