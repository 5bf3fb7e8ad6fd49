import { describe, expect, it } from 'vitest';
import { ConfigSchema } from '../config.js';
import { ModelCatalog } from '../models/catalog.js';
import { batchCostUsd, costUsd } from '../models/info.js';
import type { QueuedJob } from '../queue/jobs.js';
import { chunkDocument } from '../summarize/chunk.js';
import { chunkBudget } from '../summarize/plan.js';
import { inputLine, OutputLineSchema, offlineCalls, replyOf } from './records.js';

const config = ConfigSchema.parse({});
const catalog = new ModelCatalog();
const model = (id: string) => catalog.resolve(id)!;
const haiku = model('anthropic.claude-3-haiku-20240307-v1:0');

const summarize = (document: string, extra: Partial<QueuedJob> = {}): QueuedJob => ({
  id: 'doc-1',
  task: 'summarize',
  api: 'invoke',
  document,
  enqueuedAt: '2026-11-30T10:00:00.000Z',
  ...extra,
});

describe('offline records', () => {
  it("writes a summary as the family's native body, the same prompt the online path sends", () => {
    const calls = offlineCalls(summarize('The parties agree to pay 100 EUR by 1 March.'), haiku, config);
    const call = calls[0]!;

    expect(calls).toHaveLength(1);
    expect(call).toMatchObject({ type: 'InvokeModel', model: { requestId: haiku.requestId } });
    const body = 'modelInput' in call ? call.modelInput : {};
    expect(body).toMatchObject({ anthropic_version: 'bedrock-2023-05-31', max_tokens: 512 });
    expect(JSON.stringify(body)).toContain(
      '<document>\\nThe parties agree to pay 100 EUR by 1 March.\\n</document>',
    );
  });

  it('writes a Converse body (no modelId) for a job that asks for Converse or a Converse-only model', () => {
    const [asked] = offlineCalls(summarize('text', { api: 'converse' }), haiku, config);
    const [only] = offlineCalls(summarize('text'), model('openai.gpt-oss-120b-1:0'), config);

    for (const call of [asked, only]) {
      expect(call).toMatchObject({ type: 'Converse' });
      const body = call?.modelInput ?? {};
      expect(body).toHaveProperty('messages');
      expect(body).toHaveProperty('inferenceConfig');
      expect(body).not.toHaveProperty('modelId');
    }
  });

  it('writes a document too long for the model as one summary call per chunk, cut as the online path cuts it', () => {
    const titan = model('amazon.titan-text-express-v1');
    const long = Array.from({ length: 4_000 }, (_, i) => `Clause ${i} binds both parties.`).join(' ');
    const chunks = chunkDocument(long, titan.family, chunkBudget(titan, config.summarize.maxOutputTokens));

    const calls = offlineCalls(summarize(long), titan, config);

    expect(chunks.length).toBeGreaterThan(1);
    expect(calls).toHaveLength(chunks.length);
    calls.forEach((call, i) => {
      expect(call.type).toBe('InvokeModel');
      expect(JSON.stringify(call.modelInput)).toContain(JSON.stringify(chunks[i]).slice(1, 60));
    });
    // Written again from the job alone, the calls are the same: a part's file does not change.
    expect(offlineCalls(summarize(long), titan, config)).toEqual(calls);
  });

  it('writes one JSON line per record with its record id', () => {
    const line = inputLine(7, { prompt: 'x' });

    expect(line.endsWith('\n')).toBe(true);
    expect(JSON.parse(line)).toEqual({ recordId: 'R0000000007', modelInput: { prompt: 'x' } });
  });

  it('reads a native answer back with its usage', () => {
    const reply = replyOf(
      { model: haiku, type: 'InvokeModel' },
      {
        content: [{ type: 'text', text: 'A summary.' }],
        stop_reason: 'end_turn',
        usage: { input_tokens: 120, output_tokens: 9 },
      },
    );

    expect(reply).toEqual({
      text: 'A summary.',
      stopReason: 'end_turn',
      usage: { inputTokens: 120, outputTokens: 9 },
    });
  });

  it('reads a Converse answer back', () => {
    const reply = replyOf(
      { model: haiku, type: 'Converse' },
      {
        output: { message: { role: 'assistant', content: [{ text: 'Short.' }] } },
        stopReason: 'max_tokens',
        usage: { inputTokens: 50, outputTokens: 2, totalTokens: 52 },
      },
    );

    expect(reply).toMatchObject({ text: 'Short.', stopReason: 'max_tokens', usage: { inputTokens: 50 } });
  });

  it('estimates usage of a native answer that carries none (Mistral)', () => {
    const reply = replyOf(
      { model: model('mistral.mistral-7b-instruct-v0:2'), type: 'InvokeModel' },
      { outputs: [{ text: 'Ein kurzer Text.', stop_reason: 'stop' }] },
      { prompt: '<s>[INST] Summarize this document please [/INST]' },
    );

    expect(reply.usage.inputTokens).toBeGreaterThan(0);
    expect(reply.usage.outputTokens).toBeGreaterThan(0);
  });

  it("refuses an answer that is not the model family's shape", () => {
    expect(() => replyOf({ model: haiku, type: 'InvokeModel' }, { nothing: true })).toThrow();
  });

  it('reads output lines with an answer or an error', () => {
    expect(
      OutputLineSchema.parse({
        recordId: 'R0000000001',
        modelInput: {},
        error: { errorCode: 400, errorMessage: 'Malformed input request' },
      }).error?.errorCode,
    ).toBe(400);
  });

  it('prices a record at half of on-demand unless the catalog names a batch price', () => {
    const usage = { inputTokens: 1_000, outputTokens: 1_000 };
    const nova = model('amazon.nova-lite-v1:0').info;

    expect(batchCostUsd(nova, usage)).toBeCloseTo(costUsd(nova, usage) / 2, 12);
    expect(batchCostUsd(haiku.info, usage)).toBeCloseTo(0.000125 + 0.000625, 12);
  });
});
