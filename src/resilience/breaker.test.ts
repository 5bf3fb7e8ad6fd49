import { once } from 'node:events';
import { describe, expect, it } from 'vitest';
import { createTestPipeline, fail } from '../../test/helpers/fake-model-client.js';
import { ManualClock } from '../clock.js';
import type { ModelRequest } from '../models/request.js';
import { BreakerRegistry } from './breaker.js';
import { createResilienceEvents } from './events.js';
import type { PolicyResult } from './policy.js';

const HAIKU = 'anthropic.claude-3-haiku-20240307-v1:0';
const REQUEST: ModelRequest = { messages: [{ role: 'user', content: 'hello' }] };
const BREAKER = { consecutiveFailures: 3, halfOpenAfterMs: 30_000 };

function pipeline() {
  return createTestPipeline({ config: { policy: { breaker: BREAKER, retry: { maxAttempts: 1 } } } });
}

async function call(p: ReturnType<typeof pipeline>): Promise<PolicyResult | undefined> {
  return p.policies
    .for(p.model(HAIKU))
    .execute(p.model(HAIKU), REQUEST, { api: 'invoke' })
    .catch(() => undefined);
}

describe('per-model circuit breakers', () => {
  it('opens after 3 consecutive outages and stops calling the model', async () => {
    const p = pipeline();
    p.client.script(HAIKU, fail('unavailable'), fail('timeout'), fail('internal'));
    const opened = once(p.events, 'open');

    for (let i = 0; i < 3; i++) await call(p);
    const [event] = await opened;
    const refused = await p.policies
      .for(p.model(HAIKU))
      .execute(p.model(HAIKU), REQUEST, { api: 'invoke' })
      .catch((e: unknown) => e);

    expect(event).toEqual({ modelId: HAIKU, kind: 'internal', halfOpenAt: p.clock.now() + 30_000 });
    expect(p.client.callsTo(HAIKU)).toBe(3);
    expect(refused).toMatchObject({ outcome: 'circuit_open', details: { retryAfterMs: 30_000 } });
    expect(p.breakers.states()[HAIKU]).toEqual({
      modelId: HAIKU,
      state: 'open',
      consecutiveFailures: 3,
      openedAt: p.clock.now(),
      halfOpenAt: p.clock.now() + 30_000,
    });
  });

  it('closes again when the half-open probe succeeds', async () => {
    const p = pipeline();
    p.client.script(HAIKU, fail('unavailable'), fail('unavailable'), fail('unavailable'));
    for (let i = 0; i < 3; i++) await call(p);
    const seen: string[] = [];
    p.events.on('halfOpen', () => seen.push('halfOpen'));
    p.events.on('close', () => seen.push('close'));

    p.clock.advance(30_000);
    const probe = await call(p);

    expect(probe?.attempts.map((a) => a.outcome)).toEqual(['ok']);
    expect(seen).toEqual(['halfOpen', 'close']);
    expect(p.breakers.states()[HAIKU]).toEqual({ modelId: HAIKU, state: 'closed', consecutiveFailures: 0 });
    expect(p.client.callsTo(HAIKU)).toBe(4);
  });

  it('opens again for another full delay when the probe fails', async () => {
    const p = pipeline();
    p.client.script(HAIKU, ...Array.from({ length: 4 }, () => fail('unavailable')));
    for (let i = 0; i < 3; i++) await call(p);
    p.clock.advance(30_000);

    await call(p);
    p.clock.advance(29_999);
    await call(p);

    expect(p.client.callsTo(HAIKU)).toBe(4);
    expect(p.breakers.states()[HAIKU]?.state).toBe('open');
  });

  it('never opens on throttles: throttling is load, not sickness', async () => {
    const p = pipeline();
    p.client.script(HAIKU, ...Array.from({ length: 10 }, () => fail('throttled')));

    for (let i = 0; i < 10; i++) await call(p);

    expect(p.client.callsTo(HAIKU)).toBe(10);
    expect(p.breakers.states()[HAIKU]?.state).toBe('closed');
  });

  it('counts an answer about the request as proof of health', async () => {
    const p = pipeline();
    p.client.script(
      HAIKU,
      fail('unavailable'),
      fail('unavailable'),
      fail('context_overflow'),
      fail('unavailable'),
    );

    for (let i = 0; i < 4; i++) await call(p);

    expect(p.breakers.states()[HAIKU]).toMatchObject({ state: 'closed', consecutiveFailures: 1 });
  });

  it('restores an open breaker from saved state after a restart', async () => {
    const p = pipeline();
    p.client.script(HAIKU, fail('unavailable'), fail('unavailable'), fail('unavailable'));
    for (let i = 0; i < 3; i++) await call(p);
    const saved = JSON.parse(JSON.stringify(p.breakers.toJSON()));

    const clock = new ManualClock(p.clock.now() + 10_000);
    const restored = new BreakerRegistry({
      settingsFor: () => BREAKER,
      clock,
      events: createResilienceEvents(),
      initialState: saved,
    });

    expect(restored.get(HAIKU).rejecting).toBe(true);
    expect(restored.get(HAIKU).msUntilHalfOpen()).toBe(20_000);
    clock.advance(20_000);
    expect(restored.get(HAIKU).rejecting).toBe(false);
  });
});
