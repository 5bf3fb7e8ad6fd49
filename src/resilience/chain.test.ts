import { describe, expect, it } from 'vitest';
import { createTestPipeline, fail } from '../../test/helpers/fake-model-client.js';
import { drain } from '../clock.js';
import type { ModelRequest } from '../models/request.js';
import { type ChainInput, type ChainResult, runChain } from './chain.js';
import { AllModelsBusyError, ChainAbortedError, ChainExhaustedError, InvalidJobError } from './errors.js';
import type { RateLimiter, Reservation } from './ratelimit.js';

const HAIKU = 'anthropic.claude-3-haiku-20240307-v1:0';
const LLAMA = 'meta.llama3-1-70b-instruct-v1:0';
const TITAN = 'amazon.titan-text-express-v1';
const REQUEST: ModelRequest = { messages: [{ role: 'user', content: 'Summarize this.' }] };

type Pipeline = ReturnType<typeof createTestPipeline>;

function pipeline(
  retry = { maxAttempts: 3 },
  breaker = { consecutiveFailures: 5, halfOpenAfterMs: 30_000 },
): Pipeline {
  return createTestPipeline({ config: { policy: { retry, breaker } } });
}

function chain(p: Pipeline, extra: Partial<ChainInput> = {}): Promise<ChainResult> {
  return p.clock.run(
    runChain({
      models: [HAIKU, LLAMA, TITAN].map((id) => p.model(id)),
      request: REQUEST,
      api: 'invoke',
      policies: p.policies,
      events: p.events,
      ...extra,
    }),
  );
}

/** A limiter whose every model but one has a slot now; `slow` has its next one `slowMs` away. */
function limiterWithSlowModel(slow: string, slowMs: number) {
  const refunds: string[] = [];
  const limiter: RateLimiter = {
    async reserve(modelId, _tokens, maxWaitMs): Promise<Reservation> {
      if (modelId !== slow) return { ok: true, delayMs: 0 };
      return slowMs <= maxWaitMs ? { ok: true, delayMs: slowMs } : { ok: false, retryAfterMs: slowMs };
    },
    async refund(modelId, _tokens, requests) {
      if (requests) refunds.push(modelId);
    },
    async throttled() {},
    async rates() {
      return [];
    },
  };
  return { limiter, refunds };
}

async function rejectionOf(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => {
      throw new Error('expected the chain to fail');
    },
    (e: unknown) => e,
  );
}

describe('runChain', () => {
  it('serves from the first model when it answers', async () => {
    const p = pipeline();

    const result = await chain(p);

    expect(result).toMatchObject({
      modelId: HAIKU,
      fellBack: false,
      attempts: [{ modelId: HAIKU, outcome: 'ok' }],
    });
  });

  it('moves on at once when a model fails, and only after its retries with spill off', async () => {
    const p = pipeline();
    p.client.script(
      HAIKU,
      fail('unavailable'),
      fail('unavailable'),
      fail('unavailable'),
      fail('unavailable'),
    );
    const fallbacks: unknown[] = [];
    p.events.on('fallback', (e) => fallbacks.push(e));

    const spilled = await chain(p);
    const waited = await chain(p, { spill: false });

    expect(spilled.modelId).toBe(LLAMA);
    expect(spilled.fellBack).toBe(true);
    expect(spilled.attempts.map((a) => `${a.modelId}:${a.outcome}`)).toEqual([
      `${HAIKU}:unavailable`,
      `${LLAMA}:ok`,
    ]);
    expect(waited.attempts.map((a) => `${a.modelId}:${a.outcome}`)).toEqual([
      `${HAIKU}:unavailable`,
      `${HAIKU}:unavailable`,
      `${HAIKU}:unavailable`,
      `${LLAMA}:ok`,
    ]);
    expect(fallbacks).toEqual([
      { from: HAIKU, to: LLAMA, outcome: 'unavailable' },
      { from: HAIKU, to: LLAMA, outcome: 'unavailable' },
    ]);
  });

  it('skips a model whose breaker is open without calling it', async () => {
    const p = pipeline({ maxAttempts: 2 }, { consecutiveFailures: 2, halfOpenAfterMs: 30_000 });
    p.client.script(HAIKU, fail('timeout'), fail('timeout'));
    await chain(p);
    await chain(p); // the second timeout in a row opens the breaker

    const third = await chain(p);

    expect(p.client.callsTo(HAIKU)).toBe(2);
    expect(third.modelId).toBe(LLAMA);
    expect(third.attempts.map((a) => a.outcome)).toEqual(['circuit_open', 'ok']);
    expect(third.attempts[0]?.latencyMs).toBe(0);
  });

  it('sends other jobs down the chain while a half-open probe is in flight', async () => {
    const p = pipeline({ maxAttempts: 1 }, { consecutiveFailures: 1, halfOpenAfterMs: 30_000 });
    p.client.script(HAIKU, fail('unavailable'), { hold: true });
    await chain(p);
    p.clock.advance(30_000);

    const probe = runChain({
      models: [p.model(HAIKU)],
      request: REQUEST,
      api: 'invoke',
      policies: p.policies,
    });
    await drain();
    const other = await chain(p);
    p.client.release();

    expect(other.attempts.map((a) => a.outcome)).toEqual(['circuit_open', 'ok']);
    expect((await probe).modelId).toBe(HAIKU);
    expect(p.breakers.states()[HAIKU]?.state).toBe('closed');
  });

  it.each(['context_overflow', 'content_filtered', 'access_denied', 'quota_exceeded'] as const)(
    'moves on at once after %s with one call',
    async (kind) => {
      const p = pipeline();
      p.client.script(HAIKU, fail(kind));

      const result = await chain(p);

      expect(p.client.callsTo(HAIKU)).toBe(1);
      expect(result.modelId).toBe(LLAMA);
      expect(result.attempts.map((a) => a.outcome)).toEqual([kind, 'ok']);
    },
  );

  it('gives a far slot on the fallback back and returns to the first model once its breaker may probe', async () => {
    const p = pipeline({ maxAttempts: 1 }, { consecutiveFailures: 1, halfOpenAfterMs: 300 });
    p.client.script(HAIKU, fail('unavailable'));
    const { limiter, refunds } = limiterWithSlowModel(LLAMA, 2_000);
    const models = [HAIKU, LLAMA].map((id) => p.model(id));
    await chain(p, { models }); // HAIKU's failure opens its breaker; LLAMA serves
    const start = p.clock.now();

    const result = await chain(p, { models, limiter, clock: p.clock, recheckMs: 1_000 });

    expect(result.modelId).toBe(HAIKU);
    expect(p.clock.now() - start).toBe(300);
    expect(refunds).toEqual([LLAMA]);
    expect(result.attempts.map((a) => `${a.modelId === HAIKU ? 'A' : 'B'} ${a.outcome}`)).toEqual([
      'A circuit_open',
      'B rate_limited',
      'B rate_limited',
      'A ok',
    ]);
  });

  it('fails the job at once on invalid_request with one call and no retries', async () => {
    const p = pipeline();
    p.client.script(HAIKU, fail('invalid_request', { message: 'temperature: must be ≤ 1' }));

    const e = await rejectionOf(chain(p));

    expect(e).toBeInstanceOf(InvalidJobError);
    expect((e as InvalidJobError).message).toContain('temperature: must be ≤ 1');
    expect((e as InvalidJobError).attempts).toHaveLength(1);
    expect(p.client.calls.map((c) => c.modelId)).toEqual([HAIKU]);
  });

  it('reports every model busy with the shortest useful wait when all are throttled or open', async () => {
    const p = pipeline({ maxAttempts: 2 }, { consecutiveFailures: 1, halfOpenAfterMs: 30_000 });
    p.client.script(TITAN, fail('unavailable'));
    await chain(p, { models: [p.model(TITAN)] }).catch(() => undefined); // opens TITAN's breaker
    p.client.script(
      HAIKU,
      fail('throttled', { retryAfterMs: 9_000 }),
      fail('throttled', { retryAfterMs: 9_000 }),
      fail('throttled', { retryAfterMs: 9_000 }),
    );
    p.client.script(
      LLAMA,
      fail('throttled', { retryAfterMs: 4_000 }),
      fail('throttled', { retryAfterMs: 4_000 }),
      fail('throttled', { retryAfterMs: 4_000 }),
    );

    const spilled = await rejectionOf(chain(p));
    const waited = await rejectionOf(chain(p, { spill: false }));

    // A throttle sends the job on at once; Titan, last in the chain, is open.
    expect(spilled).toBeInstanceOf(AllModelsBusyError);
    expect((spilled as AllModelsBusyError).waitMs).toBe(4_000);
    expect((spilled as AllModelsBusyError).attempts.map((a) => a.outcome)).toEqual([
      'throttled',
      'throttled',
      'circuit_open',
    ]);
    // Without spill each model is retried after its backoff before the chain moves on.
    expect((waited as AllModelsBusyError).attempts.map((a) => a.outcome)).toEqual([
      'throttled',
      'throttled',
      'throttled',
      'throttled',
      'circuit_open',
    ]);
  });

  it('uses the default wait when busy models name none', async () => {
    const p = pipeline({ maxAttempts: 1 });
    for (const id of [HAIKU, LLAMA, TITAN]) p.client.script(id, fail('throttled'));

    const e = await rejectionOf(chain(p, { busyWaitMs: 2_500 }));

    expect(e).toMatchObject({ name: 'AllModelsBusyError', waitMs: 2_500 });
  });

  it('gives up with every attempt and the last error when a model failed for another reason', async () => {
    const p = pipeline({ maxAttempts: 1 });
    p.client.script(HAIKU, fail('access_denied'));
    p.client.script(LLAMA, fail('unavailable'), fail('unavailable'));
    p.client.script(TITAN, fail('content_filtered'));

    const e = await rejectionOf(chain(p));

    expect(e).toBeInstanceOf(ChainExhaustedError);
    // After the quick pass, the unwell model gets one patient try before the job gives up.
    expect((e as ChainExhaustedError).attempts.map((a) => `${a.modelId}:${a.outcome}`)).toEqual([
      `${HAIKU}:access_denied`,
      `${LLAMA}:unavailable`,
      `${TITAN}:content_filtered`,
      `${LLAMA}:unavailable`,
    ]);
    expect((e as ChainExhaustedError).message).toContain(`${LLAMA} unavailable`);
  });

  it('waits for a busy model rather than failing when the others cannot take the job', async () => {
    const p = pipeline({ maxAttempts: 1 });
    p.client.script(HAIKU, fail('throttled', { retryAfterMs: 2_000 }));

    const e = await rejectionOf(chain(p, { prepare: (m) => (m.requestId === HAIKU ? REQUEST : 'skip') }));

    expect(e).toBeInstanceOf(AllModelsBusyError);
    expect((e as AllModelsBusyError).waitMs).toBe(2_000);
  });

  it('re-shapes the request per model and records a skipped model as context_overflow', async () => {
    const p = pipeline();
    const shorter: ModelRequest = { messages: [{ role: 'user', content: 'Summarize.' }] };

    const result = await chain(p, { prepare: (m) => (m.requestId === HAIKU ? 'skip' : shorter) });

    expect(result.modelId).toBe(LLAMA);
    expect(result.attempts.map((a) => a.outcome)).toEqual(['context_overflow', 'ok']);
    expect(p.client.calls.map((c) => c.request)).toEqual([shorter]);
  });

  it('stops at the model in flight when the job is aborted, without falling back', async () => {
    const p = pipeline();
    p.client.script(HAIKU, { hang: true });
    const job = new AbortController();
    const running = runChain({
      models: [HAIKU, LLAMA].map((id) => p.model(id)),
      request: REQUEST,
      api: 'invoke',
      signal: job.signal,
      policies: p.policies,
    });
    await drain();

    job.abort();
    const e = await rejectionOf(running);

    expect(e).toBeInstanceOf(ChainAbortedError);
    expect(p.client.callsTo(LLAMA)).toBe(0);
  });
});
