import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type BrowserContext, chromium, type Page } from 'playwright-core';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { buildApi } from '../../src/api/server.js';
import { type Config, type ConfigInput, loadConfig } from '../../src/config.js';
import { startOfflineCoordinator } from '../../src/offline/coordinator.js';
import { startWorker } from '../../src/queue/worker.js';
import { createBucket, offlineSettings } from '../helpers/offline.js';
import { usePipeline } from '../helpers/pipeline.js';
import { useRedis } from '../helpers/redis.js';
import { ROOT } from './helpers.js';

const CLAUDE = 'anthropic.claude-3-haiku-20240307-v1:0';
const LLAMA = 'meta.llama3-70b-instruct-v1:0';
const TOKEN = 'dashboard-admin-token-0123456789';
const SCREENSHOT = join(ROOT, 'test', 'artifacts', 'dashboard.png');
const LANES_SCREENSHOT = join(ROOT, 'test', 'artifacts', 'dashboard-lanes.png');
const NARROW_SCREENSHOT = join(ROOT, 'test', 'artifacts', 'dashboard-lanes-narrow.png');
/** What a loaded machine may need for a snapshot to reach the page; no timing is assumed below it. */
const WAIT = { timeout: 60_000, interval: 200 };

const ctx = useRedis();
// Invocation jobs move through their statuses at once, for the offline batch.
const pipe = usePipeline({ batch: { submittedMs: 0, validatingMs: 0, scheduledMs: 0, perRecordMs: 0 } });

let browser: BrowserContext | undefined;
let userDataDir: string | undefined;
afterEach(async () => {
  await browser?.close();
  browser = undefined;
  if (userDataDir) await rm(userDataDir, { recursive: true, force: true });
  userDataDir = undefined;
});

function testConfig(offline?: ConfigInput['offline']): Config {
  return loadConfig({
    env: {},
    overrides: {
      redisUrl: ctx.url,
      prefix: ctx.prefix,
      endpoint: pipe.sim.url,
      apiToken: TOKEN,
      chains: { default: [CLAUDE, LLAMA] },
      models: Object.fromEntries([CLAUDE, LLAMA].map((id) => [id, { rpm: 1e6, tpm: 1e9 }])),
      // One call per model per job; the breaker opens after two failures and half-opens soon,
      // so once the outage ends the next job's probe closes it.
      policy: {
        retry: { maxAttempts: 1 },
        breaker: { consecutiveFailures: 2, halfOpenAfterMs: 200 },
      },
      worker: { concurrency: 4, shutdownTimeoutMs: 5_000, busyBackoffMs: 50 },
      ...(offline ? { offline } : {}),
    },
  });
}

async function launch(): Promise<Page> {
  userDataDir = await mkdtemp(join(tmpdir(), 'bj-chromium-'));
  browser = await chromium.launchPersistentContext(userDataDir, {
    executablePath: '/usr/bin/chromium',
    headless: true,
    viewport: { width: 1280, height: 900 },
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-background-networking',
      '--disable-gpu',
      '--no-first-run',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  return browser.pages()[0] ?? (await browser.newPage());
}

const jobs = (batchId: string, n: number) =>
  Array.from({ length: n }, (_, i) => ({
    id: `${batchId}-${i}`,
    task: 'generate',
    messages: [{ role: 'user', content: `Question ${i}: what is a queue?` }],
  }));

/** Enqueues through the API with the bearer token, as a client program would. */
async function enqueue(base: string, batchId: string, n: number): Promise<void> {
  const res = await fetch(`${base}/v1/batches`, {
    method: 'POST',
    headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
    body: JSON.stringify({ batchId, jobs: jobs(batchId, n) }),
  });
  expect(res.status).toBe(202);
}

/** The page's way of writing dollars (app.js `fmt.usd`). */
const usd = (n: number) =>
  `$${n.toLocaleString('en-US', { minimumFractionDigits: 4, maximumFractionDigits: 4 })}`;

/** The progress bar of a batch as the page shows it: [value, max], or undefined before it shows. */
async function progressOf(page: Page, batchId: string): Promise<[number, number] | undefined> {
  const bar = page.locator(`.batch[data-batch-id="${batchId}"] progress`);
  if ((await bar.count()) === 0) return undefined;
  return [Number(await bar.getAttribute('value')), Number(await bar.getAttribute('max'))];
}

async function breakerOf(page: Page, modelId: string): Promise<string | null> {
  const cell = page.locator(`tr[data-model="${modelId}"] td.breaker`);
  return (await cell.count()) === 0 ? null : cell.getAttribute('data-state');
}

describe('dashboard in a browser', () => {
  it('logs in, follows a batch, shows a breaker opening and closing, links bull-board, logs out', async () => {
    const config = testConfig();
    const api = pipe.track(await buildApi({ config }));
    await api.app.listen({ host: '127.0.0.1', port: 0 });
    const base = `http://127.0.0.1:${(api.app.server.address() as AddressInfo).port}`;
    const page = await launch();

    // Not logged in: the page asks for a token; the form logs in and reloads.
    await page.goto(`${base}/ui`);
    await page.locator('#login-form').waitFor({ state: 'visible' });
    await page.fill('#token', TOKEN);
    await page.click('#login-form button[type=submit]');
    await page.locator('#board').waitFor({ state: 'visible' });
    await page.locator('#live.on').waitFor();

    // A batch enqueued before any worker runs shows at 0, then fills as a worker takes it.
    await enqueue(base, 'first', 24);
    await vi.waitFor(async () => expect(await progressOf(page, 'first')).toEqual([0, 24]), WAIT);
    const worker = await startWorker({ config });
    pipe.track({ close: () => worker.close({ deadlineMs: 5_000 }) });
    await vi.waitFor(async () => expect(await progressOf(page, 'first')).toEqual([24, 24]), WAIT);
    await expect(page.locator('.batch[data-batch-id="first"] .per-model').textContent()).resolves.toContain(
      CLAUDE,
    );
    expect(await breakerOf(page, CLAUDE)).toBe('closed');

    // Claude goes down: its breaker opens on the page while the chain moves on to Llama.
    const fault = pipe.sim.admin.addFault({ model: CLAUDE, outage: true });
    await enqueue(base, 'outage', 12);
    await vi.waitFor(async () => expect(await breakerOf(page, CLAUDE)).toBe('open'), WAIT);
    await vi.waitFor(async () => expect(await progressOf(page, 'outage')).toEqual([12, 12]), WAIT);
    await expect(page.locator('.batch[data-batch-id="outage"] .per-model').textContent()).resolves.toContain(
      LLAMA,
    );

    // It comes back: the next job's probe succeeds and the page shows the breaker closed.
    pipe.sim.admin.removeFault(fault);
    let n = 0;
    await vi.waitFor(
      async () => {
        // One more job per look, so there is always a job to make the probe.
        await enqueue(base, `after-${++n}`, 1);
        expect(await breakerOf(page, CLAUDE)).toBe('closed');
      },
      { timeout: 60_000, interval: 500 },
    );

    await page.screenshot({ path: SCREENSHOT, fullPage: true });

    // bull-board is mounted under /ui/queues and the session cookie opens it.
    await page.goto(`${base}/ui/queues`);
    await page.locator('#root').waitFor({ state: 'attached' });
    await expect(page.title()).resolves.toMatch(/bedrock-jobs/);

    // Logging out clears the session: the page asks for a token again.
    await page.goto(`${base}/ui`);
    await page.locator('#logout').click();
    await page.locator('#login-form').waitFor({ state: 'visible' });
    const after = await page.evaluate(async () => (await fetch('/v1/batches')).status);
    expect(after).toBe(401);
  });

  it('shows an offline batch with its lane and the cost of each lane, and what going offline saved', async () => {
    const bucket = `bj-${randomUUID().slice(0, 8)}`;
    await createBucket(pipe.sim.url, bucket);
    const config = testConfig(offlineSettings(bucket));
    const api = pipe.track(await buildApi({ config }));
    await api.app.listen({ host: '127.0.0.1', port: 0 });
    const base = `http://127.0.0.1:${(api.app.server.address() as AddressInfo).port}`;
    const worker = await startWorker({ config });
    pipe.track({ close: () => worker.close({ deadlineMs: 5_000 }) });
    pipe.track(await startOfflineCoordinator({ config, observer: worker.metrics }));
    const page = await launch();
    await page.goto(`${base}/ui`);
    await page.fill('#token', TOKEN);
    await page.click('#login-form button[type=submit]');
    await page.locator('#live.on').waitFor();

    // A plain batch, and one for the offline lane: 100 calls to the chain's first model go to
    // batch inference; 3 jobs that start on another model are too few for a job of their own
    // and run online.
    await enqueue(base, 'plain', 4);
    const offlineJobs = [
      ...jobs('nightly', 100),
      ...jobs('nightly-llama', 3).map((j) => ({ ...j, models: [LLAMA] })),
    ];
    const res = await fetch(`${base}/v1/batches`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ batchId: 'nightly', lane: 'offline', jobs: offlineJobs }),
    });
    expect(res.status).toBe(202);
    await vi.waitFor(async () => expect(await progressOf(page, 'nightly')).toEqual([103, 103]), WAIT);
    await vi.waitFor(async () => expect(await progressOf(page, 'plain')).toEqual([4, 4]), WAIT);

    const status = await fetch(`${base}/v1/batches/nightly`, {
      headers: { authorization: `Bearer ${TOKEN}` },
    });
    const { lanes } = (await status.json()) as {
      lanes: {
        online: { costUsd: number };
        offline: { completed: number; costUsd: number; onlineCostUsd: number };
      };
    };
    expect(lanes.offline.completed).toBe(100);
    expect(lanes.offline.costUsd).toBeGreaterThan(0);
    expect(lanes.online.costUsd).toBeGreaterThan(0);
    const nightly = page.locator('.batch[data-batch-id="nightly"]');
    const plain = page.locator('.batch[data-batch-id="plain"]');
    // The snapshot after the last result has every figure; the page may still show the one before.
    await vi.waitFor(
      async () =>
        expect(await nightly.locator('.cost').textContent()).toBe(
          `${usd(lanes.online.costUsd)} online + ${usd(lanes.offline.costUsd)} offline (saved ${usd(lanes.offline.onlineCostUsd - lanes.offline.costUsd)})`,
        ),
      WAIT,
    );
    await expect(nightly.locator('.pill.lane').textContent()).resolves.toBe('offline');
    // A plain batch looks as it did before lanes: no lane, one total.
    await expect(plain.locator('.pill.lane').count()).resolves.toBe(0);
    await expect(plain.locator('.cost').textContent()).resolves.toMatch(/^\$\d+\.\d{4}$/);

    await page.screenshot({ path: LANES_SCREENSHOT, fullPage: true });
    await page.setViewportSize({ width: 390, height: 900 });
    await page.screenshot({ path: NARROW_SCREENSHOT, fullPage: true });
  });
});
