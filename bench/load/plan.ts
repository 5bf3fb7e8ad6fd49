import { z } from 'zod';

/** Every call goes to the simulator; the region only has to be one Bedrock has. */
export const BENCH_REGION = 'us-east-1';

/**
 * The simulator profile of the whole run (`profiles/zero.yaml`): every answer at once and
 * quotas far above any load, so the queue and the workers are measured, not the model.
 */
export const SIMULATOR_PROFILE = 'zero';

/** The size and shape of one run of the load bench; the command line sets the first few. */
export const LoadPlanSchema = z.strictObject({
  jobs: z.number().int().positive().default(100_000).describe('jobs of the backlog each system drains'),
  pacedJobs: z
    .number()
    .int()
    .positive()
    .optional()
    .describe('jobs of the paced phase that measures latency; default a tenth of jobs, at least 500'),
  pacedLoad: z
    .number()
    .positive()
    .max(1)
    .default(0.5)
    .describe("paced phase's arrival rate, as a fraction of the slower system's drain throughput"),
  pacedRounds: z
    .number()
    .int()
    .positive()
    .default(4)
    .describe(
      'the paced phase alternates between the systems in this many rounds, so both see the same machine',
    ),
  processes: z.number().int().positive().default(4).describe('worker processes per system'),
  concurrency: z
    .number()
    .int()
    .positive()
    .default(16)
    .describe("jobs in flight per worker process (bedrock-jobs' default worker.concurrency)"),
  modelId: z.string().min(1).default('anthropic.claude-haiku-4-5-20251001-v1:0'),
  maxTokens: z.number().int().positive().default(64).describe('output budget of every call'),
});
/** One run's plan, defaults filled in. */
export type LoadPlan = z.infer<typeof LoadPlanSchema>;

/** Jobs of the paced phase. */
export const pacedJobsOf = (plan: LoadPlan): number =>
  plan.pacedJobs ?? Math.max(500, Math.round(plan.jobs / 10));

/** The same short question for every system, varied by job so no two bodies are alike. */
export const prompt = (id: string): string =>
  `Question ${id}: in one sentence, what does a job queue do for a web service?`;

/** The id of job `i` of a phase (`drain`, `paced-<round>`); both systems get the same ids. */
export const jobId = (phase: string, i: number): string => `${phase}-${i}`;
