/**
 * The package as another service gets it: `npm pack` (its prepack builds dist/), the tarball
 * installed into a fresh project outside the repository, then imported, required and run
 * through its bin against the real Redis. One pack and one install serve every test.
 *
 * It packs a copy of the working tree, so it never writes dist/ into the checkout and two runs
 * at once cannot build over each other; the copy links the checkout's node_modules for tsc.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { keysFor } from '../../src/redis/keys.js';
import { MINUTE } from '../../src/units.js';
import { deleteKeys, redisUrl, testPrefix } from '../helpers/redis.js';
import { jsonLines, ROOT } from './helpers.js';

/** Top-level entries of the checkout that a pack neither needs nor may see. */
const NOT_COPIED = new Set(['node_modules', '.git', 'dist', 'coverage', 'tmp']);

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

interface PackedFile {
  path: string;
}

/** Runs a command to its end. The kill timer only stops a hung child; no result depends on it. */
function run(
  command: string,
  args: readonly string[],
  opts: { cwd: string; env: NodeJS.ProcessEnv },
): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: opts.cwd, env: opts.env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString('utf8');
    });
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString('utf8');
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), 10 * MINUTE);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

function ok(what: string, r: Run): Run {
  if (r.code !== 0) throw new Error(`${what} exited ${r.code}\n${r.stdout}\n${r.stderr}`);
  return r;
}

/** A port nobody listens on right now, for the simulator (its --port must be positive). */
async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  server.close();
  await once(server, 'close');
  return port;
}

/** The first line a child writes to stdout; rejects if it exits first. */
async function firstLine(child: ChildProcess): Promise<string> {
  let out = '';
  let err = '';
  child.stderr?.on('data', (d: Buffer) => {
    err += d.toString('utf8');
  });
  return new Promise((resolve, reject) => {
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString('utf8');
      const end = out.indexOf('\n');
      if (end >= 0) resolve(out.slice(0, end));
    });
    child.once('close', (code) => reject(new Error(`exited ${code} before printing a line\n${out}\n${err}`)));
  });
}

let work = '';
let app = '';
let packed: PackedFile[] = [];
let url = '';
let prefix = '';
/** Every prefix the tests wrote under, deleted at the end. */
const prefixes: string[] = [];
let redis: Redis | undefined;

/** Environment of the consumer's processes: nothing from the checkout or a config of the user. */
const appEnv = (): NodeJS.ProcessEnv => ({
  PATH: process.env.PATH ?? '',
  HOME: process.env.HOME ?? tmpdir(),
  REDIS_URL: url,
  LOG_LEVEL: 'warn',
});

/** Writes a file into the consumer project; returns its path. */
function appFile(name: string, text: string): string {
  const path = join(app, name);
  writeFileSync(path, text);
  return path;
}

/** The bin as npm links it into the consumer project. */
const bin = () => join(app, 'node_modules', '.bin', 'bedrock-jobs');

interface Started {
  child: ChildProcess;
  closed: Promise<unknown[]>;
  stderr: () => string;
}

/** Starts a long-running command of the installed bin (simulator, worker); stop it with a signal. */
function startBin(args: readonly string[], env: NodeJS.ProcessEnv): Started {
  const child = spawn(bin(), args, { cwd: app, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => {
    stderr += d.toString('utf8');
  });
  return { child, closed: once(child, 'close'), stderr: () => stderr };
}

const bullJobExists = async (id: string) => (await redis!.exists(keysFor(prefix).bullJob(id))) === 1;

beforeAll(async () => {
  url = await redisUrl();
  redis = new Redis(url);
  prefix = testPrefix();
  prefixes.push(prefix);
  work = mkdtempSync(join(tmpdir(), 'bj-pack-'));
  const repo = join(work, 'repo');
  cpSync(ROOT, repo, { recursive: true, filter: (src) => !NOT_COPIED.has(relative(ROOT, src)) });
  symlinkSync(join(ROOT, 'node_modules'), join(repo, 'node_modules'), 'dir');
  // npm and the user's npm config as they are: its warm cache makes the install offline.
  const npmEnv = { ...process.env };

  const pack = ok(
    'npm pack',
    await run('npm', ['pack', '--json', '--pack-destination', work], { cwd: repo, env: npmEnv }),
  );
  const [result] = JSON.parse(pack.stdout) as { filename: string; files: PackedFile[] }[];
  packed = result!.files;
  app = join(work, 'app');
  mkdirSync(app);
  appFile('package.json', JSON.stringify({ name: 'consumer', private: true, type: 'module' }));
  ok(
    'npm install',
    await run(
      'npm',
      ['install', '--prefer-offline', '--no-audit', '--no-fund', join(work, result!.filename)],
      {
        cwd: app,
        env: npmEnv,
      },
    ),
  );
}, 15 * MINUTE);

afterAll(async () => {
  for (const p of prefixes) if (redis) await deleteKeys(redis, p);
  await redis?.quit();
  if (work) {
    // Unlink the link to the checkout's node_modules first: the removal must never reach it.
    rmSync(join(work, 'repo', 'node_modules'), { force: true });
    rmSync(work, { recursive: true, force: true });
  }
}, MINUTE);

// Each step spawns Node or npm: generous bounds, so a slow machine is never a failure.
describe('the packed package', { timeout: 5 * MINUTE }, () => {
  it('holds the build with declarations, the bin, profiles and the demo corpus, and no sources or tests', () => {
    const paths = packed.map((f) => f.path);

    expect(paths).toEqual(
      expect.arrayContaining([
        'package.json',
        'README.md',
        'docs/producer.md',
        'bin/bedrock-jobs.js',
        'dist/index.js',
        'dist/index.d.ts',
        'dist/index.js.map',
        'dist/cli.js',
        'dist/queue/producer.d.ts',
        'profiles/steady.yaml',
        'examples/corpus/001-en-contract.txt',
        'ui/index.html',
        'ui/app.js',
        'ui/app.css',
      ]),
    );
    expect(
      paths.filter(
        (p) => /^(src|test|bench|scripts)\/|\.test\.|^tsconfig|\.ts$/.test(p) && !p.endsWith('.d.ts'),
      ),
    ).toEqual([]);
  });
});

describe('the installed library', { timeout: 5 * MINUTE }, () => {
  it('is imported as ESM by another project and enqueues a job once', async () => {
    const script = appFile(
      'enqueue.mjs',
      `import { createProducer } from 'bedrock-jobs';
const producer = createProducer({ redis: process.env.REDIS_URL, prefix: process.argv[2] });
try {
  const job = { id: 'pack-esm-1', task: 'summarize', document: 'Installed from the tarball.' };
  const first = await producer.enqueue(job);
  const again = await producer.enqueue(job);
  const result = await producer.getResult(job.id);
  process.stdout.write(JSON.stringify({ first, again, result: result ?? null }) + '\\n');
} finally {
  await producer.close();
}
`,
    );

    const r = ok('enqueue.mjs', await run(process.execPath, [script, prefix], { cwd: app, env: appEnv() }));

    expect(JSON.parse(r.stdout)).toEqual({
      first: { id: 'pack-esm-1', status: 'enqueued' },
      again: { id: 'pack-esm-1', status: 'duplicate', existing: 'queued' },
      result: null,
    });
    expect(await bullJobExists('pack-esm-1')).toBe(true);
  });

  it('is required from CommonJS, one copy with the ESM one, and throws its error classes', async () => {
    const script = appFile(
      'enqueue.cjs',
      `const { createProducer, JobValidationError } = require('bedrock-jobs');
(async () => {
  const esm = await import('bedrock-jobs');
  const producer = createProducer({ redis: process.env.REDIS_URL, prefix: process.argv[2] });
  try {
    const enqueued = await producer.enqueue({ id: 'pack-cjs-1', task: 'generate', messages: [{ role: 'user', content: 'Hi' }] });
    const refused = await producer.enqueue({ task: 'generate' }).catch((e) => e);
    process.stdout.write(JSON.stringify({
      enqueued,
      sameModule: esm.createProducer === createProducer,
      refused: { isClass: refused instanceof JobValidationError, path: refused.path },
    }) + '\\n');
  } finally {
    await producer.close();
  }
})();
`,
    );

    const r = ok('enqueue.cjs', await run(process.execPath, [script, prefix], { cwd: app, env: appEnv() }));

    expect(JSON.parse(r.stdout)).toEqual({
      enqueued: { id: 'pack-cjs-1', status: 'enqueued' },
      sameModule: true,
      refused: { isClass: true, path: 'job.messages' },
    });
    expect(r.stderr).not.toMatch(/ExperimentalWarning/);
    expect(await bullJobExists('pack-cjs-1')).toBe(true);
  });

  it('type checks a TypeScript consumer against the shipped declarations', async () => {
    appFile(
      'tsconfig.json',
      JSON.stringify({
        compilerOptions: {
          module: 'nodenext',
          target: 'es2023',
          strict: true,
          noEmit: true,
          skipLibCheck: true,
          types: [],
        },
        files: ['consumer.ts'],
      }),
    );
    appFile(
      'consumer.ts',
      `import { createProducer, type EnqueueResult, JobValidationError } from 'bedrock-jobs';
const producer = createProducer({ redis: 'redis://127.0.0.1:6379', prefix: '{app}' });
export const enqueue = (document: string): Promise<EnqueueResult> => producer.enqueue({ task: 'summarize', document });
// @ts-expect-error task is 'generate' or 'summarize'
export const wrong = () => producer.enqueue({ task: 'translate', document: 'x' });
export const isRefusal = (e: unknown): boolean => e instanceof JobValidationError && e.issues.length > 0;
`,
    );
    const tsc = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');

    const r = await run(process.execPath, [tsc, '-p', app], { cwd: app, env: appEnv() });

    expect(r.stdout + r.stderr).toBe('');
    expect(r.code).toBe(0);
  });
});

describe('the installed bin', { timeout: 5 * MINUTE }, () => {
  it('prints its help from dist/, with no tsx installed', async () => {
    const r = await run(bin(), ['--help'], { cwd: app, env: appEnv() });

    expect(existsSync(join(app, 'node_modules', 'tsx'))).toBe(false);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/Usage: bedrock-jobs/);
    expect(r.stdout).toMatch(/enqueue \[options\] \[source\]/);
  });

  it('enqueues a JSONL file under the prefix of its --config', async () => {
    const config = appFile('config.json', JSON.stringify({ prefix }));
    const jobs = appFile(
      'jobs.jsonl',
      `${JSON.stringify({ id: 'pack-cli-1', task: 'summarize', document: 'Enqueued by the installed bin.' })}\n`,
    );

    const r = ok(
      'bedrock-jobs enqueue',
      await run(bin(), ['--config', config, '--json', 'enqueue', jobs, '--batch', 'pack-batch'], {
        cwd: app,
        env: appEnv(),
      }),
    );

    expect(jsonLines(r.stdout).at(-1)).toMatchObject({ batchId: 'pack-batch', enqueued: 1 });
    expect(await bullJobExists('pack-cli-1')).toBe(true);
  });

  it('runs the example of docs/producer.md to the end through the simulator and a worker it installed', async () => {
    const own = testPrefix();
    prefixes.push(own);
    const config = appFile('example-config.json', JSON.stringify({ prefix: own }));
    const doc = readFileSync(join(app, 'node_modules', 'bedrock-jobs', 'docs', 'producer.md'), 'utf8');
    const example = appFile('example.mjs', /```js\n([\s\S]*?)```/.exec(doc)![1]!);
    const port = await freePort();
    const env = { ...appEnv(), BEDROCK_JOBS_CONFIG: config, BEDROCK_ENDPOINT: `http://127.0.0.1:${port}` };
    const sim = startBin(['--json', 'simulator', '--port', String(port), '--profile', 'zero'], env);
    let worker: Started | undefined;

    try {
      const listening = JSON.parse(await firstLine(sim.child)) as Record<string, unknown>;
      worker = startBin(['worker'], env);
      const workerDied = worker.closed.then(([code]) => {
        throw new Error(`the worker exited ${String(code)} during the example\n${worker?.stderr()}`);
      });
      const first = await Promise.race([run(process.execPath, [example], { cwd: app, env }), workerDied]);
      const again = ok('example.mjs again', await run(process.execPath, [example], { cwd: app, env }));
      const result = await redis!.get(keysFor(own).result('ticket-1001'));

      expect(listening).toMatchObject({ profile: 'zero' });
      expect(ok('example.mjs', first).stdout).toMatch(/: 2 enqueued, 0 already known\n/);
      expect(first.stdout).toMatch(/total: 2,\s+completed: 2,\s+failed: 0/);
      expect(again.stdout).toMatch(/: 0 enqueued, 2 already known\n/);
      expect(JSON.parse(result!)).toMatchObject({ id: 'ticket-1001', status: 'completed' });
    } finally {
      for (const started of [worker, sim]) {
        started?.child.kill('SIGTERM');
        await started?.closed;
      }
    }
  });
});
