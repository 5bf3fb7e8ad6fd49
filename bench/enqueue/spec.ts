import { z } from 'zod';

/** The two ways of enqueueing the bench compares, in the order each round runs them. */
export const ENQUEUERS = ['baseline', 'bedrock-jobs'] as const;
/** One of {@link ENQUEUERS}. */
export type Enqueuer = (typeof ENQUEUERS)[number];

/** What the harness asks one child process to enqueue, passed as JSON in its first argument. */
export const EnqueueSpecSchema = z.strictObject({
  enqueuer: z.enum(ENQUEUERS),
  redisUrl: z.string().min(1),
  prefix: z.string().min(1),
  jobs: z.number().int().positive(),
  /** Jobs per round trip: the producer's `sliceSize`, and the baseline's `addBulk` slice. */
  slice: z.number().int().positive(),
});
export type EnqueueSpec = z.infer<typeof EnqueueSpecSchema>;

/** What one child reports back over IPC once its enqueue has returned. */
export const EnqueueReportSchema = z.strictObject({
  ms: z.number().nonnegative(),
  /** CPU time of the enqueueing process over the enqueue, ms (user + system). */
  cpuMs: z.number().nonnegative(),
  /** RSS right before the enqueue call (the job inputs built, modules loaded), MiB. */
  rssBeforeMb: z.number().nonnegative(),
  /** Peak RSS of the process over its life, MiB. */
  peakRssMb: z.number().nonnegative(),
});
export type EnqueueReport = z.infer<typeof EnqueueReportSchema>;

/** The same short question as the load bench's, varied by job so no two bodies are alike. */
export const prompt = (id: string): string =>
  `Question ${id}: in one sentence, what does a job queue do for a web service?`;

/** Job `i` of a run. */
export const jobId = (i: number): string => `enq-${i}`;

/** A model the built-in catalog knows, so every job validates against it. */
export const MODEL_ID = 'anthropic.claude-haiku-4-5-20251001-v1:0';
