import type { ContactData } from './contact.ts';
import type { BulkMembership, CostModel, RequestKind } from './costs.ts';
import { bitsOf, type ContactDecision } from './diff.ts';

export type MembershipMode = 'list' | 'field' | 'tag';
export type LeavePolicy = 'remove' | 'keep';
/** One contact write in a bulk upsert, with the snapshot change it makes once accepted. */
export interface UpsertItem {
  data: ContactData;
  /** Content hash of the data (without membership flags); null when only flags are written. */
  hash: string | null;
  /** Field mode: segments whose flag turns true / false in this write. */
  join: number;
  leave: number;
  /** The contact left every segment: drop it from the snapshot once accepted. */
  forget: boolean;
}

export interface JoinItem {
  data: ContactData;
  hash: string;
}

export interface LeaveItem {
  email: string;
  forget: boolean;
}

export type PlannedBatch =
  | { op: 'upsert'; items: UpsertItem[] }
  | { op: 'list-join'; segment: number; items: JoinItem[] }
  | { op: 'list-leave'; segment: number; items: LeaveItem[] };

export interface BatchSizes {
  /** Contacts per bulk request (≤ the cost model's bulk limit). */
  bulk: number;
  /** Contacts per message when each contact costs one request (keeps one message's work short). */
  perContact: number;
}

export interface PlannerOptions {
  mode: MembershipMode;
  onLeave: LeavePolicy;
  segmentCount: number;
  /** Field mode: the boolean custom field that carries membership of each segment. */
  membershipFields: readonly string[];
  /** Tag mode: the tag that carries membership of each segment. */
  membershipTags?: readonly string[];
  costs: CostModel;
  capability: BulkMembership;
  sizes: BatchSizes;
  /**
   * Field mode: contacts whose write clears a membership flag go in upsert batches of their own, so
   * the removal guardrail can hold them while every other write is sent.
   */
  separateLeaves?: boolean;
}

/** The contact as the planner sees it: current data (absent for leavers) and the snapshot decision. */
export interface PlanInput {
  email: string;
  current: { data: ContactData; hash: string } | undefined;
  decision: ContactDecision;
}

/** Field mode's membership flags, shared by every contact rather than allocated per contact. */
const MEMBER = Object.freeze({ type: 'boolean', value: true } as const);
const NOT_MEMBER = Object.freeze({ type: 'boolean', value: false } as const);

/**
 * Turns per-contact decisions into batches, following the request costs of docs/architecture.md#cost-model.
 * List mode: a join (new member, or existing contact entering another segment's list) is one
 * upsert carrying that list; a changed contact with no join rides in a bulk upsert; a leave is one
 * removal per list. Field mode: every change is one entry in a bulk upsert with membership flags.
 * Tag mode: the same, with the segments' tags set and unset instead of flags, and the contacts that
 * left every segment in batches of their own.
 * Feed contacts in a stable order for the batches to be reproducible.
 */
export class BatchPlanner {
  private upserts: UpsertItem[] = [];
  private leaveUpserts: UpsertItem[] = [];
  /** Tag mode: contacts that left every segment, sent apart as updates that never create anyone. */
  private goneUpserts: UpsertItem[] = [];
  /** The price of the same changes (docs/architecture.md#cost-model), fractional: what no batching could beat. */
  floor = 0;
  private readonly joins: JoinItem[][];
  private readonly leaves: LeaveItem[][];
  private readonly joinSize: number;
  private readonly leaveSize: number;

  constructor(
    private readonly options: PlannerOptions,
    private readonly emit: (batch: PlannedBatch) => void,
  ) {
    this.joins = Array.from({ length: options.segmentCount }, () => []);
    this.leaves = Array.from({ length: options.segmentCount }, () => []);
    const { costs, capability, sizes } = options;
    const bulk = Math.min(sizes.bulk, costs.bulkLimit);
    // An unknown capability still gets bulk-sized batches: the first one is the probe.
    this.joinSize = capability === 'unsupported' ? sizes.perContact : bulk;
    this.leaveSize = costs.listLeaveInBulk ? bulk : sizes.perContact;
  }

  add(input: PlanInput): void {
    this.floor += this.floorOf(input.decision);
    if (this.options.mode === 'list') this.addList(input);
    else this.addField(input);
  }

  private floorOf(d: ContactDecision): number {
    const { mode, onLeave, segmentCount, costs, capability } = this.options;
    const leaves = onLeave === 'remove' ? bitsOf(d.leaves, segmentCount).length : 0;
    const dataChanged = d.change === 'added' || d.change === 'changed';
    if (mode !== 'list') return dataChanged || d.joins !== 0 || leaves !== 0 ? 1 / costs.bulkLimit : 0;
    const joins = bitsOf(d.joins, segmentCount).length;
    const joinCost = costs.listJoinInBulk(capability) ? 1 / costs.bulkLimit : 1;
    const leaveCost = costs.listLeaveInBulk ? 1 / costs.bulkLimit : 1;
    const update = d.change === 'changed' ? 1 / costs.bulkLimit : 0;
    return joins * joinCost + leaves * leaveCost + (joins === 0 ? update : 0);
  }

  private addList({ email, current, decision }: PlanInput): void {
    const { segmentCount, onLeave } = this.options;
    if (onLeave === 'remove') {
      const forget = decision.current === 0;
      for (const i of bitsOf(decision.leaves, segmentCount)) this.pushLeave(i, { email, forget });
    }
    if (current === undefined) return;
    if (decision.joins !== 0) {
      for (const i of bitsOf(decision.joins, segmentCount)) this.pushJoin(i, current);
    } else if (decision.change === 'changed' || decision.change === 'added') {
      this.pushUpsert({ data: current.data, hash: current.hash, join: 0, leave: 0, forget: false });
    }
  }

  /** Field and tag mode: one bulk entry per changed contact, its membership carried by the write. */
  private addField({ email, current, decision }: PlanInput): void {
    const leave = this.options.onLeave === 'remove' ? decision.leaves : 0;
    const dataChanged = decision.change === 'added' || decision.change === 'changed';
    if (!dataChanged && decision.joins === 0 && leave === 0) return;
    const base: ContactData = current?.data ?? { email, fields: {}, custom: {} };
    if (this.options.mode === 'tag') {
      this.addTagged(base, current?.hash ?? null, decision, leave);
      return;
    }
    // Not `{ ...base.custom }`: V8 gives a spread copy that then grows a hidden class of its own,
    // ~240 bytes per contact at 100,000 contacts (bench/planner.ts); Object.assign shares them.
    const custom = Object.assign({}, base.custom);
    this.options.membershipFields.forEach((field, i) => {
      const bit = 1 << i;
      if (decision.current & bit) custom[field] = MEMBER;
      else if (leave & bit) custom[field] = NOT_MEMBER;
    });
    const item = {
      data: { ...base, custom },
      hash: current?.hash ?? null,
      join: decision.joins,
      leave,
      forget: decision.current === 0,
    };
    if (this.options.separateLeaves === true && leave !== 0) this.pushLeaveUpsert(item);
    else this.pushUpsert(item);
  }

  private addTagged(base: ContactData, hash: string | null, decision: ContactDecision, leave: number): void {
    const names = this.options.membershipTags ?? [];
    const named = (mask: number): string[] =>
      bitsOf(mask, this.options.segmentCount).flatMap((i) => names[i] ?? []);
    const existingOnly = decision.current === 0;
    const tags = { set: named(decision.current), unset: named(leave), existingOnly };
    const item = { data: { ...base, tags }, hash, join: decision.joins, leave, forget: existingOnly };
    // Whether a merge may create people is set per request: contacts that must not be created travel apart.
    if (existingOnly) this.pushGoneUpsert(item);
    else if (this.options.separateLeaves === true && leave !== 0) this.pushLeaveUpsert(item);
    else this.pushUpsert(item);
  }

  private get upsertSize(): number {
    return Math.min(this.options.sizes.bulk, this.options.costs.bulkLimit);
  }

  private pushUpsert(item: UpsertItem): void {
    this.upserts.push(item);
    if (this.upserts.length >= this.upsertSize) this.flushUpserts();
  }

  private pushLeaveUpsert(item: UpsertItem): void {
    this.leaveUpserts.push(item);
    if (this.leaveUpserts.length >= this.upsertSize) this.flushLeaveUpserts();
  }

  private pushGoneUpsert(item: UpsertItem): void {
    this.goneUpserts.push(item);
    if (this.goneUpserts.length >= this.upsertSize) this.flushGoneUpserts();
  }

  private pushJoin(segment: number, item: JoinItem): void {
    const list = this.joins[segment];
    if (list === undefined) return;
    list.push(item);
    if (list.length >= this.joinSize) this.flushJoins(segment);
  }

  private pushLeave(segment: number, item: LeaveItem): void {
    const list = this.leaves[segment];
    if (list === undefined) return;
    list.push(item);
    if (list.length >= this.leaveSize) this.flushLeaves(segment);
  }

  private flushUpserts(): void {
    if (this.upserts.length === 0) return;
    this.emit({ op: 'upsert', items: this.upserts });
    this.upserts = [];
  }

  private flushLeaveUpserts(): void {
    if (this.leaveUpserts.length === 0) return;
    this.emit({ op: 'upsert', items: this.leaveUpserts });
    this.leaveUpserts = [];
  }

  private flushGoneUpserts(): void {
    if (this.goneUpserts.length === 0) return;
    this.emit({ op: 'upsert', items: this.goneUpserts });
    this.goneUpserts = [];
  }

  private flushJoins(segment: number): void {
    const items = this.joins[segment];
    if (items === undefined || items.length === 0) return;
    this.joins[segment] = [];
    this.emit({ op: 'list-join', segment, items });
  }

  private flushLeaves(segment: number): void {
    const items = this.leaves[segment];
    if (items === undefined || items.length === 0) return;
    this.leaves[segment] = [];
    this.emit({ op: 'list-leave', segment, items });
  }

  /** Emits every partly filled batch. */
  finish(): void {
    this.flushUpserts();
    this.flushLeaveUpserts();
    this.flushGoneUpserts();
    for (let i = 0; i < this.options.segmentCount; i++) {
      this.flushJoins(i);
      this.flushLeaves(i);
    }
  }
}

/**
 * Whether a batch removes memberships: a list removal, or (field mode, planned with `separateLeaves`)
 * an upsert whose every write clears a membership flag.
 */
export const isRemovalBatch = (batch: PlannedBatch): boolean =>
  batch.op === 'list-leave' ||
  (batch.op === 'upsert' && batch.items.length > 0 && batch.items.every((i) => i.leave !== 0));

/** Requests one batch costs, by kind. An unknown bulk-membership capability is priced as the worst case. */
export const requestsFor = (
  batch: PlannedBatch,
  costs: CostModel,
  capability: BulkMembership,
): Partial<Record<RequestKind, number>> => {
  switch (batch.op) {
    case 'upsert':
      return { bulkUpsert: Math.ceil(batch.items.length / costs.bulkLimit) };
    case 'list-join':
      return costs.listJoinInBulk(capability)
        ? { bulkUpsertWithList: Math.ceil(batch.items.length / costs.bulkLimit) }
        : { upsertWithList: batch.items.length };
    case 'list-leave':
      return {
        listRemove: costs.listLeaveInBulk
          ? Math.ceil(batch.items.length / costs.bulkLimit)
          : batch.items.length,
      };
  }
};
