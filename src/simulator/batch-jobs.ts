import type { Clock } from '../clock.js';
import type { ModelCatalog } from '../models/catalog.js';
import { parseModelId } from '../models/model-id.js';
import { createRandom, deriveSeed } from '../random.js';
import { NO_BATCH_FAULT } from './batch-faults.js';
import { type CreateJob, ENDED, jobArn, jobIdOf, type ListJobs, parseS3Uri } from './batch-input.js';
import { hasEnded, type Job, jobView } from './batch-job.js';
import { BatchTimingSchema, batchLimits } from './batch-profile.js';
import { inputFiles } from './batch-records.js';
import { runJob } from './batch-run.js';
import { type SimError, type SimulatorControl, simError } from './control.js';
import { quotaKey } from './quota.js';
import { MESSAGES, modelAt } from './routes.js';
import type { S3Store } from './s3-store.js';

/** A status and JSON body, or an error in Bedrock's shape. */
export type Answer = [status: number, body: unknown] | SimError;

/** Bedrock's default `timeoutDurationInHours`. */
const DEFAULT_TIMEOUT_HOURS = 168;
const HOUR_MS = 3_600_000;
const ID_ALPHABET = 'abcdefghijklmnopqrstuvwxyz0123456789';

/** What the job registry needs from the server. */
export interface BatchJobsDeps {
  catalog: ModelCatalog;
  control: SimulatorControl;
  s3: S3Store;
  clock: Clock;
  /** Generation seed; also seeds job ids and record-error draws. */
  seed: number;
  /** Wall-clock epoch milliseconds, read once: simulated timestamps start there. */
  wallNow?: () => number;
}

/** The model invocation jobs of one simulator, and the four operations on them. */
export interface BatchJobs {
  create(body: CreateJob, region: string): Answer;
  get(identifier: string): Answer;
  list(query: ListJobs): Answer;
  stop(identifier: string): Answer;
  /** Stops every job's run (they keep their status); idempotent. */
  close(): Promise<void>;
}

const notFound = (identifier: string): SimError =>
  simError('ResourceNotFoundException', `The model invocation job ${identifier} could not be found.`);
const invalid = (message: string): SimError => simError('ValidationException', message);

/**
 * Keeps model invocation jobs in memory and runs each on the simulator's clock
 * (`src/simulator/batch-run.ts`). Create checks what Bedrock checks before it accepts a job:
 * the model (known, offered, enabled, callable this way, batch-capable), the input (present,
 * within the model's record and size quotas), the output bucket, the model's concurrent-job
 * quota; a repeated `clientRequestToken` returns the job it made and creates nothing.
 */
export function createBatchJobs(deps: BatchJobsDeps): BatchJobs {
  const { catalog, control, s3, clock } = deps;
  const batch = control.batch;
  const timeScale = batch?.timeScale ?? 1;
  const timing = batch?.timing ?? BatchTimingSchema.parse({});
  const wallAnchor = (deps.wallNow ?? Date.now)();
  const clockAnchor = clock.now();
  const simNow = (): number => Math.round(wallAnchor + (clock.now() - clockAnchor) * timeScale);
  const idRandom = createRandom(deriveSeed(deps.seed, 'model-invocation-jobs'));
  const jobs = new Map<string, Job>();
  const byToken = new Map<string, string>();
  const running = new Set<Promise<void>>();

  const newId = (): string => {
    for (;;) {
      let id = '';
      for (let i = 0; i < 12; i++) id += ID_ALPHABET[Math.floor(idRandom() * ID_ALPHABET.length)];
      if (!jobs.has(id)) return id;
    }
  };

  const find = (identifier: string): Job | undefined => {
    const id = jobIdOf(identifier);
    return id === undefined ? undefined : jobs.get(id);
  };

  function create(body: CreateJob, region: string): Answer {
    const token = body.clientRequestToken;
    const earlier = token === undefined ? undefined : jobs.get(byToken.get(token) ?? '');
    if (earlier) return [200, { jobArn: earlier.arn }];
    if ([...jobs.values()].some((j) => j.request.jobName === body.jobName))
      return invalid('The provided job name is currently in use.');

    const { baseId, geo } = parseModelId(body.modelId);
    const info = modelAt(baseId, geo, catalog);
    const state = info && control.model(baseId);
    if (!info || !state) return invalid(MESSAGES.invalidId);
    if (!state.available) return simError('ResourceNotFoundException', MESSAGES.notAvailable);
    if (!state.enabled) return simError('AccessDeniedException', MESSAGES.accessDenied);
    if (info.profileOnly && !geo) return invalid(MESSAGES.profileOnly(baseId));
    const limits = batch?.limits(info.id) ?? batchLimits(info);
    if (!limits.supported)
      return invalid(`The provided model ${body.modelId} doesn't support batch inference.`);

    const inputUri = body.inputDataConfig.s3InputDataConfig.s3Uri;
    const files = inputFiles(s3, inputUri);
    if (!Array.isArray(files)) return files;
    const outputUri = body.outputDataConfig.s3OutputDataConfig.s3Uri;
    const outputBucket = parseS3Uri(outputUri).bucket;
    if (!s3.hasBucket(outputBucket))
      return invalid(
        `The provided S3 URI ${outputUri} is not valid: the bucket ${outputBucket} does not exist.`,
      );

    const key = quotaKey({ baseId: info.id, ...(geo ? { geo } : {}) });
    const active = [...jobs.values()].filter((j) => j.key === key && !hasEnded(j)).length;
    if (active >= limits.maxConcurrentJobs)
      return simError(
        'ServiceQuotaExceededException',
        `You have reached the quota of ${limits.maxConcurrentJobs} batch inference jobs in progress or submitted for ${body.modelId}. Wait for a job to end or stop one, then try again.`,
      );

    const id = newId();
    const now = simNow();
    const timeoutHours = body.timeoutDurationInHours ?? DEFAULT_TIMEOUT_HOURS;
    const job: Job = {
      id,
      arn: jobArn(region, id),
      request: body,
      route: {
        modelId: body.modelId,
        operation: body.modelInvocationType === 'Converse' ? 'converse' : 'invoke',
      },
      key,
      timeoutHours,
      status: 'Submitted',
      submitMs: now,
      lastModifiedMs: now,
      expirationMs: now + timeoutHours * HOUR_MS,
      files,
      limits,
      processedRecordCount: 0,
      successRecordCount: 0,
      errorRecordCount: 0,
      inputTokenCount: 0,
      outputTokenCount: 0,
      plan:
        batch?.plan({
          modelId: body.modelId,
          baseId: info.id,
          ...(geo ? { geo } : {}),
          jobName: body.jobName,
        }) ?? NO_BATCH_FAULT,
      abort: new AbortController(),
      stopRequested: false,
    };
    jobs.set(id, job);
    if (token !== undefined) byToken.set(token, id);
    batch?.job(key, 'created');
    const run = runJob(job, {
      ...deps,
      s3,
      clock,
      timeScale,
      timing,
      ...(batch ? { stats: batch } : {}),
    });
    running.add(run);
    run.finally(() => running.delete(run));
    return [200, { jobArn: job.arn }];
  }

  function list(q: ListJobs): Answer {
    const descending = q.sortOrder !== 'Ascending';
    const all = [...jobs.values()]
      .filter(
        (j) =>
          (q.statusEquals === undefined || j.status === q.statusEquals) &&
          (q.nameContains === undefined || j.request.jobName.includes(q.nameContains)) &&
          (q.submitTimeAfter === undefined || j.submitMs > q.submitTimeAfter.getTime()) &&
          (q.submitTimeBefore === undefined || j.submitMs < q.submitTimeBefore.getTime()),
      )
      .sort(
        (a, b) =>
          (descending ? b.submitMs - a.submitMs : a.submitMs - b.submitMs) || a.id.localeCompare(b.id),
      );
    const start =
      q.nextToken === undefined ? 0 : Number.parseInt(Buffer.from(q.nextToken, 'base64url').toString(), 10);
    if (!Number.isInteger(start) || start < 0 || start > all.length)
      return invalid('The provided nextToken is not valid.');
    const page = all.slice(start, start + (q.maxResults ?? 1000));
    const next =
      start + page.length < all.length
        ? Buffer.from(String(start + page.length)).toString('base64url')
        : undefined;
    return [200, { invocationJobSummaries: page.map(jobView), ...(next ? { nextToken: next } : {}) }];
  }

  function stop(identifier: string): Answer {
    const job = find(identifier);
    if (!job) return notFound(identifier);
    if (ENDED.has(job.status) || job.status === 'Stopping')
      return simError(
        'ConflictException',
        `The model invocation job ${job.id} is ${job.status} and cannot be stopped.`,
      );
    job.stopRequested = true;
    job.status = 'Stopping';
    job.lastModifiedMs = Math.max(job.lastModifiedMs, simNow());
    job.abort.abort();
    return [200, {}];
  }

  let closing: Promise<void> | undefined;
  return {
    create,
    list,
    stop,
    get(identifier) {
      const job = find(identifier);
      return job ? [200, jobView(job)] : notFound(identifier);
    },
    close() {
      closing ??= (async () => {
        for (const job of jobs.values()) job.abort.abort();
        await Promise.all(running);
      })();
      return closing;
    },
  };
}
