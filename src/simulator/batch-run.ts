import type { Clock } from '../clock.js';
import { ENDED, type JobStatus } from './batch-input.js';
import type { Job } from './batch-job.js';
import type { BatchTiming } from './batch-profile.js';
import {
  answerRecord,
  type Manifest,
  OutputFile,
  outputLine,
  type RecordDeps,
  type RecordLine,
  recordOf,
  recordsOf,
  writeOutput,
} from './batch-records.js';
import type { BatchControl, BatchJobEvent } from './control.js';
import type { S3Store } from './s3-store.js';

/** Records answered between two waits: the event loop gets a turn at least this often. */
const CHUNK_RECORDS = 50;
/** Lines parsed between two turns of the event loop while validating. */
const PARSE_CHUNK = 2_000;

/** What running a job needs. */
export interface RunDeps extends RecordDeps {
  s3: S3Store;
  clock: Clock;
  timeScale: number;
  timing: BatchTiming;
  stats?: Pick<BatchControl, 'job' | 'records'>;
}

/** Why an input file is refused for its size. */
const fileTooLarge = (f: Job['files'][number], max: number): string =>
  `The input file s3://${f.bucket}/${f.key} is ${f.body.length} bytes, more than the ${max} bytes a batch inference job file may have.`;

/** Why a job's record count is refused, or undefined when it is within the model's quotas. */
function recordCountProblem(records: number, limits: Job['limits'], modelId: string): string | undefined {
  if (records < limits.minRecords)
    return `The input has ${records} records, fewer than the minimum of ${limits.minRecords} records per batch inference job for ${modelId}.`;
  if (records > limits.maxRecords)
    return `The input has ${records} records, more than the maximum of ${limits.maxRecords} records per batch inference job for ${modelId}.`;
  return undefined;
}

/** One turn of the event loop, so a big job never holds it. */
const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** Thrown by a wait when the job was stopped or the simulator is closing. */
class Interrupted extends Error {
  override readonly name = 'Interrupted';
}

/**
 * Runs a job through its statuses on the simulator's clock (`docs/bedrock-wire.md#batch-inference`):
 * Submitted → Validating (input records read) → Scheduled → InProgress (records answered in
 * chunks, each chunk taking `perRecordMs` per record of simulated time) → Completed, with the
 * output written to S3. A job past its timeout while Scheduled ends Expired, while InProgress
 * PartiallyCompleted; a fault may fail or expire it; StopModelInvocationJob ends it Stopped.
 * Never rejects.
 */
export async function runJob(job: Job, deps: RunDeps): Promise<void> {
  const { timing } = deps;
  const signal = job.abort.signal;
  const records: { file: number; record: RecordLine }[] = [];
  const outputs = job.files.map((f) => new OutputFile(f.name));
  let started = false;

  // The job's own simulated time: its submit time plus every wait it was given. Its timestamps
  // and its timeout read this, not the clock, so a machine too busy to wake it on time delays
  // it in real time only and never makes it expire or change its answers.
  let now = job.submitMs;
  const set = (status: JobStatus, message?: string): void => {
    job.status = status;
    if (message !== undefined) job.message = message;
    job.lastModifiedMs = Math.max(job.lastModifiedMs, now);
    if (ENDED.has(status)) {
      job.endMs = job.lastModifiedMs;
      deps.stats?.job(job.key, status as BatchJobEvent);
    }
  };
  const wait = async (simulatedMs: number): Promise<void> => {
    if (simulatedMs > 0) await deps.clock.sleep(simulatedMs / deps.timeScale, signal).catch(() => undefined);
    else await turn();
    if (signal.aborted) throw new Interrupted();
    now += Math.max(0, simulatedMs);
  };
  const untilExpiry = (): number => job.expirationMs - now;

  /**
   * Writes what was answered, then ends the job with `status` (Stopped when a stop came while
   * the output was written; Failed when it cannot be written).
   */
  const finish = async (status: JobStatus, message?: string): Promise<void> => {
    if (started) {
      const manifest: Manifest = {
        totalRecordCount: records.length,
        processedRecordCount: job.processedRecordCount,
        successRecordCount: job.successRecordCount,
        errorRecordCount: job.errorRecordCount,
        inputTokenCount: job.inputTokenCount,
        outputTokenCount: job.outputTokenCount,
      };
      const uri = job.request.outputDataConfig.s3OutputDataConfig.s3Uri;
      if (!(await writeOutput(deps.s3, uri, job.id, outputs, manifest))) {
        set('Failed', `The output could not be written to ${uri}: the bucket does not exist.`);
        return;
      }
    }
    if (job.stopRequested) set('Stopped');
    else set(status, message);
  };

  try {
    await wait(timing.submittedMs);
    set('Validating');
    // Bedrock checks file sizes and record counts while validating, not when the job is created.
    const tooLarge = job.files.find((f) => f.body.length > job.limits.maxInputFileBytes);
    if (tooLarge) return set('Failed', fileTooLarge(tooLarge, job.limits.maxInputFileBytes));
    for (const [i, file] of job.files.entries()) {
      for (const record of recordsOf(file)) {
        if (typeof record === 'string') return set('Failed', record);
        records.push({ file: i, record });
        if (records.length % PARSE_CHUNK === 0) await wait(0);
      }
    }
    job.totalRecordCount = records.length;
    await wait(timing.validatingMs);
    const count = recordCountProblem(records.length, job.limits, job.request.modelId);
    if (count) return set('Failed', count);
    set('Scheduled');
    if (job.plan.expire || timing.scheduledMs >= untilExpiry()) {
      await wait(untilExpiry());
      return set(
        'Expired',
        `The job was scheduled but did not begin before its timeout of ${job.timeoutHours} hours.`,
      );
    }
    await wait(timing.scheduledMs);
    set('InProgress');
    if (job.plan.failMessage !== undefined) return set('Failed', job.plan.failMessage);
    started = true;
    for (let at = 0; at < records.length; at += CHUNK_RECORDS) {
      if (untilExpiry() <= 0)
        return await finish(
          'PartiallyCompleted',
          `Not all records could be processed before the job timed out after ${job.timeoutHours} hours.`,
        );
      const chunk = records.slice(at, at + CHUNK_RECORDS);
      const counts = { ok: 0, errors: 0, inputTokens: 0, outputTokens: 0 };
      const lines: Buffer[][] = job.files.map(() => []);
      for (const { file, record } of chunk) {
        const answer = answerRecord(recordOf(record), job.route, job.plan.recordError(record.recordId), deps);
        lines[file]?.push(outputLine(answer));
        if (answer.ok) counts.ok++;
        else counts.errors++;
        counts.inputTokens += answer.inputTokens;
        counts.outputTokens += answer.outputTokens;
      }
      // Bedrock does not keep the input's order in the output; each chunk is written backwards,
      // so a reader that matches lines to records by position fails against the simulator too.
      for (const [i, file] of outputs.entries()) file.add((lines[i] ?? []).reverse());
      job.processedRecordCount += chunk.length;
      job.successRecordCount += counts.ok;
      job.errorRecordCount += counts.errors;
      job.inputTokenCount += counts.inputTokens;
      job.outputTokenCount += counts.outputTokens;
      deps.stats?.records(job.key, counts);
      await wait(chunk.length * timing.perRecordMs);
      job.lastModifiedMs = Math.max(job.lastModifiedMs, now);
    }
    await finish('Completed');
  } catch (e) {
    // A job that was stopped ends Stopped with what it answered; one cut short by the
    // simulator closing just ends.
    if (!(e instanceof Interrupted) || !job.stopRequested) return;
    await finish('Stopped');
  }
}
