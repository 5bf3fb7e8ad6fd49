/**
 * How far our token estimate is from Bedrock's count, learned per model from the
 * `inputTokens` of real answers. Chunk budgets are divided by the factor, so a model whose
 * tokenizer counts more than we estimate gets smaller chunks before it refuses one as too
 * long. The factor never goes below 1: an estimate that runs high only wastes a little room.
 */
export class TokenCalibration {
  private readonly ratios = new Map<string, number>();

  /** Calls whose prompt is this small say more about the template than about the text. */
  static readonly MIN_ESTIMATE = 200;
  /** Weight of the newest observation in the running average. */
  static readonly WEIGHT = 0.2;

  /** Records one answered call: the estimate we made of its input, and what Bedrock counted. */
  observe(modelId: string, estimatedInput: number, actualInput: number): void {
    if (estimatedInput < TokenCalibration.MIN_ESTIMATE || actualInput <= 0) return;
    const ratio = Math.min(3, Math.max(0.5, actualInput / estimatedInput));
    const previous = this.ratios.get(modelId);
    this.ratios.set(
      modelId,
      previous === undefined ? ratio : previous + TokenCalibration.WEIGHT * (ratio - previous),
    );
  }

  /** What to divide a budget by for this model (1 until it has been observed). */
  factor(modelId: string): number {
    return Math.max(1, this.ratios.get(modelId) ?? 1);
  }

  /** Plain data for logs and the API. */
  toJSON(): Record<string, number> {
    return Object.fromEntries([...this.ratios].map(([id, r]) => [id, Number(r.toFixed(3))]));
  }
}
