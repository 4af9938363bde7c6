import * as z from 'zod';
import { ROUTE_KEYS } from './routes.ts';
import type { FaultKind, FaultOptions, FaultPhase } from './types.ts';

const probability = z.number().min(0).max(1);
const httpStatus = z.number().int().min(100).max(599);
const errorStatus = z.number().int().min(400, 'an injected error needs a status 400-599').max(599);
const ms = z
  .number()
  .min(0)
  .max(24 * 3_600_000);
/** A route key that never matches would make a fault silently do nothing. */
const routeKey = z
  .string()
  .max(100)
  .superRefine((r, ctx) => {
    if (!ROUTE_KEYS.includes(r))
      ctx.addIssue({ code: 'custom', message: `unknown route "${r}" (known: ${ROUTE_KEYS.join(', ')})` });
  });
const routes = z.array(routeKey).max(ROUTE_KEYS.length * 2);
const window = <T extends { fromMs?: number | undefined; toMs?: number | undefined }>(
  value: T,
  ctx: z.RefinementCtx,
): void => {
  if (value.fromMs !== undefined && value.toMs !== undefined && value.toMs < value.fromMs) {
    ctx.addIssue({ code: 'custom', path: ['toMs'], message: 'a window must not end before it starts' });
  }
};

const RuleSchema = z
  .strictObject({
    kind: z.enum(['error', 'reset', 'hang', 'malformed']),
    phase: z.enum(['before', 'after']).optional(),
    status: errorStatus.optional(),
    retryAfter: z
      .string()
      .max(200)
      .regex(/^[\x20-\x7e]*$/, 'a header value: printable ASCII only')
      .optional(),
    hangMs: ms.optional(),
    routes: routes.optional(),
    rate: probability.optional(),
    every: z.number().int().min(1).optional(),
    at: z.array(z.number().int().min(1)).max(10_000).optional(),
    fromMs: ms.optional(),
    toMs: ms.optional(),
    max: z.number().int().min(0).optional(),
  })
  .superRefine((rule, ctx) => {
    window(rule, ctx);
    const only = (field: 'status' | 'retryAfter' | 'hangMs', kind: FaultKind): void => {
      if (rule[field] !== undefined && rule.kind !== kind)
        ctx.addIssue({ code: 'custom', path: [field], message: `only for kind "${kind}"` });
    };
    only('status', 'error');
    only('retryAfter', 'error');
    only('hangMs', 'hang');
    if (rule.kind === 'malformed' && rule.phase === 'before') {
      ctx.addIssue({
        code: 'custom',
        path: ['phase'],
        message: 'a malformed answer is always sent after the route ran',
      });
    }
  });

/** An address, or a suffix starting with '@' or '.'; lower-cased. */
const rejectPattern = z
  .string()
  .trim()
  .min(2)
  .max(254)
  .refine((p) => p.startsWith('@') || p.startsWith('.') || /^[^\s@]+@[^\s@]+$/.test(p), {
    message: "expected an email address or a suffix starting with '@' or '.'",
  })
  .transform((p) => p.toLowerCase());

export const FaultOptionsSchema = z.strictObject({
  rules: z.array(RuleSchema).max(100).optional(),
  rejectContacts: z.array(rejectPattern).max(1_000).optional(),
  revokeKeys: z
    .strictObject({ afterRequests: z.number().int().min(0).optional(), afterMs: ms.optional() })
    .refine((r) => r.afterRequests !== undefined || r.afterMs !== undefined, {
      message: 'give afterRequests or afterMs',
    })
    .optional(),
  errorRates: z
    .array(z.strictObject({ status: httpStatus, rate: probability, routes: routes.optional() }))
    .optional(),
  latencyMs: z
    .strictObject({ min: ms, max: ms })
    .refine((l) => l.min <= l.max, 'latencyMs.min must not exceed latencyMs.max')
    .optional(),
  outages: z
    .array(
      z
        .strictObject({ fromMs: ms, toMs: ms, status: httpStatus.optional() })
        .refine((o) => o.fromMs <= o.toMs, 'an outage must not end before it starts'),
    )
    .optional(),
  resetRate: probability.optional(),
  hangRate: probability.optional(),
  hangMs: ms.optional(),
});

/** One rule as the injector runs it: defaults filled, named as faultCounts() reports it. */
export interface ActiveRule {
  name: string;
  kind: FaultKind;
  phase: FaultPhase;
  status: number;
  retryAfter?: string;
  hangMs: number;
  routes?: ReadonlySet<string>;
  rate?: number;
  every?: number;
  at?: ReadonlySet<number>;
  fromMs: number;
  toMs: number;
  max: number;
}

export interface ActiveFaults {
  rules: ActiveRule[];
  latencyMs?: { min: number; max: number };
  rejectContacts: string[];
  revokeKeys?: { afterRequests?: number; afterMs?: number };
}

type Rule = z.infer<typeof RuleSchema>;

const activate = (rule: Rule, name?: string): ActiveRule => {
  const phase: FaultPhase = rule.kind === 'malformed' ? 'after' : (rule.phase ?? 'before');
  const status = rule.status ?? 503;
  return {
    name: name ?? `${rule.kind}${rule.kind === 'error' ? ` ${status}` : ''} ${phase}`,
    kind: rule.kind,
    phase,
    status,
    ...(rule.retryAfter === undefined ? {} : { retryAfter: rule.retryAfter }),
    hangMs: rule.hangMs ?? 30_000,
    ...(rule.routes === undefined ? {} : { routes: new Set(rule.routes) }),
    ...(rule.rate === undefined ? {} : { rate: rule.rate }),
    ...(rule.every === undefined ? {} : { every: rule.every }),
    ...(rule.at === undefined ? {} : { at: new Set(rule.at) }),
    fromMs: rule.fromMs ?? 0,
    toMs: rule.toMs ?? Number.POSITIVE_INFINITY,
    max: rule.max ?? Number.POSITIVE_INFINITY,
  };
};

const describeIssues = (error: z.ZodError): string =>
  error.issues
    .slice(0, 5)
    .map((i) => `${i.path.length > 0 ? i.path.join('.') : '(root)'}: ${i.message}`)
    .join('; ');

/**
 * Validates a fault set and turns it into rules, in the order the injector checks them: outages,
 * then the older shorthand fields (error rates, resets and hangs, as before), then `rules`. Throws
 * a TypeError naming each bad field.
 */
export const activateFaults = (faults: FaultOptions): ActiveFaults => {
  const parsed = FaultOptionsSchema.safeParse(faults);
  if (!parsed.success) throw new TypeError(`Invalid fault set: ${describeIssues(parsed.error)}`);
  const f = parsed.data;
  const rules: ActiveRule[] = [];
  for (const o of f.outages ?? []) {
    const status = o.status ?? 503;
    rules.push(activate({ kind: 'error', status, fromMs: o.fromMs, toMs: o.toMs }, `outage ${status}`));
  }
  for (const e of f.errorRates ?? []) {
    // A zero rate never rolls a die, as before, so adding one does not shift other faults' dice.
    if (e.rate > 0) rules.push(activate({ kind: 'error', status: e.status, rate: e.rate, routes: e.routes }));
  }
  if ((f.resetRate ?? 0) > 0) rules.push(activate({ kind: 'reset', rate: f.resetRate }));
  if ((f.hangRate ?? 0) > 0) {
    // The shorthand's hang has always performed the write first.
    rules.push(activate({ kind: 'hang', phase: 'after', rate: f.hangRate, hangMs: f.hangMs }));
  }
  for (const rule of f.rules ?? []) rules.push(activate(rule));
  return {
    rules,
    ...(f.latencyMs === undefined ? {} : { latencyMs: f.latencyMs }),
    rejectContacts: f.rejectContacts ?? [],
    ...(f.revokeKeys === undefined ? {} : { revokeKeys: f.revokeKeys }),
  };
};
