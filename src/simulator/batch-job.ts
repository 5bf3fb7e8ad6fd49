import type { BatchPlan } from './batch-faults.js';
import { type CreateJob, ENDED, type JobStatus } from './batch-input.js';
import type { BatchLimits } from './batch-profile.js';
import type { InputFile } from './batch-records.js';
import type { Route } from './routes.js';

/**
 * One model invocation job as the simulator keeps it, and how Get and List show it
 * (`ModelInvocationJobSummary` of the `bedrock` service model).
 */
export interface Job {
  id: string;
  arn: string;
  request: CreateJob;
  /** The model and operation every record is answered with. */
  route: Route;
  /** The model key the quota and stats count under (`<geo>.<base id>` or the base id). */
  key: string;
  timeoutHours: number;
  status: JobStatus;
  message?: string;
  /** Simulated epoch milliseconds. */
  submitMs: number;
  lastModifiedMs: number;
  endMs?: number;
  expirationMs: number;
  files: InputFile[];
  /** The model's batch quotas when the job was created: Validating checks the input against them. */
  limits: Pick<BatchLimits, 'minRecords' | 'maxRecords' | 'maxInputFileBytes'>;
  totalRecordCount?: number;
  processedRecordCount: number;
  successRecordCount: number;
  errorRecordCount: number;
  inputTokenCount: number;
  outputTokenCount: number;
  plan: BatchPlan;
  /** Aborts the job's waits: StopModelInvocationJob, or the simulator closing. */
  abort: AbortController;
  /** Set by StopModelInvocationJob. */
  stopRequested: boolean;
}

/** Whether the job has ended: its status changes no more. */
export const hasEnded = (job: Job): boolean => ENDED.has(job.status);

const iso = (ms: number): string => new Date(ms).toISOString();

/** The job as GetModelInvocationJob answers it; ListModelInvocationJobs lists the same members. */
export function jobView(job: Job): Record<string, unknown> {
  const r = job.request;
  return {
    jobArn: job.arn,
    jobName: r.jobName,
    modelId: r.modelId,
    ...(r.clientRequestToken !== undefined ? { clientRequestToken: r.clientRequestToken } : {}),
    roleArn: r.roleArn,
    status: job.status,
    ...(job.message !== undefined ? { message: job.message } : {}),
    submitTime: iso(job.submitMs),
    lastModifiedTime: iso(job.lastModifiedMs),
    ...(job.endMs !== undefined ? { endTime: iso(job.endMs) } : {}),
    inputDataConfig: r.inputDataConfig,
    outputDataConfig: r.outputDataConfig,
    ...(r.vpcConfig ? { vpcConfig: r.vpcConfig } : {}),
    timeoutDurationInHours: job.timeoutHours,
    jobExpirationTime: iso(job.expirationMs),
    modelInvocationType: r.modelInvocationType ?? 'InvokeModel',
    ...(job.totalRecordCount !== undefined
      ? {
          totalRecordCount: job.totalRecordCount,
          processedRecordCount: job.processedRecordCount,
          successRecordCount: job.successRecordCount,
          errorRecordCount: job.errorRecordCount,
        }
      : {}),
  };
}
