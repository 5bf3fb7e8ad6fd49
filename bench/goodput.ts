/**
 * Goodput under quotas and outages: bedrock-jobs against four ways a team builds a Bedrock
 * worker today (SDK standard retries, SDK adaptive retries, LangChain withFallbacks, Vercel AI
 * SDK), each in a plain BullMQ worker, same jobs, same simulator, in one run. Prints one table.
 * See bench/README.md for what each scenario and column means.
 *
 *   npm run bench:goodput [-- --jobs 100] [--scenarios S1,S2] [--systems bedrock-jobs,langchain]
 *                         [--budget-s 285]
 */
import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';
import { z } from 'zod';
import { startPool } from './goodput/fleet.js';
import { DEFAULT_PLAN, type Plan, processesIn, SCENARIOS, SYSTEMS } from './goodput/plan.js';
import { header, legend, ratios, table } from './goodput/report.js';
import { type RunResult, runOnce, worstRunMs } from './goodput/run.js';

const { values } = parseArgs({
  options: {
    jobs: { type: 'string' },
    scenarios: { type: 'string' },
    systems: { type: 'string' },
    'budget-s': { type: 'string', default: '285' },
  },
});
const list = <T extends string>(all: readonly [T, ...T[]], raw: string | undefined): T[] =>
  raw === undefined ? [...all] : z.array(z.enum(all)).min(1).parse(raw.split(','));
const plan: Plan = {
  ...DEFAULT_PLAN,
  ...(values.jobs !== undefined ? { jobs: z.coerce.number().int().positive().parse(values.jobs) } : {}),
};
const scenarios = list(SCENARIOS, values.scenarios);
const systems = list(SYSTEMS, values.systems);
/** The whole bench stays within this: a run that might not fit is skipped and listed. */
const budgetMs = z.coerce.number().positive().parse(values['budget-s']) * 1000;
const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
// The bench only ever talks to this machine: refuse a Redis elsewhere rather than load it.
const redisHost = new URL(redisUrl).hostname;
if (!['127.0.0.1', 'localhost', '[::1]'].includes(redisHost)) {
  throw new Error(`REDIS_URL: the bench runs against a local Redis only, got ${redisHost}`);
}

const redis = new Redis(redisUrl);
const started = performance.now();
const results: RunResult[] = [];
const skipped: string[] = [];
const poolSize = Math.max(...scenarios.map(processesIn));
const fits = (): boolean => performance.now() - started + worstRunMs(plan) <= budgetMs;
try {
  // System by system, so each system's processes load their library once for every scenario.
  for (const system of systems) {
    if (!fits()) {
      skipped.push(...scenarios.map((s) => `${s} ${system}`));
      continue;
    }
    const pool = await startPool(poolSize);
    try {
      for (const scenario of scenarios) {
        if (!fits()) {
          skipped.push(`${scenario} ${system}`);
          continue;
        }
        const r = await runOnce(scenario, system, plan, { redis, redisUrl, pool });
        results.push(r);
        console.error(
          `${scenario} ${system}: ${(r.elapsedMs / 1000).toFixed(2)} s, ${r.completed} completed, ` +
            `${r.throttled} throttled, ${r.downCalls} down calls${r.cut ? ' (cut)' : ''}`,
        );
      }
    } finally {
      await pool.close();
    }
  }
} finally {
  await redis.quit();
}
const lines = [
  ...header(plan),
  '',
  ...table(results, plan),
  '',
  'bedrock-jobs vs the baseline with the highest goodput:',
  ...ratios(results, plan),
  ...(skipped.length > 0 ? [`skipped to stay within ${budgetMs / 1000} s: ${skipped.join(', ')}`] : []),
  '',
  ...legend(plan),
  `bench wall time ${((performance.now() - started) / 1000).toFixed(0)} s`,
];
console.log(lines.join('\n'));
