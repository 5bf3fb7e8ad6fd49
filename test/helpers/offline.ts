import {
  BedrockClient,
  ListModelInvocationJobsCommand,
  type ModelInvocationJobSummary,
} from '@aws-sdk/client-bedrock';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import type { ConfigInput } from '../../src/config.js';

/** The role ARN the tests give the offline lane; the simulator checks its form only. */
export const ROLE_ARN = 'arn:aws:iam::123456789012:role/bedrock-batch';
const CREDENTIALS = { accessKeyId: 'test', secretAccessKey: 'test' };

/** Offline settings for a test against the simulator: quick looks, a bucket of the test's own. */
export function offlineSettings(
  bucket: string,
  extra: NonNullable<ConfigInput['offline']> = {},
): ConfigInput['offline'] {
  return { bucket, roleArn: ROLE_ARN, pollIntervalMs: 20, maxPollIntervalMs: 200, ...extra };
}

/** Creates a bucket in the simulator's S3 with the real client, as an operator would beforehand. */
export async function createBucket(endpoint: string, bucket: string): Promise<void> {
  const s3 = new S3Client({ region: 'us-east-1', endpoint, forcePathStyle: true, credentials: CREDENTIALS });
  try {
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  } finally {
    s3.destroy();
  }
}

/** Every model invocation job the simulator holds, through the real Bedrock client. */
export async function listInvocationJobs(endpoint: string): Promise<ModelInvocationJobSummary[]> {
  const bedrock = new BedrockClient({ region: 'us-east-1', endpoint, credentials: CREDENTIALS });
  const out: ModelInvocationJobSummary[] = [];
  try {
    let nextToken: string | undefined;
    do {
      const page = await bedrock.send(new ListModelInvocationJobsCommand({ maxResults: 100, nextToken }));
      out.push(...(page.invocationJobSummaries ?? []));
      nextToken = page.nextToken;
    } while (nextToken);
  } finally {
    bedrock.destroy();
  }
  return out;
}
