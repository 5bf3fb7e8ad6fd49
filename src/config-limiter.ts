import { z } from 'zod';
import { SECOND } from './units.js';

/** Fleet-wide pacing and adaptive rates (`limiter` in the config). */
export const LimiterSettingsSchema = z
  .object({
    burstSeconds: z
      .number()
      .nonnegative()
      .default(1)
      .describe(
        'calls sent at once ahead of the even pace, in seconds of quota (a minute-quota fleet loses nothing to pacing); 0 spaces every call',
      ),
    spillWaitMs: z
      .number()
      .int()
      .nonnegative()
      .default(250)
      .describe(
        'a model whose next slot is further away than this is passed over for the next one in the chain',
      ),
    decreaseFactor: z
      .number()
      .gt(0)
      .lt(1)
      .default(0.7)
      .describe('a throttle from Bedrock multiplies the fleet rate of that model by this'),
    decreaseWindowMs: z
      .number()
      .int()
      .positive()
      .default(SECOND)
      .describe('at most one decrease per model per window, for the whole fleet'),
    increasePerSecond: z
      .number()
      .positive()
      .default(0.2)
      .describe(
        'while calls wait for the rate, it grows back by this share of its last good level per second',
      ),
    discoverUpTo: z
      .number()
      .min(1)
      .default(4)
      .describe('how far above the catalog default an unconfigured rate may grow'),
    minShare: z
      .number()
      .gt(0)
      .max(1)
      .default(0.02)
      .describe('the rate never drops below this share of the quota'),
  })
  .strict();
