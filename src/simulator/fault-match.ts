import { splitGeoPrefix } from '../models/model-id.js';
import type { BatchFaultRule } from './batch-faults.js';
import type { CallContext } from './control.js';
import type { ActiveFault, FaultRule } from './fault-rule.js';

/** A rule ready to match calls: model id split, regex compiled once. */
export interface CompiledFault extends ActiveFault {
  /** Base id the rule targets, or `*`. */
  baseId: string;
  /** Set when the rule targets one cross-region profile only. */
  geo?: string;
  regex?: RegExp;
}

/** What a rule is matched against: the model of a call or of a model invocation job. */
export type FaultTarget = Pick<CallContext, 'baseId' | 'geo' | 'modelId'>;

/**
 * Prepares a validated rule. `canonical` maps an alias to its base id so `claude-3-haiku`
 * and the full id target the same model.
 */
export function compileFault(
  rule: FaultRule,
  id: string,
  source: ActiveFault['source'],
  canonical: (id: string) => string = (x) => x,
): CompiledFault {
  const { baseId: bare, geo } = splitGeoPrefix(rule.model);
  const baseId = rule.model === '*' ? '*' : canonical(bare);
  return {
    id,
    source,
    rule,
    baseId,
    ...(geo ? { geo } : {}),
    ...(rule.contentFilter
      ? { regex: new RegExp(rule.contentFilter.pattern, rule.contentFilter.flags) }
      : {}),
  };
}

function targets(fault: CompiledFault, ctx: FaultTarget): boolean {
  if (fault.baseId === '*') return true;
  if (fault.baseId !== ctx.baseId) return fault.rule.model === ctx.modelId;
  return fault.geo === undefined || fault.geo === ctx.geo;
}

function inWindow(rule: FaultRule, scaledNowMs: number): boolean {
  return (
    (rule.fromMs === undefined || scaledNowMs >= rule.fromMs) &&
    (rule.toMs === undefined || scaledNowMs < rule.toMs)
  );
}

/**
 * Whether a rule is in force for `ctx`'s model at `scaledNowMs`: it targets the model (every
 * route of a base id, one cross-region profile, or `*`) and the time is in its window.
 */
export function inForce(fault: CompiledFault, ctx: FaultTarget, scaledNowMs: number): boolean {
  return targets(fault, ctx) && inWindow(fault.rule, scaledNowMs);
}

/**
 * The share of a model's quota that unseen traffic of the account uses at `scaledNowMs`: the
 * largest `sharedAccount.unseenShare` of the rules in force for it, else 0.
 */
export function unseenShare(faults: readonly CompiledFault[], ctx: FaultTarget, scaledNowMs: number): number {
  let share = 0;
  for (const fault of faults) {
    const taken = fault.rule.sharedAccount?.unseenShare;
    if (taken !== undefined && inForce(fault, ctx, scaledNowMs)) share = Math.max(share, taken);
  }
  return Math.min(share, 0.999);
}

/**
 * The batch faults of the rules that target a model invocation job of `ctx`'s model and are in
 * force at `scaledNowMs` (when the job is created), newest rule first.
 */
export function batchRulesFor(
  faults: readonly CompiledFault[],
  ctx: FaultTarget,
  scaledNowMs: number,
): BatchFaultRule[] {
  const out: BatchFaultRule[] = [];
  for (const fault of faults)
    if (fault.rule.batch && inForce(fault, ctx, scaledNowMs))
      out.push({ ruleId: fault.id, fault: fault.rule.batch });
  return out;
}
