import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { buildApi } from '../../src/api/server.js';
import { type Config, loadConfig } from '../../src/config.js';
import { createProducer } from '../../src/queue/producer.js';
import { startWorker } from '../../src/queue/worker.js';
import { deleteKeys } from '../../src/redis/purge.js';
import { type LogSink, logSink } from '../helpers/log-sink.js';
import { usePipeline } from '../helpers/pipeline.js';
import { useRedis } from '../helpers/redis.js';
import { type OwnRedis, startOwnRedis } from '../helpers/redis-server.js';

const REDIS_PASSWORD = 'Redis-pw-5be1c0';
const API_TOKEN = 'api-token-8d44a2';
const AWS_KEY_ID = 'AKIALOGSCANTEST0001';
const AWS_SECRET = 'aws-secret-log-scan-3f9e';
/** Words that exist only in the jobs' text: none may reach a log line unless asked for. */
const MARKERS = ['quokka-7741', 'heliotrope-2290', 'marmalade-5153', 'zeppelin-6602', 'tamarind-3318'];

const documents = MARKERS.slice(0, 3).map((marker, i) =>
  [
    `Report ${i}: the ${marker} survey of the northern ridge found three new springs.`,
    `Field teams logged the ${marker} samples at dawn and sealed them for the laboratory.`,
    'Funding for the second season depends on the water quality results.',
  ].join(' '),
);
const jobs = [
  ...documents.map((document, i) => ({ id: `doc-${i}`, task: 'summarize', document })),
  {
    id: 'chat',
    task: 'generate',
    messages: [{ role: 'user', content: `Tell me about the ${MARKERS[3]} project.` }],
  },
  // Bedrock refuses this body and its message quotes the value (`#/anthropic_version: … is not a valid enum value`).
  {
    id: 'refused',
    task: 'generate',
    models: ['claude-3-haiku'],
    messages: [{ role: 'user', content: 'Hello' }],
    native: { anthropic: { anthropic_version: `${MARKERS[4]} letter to Dr. Kim` } },
  },
];

const ctx = useRedis(); // a fresh prefix and the leak check
// Registered before the pipeline's hooks, so it runs after they closed the worker (hooks run in reverse).
afterEach(async () => {
  await deleteKeys(admin, ctx.prefix);
});
const pipe = usePipeline({ models: { '*': { rpm: 1e9, tpm: 1e12 } } });
let server: OwnRedis;
let admin: Redis;
const savedEnv = { id: process.env.AWS_ACCESS_KEY_ID, secret: process.env.AWS_SECRET_ACCESS_KEY };

beforeAll(async () => {
  server = await startOwnRedis([
    '--user',
    'default',
    'off',
    '--user',
    'app',
    'on',
    `>${REDIS_PASSWORD}`,
    '~*',
    '&*',
    '+@all',
  ]);
  admin = new Redis({ port: server.port, username: 'app', password: REDIS_PASSWORD });
  await admin.ping(); // connected before the leak check counts sockets
  // The SDK signs every call with these: they must not reach a log line either.
  process.env.AWS_ACCESS_KEY_ID = AWS_KEY_ID;
  process.env.AWS_SECRET_ACCESS_KEY = AWS_SECRET;
});
afterAll(async () => {
  for (const [name, value] of [
    ['AWS_ACCESS_KEY_ID', savedEnv.id],
    ['AWS_SECRET_ACCESS_KEY', savedEnv.secret],
  ] as const) {
    if (value === undefined) delete process.env[name];
    else process.env[name] = value;
  }
  await admin?.quit();
  await server?.close();
});

/** A whole batch through the HTTP API, a worker and the simulator, every component logging to `sink`. */
async function runBatch(sink: LogSink, logPrompts: boolean): Promise<void> {
  const config: Config = loadConfig({
    env: {
      REDIS_URL: `redis://app:${REDIS_PASSWORD}@127.0.0.1:${server.port}`,
      API_TOKEN,
      LOG_LEVEL: 'trace',
      ...(logPrompts ? { LOG_PROMPTS: '1' } : {}),
    },
    overrides: { prefix: ctx.prefix, endpoint: pipe.sim.url },
  });
  const worker = await startWorker({ config, logger: sink.logger });
  pipe.track({ close: () => worker.close({ deadlineMs: 5_000 }) });
  const api = pipe.track(await buildApi({ config, logger: sink.logger }));
  const producer = pipe.track(createProducer({ redis: config.redisUrl, config, logger: sink.logger }));

  const posted = await api.app.inject({
    method: 'POST',
    url: '/v1/batches',
    headers: { authorization: `Bearer ${API_TOKEN}` },
    payload: { batchId: 'logs', jobs },
  });
  expect(posted.statusCode).toBe(202);
  const done = await producer.waitForBatch('logs', { pollMs: 200 });

  expect(done).toEqual({ batchId: 'logs', total: 5, completed: 4, failed: 1 });
  expect((await producer.getResult('refused'))?.error).toContain(MARKERS[4]); // the result keeps it all
}

describe('logs of a whole batch at trace level', () => {
  it('hold no job text, no API token, no Redis password and no AWS credentials by default', async () => {
    const sink = logSink({ level: 'trace' });

    await runBatch(sink, false);

    expect(sink.lines.filter((l) => l.includes('"model request"')).length).toBeGreaterThanOrEqual(5);
    expect(
      sink.lines.some((l) => l.includes('"job failed"') && l.includes('is not a valid enum value')),
    ).toBe(true);
    for (const line of sink.lines)
      for (const secret of [...MARKERS, API_TOKEN, REDIS_PASSWORD, AWS_KEY_ID, AWS_SECRET])
        expect(line, `a log line holds ${secret}`).not.toContain(secret);
  });

  it('hold the prompt and reply text with LOG_PROMPTS=1, and still no secret', async () => {
    const sink = logSink({ level: 'trace', logPrompts: true });

    await runBatch(sink, true);

    const text = sink.lines.join('\n');
    for (const marker of MARKERS.slice(0, 4)) expect(text).toContain(marker);
    expect(sink.lines.some((l) => l.includes('"model reply"') && l.includes('"text"'))).toBe(true);
    for (const secret of [API_TOKEN, REDIS_PASSWORD, AWS_KEY_ID, AWS_SECRET])
      expect(text).not.toContain(secret);
  });
});
