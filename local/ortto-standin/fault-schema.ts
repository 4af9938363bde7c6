/** Validation of a fault set, and its rules in the order the injector checks them. */
import * as z from 'zod';
import { ROUTE_KEYS } from './routes.ts';
import type { FaultKind, FaultOptions, FaultPhase } from './types.ts';

const probability = z.number().min(0).max(1);
const ms = z
  .number()
  .min(0)
  .max(24 * 3_600_000);
const errorStatus = z.number().int().min(400, 'an injected error needs a status 400-599').max(599);
/** A route key that never matches would make a fault silently do nothing. */
const routeKey = z
  .string()
  .max(100)
  .refine((r) => ROUTE_KEYS.includes(r), {
    error: (i) => `unknown route "${String(i.input).slice(0, 100)}" (known: ${ROUTE_KEYS.join(', ')})`,
  });

const RuleSchema = z
  .strictObject({
    kind: z.enum(['error', 'reset', 'hang', 'malformed']),
    phase: z.enum(['before', 'after']).optional(),
    status: errorStatus.optional(),
    tryInSeconds: z.number().int().min(0).max(86_400).optional(),
    hangMs: ms.optional(),
    routes: z
      .array(routeKey)
      .max(ROUTE_KEYS.length * 2)
      .optional(),
    rate: probability.optional(),
    every: z.number().int().min(1).optional(),
    at: z.array(z.number().int().min(1)).max(10_000).optional(),
    fromMs: ms.optional(),
    toMs: ms.optional(),
    max: z.number().int().min(0).optional(),
  })
  .superRefine((rule, ctx) => {
    if (rule.fromMs !== undefined && rule.toMs !== undefined && rule.toMs < rule.fromMs)
      ctx.addIssue({ code: 'custom', path: ['toMs'], message: 'a window must not end before it starts' });
    const only = (field: 'status' | 'tryInSeconds' | 'hangMs', kind: FaultKind): void => {
      if (rule[field] !== undefined && rule.kind !== kind)
        ctx.addIssue({ code: 'custom', path: [field], message: `only for kind "${kind}"` });
    };
    only('status', 'error');
    only('tryInSeconds', 'error');
    only('hangMs', 'hang');
    if (rule.tryInSeconds !== undefined && rule.status !== 429)
      ctx.addIssue({ code: 'custom', path: ['tryInSeconds'], message: 'only with status 429' });
    if (rule.kind === 'malformed' && rule.phase === 'before')
      ctx.addIssue({
        code: 'custom',
        path: ['phase'],
        message: 'a malformed answer is always sent after the route ran',
      });
  });

const FaultOptionsSchema = z.strictObject({
  rules: z.array(RuleSchema).max(100).optional(),
  outages: z
    .array(
      z
        .strictObject({ fromMs: ms, toMs: ms, status: errorStatus.optional() })
        .refine((o) => o.fromMs <= o.toMs, 'an outage must not end before it starts'),
    )
    .max(100)
    .optional(),
  latencyMs: z
    .strictObject({ min: ms, max: ms })
    .refine((l) => l.min <= l.max, 'latencyMs.min must not exceed latencyMs.max')
    .optional(),
  revokeKeys: z
    .strictObject({ afterRequests: z.number().int().min(0).optional(), afterMs: ms.optional() })
    .refine((r) => r.afterRequests !== undefined || r.afterMs !== undefined, 'give afterRequests or afterMs')
    .optional(),
});

/** A rule with its defaults filled, named as faultCounts() reports it. */
export interface ActiveRule {
  name: string;
  kind: FaultKind;
  phase: FaultPhase;
  status: number;
  tryInSeconds: number;
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
    tryInSeconds: rule.tryInSeconds ?? 1,
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

/** Throws a TypeError naming each bad field (up to five). Outages are checked first, then `rules`. */
export const activateFaults = (faults: FaultOptions): ActiveFaults => {
  const parsed = FaultOptionsSchema.safeParse(faults);
  if (!parsed.success) {
    const issues = parsed.error.issues
      .slice(0, 5)
      .map((i) => `${i.path.length > 0 ? i.path.join('.') : '(root)'}: ${i.message}`);
    throw new TypeError(`Invalid fault set: ${issues.join('; ')}`);
  }
  const f = parsed.data;
  const rules: ActiveRule[] = [];
  for (const o of f.outages ?? []) {
    const status = o.status ?? 503;
    rules.push(activate({ kind: 'error', status, fromMs: o.fromMs, toMs: o.toMs }, `outage ${status}`));
  }
  for (const rule of f.rules ?? []) rules.push(activate(rule));
  return {
    rules,
    ...(f.latencyMs === undefined ? {} : { latencyMs: f.latencyMs }),
    ...(f.revokeKeys === undefined ? {} : { revokeKeys: f.revokeKeys }),
  };
};
