import { describe, expect, it } from 'vitest';
import { createTestPipeline, fail } from '../../test/helpers/fake-model-client.js';
import { CallAborted } from '../bedrock/types.js';
import { drain } from '../clock.js';
import type { ModelRequest } from '../models/request.js';
import { PolicyFailure } from './errors.js';
import type { CallEvent } from './events.js';
import type { PolicyResult } from './policy.js';
import type { EffectiveRate, RateLimiter, Reservation } from './ratelimit.js';

const HAIKU = 'anthropic.claude-3-haiku-20240307-v1:0';
const REQUEST: ModelRequest = {
  messages: [{ role: 'user', content: 'Summarize the report.' }],
  params: { maxTokens: 100 },
};

function retriesOf(p: ReturnType<typeof createTestPipeline>): number[] {
  const delays: number[] = [];
  p.events.on('retry', (e) => delays.push(e.delayMs));
  return delays;
}

async function failureOf(promise: Promise<PolicyResult>): Promise<PolicyFailure> {
  const e = await promise.then(
    () => undefined,
    (err: unknown) => err,
  );
  if (!(e instanceof PolicyFailure)) throw new Error(`expected a PolicyFailure, got ${String(e)}`);
  return e;
}

/** A limiter that plays scripted answers and records what it was asked. */
class ScriptedLimiter implements RateLimiter {
  readonly acquired: number[] = [];
  readonly refunds: { tokens: number; requests: number }[] = [];
  throttles = 0;
  constructor(private readonly answers: Reservation[]) {}
  async reserve(_modelId: string, tokens: number): Promise<Reservation> {
    this.acquired.push(tokens);
    return this.answers.shift() ?? { ok: true, delayMs: 0 };
  }
  async refund(_modelId: string, tokens: number, requests = 0): Promise<void> {
    this.refunds.push({ tokens, requests });
  }
  async throttled(): Promise<void> {
    this.throttles++;
  }
  async rates(): Promise<EffectiveRate[]> {
    return [];
  }
}

describe('ModelPolicy', () => {
  it('retries throttles with growing jittered delays and then answers', async () => {
    const p = createTestPipeline({ config: { policy: { retry: { maxAttempts: 3 } } } });
    p.client.script(HAIKU, fail('throttled'), fail('throttled'));
    const delays = retriesOf(p);
    const start = p.clock.now();

    const result = await p.clock.run(
      p.policies.for(p.model(HAIKU)).execute(p.model(HAIKU), REQUEST, { api: 'invoke' }),
    );

    expect(result.attempts.map((a) => a.outcome)).toEqual(['throttled', 'throttled', 'ok']);
    expect(delays).toEqual([500, 1_000]); // rand 0.5 × 1 s, then × 2 s
    expect(p.clock.now() - start).toBe(1_500);
    expect(p.client.callsTo(HAIKU)).toBe(3);
  });

  it('reports each call that reached the model, with the usage of its answer, and none for a refusal', async () => {
    const p = createTestPipeline({ config: { policy: { retry: { maxAttempts: 2 } } } });
    p.client.script(HAIKU, fail('unavailable'));
    const calls: CallEvent[] = [];
    p.events.on('call', (e) => calls.push(e));
    const policy = p.policies.for(p.model(HAIKU));
    const refusing = new ScriptedLimiter([{ ok: false, retryAfterMs: 9_000 }]);

    const refused = await failureOf(
      policy.execute(p.model(HAIKU), REQUEST, { api: 'invoke', limiter: refusing, spill: true }),
    );
    const answered = await p.clock.run(policy.execute(p.model(HAIKU), REQUEST, { api: 'invoke' }));

    expect(refused.outcome).toBe('rate_limited');
    expect(calls.map((c) => [c.modelId, c.outcome])).toEqual([
      [HAIKU, 'unavailable'],
      [HAIKU, 'ok'],
    ]);
    expect(calls[0]?.usage).toBeUndefined();
    expect(calls[1]?.usage).toEqual(answered.reply.usage);
  });

  it('waits at least as long as retry-after says', async () => {
    const p = createTestPipeline();
    p.client.script(HAIKU, fail('throttled', { retryAfterMs: 4_000 }));
    const delays = retriesOf(p);

    await p.clock.run(p.policies.for(p.model(HAIKU)).execute(p.model(HAIKU), REQUEST, { api: 'invoke' }));

    expect(delays).toEqual([4_000]);
  });

  it('gives up after retry.maxAttempts calls with every attempt recorded', async () => {
    const p = createTestPipeline({ config: { policy: { retry: { maxAttempts: 2 } } } });
    p.client.script(HAIKU, fail('unavailable'), fail('internal'), fail('unavailable'));

    const failure = await failureOf(
      p.clock.run(p.policies.for(p.model(HAIKU)).execute(p.model(HAIKU), REQUEST, { api: 'invoke' })),
    );

    expect(failure.outcome).toBe('internal');
    expect(failure.attempts.map((a) => [a.outcome, a.httpStatus])).toEqual([
      ['unavailable', 503],
      ['internal', 500],
    ]);
    expect(p.client.callsTo(HAIKU)).toBe(2);
  });

  it.each([
    'context_overflow',
    'content_filtered',
    'access_denied',
    'invalid_request',
    'quota_exceeded',
  ] as const)('does not retry %s', async (kind) => {
    const p = createTestPipeline();
    p.client.script(HAIKU, fail(kind));

    const failure = await failureOf(
      p.policies.for(p.model(HAIKU)).execute(p.model(HAIKU), REQUEST, { api: 'invoke' }),
    );

    expect(failure.outcome).toBe(kind);
    expect(p.client.callsTo(HAIKU)).toBe(1);
  });

  it('aborts the call signal when the model does not answer in time', async () => {
    const p = createTestPipeline({ config: { policy: { timeoutMs: 5_000, retry: { maxAttempts: 1 } } } });
    p.client.script(HAIKU, { hang: true });
    const start = p.clock.now();

    const failure = await failureOf(
      p.clock.run(p.policies.for(p.model(HAIKU)).execute(p.model(HAIKU), REQUEST, { api: 'invoke' })),
    );

    const signal = p.client.calls[0]?.options.signal;
    expect(signal?.aborted).toBe(true);
    expect(signal?.reason).toEqual(new CallAborted('timeout'));
    expect(failure.outcome).toBe('timeout');
    expect(failure.attempts[0]?.latencyMs).toBe(5_000);
    expect(p.clock.now() - start).toBe(5_000);
  });

  it('stops sleeping and aborts the call when the job is aborted', async () => {
    const p = createTestPipeline();
    p.client.script(HAIKU, { hang: true });
    const job = new AbortController();
    const running = p.policies
      .for(p.model(HAIKU))
      .execute(p.model(HAIKU), REQUEST, { api: 'invoke', signal: job.signal });
    await drain();

    job.abort();
    const failure = await failureOf(running);

    expect(p.client.calls[0]?.options.signal?.reason).toEqual(new CallAborted('shutdown'));
    expect(failure.details.aborted).toBe(true);
    expect(p.client.callsTo(HAIKU)).toBe(1);
  });

  it('lets at most maxConcurrent calls reach the model at once', async () => {
    const p = createTestPipeline({ config: { policy: { maxConcurrent: 2 } }, runtime: { queueSize: 3 } });
    p.client.script(HAIKU, ...Array.from({ length: 5 }, () => ({ hold: true as const })));
    const policy = p.policies.for(p.model(HAIKU));

    const jobs = Array.from({ length: 5 }, () => policy.execute(p.model(HAIKU), REQUEST, { api: 'invoke' }));
    await drain();
    const inFlightAtStart = p.client.inFlight;
    for (let i = 0; i < 3; i++) {
      p.client.release();
      await drain();
    }
    const results = await Promise.all(jobs);

    expect(inFlightAtStart).toBe(2);
    expect(p.client.maxInFlight).toBe(2);
    expect(results.every((r) => r.attempts.at(-1)?.outcome === 'ok')).toBe(true);
  });

  it('refuses without a call when the bulkhead and its queue are full', async () => {
    const p = createTestPipeline({ config: { policy: { maxConcurrent: 1 } }, runtime: { queueSize: 1 } });
    p.client.script(HAIKU, { hold: true }, { hold: true });
    const policy = p.policies.for(p.model(HAIKU));
    const held = [1, 2].map(() => policy.execute(p.model(HAIKU), REQUEST, { api: 'invoke' }));

    const failure = await failureOf(policy.execute(p.model(HAIKU), REQUEST, { api: 'invoke' }));
    p.client.release();
    await drain();
    p.client.release();
    await Promise.all(held);

    expect(failure.outcome).toBe('throttled');
    expect(failure.attempts).toHaveLength(1);
    expect(p.client.callsTo(HAIKU)).toBe(2);
  });

  it('sleeps until its reserved slot, then calls and returns the unused reservation', async () => {
    const p = createTestPipeline();
    const limiter = new ScriptedLimiter([{ ok: true, delayMs: 1_200 }]);
    const start = p.clock.now();

    const result = await p.clock.run(
      p.policies.for(p.model(HAIKU)).execute(p.model(HAIKU), REQUEST, { api: 'invoke', limiter }),
    );

    const reserved = limiter.acquired[0] ?? 0;
    expect(result.attempts.map((a) => a.outcome)).toEqual(['ok']);
    expect(p.clock.now() - start).toBe(1_200);
    expect(reserved).toBeGreaterThan(100); // input estimate + maxTokens
    expect(limiter.refunds).toEqual([{ tokens: reserved - 15, requests: 0 }]);
  });

  it('refuses as rate_limited without a call when the next slot is further than it may wait', async () => {
    const p = createTestPipeline();
    const limiter = new ScriptedLimiter([{ ok: false, retryAfterMs: 1_500 }]);

    const failure = await failureOf(
      p.clock.run(
        p.policies.for(p.model(HAIKU)).execute(p.model(HAIKU), REQUEST, { api: 'invoke', limiter }),
      ),
    );

    expect(failure.outcome).toBe('rate_limited');
    expect(failure.details.retryAfterMs).toBe(1_500);
    expect(failure.attempts).toHaveLength(1);
    expect(p.client.callsTo(HAIKU)).toBe(0);
  });

  it('with spill, reports a throttle to the fleet limiter and leaves the model at once', async () => {
    const p = createTestPipeline({ config: { policy: { retry: { maxAttempts: 3 } } } });
    p.client.script(HAIKU, fail('throttled'));
    const limiter = new ScriptedLimiter([]);

    const failure = await failureOf(
      p.clock.run(
        p.policies
          .for(p.model(HAIKU))
          .execute(p.model(HAIKU), REQUEST, { api: 'invoke', limiter, spill: true }),
      ),
    );

    expect(failure.outcome).toBe('throttled');
    expect(limiter.throttles).toBe(1);
    expect(p.client.callsTo(HAIKU)).toBe(1);
  });

  it('without spill, reports every throttle and retries the model', async () => {
    const p = createTestPipeline({ config: { policy: { retry: { maxAttempts: 3 } } } });
    p.client.script(HAIKU, fail('throttled'), fail('throttled'));
    const limiter = new ScriptedLimiter([]);

    const result = await p.clock.run(
      p.policies
        .for(p.model(HAIKU))
        .execute(p.model(HAIKU), REQUEST, { api: 'invoke', limiter, spill: false }),
    );

    expect(result.attempts.map((a) => a.outcome)).toEqual(['throttled', 'throttled', 'ok']);
    expect(limiter.throttles).toBe(2);
  });
});
