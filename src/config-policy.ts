import { z } from 'zod';
import { MINUTE, SECOND } from './units.js';

const BreakerSchema = z
  .object({
    consecutiveFailures: z
      .number()
      .int()
      .positive()
      .default(5)
      .describe('failures in a row that open the breaker'),
    halfOpenAfterMs: z
      .number()
      .int()
      .positive()
      .default(30 * SECOND)
      .describe('open → half-open delay'),
  })
  .strict();

const RetrySchema = z
  .object({
    maxAttempts: z.number().int().min(1).default(3).describe('calls to one model per job before moving on'),
    baseDelayMs: z
      .number()
      .int()
      .positive()
      .default(250)
      .describe('first backoff; doubles each attempt (full jitter)'),
    throttleBaseDelayMs: z
      .number()
      .int()
      .positive()
      .default(1_000)
      .describe('first backoff after a throttle'),
    maxDelayMs: z
      .number()
      .int()
      .positive()
      .default(20 * SECOND)
      .describe('backoff cap'),
  })
  .strict();

/** Resilience settings for one model; every field has a default and a per-model override. */
export const PolicySchema = z
  .object({
    timeoutMs: z
      .number()
      .int()
      .positive()
      .default(2 * MINUTE)
      .describe('abort one model call after this long'),
    maxConcurrent: z
      .number()
      .int()
      .positive()
      .default(32)
      .describe('bulkhead: concurrent calls per model per worker'),
    breaker: BreakerSchema.prefault({}),
    retry: RetrySchema.prefault({}),
  })
  .strict();
export type PolicyConfig = z.infer<typeof PolicySchema>;

const PolicyOverrideSchema = z
  .object({
    timeoutMs: z.number().int().positive(),
    maxConcurrent: z.number().int().positive(),
    breaker: BreakerSchema.partial(),
    retry: RetrySchema.partial(),
  })
  .partial()
  .strict();

/** Per-model settings: quotas for the fleet-wide limiter and policy overrides. */
export const ModelSettingsSchema = z
  .object({
    rpm: z
      .number()
      .int()
      .positive()
      .optional()
      .describe('fleet-wide requests per minute (default: catalog quota)'),
    tpm: z
      .number()
      .int()
      .positive()
      .optional()
      .describe('fleet-wide tokens per minute (default: catalog quota)'),
    burstSeconds: z
      .number()
      .nonnegative()
      .optional()
      .describe(
        'calls the fleet may send at once ahead of the even pace, in seconds of quota (default: limiter.burstSeconds)',
      ),
    policy: PolicyOverrideSchema.optional(),
  })
  .strict();
/** The settings of one model under `models` in the config, defaults applied. */
export type ModelSettings = z.infer<typeof ModelSettingsSchema>;

/**
 * The effective policy for one model: defaults, then that model's overrides. It takes the two
 * sections it reads rather than the whole config, which is composed from this module.
 */
export function policyFor(
  config: { readonly policy: PolicyConfig; readonly models: Readonly<Record<string, ModelSettings>> },
  modelId: string,
): PolicyConfig {
  const o = config.models[modelId]?.policy;
  if (!o) return config.policy;
  return {
    timeoutMs: o.timeoutMs ?? config.policy.timeoutMs,
    maxConcurrent: o.maxConcurrent ?? config.policy.maxConcurrent,
    breaker: { ...config.policy.breaker, ...o.breaker },
    retry: { ...config.policy.retry, ...o.retry },
  };
}
