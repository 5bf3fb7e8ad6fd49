import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { buildApi, type RunningApi } from '../../src/api/server.js';
import { type Config, loadConfig } from '../../src/config.js';
import { createProducer } from '../../src/queue/producer.js';
import { startWorker } from '../../src/queue/worker.js';
import { RedisSetupError } from '../../src/redis/checks.js';
import { logSink } from '../helpers/log-sink.js';
import { usePipeline } from '../helpers/pipeline.js';
import { useRedis } from '../helpers/redis.js';
import { freePort, type OwnRedis, startOwnRedis } from '../helpers/redis-server.js';

const run = promisify(execFile);
const PASSWORD = 'Tls-Acl-pw-7f3c';

const ctx = useRedis(); // a fresh prefix and the leak check
const pipe = usePipeline();
const dir = mkdtempSync(join(tmpdir(), 'bj-tls-'));
let server: OwnRedis;
let tlsPort: number;
let api: RunningApi | undefined;

/** A CA, and a certificate it signed for 127.0.0.1, made with openssl for this file only. */
async function makeCertificates(): Promise<void> {
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  await run(
    'openssl',
    ['req', '-x509', ...ec, '-keyout', 'ca.key', '-out', 'ca.crt', '-days', '1', '-subj', '/CN=bj-test-ca'],
    { cwd: dir },
  );
  await run(
    'openssl',
    ['req', ...ec, '-keyout', 'redis.key', '-out', 'redis.csr', '-subj', '/CN=127.0.0.1'],
    { cwd: dir },
  );
  writeFileSync(join(dir, 'san.ext'), 'subjectAltName=IP:127.0.0.1\n');
  await run(
    'openssl',
    [
      'x509',
      '-req',
      '-in',
      'redis.csr',
      '-CA',
      'ca.crt',
      '-CAkey',
      'ca.key',
      '-CAcreateserial',
      '-out',
      'redis.crt',
      '-days',
      '1',
      '-extfile',
      'san.ext',
    ],
    { cwd: dir },
  );
}

beforeAll(async () => {
  await makeCertificates();
  tlsPort = await freePort();
  // TLS only (no plain port), the default user off, one ACL user with a password.
  server = await startOwnRedis([
    '--port',
    '0',
    '--tls-port',
    String(tlsPort),
    '--tls-cert-file',
    join(dir, 'redis.crt'),
    '--tls-key-file',
    join(dir, 'redis.key'),
    '--tls-ca-cert-file',
    join(dir, 'ca.crt'),
    '--tls-auth-clients',
    'no',
    '--user',
    'default',
    'off',
    '--user',
    'app',
    'on',
    `>${PASSWORD}`,
    '~*',
    '&*',
    '+@all',
  ]);
}, 60_000);
afterEach(async () => {
  await api?.close();
  api = undefined;
});
afterAll(async () => {
  await server?.close();
  rmSync(dir, { recursive: true, force: true });
});

function configWith(env: Record<string, string>): Config {
  return loadConfig({
    env,
    overrides: { prefix: ctx.prefix, endpoint: pipe.sim.url, redis: { caFile: join(dir, 'ca.crt') } },
  });
}

async function oneJob(config: Config): Promise<string | undefined> {
  const producer = pipe.track(createProducer({ redis: config.redisUrl, config }));
  const worker = await startWorker({ config });
  pipe.track({ close: () => worker.close({ deadlineMs: 5_000 }) });
  await producer.enqueueBatch(
    [{ id: 'tls-1', task: 'generate', messages: [{ role: 'user', content: 'Hello' }] }],
    {
      batchId: 'tls',
    },
  );
  await producer.waitForBatch('tls', { pollMs: 200 });
  return (await producer.getResult('tls-1'))?.status;
}

describe('Redis over TLS with an ACL user', () => {
  it('runs a job with user and password in a rediss:// URL and a private CA', async () => {
    const config = configWith({ REDIS_URL: `rediss://app:${PASSWORD}@127.0.0.1:${tlsPort}` });

    expect(await oneJob(config)).toBe('completed');
  });

  it('runs a job with REDIS_USERNAME and REDIS_PASSWORD beside a URL that holds no secret', async () => {
    const config = configWith({
      REDIS_URL: `rediss://127.0.0.1:${tlsPort}`,
      REDIS_USERNAME: 'app',
      REDIS_PASSWORD: PASSWORD,
    });

    expect(await oneJob(config)).toBe('completed');
  });

  it('with a wrong password refuses to start, naming the node, and logs neither password', async () => {
    const inUrl = 'Url-pw-91d2';
    const sent = 'Env-pw-0000'; // REDIS_PASSWORD wins over the URL's
    const sink = logSink({ level: 'trace' });
    const config = configWith({
      REDIS_URL: `rediss://app:${inUrl}@127.0.0.1:${tlsPort}`,
      REDIS_PASSWORD: sent,
    });

    const started = buildApi({ config, logger: sink.logger });

    await expect(started).rejects.toThrow(
      new RedisSetupError(
        `Redis at 127.0.0.1:${tlsPort} refused the login (WRONGPASS): check the user and password ` +
          'in REDIS_URL, or in redis.username and redis.password',
      ),
    );
    for (const line of sink.lines) {
      expect(line).not.toContain(inUrl);
      expect(line).not.toContain(sent);
    }
  });
});
