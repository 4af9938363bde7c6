/** A destination list's id, or a claim on creating it (`claimedBy`: a run). */
export type ListMapping = { listId: string } | { claimedBy: string; claimedAt: string };

/** Destination lists per connection and title, created once under a claim (DynamoDB in AWS). */
export interface ListRegistry {
  get(connectionId: string, title: string): Promise<ListMapping | undefined>;
  /** Claims creation for `runId` unless the list exists or another run's claim is younger than `staleBefore`. */
  claim(
    connectionId: string,
    title: string,
    runId: string,
    now: string,
    staleBefore: string,
  ): Promise<boolean>;
  save(connectionId: string, title: string, listId: string): Promise<void>;
  forget(connectionId: string, title: string): Promise<void>;
}
