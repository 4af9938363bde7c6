/** Planner checkpoints, so planning resumes in a new invocation (DynamoDB in AWS, expiring after 2 days). */
export interface Checkpoints {
  /**
   * Replaces the run's checkpoint. `data` may come in pieces (their concatenation is the text), so a
   * large checkpoint is never one string in memory: the adapter compresses the pieces as they come.
   */
  save(runId: string, data: string | Iterable<string>): Promise<void>;
  /**
   * The run's checkpoint text: one string, or pieces whose concatenation is the text, produced as
   * they are iterated (the planner parses a million-contact checkpoint line by line, so the whole
   * text need never exist at once). A piece may end anywhere, mid-line included; iterable once.
   */
  load(runId: string): Promise<string | Iterable<string> | undefined>;
  delete(runId: string): Promise<void>;
}

/** The whole text of what `load` gave (tests and small checkpoints). */
export const checkpointText = (loaded: string | Iterable<string>): string =>
  typeof loaded === 'string' ? loaded : [...loaded].join('');
