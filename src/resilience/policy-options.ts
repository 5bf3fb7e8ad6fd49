import type { BulkheadPolicy } from 'cockatiel';
import { z } from 'zod';
import type { ModelApi, ModelClient } from '../bedrock/types.js';
import type { Clock } from '../clock.js';
import { LimiterSettingsSchema } from '../config-limiter.js';
import type { PolicyConfig } from '../config-policy.js';
import type { Random } from '../random.js';
import { SECOND } from '../units.js';
import type { ModelBreaker } from './breaker.js';
import type { ResilienceEmitter } from './events.js';
import type { FleetBreakers } from './fleet-breaker.js';
import type { PolicyGuard } from './policy-guard.js';
import type { RateLimiter } from './ratelimit.js';

/** Settings of the policy's shell that are not per-model config. */
export const PolicyRuntimeSchema = z
  .object({
    maxWaitMs: z
      .number()
      .int()
      .nonnegative()
      .default(5 * SECOND)
      .describe('longest wait for the fleet rate limiter when the job may not spill to the next model'),
    spillWaitMs: LimiterSettingsSchema.shape.spillWaitMs,
    queueSize: z
      .number()
      .int()
      .nonnegative()
      .optional()
      .describe('bulkhead queue per model; default maxConcurrent, beyond it calls spill to the next model'),
  })
  .strict();
export type PolicyRuntime = z.infer<typeof PolicyRuntimeSchema>;

export interface ModelPolicyOptions {
  modelId: string;
  config: PolicyConfig;
  client: ModelClient;
  breaker: ModelBreaker;
  clock: Clock;
  rand: Random;
  events?: ResilienceEmitter;
  runtime?: Partial<PolicyRuntime>;
  /** Breaker state shared by the fleet; without it the local breaker decides alone. */
  fleet?: FleetBreakers;
}

export interface ExecuteOptions {
  api: ModelApi;
  /** The job's signal: aborts sleeps and the call in flight (shutdown). */
  signal?: AbortSignal;
  /** The fleet-wide rate limiter, when the worker uses one. */
  limiter?: RateLimiter;
  /**
   * True: a model with no slot within `spillWaitMs`, or one that fails a call (throttled,
   * unavailable, timed out), is left at once for the next model of the chain (the chain passes
   * true unless the job's chain says otherwise, or the model is its last).
   * False or absent: the job waits for this model (`maxWaitMs`) and retries with backoff.
   */
  spill?: boolean;
  /**
   * Ends the wait for a limiter slot (the slot goes back to the fleet) when the chain has a
   * better model to try: the failure then says `woken`. A call once started is not stopped.
   */
  wake?: AbortSignal;
}

/** What the steps of one model's policy share, built once with the policy. */
export interface PolicyParts {
  readonly modelId: string;
  readonly config: PolicyConfig;
  readonly client: ModelClient;
  readonly breaker: ModelBreaker;
  readonly fleet: FleetBreakers | undefined;
  readonly clock: Clock;
  readonly runtime: PolicyRuntime;
  /** This worker's bulkhead for the model. */
  readonly slots: BulkheadPolicy;
  readonly guard: PolicyGuard;
}
