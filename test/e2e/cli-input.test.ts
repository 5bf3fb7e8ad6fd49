import { mkdirSync, mkdtempSync, openSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createProducer } from '../../src/queue/producer.js';
import { MINUTE } from '../../src/units.js';
import { ask } from '../helpers/batches.js';
import { useRedis } from '../helpers/redis.js';
import { jsonLines, runCli } from './helpers.js';

const ctx = useRedis();
const dir = mkdtempSync(join(tmpdir(), 'bj-cli-input-'));

function env() {
  const file = join(dir, `${ctx.prefix.replace(/[{}]/g, '')}.json`);
  writeFileSync(file, JSON.stringify({ prefix: ctx.prefix }));
  return { REDIS_URL: ctx.url, BEDROCK_JOBS_CONFIG: file };
}

const line = (id: string) => JSON.stringify(ask(id));

// Each test starts the CLI (Node and tsx): generous bounds, so a slow machine is never a failure.
describe('the CLI with input it cannot take', { timeout: 2 * MINUTE }, () => {
  it('stops stdin at a bad line after 600 good ones: those 600 are in the batch, which stays open, and the message says so', async () => {
    const input = [
      ...Array.from({ length: 600 }, (_, i) => line(`good-${i}`)),
      '{"id": "bad-601",',
      line('after'),
    ];

    const run = await runCli(['enqueue', '-', '--batch', 'stopped'], { env: env(), input: input.join('\n') });
    const producer = createProducer({ redis: ctx.url, prefix: ctx.prefix });
    const batch = await producer.sealBatch('stopped').finally(() => producer.close());

    expect(run.code).toBe(2);
    expect(run.stderr).toContain('stdin line 601: not valid JSON');
    expect(run.stderr).toContain(
      '(the 600 jobs before it are in batch stopped: 600 enqueued, 0 already known; nothing from this line on was enqueued. The batch stays open: send the rest with --batch stopped)',
    );
    // Sealed here, after the run: it was left open, with the 600 and nothing else.
    expect(batch).toMatchObject({ total: 600, completed: 0, failed: 0, done: false });
  });

  it('refuses a file whose line names another batch before enqueueing anything from it', async () => {
    const file = join(dir, 'other-batch.jsonl');
    const lines = Array.from({ length: 700 }, (_, i) => line(`ob-${i}`));
    lines[650] = JSON.stringify({ ...ask('ob-650'), batchId: 'elsewhere' });
    writeFileSync(file, lines.join('\n'));

    const run = await runCli(['enqueue', file, '--batch', 'mine'], { env: env() });

    expect(run.code).toBe(2);
    expect(run.stderr).toContain(
      `${file}: line 651.batchId: is "elsewhere" but this enqueue is batch "mine" (nothing was enqueued)`,
    );
    expect(await ctx.redis.exists(`${ctx.prefix}:batch:mine`)).toBe(0);
  });

  it('says what is wrong with a directory given as stdin (EISDIR), empty input, and documents that are links or directories', async () => {
    const docs = join(dir, 'docs');
    mkdirSync(join(docs, 'x.txt'), { recursive: true });
    writeFileSync(join(dir, 'real.txt'), 'A document kept elsewhere, linked in.');
    writeFileSync(join(docs, 'a.txt'), 'A plain document.');
    symlinkSync(join(dir, 'real.txt'), join(docs, 'linked.txt'));
    symlinkSync(join(docs, 'x.txt'), join(docs, 'dir-link.txt'));
    symlinkSync(join(dir, 'gone.txt'), join(docs, 'broken.txt'));
    const e = env();

    const [asStdin, empty, folder] = await Promise.all([
      runCli(['enqueue', '-'], { env: e, stdin: openSync(join(docs, 'x.txt'), 'r') }),
      runCli(['enqueue', '-', '--batch', 'nothing'], { env: e, input: '\n\n' }),
      runCli(['--json', 'enqueue', docs, '--batch', 'folder'], { env: e }),
    ]);

    expect(asStdin.code).toBe(2);
    expect(asStdin.stderr).toBe(
      'bedrock-jobs: stdin: is a directory, not a file of jobs (nothing was enqueued)\n',
    );
    expect(empty.code).toBe(2);
    expect(empty.stderr).toContain('stdin: holds no job');
    expect(folder.stderr).toBe('');
    expect(jsonLines(folder.stdout)).toEqual([{ batchId: 'folder', enqueued: 2, duplicates: 0 }]);
  });
});
