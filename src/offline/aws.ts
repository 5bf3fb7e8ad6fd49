import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import {
  BedrockClient,
  type BedrockClientConfig,
  CreateModelInvocationJobCommand,
  GetModelInvocationJobCommand,
  StopModelInvocationJobCommand,
} from '@aws-sdk/client-bedrock';
import {
  CreateBucketCommand,
  GetObjectCommand,
  HeadBucketCommand,
  NoSuchKey,
  NotFound,
  PutObjectCommand,
  S3Client,
  type S3ClientConfig,
} from '@aws-sdk/client-s3';
import { localCredentials } from '../bedrock/client.js';
import type { Config } from '../config.js';
import { invocationFailure } from './errors.js';
import type { InvocationType } from './records.js';

/** What creating one invocation job takes. */
export interface CreateJobInput {
  jobName: string;
  clientRequestToken: string;
  modelId: string;
  type: InvocationType;
  inputUri: string;
  outputUri: string;
}

/** An invocation job as GetModelInvocationJob reports it. */
export interface JobView {
  status: string | undefined;
  message?: string;
}

/**
 * The offline lane's two AWS clients, the real `@aws-sdk/client-s3` and
 * `@aws-sdk/client-bedrock`, and the few calls it makes with them. With an endpoint override
 * (the simulator) S3 is addressed path-style and, without AWS credentials in the environment,
 * placeholder ones are used, as for Bedrock Runtime.
 */
export class OfflineAws {
  private readonly s3: S3Client;
  private readonly bedrock: BedrockClient;
  private closed = false;

  constructor(
    config: Pick<Config, 'region' | 'endpoint' | 'offline'>,
    private readonly bucket: string,
    private readonly roleArn: string,
    private readonly timeoutHours: number,
    env: Readonly<Record<string, string | undefined>> = process.env,
  ) {
    const region = config.offline.region ?? config.region;
    const s3Endpoint = config.offline.s3Endpoint ?? config.endpoint;
    const s3Config: S3ClientConfig = { region };
    if (s3Endpoint) Object.assign(s3Config, { endpoint: s3Endpoint, forcePathStyle: true });
    const s3Local = localCredentials(s3Endpoint, env);
    if (s3Local) s3Config.credentials = s3Local;
    this.s3 = new S3Client(s3Config);
    const bedrockConfig: BedrockClientConfig = { region };
    if (config.endpoint) bedrockConfig.endpoint = config.endpoint;
    const local = localCredentials(config.endpoint, env);
    if (local) bedrockConfig.credentials = local;
    this.bedrock = new BedrockClient(bedrockConfig);
  }

  /** `s3://bucket/key` of a key in the lane's bucket. */
  uri(key: string): string {
    return `s3://${this.bucket}/${key}`;
  }

  /**
   * Creates the bucket when it does not exist (`offline.createBucket`).
   * @returns true when it was created
   */
  async ensureBucket(): Promise<boolean> {
    try {
      await this.s3.send(new HeadBucketCommand({ Bucket: this.bucket }));
      return false;
    } catch (e) {
      if (!(e instanceof NotFound) && (e as { name?: string }).name !== 'NoSuchBucket') throw e;
    }
    await this.s3.send(new CreateBucketCommand({ Bucket: this.bucket }));
    return true;
  }

  /** Uploads one input file. Uploading the same key again replaces it with the same bytes. */
  async put(key: string, body: Buffer): Promise<void> {
    await this.s3.send(
      new PutObjectCommand({ Bucket: this.bucket, Key: key, Body: body, ContentType: 'application/jsonl' }),
    );
  }

  /** The lines of an object, streamed; undefined when there is no such object. */
  async lines(key: string): Promise<AsyncIterable<string> | undefined> {
    try {
      const out = await this.s3.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }));
      return createInterface({ input: out.Body as Readable, crlfDelay: Number.POSITIVE_INFINITY });
    } catch (e) {
      if (e instanceof NoSuchKey) return undefined;
      throw e;
    }
  }

  /** A whole small object as text; undefined when there is no such object. */
  async text(key: string): Promise<string | undefined> {
    try {
      const out = await this.s3.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }));
      return await out.Body?.transformToString('utf8');
    } catch (e) {
      if (e instanceof NoSuchKey) return undefined;
      throw e;
    }
  }

  /**
   * CreateModelInvocationJob. The token makes a repeat return the first call's job.
   * @returns the job's ARN
   * @throws OfflineLaneError `refused` (for good) or `unavailable` (try again later)
   */
  async create(input: CreateJobInput): Promise<string> {
    try {
      const out = await this.bedrock.send(
        new CreateModelInvocationJobCommand({
          jobName: input.jobName,
          clientRequestToken: input.clientRequestToken,
          roleArn: this.roleArn,
          modelId: input.modelId,
          modelInvocationType: input.type,
          inputDataConfig: { s3InputDataConfig: { s3Uri: input.inputUri, s3InputFormat: 'JSONL' } },
          outputDataConfig: { s3OutputDataConfig: { s3Uri: input.outputUri } },
          timeoutDurationInHours: this.timeoutHours,
        }),
      );
      if (!out.jobArn) throw new Error('CreateModelInvocationJob answered without a jobArn');
      return out.jobArn;
    } catch (e) {
      throw invocationFailure(e, 'CreateModelInvocationJob');
    }
  }

  /**
   * GetModelInvocationJob.
   * @throws OfflineLaneError `refused` (the job is gone) or `unavailable`
   */
  async get(jobArn: string): Promise<JobView> {
    try {
      const out = await this.bedrock.send(new GetModelInvocationJobCommand({ jobIdentifier: jobArn }));
      return {
        status: out.status,
        ...(out.message ? { message: out.message } : {}),
      };
    } catch (e) {
      throw invocationFailure(e, 'GetModelInvocationJob');
    }
  }

  /** StopModelInvocationJob, for a batch whose deadline passed. @throws OfflineLaneError */
  async stop(jobArn: string): Promise<void> {
    try {
      await this.bedrock.send(new StopModelInvocationJobCommand({ jobIdentifier: jobArn }));
    } catch (e) {
      throw invocationFailure(e, 'StopModelInvocationJob');
    }
  }

  /** Closes both clients' sockets. Idempotent. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.s3.destroy();
    this.bedrock.destroy();
  }
}
