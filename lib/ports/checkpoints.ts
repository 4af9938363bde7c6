/** Planner checkpoints, so planning resumes in a new invocation (DynamoDB in AWS, expiring after 2 days). */
export interface Checkpoints {
  save(runId: string, data: string): Promise<void>;
  load(runId: string): Promise<string | undefined>;
  delete(runId: string): Promise<void>;
}
