import { describe, expect, it } from 'vitest';
import { ModelCatalog } from '../models/catalog.js';
import type { ModelReply } from '../models/request.js';
import type { AttemptRecord } from '../resilience/attempt.js';
import {
  chainOutcome,
  chunkBudget,
  mergeParts,
  nextStage,
  planningOrder,
  replanTarget,
  type SummaryOutcome,
  type SummaryStage,
  servedModel,
  splitTarget,
} from './plan.js';

const catalog = new ModelCatalog();
const claude = catalog.resolve('claude-3-haiku')!;
const llama = catalog.resolve('llama3-70b')!;
const titan = catalog.resolve('titan-express')!;
const llama31 = catalog.resolve('llama3-1-70b')!;
const budgetOf = (m: typeof claude) => chunkBudget(m, 512);

const stage = (over: Partial<SummaryStage> = {}): SummaryStage => ({
  round: 1,
  parts: 3,
  language: 'English',
  usage: { inputTokens: 100, outputTokens: 10 },
  costUsd: 0.5,
  attempts: [{ modelId: claude.requestId, outcome: 'ok', latencyMs: 5 }],
  ...over,
});

const part = (text: string, over: Partial<SummaryOutcome> = {}): SummaryOutcome => ({
  text,
  stopReason: 'end_turn',
  modelId: claude.requestId,
  usage: { inputTokens: 10, outputTokens: 2 },
  costUsd: 0.25,
  attempts: [{ modelId: claude.requestId, outcome: 'ok', latencyMs: 1 }],
  parts: 0,
  ...over,
});

describe('chunk budgets', () => {
  it('shrinks a model budget by its calibration factor and never grows it', () => {
    const plain = chunkBudget(titan, 512);

    expect(chunkBudget(titan, 512, 1.25)).toBe(Math.floor(plain / 1.25));
    expect(chunkBudget(titan, 512, 1)).toBe(plain);
    expect(chunkBudget(claude, 512)).toBeGreaterThan(plain);
  });
});

describe('planning a summary', () => {
  it('plans for models whose breaker is open last, keeping chain order otherwise', () => {
    const isOpen = (m: typeof claude) => m === claude;

    expect(planningOrder([claude, llama, titan], isOpen)).toEqual([llama, titan, claude]);
    expect(planningOrder([claude, llama, titan])).toEqual([claude, llama, titan]);
  });

  it('calls at once when the document fits the first model that answers', () => {
    expect(splitTarget('A short document.', [claude, titan], budgetOf)).toBeUndefined();
  });

  it('splits for the first model that answers when the document does not fit it', () => {
    const long = 'word '.repeat(20_000);

    expect(splitTarget(long, [titan, claude], budgetOf)).toBe(titan);
    expect(splitTarget(long, [claude, titan], budgetOf)).toBeUndefined();
  });

  it('re-plans for the largest window the chain skipped for size', () => {
    const attempts: AttemptRecord[] = [
      { modelId: claude.requestId, outcome: 'unavailable', latencyMs: 3 },
      { modelId: titan.requestId, outcome: 'context_overflow', latencyMs: 0 },
      { modelId: llama31.requestId, outcome: 'context_overflow', latencyMs: 0 },
    ];

    expect(replanTarget(attempts, [claude, titan, llama31])).toBe(llama31);
  });

  it('does not re-plan when no model was skipped for size', () => {
    const attempts: AttemptRecord[] = [{ modelId: claude.requestId, outcome: 'unavailable', latencyMs: 3 }];

    expect(replanTarget(attempts, [claude, titan])).toBeUndefined();
  });
});

describe('adding up a split document', () => {
  it('merges parts in order and adds their tokens, cost, attempts and parts to the stage', () => {
    const before = stage();

    const { document, stage: after } = mergeParts(before, [part('first'), part('second', { parts: 2 })]);

    expect(document).toBe('first\n\nsecond');
    expect(after.usage).toEqual({ inputTokens: 120, outputTokens: 14 });
    expect(after.costUsd).toBeCloseTo(1);
    expect(after.attempts).toHaveLength(3);
    expect(after.parts).toBe(5);
    expect(before.attempts).toHaveLength(1);
  });

  it('counts chunks as parts in the first round only and keeps attempts of a re-planned run', () => {
    const failed: AttemptRecord[] = [{ modelId: llama.requestId, outcome: 'context_overflow', latencyMs: 0 }];

    const first = nextStage(undefined, { language: 'Korean', chunks: 4, failedAttempts: failed });
    const second = nextStage(first, { language: 'Korean', chunks: 2, failedAttempts: [] });

    expect(first).toMatchObject({ round: 1, parts: 4, language: 'Korean', costUsd: 0 });
    expect(first.attempts).toEqual(failed);
    expect(second).toMatchObject({ round: 2, parts: 4 });
  });

  it('adds what earlier rounds cost to the answer of the last call', () => {
    const reply: ModelReply = {
      text: 'summary',
      stopReason: 'end_turn',
      usage: { inputTokens: 1000, outputTokens: 100 },
      modelId: claude.requestId,
      latencyMs: 10,
    };
    const attempts: AttemptRecord[] = [{ modelId: claude.requestId, outcome: 'ok', latencyMs: 10 }];

    const whole = chainOutcome(claude, { reply, modelId: claude.requestId, attempts });
    const merged = chainOutcome(claude, { reply, modelId: claude.requestId, attempts }, stage());

    expect(whole).toMatchObject({ text: 'summary', usage: reply.usage, parts: 0, attempts });
    expect(whole.costUsd).toBeCloseTo((1000 * 0.00025 + 100 * 0.00125) / 1000);
    expect(merged.usage).toEqual({ inputTokens: 1100, outputTokens: 110 });
    expect(merged.costUsd).toBeCloseTo(0.5 + whole.costUsd);
    expect(merged.attempts).toHaveLength(2);
    expect(merged.parts).toBe(3);
  });

  it('merges a stage whose parts were read back offline, keeping what they would have cost online', () => {
    const offline = stage({ document: 'offline one\n\noffline two', costUsd: 0.5, onlineCostUsd: 1 });
    const reply: ModelReply = {
      text: 'merged',
      stopReason: 'end_turn',
      usage: { inputTokens: 1000, outputTokens: 100 },
      modelId: claude.requestId,
      latencyMs: 10,
    };
    const attempts: AttemptRecord[] = [{ modelId: claude.requestId, outcome: 'ok', latencyMs: 10 }];

    const { document, stage: after } = mergeParts(offline, []);
    const answer = chainOutcome(claude, { reply, modelId: claude.requestId, attempts }, after);
    // Split again online: its parts are on-demand calls, in both sums.
    const again = mergeParts(nextStage(after, { language: 'English', chunks: 2, failedAttempts: [] }), [
      part('a'),
      part('b'),
    ]);
    const plain = chainOutcome(claude, { reply, modelId: claude.requestId, attempts }, stage());

    expect(document).toBe('offline one\n\noffline two');
    expect(after).not.toHaveProperty('document');
    expect(answer.costUsd).toBeCloseTo(0.5 + (1000 * 0.00025 + 100 * 0.00125) / 1000);
    expect(answer.onlineCostUsd).toBeCloseTo(1 + (1000 * 0.00025 + 100 * 0.00125) / 1000);
    expect(again.document).toBe('a\n\nb');
    expect(again.stage).toMatchObject({ round: 2, parts: 3, costUsd: 1, onlineCostUsd: 1.5 });
    expect(plain).not.toHaveProperty('onlineCostUsd');
  });

  it('prices the answer at the serving model, found among the job models or in the catalog', () => {
    expect(servedModel(catalog, [claude, titan], titan.requestId)).toBe(titan);
    expect(servedModel(catalog, [claude], llama.requestId)?.baseId).toBe(llama.baseId);
    expect(servedModel(catalog, [claude], 'not-a-model')).toBeUndefined();
  });
});
