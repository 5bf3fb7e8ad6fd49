import type { CallContext, CallOutcome } from './control.js';

export interface ModelStats {
  calls: number;
  ok: number;
  throttled: number;
  faults: number;
  clientErrors: number;
  inputTokens: number;
  outputTokens: number;
}

const empty = (): ModelStats => ({
  calls: 0,
  ok: 0,
  throttled: 0,
  faults: 0,
  clientErrors: 0,
  inputTokens: 0,
  outputTokens: 0,
});

/**
 * Per-model counts of what the simulator served, keyed by the model id as called, so a
 * benchmark can count calls wasted on a dead model. Validation refusals are counted too.
 */
export class SimStats {
  private readonly byModel = new Map<string, ModelStats>();

  record(
    ctx: Pick<CallContext, 'modelId'>,
    outcome: CallOutcome | 'invalid',
    usage: { inputTokens: number; outputTokens: number },
  ): void {
    let s = this.byModel.get(ctx.modelId);
    if (!s) {
      s = empty();
      this.byModel.set(ctx.modelId, s);
    }
    s.calls++;
    if (outcome === 'ok') s.ok++;
    else if (outcome === 'throttled') s.throttled++;
    else if (outcome === 'fault') s.faults++;
    else s.clientErrors++;
    s.inputTokens += usage.inputTokens;
    s.outputTokens += usage.outputTokens;
  }

  snapshot(): { models: Record<string, ModelStats>; total: ModelStats } {
    const models: Record<string, ModelStats> = {};
    const total = empty();
    for (const [id, s] of this.byModel) {
      models[id] = { ...s };
      for (const k of Object.keys(total) as (keyof ModelStats)[]) total[k] += s[k];
    }
    return { models, total };
  }

  reset(): void {
    this.byModel.clear();
  }
}
