import { Readable } from 'node:stream';
import { InvokeModelCommand } from '@aws-sdk/client-bedrock-runtime';
import {
  BucketAlreadyOwnedByYou,
  CreateBucketCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  NoSuchBucket,
  NoSuchKey,
  NotFound,
  PutObjectCommand,
  paginateListObjectsV2,
  S3Client,
  type S3ServiceException,
} from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ProfileSchema,
  type ProfileSimulator,
  startSimulatorWithProfile,
} from '../../src/simulator/index.js';
import { sdkClient } from './simulator-fixtures.js';

const HAIKU = 'anthropic.claude-3-haiku-20240307-v1:0';

let sim: ProfileSimulator;
let s3: S3Client;

beforeAll(async () => {
  sim = await startSimulatorWithProfile({ profile: ProfileSchema.parse({ zeroLatency: true, jitter: 0 }) });
  // The client's defaults: flexible checksums on every upload, response checksums validated.
  s3 = new S3Client({
    region: 'us-east-1',
    endpoint: sim.url,
    forcePathStyle: true,
    credentials: { accessKeyId: 'AKIDTEST', secretAccessKey: 'test-secret' },
  });
});
afterAll(async () => {
  s3.destroy();
  await sim.close();
});

const text = async (key: string, bucket = 'data'): Promise<string> => {
  const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  return (await got.Body?.transformToString()) ?? '';
};

describe('the simulated S3, through @aws-sdk/client-s3 with its default settings', () => {
  it('creates a bucket once, and says so the second time', async () => {
    await s3.send(new CreateBucketCommand({ Bucket: 'data' }));
    const again = await s3.send(new CreateBucketCommand({ Bucket: 'data' })).catch((e: unknown) => e);
    const head = await s3.send(new HeadBucketCommand({ Bucket: 'data' }));
    const missing = await s3.send(new HeadBucketCommand({ Bucket: 'nope' })).catch((e: unknown) => e);

    expect(again).toBeInstanceOf(BucketAlreadyOwnedByYou);
    expect((again as S3ServiceException).$metadata.httpStatusCode).toBe(409);
    expect(head.BucketRegion).toBe('us-east-1');
    expect(missing).toBeInstanceOf(NotFound);
  });

  it('stores string, Buffer and stream bodies (aws-chunked with a checksum trailer) and gives them back', async () => {
    const korean = '모델은 요청에 대해 짧고 명확한 답변을 작성합니다\n';
    await s3.send(new PutObjectCommand({ Bucket: 'data', Key: 'in/string.jsonl', Body: korean }));
    await s3.send(
      new PutObjectCommand({ Bucket: 'data', Key: 'in/buffer.bin', Body: Buffer.from([0, 1, 2, 255]) }),
    );
    const parts = [Buffer.from('{"a":1}\n'), Buffer.alloc(100_000, 'x'), Buffer.from('\n')];
    const size = parts.reduce((n, p) => n + p.length, 0);
    const put = await s3.send(
      new PutObjectCommand({
        Bucket: 'data',
        Key: 'in/stream.jsonl',
        Body: Readable.from(parts),
        ContentLength: size,
      }),
    );

    expect(put.ETag).toMatch(/^"[0-9a-f]{32}"$/);
    expect(put.ChecksumCRC32).toBeDefined();
    expect(await text('in/string.jsonl')).toBe(korean);
    const buffer = await s3.send(new GetObjectCommand({ Bucket: 'data', Key: 'in/buffer.bin' }));
    expect([...((await buffer.Body?.transformToByteArray()) ?? [])]).toEqual([0, 1, 2, 255]);
    expect(await text('in/stream.jsonl')).toBe(Buffer.concat(parts).toString());
    const head = await s3.send(new HeadObjectCommand({ Bucket: 'data', Key: 'in/stream.jsonl' }));
    expect(head.ContentLength).toBe(size);
    expect(head.ContentEncoding).toBeUndefined();
  });

  it('lists keys page by page, with prefixes, delimiters and continuation tokens', async () => {
    await s3.send(new CreateBucketCommand({ Bucket: 'listing' }));
    const keys = ['a/1', 'a/2', 'a/sub/3', 'a/sub/4', 'b/5', 'c'];
    for (const Key of keys) await s3.send(new PutObjectCommand({ Bucket: 'listing', Key, Body: Key }));

    const all: string[] = [];
    for await (const page of paginateListObjectsV2({ client: s3, pageSize: 2 }, { Bucket: 'listing' }))
      all.push(...(page.Contents ?? []).map((o) => o.Key ?? ''));
    const rolled = await s3.send(
      new ListObjectsV2Command({ Bucket: 'listing', Prefix: 'a/', Delimiter: '/' }),
    );
    const first = await s3.send(new ListObjectsV2Command({ Bucket: 'listing', Delimiter: '/', MaxKeys: 1 }));
    const second = await s3.send(
      new ListObjectsV2Command({
        Bucket: 'listing',
        Delimiter: '/',
        MaxKeys: 5,
        ContinuationToken: first.NextContinuationToken,
      }),
    );

    expect(all).toEqual(keys);
    expect(rolled.Contents?.map((o) => o.Key)).toEqual(['a/1', 'a/2']);
    expect(rolled.CommonPrefixes?.map((p) => p.Prefix)).toEqual(['a/sub/']);
    expect(rolled.KeyCount).toBe(3);
    expect(first.CommonPrefixes?.map((p) => p.Prefix)).toEqual(['a/']);
    expect(first.IsTruncated).toBe(true);
    expect(second.CommonPrefixes?.map((p) => p.Prefix)).toEqual(['b/']);
    expect(second.Contents?.map((o) => o.Key)).toEqual(['c']);
    expect(second.IsTruncated).toBe(false);
  });

  it('answers NoSuchKey and NoSuchBucket as S3 does, and HeadObject of a missing key as NotFound', async () => {
    const noKey = await s3
      .send(new GetObjectCommand({ Bucket: 'data', Key: 'missing' }))
      .catch((e: unknown) => e);
    const noBucket = await s3
      .send(new PutObjectCommand({ Bucket: 'absent', Key: 'k', Body: 'x' }))
      .catch((e: unknown) => e);
    const noHead = await s3
      .send(new HeadObjectCommand({ Bucket: 'data', Key: 'missing' }))
      .catch((e: unknown) => e);

    expect(noKey).toBeInstanceOf(NoSuchKey);
    expect((noKey as NoSuchKey).$metadata.httpStatusCode).toBe(404);
    expect(noBucket).toBeInstanceOf(NoSuchBucket);
    expect(noHead).toBeInstanceOf(NotFound);
  });

  it('deletes one object, or many at once', async () => {
    await s3.send(new CreateBucketCommand({ Bucket: 'trash' }));
    for (const Key of ['x', 'y', 'z'])
      await s3.send(new PutObjectCommand({ Bucket: 'trash', Key, Body: Key }));

    await s3.send(new DeleteObjectCommand({ Bucket: 'trash', Key: 'x' }));
    const many = await s3.send(
      new DeleteObjectsCommand({ Bucket: 'trash', Delete: { Objects: [{ Key: 'y' }, { Key: 'z' }] } }),
    );
    const left = await s3.send(new ListObjectsV2Command({ Bucket: 'trash' }));

    expect(many.Deleted?.map((d) => d.Key)).toEqual(['y', 'z']);
    expect(left.KeyCount).toBe(0);
  });

  it('routes by the signing service: a bucket named like a runtime path is still S3, and the runtime still works', async () => {
    await s3.send(new CreateBucketCommand({ Bucket: 'model' }));
    const key = `${HAIKU}/invoke`;
    await s3.send(new PutObjectCommand({ Bucket: 'model', Key: key, Body: 'not a prompt' }));
    const runtime = sdkClient(sim.url);
    const answer = await runtime.send(
      new InvokeModelCommand({
        modelId: HAIKU,
        body: JSON.stringify({
          anthropic_version: 'bedrock-2023-05-31',
          max_tokens: 20,
          messages: [{ role: 'user', content: 'hello' }],
        }),
      }),
    );
    runtime.destroy();

    expect(await text(key, 'model')).toBe('not a prompt');
    expect(JSON.parse(new TextDecoder().decode(answer.body)).type).toBe('message');
  });
});
