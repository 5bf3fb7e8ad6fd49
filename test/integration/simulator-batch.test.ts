import {
  BedrockClient,
  CreateModelInvocationJobCommand,
  type CreateModelInvocationJobCommandInput,
  GetModelInvocationJobCommand,
  type GetModelInvocationJobCommandOutput,
  ListModelInvocationJobsCommand,
  paginateListModelInvocationJobs,
} from '@aws-sdk/client-bedrock';
import { InvokeModelCommand } from '@aws-sdk/client-bedrock-runtime';
import { CreateBucketCommand, GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/clock.js';
import {
  ProfileSchema,
  type ProfileSimulator,
  startSimulatorWithProfile,
} from '../../src/simulator/index.js';
import { sdkClient } from './simulator-fixtures.js';

const HAIKU = 'anthropic.claude-3-haiku-20240307-v1:0';
const NOVA = 'amazon.nova-lite-v1:0';
const ROLE = 'arn:aws:iam::111122223333:role/BatchInference';
const credentials = { accessKeyId: 'AKIDTEST', secretAccessKey: 'test-secret' };
const ENDED = new Set(['Completed', 'PartiallyCompleted', 'Failed', 'Stopped', 'Expired']);

let sim: ProfileSimulator;
let clock: ManualClock;
let bedrock: BedrockClient;
let s3: S3Client;

beforeAll(async () => {
  clock = new ManualClock(0);
  sim = await startSimulatorWithProfile({
    profile: ProfileSchema.parse({ zeroLatency: true, jitter: 0 }),
    clock,
  });
  bedrock = new BedrockClient({ region: 'us-east-1', endpoint: sim.url, credentials, maxAttempts: 1 });
  s3 = new S3Client({ region: 'us-east-1', endpoint: sim.url, forcePathStyle: true, credentials });
  await s3.send(new CreateBucketCommand({ Bucket: 'batch' }));
});
afterAll(async () => {
  bedrock.destroy();
  s3.destroy();
  await sim.close();
});

/** A Claude Messages body asking to summarize `text`. */
const claudeBody = (text: string, maxTokens = 200) => ({
  anthropic_version: 'bedrock-2023-05-31',
  max_tokens: maxTokens,
  messages: [{ role: 'user', content: `Summarize:\n<document>\n${text}\n</document>` }],
});

const documentText = (i: number): string =>
  `Contract ${i} sets the terms of supply. The buyer pays within thirty days. Either side may end it with notice. Disputes go to arbitration in Seoul.`;

/** Writes records as JSONL to `s3://batch/<key>`. */
async function putRecords(key: string, records: unknown[]): Promise<string> {
  await s3.send(
    new PutObjectCommand({
      Bucket: 'batch',
      Key: key,
      Body: records.map((r) => `${JSON.stringify(r)}\n`).join(''),
    }),
  );
  return `s3://batch/${key}`;
}

async function readText(uri: string): Promise<string> {
  const [, , bucket, ...key] = uri.split('/');
  const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key.join('/') }));
  return (await got.Body?.transformToString()) ?? '';
}

function request(
  name: string,
  inputUri: string,
  more: Partial<CreateModelInvocationJobCommandInput> = {},
): CreateModelInvocationJobCommandInput {
  return {
    jobName: name,
    roleArn: ROLE,
    modelId: HAIKU,
    inputDataConfig: { s3InputDataConfig: { s3Uri: inputUri } },
    outputDataConfig: { s3OutputDataConfig: { s3Uri: 's3://batch/out/' } },
    ...more,
  };
}

/**
 * Follows a job to its end, stepping the simulator's clock one wait at a time, and returns
 * the last answer with every status seen on the way.
 */
async function follow(jobArn: string): Promise<{ job: GetModelInvocationJobCommandOutput; seen: string[] }> {
  const seen: string[] = [];
  for (;;) {
    const job = await bedrock.send(new GetModelInvocationJobCommand({ jobIdentifier: jobArn }));
    if (seen.at(-1) !== job.status) seen.push(job.status ?? '');
    if (ENDED.has(job.status ?? '')) return { job, seen };
    if (clock.pending === 0) await clock.sleeping(1);
    clock.step();
  }
}

describe('model invocation jobs on the simulated control plane, through @aws-sdk/client-bedrock and client-s3', () => {
  it('runs a job through its statuses to Completed and writes native answers and a manifest', async () => {
    const records = Array.from({ length: 120 }, (_, i) => ({
      recordId: `doc-${String(i).padStart(4, '0')}`,
      modelInput: claudeBody(documentText(i)),
    }));
    // A body Claude refuses comes back as a record error, as on Bedrock.
    records[7] = {
      recordId: 'doc-0007',
      modelInput: { anthropic_version: 'bedrock-2023-05-31', messages: [] } as never,
    };
    const input = await putRecords('in/contracts.jsonl', records);

    const { jobArn } = await bedrock.send(new CreateModelInvocationJobCommand(request('contracts-1', input)));
    const { job, seen } = await follow(jobArn!);

    expect(jobArn).toMatch(/^arn:aws:bedrock:us-east-1:111122223333:model-invocation-job\/[a-z0-9]{12}$/);
    expect(seen).toEqual(['Submitted', 'Validating', 'Scheduled', 'InProgress', 'Completed']);
    expect(job).toMatchObject({
      jobName: 'contracts-1',
      modelId: HAIKU,
      roleArn: ROLE,
      modelInvocationType: 'InvokeModel',
      timeoutDurationInHours: 168,
      totalRecordCount: 120,
      processedRecordCount: 120,
      successRecordCount: 119,
      errorRecordCount: 1,
    });
    expect(job.submitTime).toBeInstanceOf(Date);
    expect(job.endTime!.getTime()).toBeGreaterThan(job.submitTime!.getTime());
    expect(job.jobExpirationTime!.getTime() - job.submitTime!.getTime()).toBe(168 * 3_600_000);

    const jobId = jobArn!.split('/').at(-1);
    const lines = (await readText(`s3://batch/out/${jobId}/contracts.jsonl.out`))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    const manifest = JSON.parse(await readText(`s3://batch/out/${jobId}/manifest.json.out`));
    const byId = new Map(lines.map((l) => [l.recordId as string, l]));
    // Every record once, not in the input's order (Bedrock does not keep it).
    expect([...byId.keys()].sort()).toEqual(records.map((r) => r.recordId));
    expect(lines.map((l) => l.recordId)).not.toEqual(records.map((r) => r.recordId));
    expect(byId.get('doc-0007').error).toEqual({
      errorCode: 400,
      errorMessage: expect.stringContaining('Malformed input request'),
    });
    expect(byId.get('doc-0000').modelInput).toEqual(records[0]!.modelInput);
    expect(byId.get('doc-0000').modelOutput).toMatchObject({
      type: 'message',
      role: 'assistant',
      stop_reason: 'end_turn',
    });
    const output = lines.filter((l) => l.modelOutput).map((l) => l.modelOutput.usage);
    expect(manifest).toEqual({
      totalRecordCount: 120,
      processedRecordCount: 120,
      successRecordCount: 119,
      errorRecordCount: 1,
      inputTokenCount: output.reduce((n: number, u: { input_tokens: number }) => n + u.input_tokens, 0),
      outputTokenCount: output.reduce((n: number, u: { output_tokens: number }) => n + u.output_tokens, 0),
    });

    // The same generator as InvokeModel: a record's answer is the runtime's answer to its body.
    const runtime = sdkClient(sim.url);
    const online = await clock.drive(
      runtime.send(new InvokeModelCommand({ modelId: HAIKU, body: JSON.stringify(records[3]!.modelInput) })),
    );
    runtime.destroy();
    expect(byId.get('doc-0003').modelOutput.content).toEqual(
      JSON.parse(new TextDecoder().decode(online.body)).content,
    );
  });

  it('answers Converse records with Converse responses', async () => {
    const records = Array.from({ length: 100 }, (_, i) => ({
      recordId: `c${i}`,
      modelInput: {
        messages: [
          { role: 'user', content: [{ text: `Summarize:\n<document>\n${documentText(i)}\n</document>` }] },
        ],
        inferenceConfig: { maxTokens: 100 },
      },
    }));
    const input = await putRecords('converse/records.jsonl', records);

    const { jobArn } = await bedrock.send(
      new CreateModelInvocationJobCommand(
        request('converse-1', input, { modelId: NOVA, modelInvocationType: 'Converse' }),
      ),
    );
    const { job } = await follow(jobArn!);
    const jobId = jobArn!.split('/').at(-1);
    const first = (await readText(`s3://batch/out/${jobId}/records.jsonl.out`))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l))
      .find((l) => l.recordId === 'c0');

    expect(job).toMatchObject({
      status: 'Completed',
      modelInvocationType: 'Converse',
      successRecordCount: 100,
    });
    expect(first?.modelOutput).toMatchObject({
      output: { message: { role: 'assistant', content: [{ text: expect.stringContaining('Contract 0') }] } },
      stopReason: 'end_turn',
      usage: { inputTokens: expect.any(Number), outputTokens: expect.any(Number) },
    });
  });

  it('lists jobs newest first, filtered by status, name and submit time, page by page', async () => {
    const all = await bedrock.send(new ListModelInvocationJobsCommand({}));
    const completed = await bedrock.send(new ListModelInvocationJobsCommand({ statusEquals: 'Completed' }));
    const named = await bedrock.send(new ListModelInvocationJobsCommand({ nameContains: 'converse' }));
    const oldestFirst = await bedrock.send(
      new ListModelInvocationJobsCommand({ sortBy: 'CreationTime', sortOrder: 'Ascending' }),
    );
    const contracts = all.invocationJobSummaries!.find((j) => j.jobName === 'contracts-1')!;
    const after = await bedrock.send(
      new ListModelInvocationJobsCommand({ submitTimeAfter: contracts.submitTime }),
    );
    const pages: string[][] = [];
    for await (const page of paginateListModelInvocationJobs({ client: bedrock, pageSize: 1 }, {}))
      pages.push((page.invocationJobSummaries ?? []).map((j) => j.jobName ?? ''));

    expect(all.invocationJobSummaries?.map((j) => j.jobName)).toEqual(['converse-1', 'contracts-1']);
    expect(completed.invocationJobSummaries).toHaveLength(2);
    expect(named.invocationJobSummaries?.map((j) => j.jobName)).toEqual(['converse-1']);
    expect(oldestFirst.invocationJobSummaries?.map((j) => j.jobName)).toEqual(['contracts-1', 'converse-1']);
    expect(after.invocationJobSummaries?.map((j) => j.jobName)).toEqual(['converse-1']);
    expect(pages).toEqual([['converse-1'], ['contracts-1']]);
    expect(contracts).toMatchObject({ status: 'Completed', totalRecordCount: 120, modelId: HAIKU });
  });

  it("runs on the real clock at the profile's time scale: hours of simulated time in a moment", async () => {
    const fast = await startSimulatorWithProfile({
      profile: ProfileSchema.parse({ zeroLatency: true, jitter: 0, batch: { perRecordMs: 60_000 } }),
      timeScale: 1_000_000,
    });
    const control = new BedrockClient({
      region: 'eu-west-1',
      endpoint: fast.url,
      credentials,
      maxAttempts: 1,
    });
    const storage = new S3Client({
      region: 'eu-west-1',
      endpoint: fast.url,
      forcePathStyle: true,
      credentials,
    });
    await storage.send(new CreateBucketCommand({ Bucket: 'fast' }));
    const body = Array.from(
      { length: 100 },
      (_, i) => `${JSON.stringify({ modelInput: claudeBody(documentText(i)) })}\n`,
    );
    await storage.send(new PutObjectCommand({ Bucket: 'fast', Key: 'in.jsonl', Body: body.join('') }));

    const { jobArn } = await control.send(
      new CreateModelInvocationJobCommand({
        ...request('fast-1', 's3://fast/in.jsonl'),
        outputDataConfig: { s3OutputDataConfig: { s3Uri: 's3://fast' } },
      }),
    );
    // A safety net only: the job takes about 7 ms of real time.
    const deadline = Date.now() + 30_000;
    let job = await control.send(new GetModelInvocationJobCommand({ jobIdentifier: jobArn }));
    while (!ENDED.has(job.status ?? '') && Date.now() < deadline)
      job = await control.send(new GetModelInvocationJobCommand({ jobIdentifier: jobArn }));
    const out = await storage.send(
      new GetObjectCommand({ Bucket: 'fast', Key: `${jobArn!.split('/').at(-1)}/in.jsonl.out` }),
    );
    const ids = ((await out.Body?.transformToString()) ?? '')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l).recordId as string);
    control.destroy();
    storage.destroy();
    await fast.close();

    expect(jobArn).toMatch(/^arn:aws:bedrock:eu-west-1:/);
    expect(job.status).toBe('Completed');
    // 100 records of a simulated minute each: the job ran more than 100 simulated minutes.
    expect(job.endTime!.getTime() - job.submitTime!.getTime()).toBeGreaterThan(100 * 60_000);
    expect(ids).toHaveLength(100);
    expect(ids).toContain('R0000000001');
  });
});
