import type { MembershipTarget } from '#lib/domain/membership-targets.ts';

/** Which export owns each list, membership field or tag on a connection: one each (DynamoDB in AWS). */
export interface TargetOwners {
  /**
   * Reserves the targets for `exportId`, each only if no other export holds it. Returns the targets
   * another export holds; when there are any, nothing new is reserved by this call.
   */
  claim(
    connectionId: string,
    exportId: string,
    targets: readonly MembershipTarget[],
  ): Promise<Array<MembershipTarget & { owner: string }>>;
  /** Releases every target `exportId` holds on the connection except those in `keep`. */
  release(connectionId: string, exportId: string, keep?: readonly MembershipTarget[]): Promise<void>;
  /** Who holds each target (undefined: nobody). */
  owners(connectionId: string, targets: readonly MembershipTarget[]): Promise<Array<string | undefined>>;
}
