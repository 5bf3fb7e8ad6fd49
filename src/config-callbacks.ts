import { z } from 'zod';
import { SECOND } from './units.js';

/** The `callbacks:` section: how batch callbacks are signed, sent, retried and which hosts they may reach. */
export const CallbackSettingsSchema = z
  .object({
    secret: z
      .string()
      .min(16, { error: 'must be at least 16 characters' })
      .optional()
      .describe(
        'HMAC-SHA256 key that signs every callback; a batch with a callbackUrl is refused without it',
      ),
    timeoutMs: z
      .number()
      .int()
      .positive()
      .default(10 * SECOND)
      .describe('a callback POST that has not answered after this long counts as a failed attempt'),
    attempts: z
      .number()
      .int()
      .positive()
      .default(8)
      .describe('POSTs per callback before it is recorded as failed on the batch'),
    backoffMs: z
      .number()
      .int()
      .positive()
      .default(SECOND)
      .describe('wait before the second attempt; doubles after each failed one'),
    concurrency: z
      .number()
      .int()
      .positive()
      .default(8)
      .describe('callback POSTs in flight at once per worker process'),
    sweepMs: z
      .number()
      .int()
      .positive()
      .default(10 * SECOND)
      .describe(
        'how often each worker queues callbacks still waiting in the outbox (after a crash of the one that should have)',
      ),
    allowedHosts: z
      .array(z.string().min(1))
      .default([])
      .describe(
        'when not empty, the only hosts a callbackUrl may name (exact, or `*.example.com` for subdomains)',
      ),
  })
  .strict();
