/**
 * Bulk enqueue alone: N jobs through bedrock-jobs' producer (`enqueueBatch`) and through plain
 * BullMQ `Queue.addBulk` in slices of the same size, alternating the two for a few rounds on a
 * redis-server of the bench's own (so its command counts hold only the bench's). Each enqueue
 * runs in a process of its own; its keys are deleted after it. Prints jobs/s of each and their
 * ratio, Redis commands per job by command (INFO commandstats, commands run by scripts
 * included), Redis and client CPU per job, and the enqueueing process's peak RSS.
 *
 *   npm run bench:enqueue [-- --jobs 100000] [--slice 500] [--rounds 3] [--cpu-prof DIR]
 */
import { fork } from 'node:child_process';
import { once } from 'node:events';
import { arch, cpus, loadavg, platform, totalmem } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';
import { z } from 'zod';
import { deleteKeys } from '../src/redis/purge.js';
import { startOwnRedis } from '../test/helpers/redis-server.js';
import {
  ENQUEUERS,
  type EnqueueReport,
  EnqueueReportSchema,
  type Enqueuer,
  type EnqueueSpec,
} from './enqueue/spec.js';

const { values } = parseArgs({
  options: {
    jobs: { type: 'string' },
    slice: { type: 'string' },
    rounds: { type: 'string' },
    'cpu-prof': { type: 'string' },
  },
});
const Args = z.object({
  jobs: z.coerce.number().int().positive().default(100_000),
  slice: z.coerce.number().int().positive().default(500),
  rounds: z.coerce.number().int().positive().default(3),
  cpuProf: z.string().min(1).optional(),
});
const args = Args.parse({
  jobs: values.jobs,
  slice: values.slice,
  rounds: values.rounds,
  cpuProf: values['cpu-prof'],
});
const CHILD = join(import.meta.dirname, 'enqueue', 'child.ts');

/** One enqueue as the harness saw it: the child's report and Redis's side of it. */
interface Run extends EnqueueReport {
  commands: Map<string, CommandStat>;
  redisCpuMs: number;
}

/** Calls of one command, and the time Redis spent in them (a script's includes its commands'). */
interface CommandStat {
  calls: number;
  usec: number;
}

/** `cmdstat_<name>:calls=N,usec=M,...` lines of INFO commandstats, by name. */
async function commandStats(redis: Redis): Promise<Map<string, CommandStat>> {
  const out = new Map<string, CommandStat>();
  for (const m of (await redis.info('commandstats')).matchAll(/^cmdstat_([^:]+):calls=(\d+),usec=(\d+)/gm)) {
    out.set(m[1]!, { calls: Number(m[2]), usec: Number(m[3]) });
  }
  return out;
}

async function redisCpuMs(redis: Redis): Promise<number> {
  const info = await redis.info('cpu');
  const field = (name: string) => Number(new RegExp(`^${name}:([\\d.]+)`, 'm').exec(info)?.[1] ?? 0);
  return (field('used_cpu_user') + field('used_cpu_sys')) * 1000;
}

/** Runs one enqueue in a child process and resolves with its report. */
async function runChild(spec: EnqueueSpec): Promise<EnqueueReport> {
  const execArgv = args.cpuProf
    ? [
        ...process.execArgv,
        '--cpu-prof',
        '--cpu-prof-dir',
        args.cpuProf,
        '--cpu-prof-name',
        `${spec.enqueuer}-${Date.now()}.cpuprofile`,
      ]
    : process.execArgv;
  const child = fork(CHILD, [JSON.stringify(spec)], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    execArgv,
  });
  let report: unknown;
  child.on('message', (m) => {
    report = m;
  });
  const [code] = (await once(child, 'exit')) as [number | null];
  if (code !== 0) throw new Error(`the ${spec.enqueuer} enqueue exited with ${code}`);
  return EnqueueReportSchema.parse(report);
}

const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
};

const server = await startOwnRedis();
const admin = new Redis(server.url);
const runs: Record<Enqueuer, Run[]> = { baseline: [], 'bedrock-jobs': [] };
const startLoad = loadavg()[0]!.toFixed(2);
try {
  for (let round = 0; round < args.rounds; round++) {
    for (const enqueuer of ENQUEUERS) {
      const prefix = `{bench-enqueue-${enqueuer}-${round}}`;
      const before = await commandStats(admin);
      const cpuBefore = await redisCpuMs(admin);
      const report = await runChild({
        enqueuer,
        redisUrl: server.url,
        prefix,
        jobs: args.jobs,
        slice: args.slice,
      });
      const cpuAfter = await redisCpuMs(admin);
      const after = await commandStats(admin);
      const commands = new Map<string, CommandStat>();
      for (const [name, stat] of after) {
        const calls = stat.calls - (before.get(name)?.calls ?? 0);
        // The harness's own INFO calls are not the enqueue's.
        if (calls > 0 && name !== 'info') {
          commands.set(name, { calls, usec: stat.usec - (before.get(name)?.usec ?? 0) });
        }
      }
      runs[enqueuer].push({ ...report, commands, redisCpuMs: cpuAfter - cpuBefore });
      console.error(
        `round ${round + 1}/${args.rounds} ${enqueuer.padEnd(12)} ${((args.jobs / report.ms) * 1000).toFixed(0).padStart(7)} jobs/s`,
      );
      await deleteKeys(admin, prefix);
    }
  }
} finally {
  await admin.quit();
  await server.close();
}

const cpu = cpus();
console.log(
  `bulk enqueue bench  ${new Date().toISOString().replace(/\.\d+Z$/, 'Z')}\n` +
    `machine: ${platform()} ${arch()}, ${cpu.length} cores (${cpu[0]?.model.trim() ?? 'unknown'}), ` +
    `${(totalmem() / 2 ** 30).toFixed(1)} GiB, Node ${process.version}; load average ${startLoad} at start, ${loadavg()[0]!.toFixed(2)} at end\n` +
    `plan: ${args.jobs} jobs per enqueue, ${args.slice} per round trip, ${args.rounds} rounds alternating, own redis-server; medians over the rounds\n`,
);
const perJob = (n: number) => n / args.jobs;
const figures = ENQUEUERS.map((name) => {
  const rs = runs[name];
  const total = (r: Run) => [...r.commands.values()].reduce((a, b) => a + b.calls, 0);
  return {
    name,
    rate: median(rs.map((r) => (args.jobs / r.ms) * 1000)),
    rates: rs.map((r) => (args.jobs / r.ms) * 1000),
    commands: median(rs.map((r) => perJob(total(r)))),
    redisCpu: median(rs.map((r) => perJob(r.redisCpuMs))),
    clientCpu: median(rs.map((r) => perJob(r.cpuMs))),
    peakRss: median(rs.map((r) => r.peakRssMb)),
    rssBefore: median(rs.map((r) => r.rssBeforeMb)),
    byCommand: rs.at(-1)?.commands ?? new Map<string, CommandStat>(),
  };
});
const [base, ours] = figures as [(typeof figures)[0], (typeof figures)[0]];
const row = (label: string, b: number, o: number, digits: number) =>
  `${label.padEnd(32)}${b.toFixed(digits).padStart(10)}${o.toFixed(digits).padStart(15)}${(o / b).toFixed(2).padStart(10)}`;
console.log(
  `${''.padEnd(32)}${'baseline'.padStart(10)}${'bedrock-jobs'.padStart(15)}${'ratio'.padStart(10)}`,
);
console.log(`${'-'.repeat(30)}  ${'-'.repeat(8)}  ${'-'.repeat(13)}  ${'-'.repeat(8)}`);
console.log(row('bulk enqueue, jobs/s', base.rate, ours.rate, 0));
console.log(row('Redis commands per job', base.commands, ours.commands, 1));
console.log(row('Redis CPU per job, ms', base.redisCpu, ours.redisCpu, 3));
console.log(row('enqueuer CPU per job, ms', base.clientCpu, ours.clientCpu, 3));
console.log(row('peak RSS, MB', base.peakRss, ours.peakRss, 0));
console.log(row('RSS before the enqueue, MB', base.rssBefore, ours.rssBefore, 0));
console.log('');
for (const f of figures) {
  console.log(`${f.name} jobs/s per round: ${f.rates.map((r) => r.toFixed(0)).join(', ')}`);
  const top = [...f.byCommand.entries()].sort((a, b) => b[1].calls - a[1].calls).slice(0, 10);
  const shown = top.map(([n, c]) => `${n} ${perJob(c.calls).toFixed(2)} (${perJob(c.usec).toFixed(1)})`);
  console.log(`  per job, last round, calls (µs in Redis): ${shown.join(', ')}`);
}
