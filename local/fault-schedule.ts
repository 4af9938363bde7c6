/** When a fault rule may strike, as both stand-ins' fault sets describe it. */
export interface ScheduledRule {
  routes?: ReadonlySet<string>;
  rate?: number;
  every?: number;
  at?: ReadonlySet<number>;
  /** Window, in ms since the set was applied. */
  fromMs: number;
  toMs: number;
  /** Most strikes. */
  max: number;
}

/**
 * Which rule strikes this request, if any: rules in order, the first that strikes wins. `seen` and
 * `struck` (per rule) are updated; a die is rolled only for a rule with a rate that applies, so the
 * same seed, rules and request sequence always give the same outcomes.
 */
export const strikingRule = (
  rules: readonly ScheduledRule[],
  request: { route: string; sinceMs: number },
  counts: { seen: number[]; struck: number[] },
  random: () => number,
): number | undefined => {
  for (const [i, rule] of rules.entries()) {
    if (rule.routes !== undefined && !rule.routes.has(request.route)) continue;
    if (request.sinceMs < rule.fromMs || request.sinceMs >= rule.toMs) continue;
    if ((counts.struck[i] ?? 0) >= rule.max) continue;
    const n = (counts.seen[i] ?? 0) + 1;
    counts.seen[i] = n;
    let hit = rule.rate === undefined && rule.every === undefined && rule.at === undefined;
    if (rule.rate !== undefined && rule.rate > 0 && random() < rule.rate) hit = true;
    if (rule.every !== undefined && n % rule.every === 0) hit = true;
    if (rule.at?.has(n)) hit = true;
    if (!hit) continue;
    counts.struck[i] = (counts.struck[i] ?? 0) + 1;
    return i;
  }
  return undefined;
};
