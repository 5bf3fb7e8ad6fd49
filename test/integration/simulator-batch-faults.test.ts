import {
  AccessDeniedException,
  BedrockClient,
  ConflictException,
  CreateModelInvocationJobCommand,
  type CreateModelInvocationJobCommandInput,
  GetModelInvocationJobCommand,
  type GetModelInvocationJobCommandOutput,
  ResourceNotFoundException,
  ServiceQuotaExceededException,
  StopModelInvocationJobCommand,
  ValidationException,
} from '@aws-sdk/client-bedrock';
import { CreateBucketCommand, GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/clock.js';
import {
  ProfileSchema,
  type ProfileSimulator,
  startSimulatorWithProfile,
} from '../../src/simulator/index.js';

const HAIKU = 'anthropic.claude-3-haiku-20240307-v1:0';
const LLAMA = 'meta.llama3-3-70b-instruct-v1:0';
const TITAN = 'amazon.titan-text-express-v1';
const ROLE = 'arn:aws:iam::111122223333:role/BatchInference';
const credentials = { accessKeyId: 'AKIDTEST', secretAccessKey: 'test-secret' };
const ENDED = new Set(['Completed', 'PartiallyCompleted', 'Failed', 'Stopped', 'Expired']);

let sim: ProfileSimulator;
let clock: ManualClock;
let bedrock: BedrockClient;
let s3: S3Client;
let input100: string;
let jobCount = 0;

const claudeRecord = (i: number) => ({
  recordId: `r${String(i).padStart(4, '0')}`,
  modelInput: {
    anthropic_version: 'bedrock-2023-05-31',
    max_tokens: 50,
    messages: [{ role: 'user', content: `Write a note about record ${i}.` }],
  },
});

async function putRecords(key: string, count: number): Promise<string> {
  const body = Array.from({ length: count }, (_, i) => `${JSON.stringify(claudeRecord(i))}\n`).join('');
  await s3.send(new PutObjectCommand({ Bucket: 'jobs', Key: key, Body: body }));
  return `s3://jobs/${key}`;
}

const request = (
  more: Partial<CreateModelInvocationJobCommandInput> = {},
): CreateModelInvocationJobCommandInput => ({
  jobName: `job-${++jobCount}`,
  roleArn: ROLE,
  modelId: HAIKU,
  inputDataConfig: { s3InputDataConfig: { s3Uri: input100 } },
  outputDataConfig: { s3OutputDataConfig: { s3Uri: 's3://jobs/out' } },
  ...more,
});

const create = (more: Partial<CreateModelInvocationJobCommandInput> = {}) =>
  bedrock.send(new CreateModelInvocationJobCommand(request(more)));

/** The error a create is refused with; a create that is accepted fails the test. */
const refusal = (more: Partial<CreateModelInvocationJobCommandInput>): Promise<Error> =>
  create(more).then(
    (out) => {
      throw new Error(`accepted: ${out.jobArn}`);
    },
    (e: unknown) => e as Error,
  );

const get = (jobIdentifier: string) => bedrock.send(new GetModelInvocationJobCommand({ jobIdentifier }));

/** Steps the clock one wait at a time until the job's status is one of `statuses`. */
async function until(
  jobArn: string,
  statuses: ReadonlySet<string>,
): Promise<GetModelInvocationJobCommandOutput> {
  for (;;) {
    const job = await get(jobArn);
    if (statuses.has(job.status ?? '')) return job;
    if (clock.pending === 0) await clock.sleeping(1);
    clock.step();
  }
}

async function outputLines(jobArn: string): Promise<{ recordId: string; error?: { errorCode: number } }[]> {
  const id = jobArn.split('/').at(-1);
  const got = await s3.send(new GetObjectCommand({ Bucket: 'jobs', Key: `out/${id}/records.jsonl.out` }));
  const text = (await got.Body?.transformToString()) ?? '';
  return text
    .trim()
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l));
}

beforeAll(async () => {
  clock = new ManualClock(0);
  sim = await startSimulatorWithProfile({
    profile: ProfileSchema.parse({ zeroLatency: true, jitter: 0, models: { [LLAMA]: { enabled: false } } }),
    clock,
    seed: 7,
  });
  bedrock = new BedrockClient({ region: 'us-east-1', endpoint: sim.url, credentials, maxAttempts: 1 });
  s3 = new S3Client({ region: 'us-east-1', endpoint: sim.url, forcePathStyle: true, credentials });
  await s3.send(new CreateBucketCommand({ Bucket: 'jobs' }));
  input100 = await putRecords('in/records.jsonl', 100);
});
beforeEach(() => {
  sim.admin.clearFaults();
});
afterAll(async () => {
  bedrock.destroy();
  s3.destroy();
  await sim.close();
});

describe('creating model invocation jobs', () => {
  it('returns the same job for a repeated clientRequestToken and creates nothing new', async () => {
    sim.admin.resetStats();
    const first = await create({ jobName: 'token-job', clientRequestToken: 'batch-b1-haiku-part-0' });
    const again = await create({ jobName: 'token-job', clientRequestToken: 'batch-b1-haiku-part-0' });
    const other = await create({ jobName: 'token-job-2', clientRequestToken: 'batch-b1-haiku-part-1' });
    await until(first.jobArn!, ENDED);
    await until(other.jobArn!, ENDED);
    const stats = sim.admin.stats().batch;

    expect(again.jobArn).toBe(first.jobArn);
    expect(other.jobArn).not.toBe(first.jobArn);
    expect(stats.models[HAIKU]).toMatchObject({
      jobsCreated: 2,
      recordsProcessed: 200,
      jobsEnded: { Completed: 2 },
    });
    expect((await get(first.jobArn!.split('/').at(-1)!)).clientRequestToken).toBe('batch-b1-haiku-part-0');
  });

  it('refuses bad fields with ValidationExceptions that name them', async () => {
    const name = await refusal({ jobName: 'under_score' });
    const role = await refusal({ roleArn: 'arn:aws:iam::111122223333:user/someone' });
    const timeout = await refusal({ timeoutDurationInHours: 12 });
    const uri = await refusal({ inputDataConfig: { s3InputDataConfig: { s3Uri: 'https://jobs/in' } } });
    const type = await refusal({ modelInvocationType: 'Stream' as 'Converse' });

    for (const e of [name, role, timeout, uri, type]) expect(e).toBeInstanceOf(ValidationException);
    expect(name.message).toMatch(
      /Value 'under_score' at 'jobName' failed to satisfy constraint: Member must satisfy regular expression pattern/,
    );
    expect(role.message).toMatch(/at 'roleArn'/);
    expect(timeout.message).toMatch(/Value '12' at 'timeoutDurationInHours'.*greater than or equal to 24/);
    expect(uri.message).toMatch(/at 'inputDataConfig.s3InputDataConfig.s3Uri'/);
    expect(type.message).toMatch(/enum value set: \[InvokeModel, Converse\]/);
  });

  it('refuses models that cannot run the job: unknown, not enabled, without batch inference', async () => {
    const unknown = await refusal({ modelId: 'anthropic.claude-9-v1:0' });
    const disabled = await refusal({ modelId: LLAMA });
    const noBatch = await refusal({ modelId: TITAN });

    expect(unknown).toBeInstanceOf(ValidationException);
    expect(unknown.message).toBe('The provided model identifier is invalid.');
    expect(disabled).toBeInstanceOf(AccessDeniedException);
    expect(noBatch).toBeInstanceOf(ValidationException);
    expect(noBatch.message).toMatch(/doesn't support batch inference/);
  });

  it('refuses an input that is missing, or an output bucket that does not exist', async () => {
    const missing = await refusal({
      inputDataConfig: { s3InputDataConfig: { s3Uri: 's3://jobs/nothing-here.jsonl' } },
    });
    const noBucket = await refusal({
      outputDataConfig: { s3OutputDataConfig: { s3Uri: 's3://no-such-bucket/out' } },
    });

    expect(missing).toBeInstanceOf(ValidationException);
    expect(missing.message).toMatch(/s3:\/\/jobs\/nothing-here.jsonl/);
    expect(noBucket).toBeInstanceOf(ValidationException);
  });

  it('fails a job while validating when its input has fewer records than the minimum, more than the maximum, or a file too large', async () => {
    // Bedrock takes the job, then finds the counts wrong while validating: it ends Failed.
    const small = await create({
      inputDataConfig: { s3InputDataConfig: { s3Uri: await putRecords('small/records.jsonl', 99) } },
    });
    sim.admin.setModel(HAIKU, { batch: { maxRecords: 50 } });
    const many = await create({});
    sim.admin.setModel(HAIKU, { batch: { maxRecords: 50_000, maxInputFileBytes: 1_000 } });
    const large = await create({});
    sim.admin.setModel(HAIKU, { batch: { maxInputFileBytes: 1_073_741_824 } });
    const ended: GetModelInvocationJobCommandOutput[] = [];
    for (const j of [small, many, large]) ended.push(await until(j.jobArn!, ENDED));

    expect(ended.map((j) => j.status)).toEqual(['Failed', 'Failed', 'Failed']);
    expect(ended[0]?.message).toMatch(/99 records, fewer than the minimum of 100/);
    expect(ended[1]?.message).toMatch(/100 records, more than the maximum of 50/);
    expect(ended[2]?.message).toMatch(/more than the 1000 bytes a batch inference job file may have/);
    // Nothing was answered, so nothing was written.
    expect(ended.map((j) => j.processedRecordCount ?? 0)).toEqual([0, 0, 0]);
  });

  it("refuses one job more than the model's concurrent-job quota", async () => {
    sim.admin.setModel(HAIKU, { batch: { maxConcurrentJobs: 1, minRecords: 10 } });
    const running = await create();
    const second = await refusal({});
    sim.admin.setModel(HAIKU, { batch: { maxConcurrentJobs: 10, minRecords: 100 } });
    await until(running.jobArn!, ENDED);

    expect(second).toBeInstanceOf(ServiceQuotaExceededException);
    expect(second.message).toMatch(/quota of 1 batch inference jobs/);
  });
});

describe('following, stopping and faults', () => {
  it('gets a job by id or ARN, and answers ResourceNotFound or a ValidationException for others', async () => {
    const { jobArn } = await create();
    const byId = await get(jobArn!.split('/').at(-1)!);
    const unknown = await get('abcdefabcdef').catch((e: unknown) => e);
    const malformed = await get('not-a-job').catch((e: unknown) => e);
    await until(jobArn!, ENDED);

    expect(byId.jobArn).toBe(jobArn);
    expect(unknown).toBeInstanceOf(ResourceNotFoundException);
    expect(malformed).toBeInstanceOf(ValidationException);
  });

  it('stops a job in progress: Stopping, then Stopped with the records answered so far', async () => {
    sim.admin.resetStats();
    const { jobArn } = await create();
    // A job shows InProgress once its first chunk of records is answered.
    await until(jobArn!, new Set(['InProgress']));

    await bedrock.send(new StopModelInvocationJobCommand({ jobIdentifier: jobArn }));
    const stopping = await get(jobArn!);
    const stopped = await until(jobArn!, ENDED);
    const again = await bedrock
      .send(new StopModelInvocationJobCommand({ jobIdentifier: jobArn }))
      .catch((e: unknown) => e);
    const lines = await outputLines(jobArn!);

    expect(['Stopping', 'Stopped']).toContain(stopping.status);
    expect(stopped.status).toBe('Stopped');
    expect(stopped.processedRecordCount).toBeGreaterThan(0);
    expect(stopped.processedRecordCount).toBeLessThan(100);
    expect(lines).toHaveLength(stopped.processedRecordCount!);
    expect(again).toBeInstanceOf(ConflictException);
    expect(sim.admin.stats().batch.models[HAIKU]?.jobsEnded).toEqual({ Stopped: 1 });
  });

  it('answers the records a fault picks with errors, the same ones every run', async () => {
    sim.admin.addFault({ model: HAIKU, batch: { recordIdPattern: '^r000[0-4]$', recordErrorRate: 0.1 } });
    const first = await create();
    const second = await create();
    const one = await until(first.jobArn!, ENDED);
    await until(second.jobArn!, ENDED);
    const errors = (await outputLines(first.jobArn!)).filter((l) => l.error).map((l) => l.recordId);

    expect(one.status).toBe('Completed');
    expect(one.errorRecordCount).toBe(errors.length);
    expect(errors).toEqual(expect.arrayContaining(['r0000', 'r0001', 'r0002', 'r0003', 'r0004']));
    expect(errors.length).toBeGreaterThan(5);
    expect(errors.length).toBeLessThan(30);
    // Draws depend on the seed, the rule, the job's name and the record: another job draws anew.
    const other = (await outputLines(second.jobArn!)).filter((l) => l.error).map((l) => l.recordId);
    expect(other).toEqual(expect.arrayContaining(['r0000', 'r0001', 'r0002', 'r0003', 'r0004']));
    expect(new Set(other)).not.toEqual(new Set(errors));
  });

  it('fails a job a fault picks by name, with its message, and leaves the others alone', async () => {
    sim.admin.addFault({
      model: '*',
      batch: { jobNamePattern: '^doomed', fail: { message: 'simulated failure' } },
    });
    const doomed = await create({ jobName: 'doomed-1' });
    const fine = await create({ jobName: 'fine-1' });
    const failed = await until(doomed.jobArn!, ENDED);
    const completed = await until(fine.jobArn!, ENDED);

    expect(failed).toMatchObject({ status: 'Failed', message: 'simulated failure' });
    expect(failed.endTime).toBeInstanceOf(Date);
    expect(completed.status).toBe('Completed');
  });

  it('expires a job a fault picks once its timeout has passed in simulated time', async () => {
    // Over HTTP, as a test in another process would add it.
    const added = await fetch(`${sim.url}/_sim/faults`, {
      method: 'POST',
      body: JSON.stringify({ model: HAIKU, batch: { expire: true } }),
    });
    expect(added.status).toBe(201);
    const { jobArn } = await create({ timeoutDurationInHours: 24 });
    const expired = await until(jobArn!, ENDED);

    expect(expired.status).toBe('Expired');
    expect(expired.message).toMatch(/did not begin before its timeout of 24 hours/);
    expect(expired.endTime!.getTime()).toBeGreaterThanOrEqual(expired.jobExpirationTime!.getTime());
    expect(expired.endTime!.getTime() - expired.submitTime!.getTime()).toBe(24 * 3_600_000);
    const stats = (await (await fetch(`${sim.url}/_sim/stats`)).json()) as {
      batch: { models: Record<string, { jobsEnded: Record<string, number> }> };
    };
    expect(stats.batch.models[HAIKU]?.jobsEnded.Expired).toBe(1);
  });
});
