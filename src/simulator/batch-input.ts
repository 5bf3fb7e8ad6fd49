import { z } from 'zod';
import { SIM_ACCOUNT } from './control-plane-data.js';

/**
 * The input of the model invocation job operations as Bedrock checks it: lengths and patterns
 * of the `bedrock` service model (`docs/bedrock-wire.md#batch-inference`), the job identifier
 * and ARN, S3 URIs.
 */

/** A job's id: the last part of its ARN, 12 lower-case letters and digits. */
export const JOB_ID = /^[a-z0-9]{12}$/;
const JOB_ARN = /^arn:aws(-[^:]+)?:bedrock:[a-z0-9-]{1,20}:[0-9]{12}:model-invocation-job\/([a-z0-9]{12})$/;
const JOB_NAME = /^[a-zA-Z0-9]{1,63}(-*[a-zA-Z0-9+\-.]){0,63}$/;
const S3_URI = /^s3:\/\/[a-z0-9][-.a-z0-9]{1,61}(?:\/[-!_*'().a-z0-9A-Z]+(?:\/[-!_*'().a-z0-9A-Z]+)*)?\/?$/;

/** Every status a job can have, in the SDK's spelling. */
export const JOB_STATUSES = [
  'Submitted',
  'InProgress',
  'Completed',
  'Failed',
  'Stopping',
  'Stopped',
  'PartiallyCompleted',
  'Expired',
  'Validating',
  'Scheduled',
] as const;
/** One of {@link JOB_STATUSES}. */
export type JobStatus = (typeof JOB_STATUSES)[number];

/** The statuses a job ends in: it changes no more. */
export const ENDED: ReadonlySet<JobStatus> = new Set([
  'Completed',
  'PartiallyCompleted',
  'Failed',
  'Stopped',
  'Expired',
]);

const s3Uri = z.string().min(1).max(1024).regex(S3_URI);

/** CreateModelInvocationJob's body. */
export const CreateJobBody = z.object({
  jobName: z.string().min(1).max(63).regex(JOB_NAME),
  roleArn: z
    .string()
    .max(2048)
    .regex(/^arn:aws(-[^:]+)?:iam::([0-9]{12})?:role\/.+$/),
  clientRequestToken: z
    .string()
    .min(1)
    .max(256)
    .regex(/^[a-zA-Z0-9]{1,256}(-*[a-zA-Z0-9]){0,256}$/)
    .optional(),
  modelId: z.string().min(1).max(2048),
  inputDataConfig: z.object({
    s3InputDataConfig: z.object({
      s3InputFormat: z.enum(['JSONL']).optional(),
      s3Uri,
      s3BucketOwner: z
        .string()
        .regex(/^[0-9]{12}$/)
        .optional(),
    }),
  }),
  outputDataConfig: z.object({
    s3OutputDataConfig: z.object({
      s3Uri,
      s3EncryptionKeyId: z.string().min(1).max(2048).optional(),
      s3BucketOwner: z
        .string()
        .regex(/^[0-9]{12}$/)
        .optional(),
    }),
  }),
  vpcConfig: z.object({ subnetIds: z.array(z.string()), securityGroupIds: z.array(z.string()) }).optional(),
  timeoutDurationInHours: z.number().int().min(24).max(168).optional(),
  tags: z.array(z.object({ key: z.string().min(1).max(128), value: z.string().max(256) })).optional(),
  modelInvocationType: z.enum(['InvokeModel', 'Converse']).optional(),
});
/** A checked CreateModelInvocationJob body. */
export type CreateJob = z.infer<typeof CreateJobBody>;

const isoDate = z
  .string()
  .refine((s) => !Number.isNaN(Date.parse(s)), { message: 'not a timestamp' })
  .transform((s) => new Date(s));

/** ListModelInvocationJobs' query string. */
export const ListJobsQuery = z.object({
  submitTimeAfter: isoDate.optional(),
  submitTimeBefore: isoDate.optional(),
  statusEquals: z.enum(JOB_STATUSES).optional(),
  nameContains: z.string().min(1).max(63).regex(JOB_NAME).optional(),
  maxResults: z.coerce.number().int().min(1).max(1000).optional(),
  nextToken: z.string().min(1).max(2048).regex(/^\S*$/).optional(),
  sortBy: z.enum(['CreationTime']).optional(),
  sortOrder: z.enum(['Ascending', 'Descending']).optional(),
});
/** A checked ListModelInvocationJobs query. */
export type ListJobs = z.infer<typeof ListJobsQuery>;

/** `arn:aws:bedrock:<region>:<account>:model-invocation-job/<id>`. */
export const jobArn = (region: string, id: string): string =>
  `arn:aws:bedrock:${region}:${SIM_ACCOUNT}:model-invocation-job/${id}`;

/**
 * The job id a `jobIdentifier` names (the id itself or the job's ARN).
 * @returns undefined when it matches neither form
 */
export function jobIdOf(identifier: string): string | undefined {
  if (JOB_ID.test(identifier)) return identifier;
  return JOB_ARN.exec(identifier)?.[2];
}

/** An S3 location: bucket and key (or key prefix, maybe empty). */
export interface S3Location {
  bucket: string;
  key: string;
}

/** `s3://bucket/some/key` → `{ bucket, key: 'some/key' }`. */
export function parseS3Uri(uri: string): S3Location {
  const rest = uri.slice('s3://'.length);
  const slash = rest.indexOf('/');
  return slash < 0 ? { bucket: rest, key: '' } : { bucket: rest.slice(0, slash), key: rest.slice(slash + 1) };
}
