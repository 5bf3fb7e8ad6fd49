import type { AddressInfo } from 'node:net';
import { z } from 'zod';
import { type Clock, monotonicClock } from '../clock.js';
import { type Logger, silentLogger } from '../log.js';
import { ModelCatalog } from '../models/catalog.js';
import { createBatchJobs } from './batch-jobs.js';
import { type SimulatorControl, simError } from './control.js';
import { type ControlPlaneOptions, createControlPlane } from './control-plane.js';
import { sendError, sendMissingAuth, sendRawError, sendStreamRefusal } from './errors-wire.js';
import { type AnyRequest, type AnyResponse, createDualListener } from './listener.js';
import { respond } from './respond.js';
import { prepareCall, type Route, route } from './routes.js';
import { handleS3 } from './s3.js';
import { S3Store } from './s3-store.js';
import { isS3Request, signedRegion } from './signing.js';
import { newReply, type Reply, readBody, sendJson } from './wire.js';

/** Plain-data options of {@link startSimulator}; defaults live here only. */
export const SimulatorOptionsSchema = z.object({
  port: z.number().int().min(0).max(65_535).default(0).describe('TCP port; 0 picks a free one'),
  host: z.string().min(1).default('127.0.0.1').describe('interface to listen on'),
  seed: z.number().int().default(1).describe('generation seed: the same seed and input give the same text'),
});

/** Handles the simulator's own `/_sim/*` paths (admin API); Bedrock paths never reach it. */
export type AdminHandler = (req: AnyRequest, res: AnyResponse) => void | Promise<void>;

export type SimulatorOptions = z.input<typeof SimulatorOptionsSchema> & {
  /** Quotas, latency, faults, stats: the behaviour side, asked about every call. */
  control: SimulatorControl;
  /** Receives every `/_sim/*` request; without it those paths answer 404. */
  adminHandler?: AdminHandler;
  /** Which models need a profile and which family an id belongs to; the built-in catalog by default. */
  catalog?: ModelCatalog;
  /**
   * Where latency and hang waits sleep and reported latencies are measured: the same clock
   * as the control's, so a test can step both. Real monotonic time by default.
   */
  clock?: Clock;
  logger?: Logger;
  /** How the `bedrock` control plane on the same port answers (model access, profiles). */
  controlPlane?: ControlPlaneOptions;
  /** The buckets S3 requests and batch inference jobs use; a new, empty store by default. */
  s3?: S3Store;
};

export interface RunningSimulator {
  /** `http://host:port`, the endpoint to give an SDK. */
  url: string;
  port: number;
  /** Ends every connection (hung calls included) and stops listening; idempotent. */
  close(): Promise<void>;
}

const BODY_TOO_LARGE = simError(
  'ValidationException',
  "1 validation error detected: Value at 'body' failed to satisfy constraint: Member must have length less than or equal to 25000000",
);

/**
 * Starts the Bedrock-Runtime-compatible simulator: HTTP/2 cleartext (the AWS JS SDK's default)
 * and HTTP/1.1 (boto3, curl, fetch) on one port, serving `POST /model/{modelId}/invoke`,
 * `/invoke-with-response-stream`, `/converse`, `/converse-stream` and `/count-tokens`, and
 * beside them the `bedrock` control plane (`src/simulator/control-plane.ts`) with its model
 * invocation jobs (`src/simulator/batch-jobs.ts`), and an S3 subset for their files
 * (`src/simulator/s3.ts`), told apart by the service a request is signed for.
 *
 * Like Bedrock, it refuses a request without an `Authorization` header (403
 * `MissingAuthenticationTokenException`), but it does not check SigV4 signatures or bearer
 * keys: any credentials work, so a real SDK needs only an endpoint override.
 * @throws when the port cannot be bound
 */
export async function startSimulator(options: SimulatorOptions): Promise<RunningSimulator> {
  const { port, host, seed } = SimulatorOptionsSchema.parse({
    port: options.port,
    host: options.host,
    seed: options.seed,
  });
  const { control, adminHandler } = options;
  const catalog = options.catalog ?? new ModelCatalog();
  const clock = options.clock ?? monotonicClock;
  const logger = (options.logger ?? silentLogger).child({ component: 'simulator' });
  const inFlight = new Set<AbortController>();
  const s3 = options.s3 ?? new S3Store();
  const batch = createBatchJobs({ catalog, control, s3, clock, seed });
  const plane = createControlPlane({
    catalog,
    control,
    batch,
    ...(options.controlPlane ? { options: options.controlPlane } : {}),
  });

  const answer = async (r: Route, req: AnyRequest, res: AnyResponse, reply: Reply, startedMs: number) => {
    const body = await readBody(req);
    if (body === 'too_large') return sendError(reply, BODY_TOO_LARGE);
    // An application inference profile is served by the model or profile it was made from.
    const call = prepareCall({ ...r, modelId: plane.target(r.modelId) }, body, control, catalog);
    if ('error' in call) {
      logger.debug({ model: r.modelId, operation: r.operation, error: call.error.name }, 'call refused');
      control.record(call.ctx, 'client_error', { inputTokens: 0, outputTokens: 0 });
      return call.inStream ? sendStreamRefusal(reply, call.error) : sendError(reply, call.error);
    }
    const gone = new AbortController();
    // Aborting builds a DOMException: only a client that leaves before the answer is worth one.
    const left = (): void => gone.abort();
    inFlight.add(gone);
    res.once('close', left);
    try {
      await respond(call, { reply, signal: gone.signal, startedMs }, { control, seed, clock });
    } finally {
      res.off('close', left);
      inFlight.delete(gone);
    }
  };

  const handle = (req: AnyRequest, res: AnyResponse): void => {
    const url = req.url ?? '/';
    if (url.startsWith('/_sim/') || url === '/_sim') {
      if (adminHandler) {
        (async () => adminHandler(req, res))().catch((e: unknown) => failed(e, newReply(res)));
      } else sendJson(newReply(res), 404, { message: 'No admin API on this simulator' });
      return;
    }
    const startedMs = clock.now();
    const reply = newReply(res);
    // S3 is told apart by the service the request is signed for, not by its path: a bucket
    // called `model` must not reach the runtime's routes.
    if (isS3Request(req)) {
      handleS3(req, reply, { store: s3, region: signedRegion }).catch((e: unknown) => failed(e, reply));
      return;
    }
    const r = req.method === 'POST' ? route(url) : undefined;
    if (!req.headers.authorization) sendMissingAuth(reply);
    else if (!r && plane.handle(req, reply)) return;
    else if (!r)
      sendRawError(reply, 404, 'UnknownOperationException', `No operation at ${req.method} ${url}`);
    else answer(r, req, res, reply, startedMs).catch((e: unknown) => failed(e, reply));
  };

  const failed = (e: unknown, reply: Reply): void => {
    if (reply.res.headersSent || reply.res.destroyed) {
      logger.debug({ err: e }, 'request ended early');
      reply.res.destroy();
      return;
    }
    logger.error({ err: e }, 'simulator request failed');
    sendError(reply, simError('InternalServerException', 'Internal server error'));
  };

  const listener = createDualListener(handle);
  await new Promise<void>((resolve, reject) => {
    listener.server.once('error', reject);
    listener.server.listen(port, host, () => {
      listener.server.off('error', reject);
      resolve();
    });
  });
  const bound = (listener.server.address() as AddressInfo).port;
  logger.info({ port: bound, host }, 'simulator listening');
  let closing: Promise<void> | undefined;
  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${bound}`,
    port: bound,
    close() {
      closing ??= (async () => {
        for (const gone of inFlight) gone.abort();
        await batch.close();
        await listener.close();
      })();
      return closing;
    },
  };
}
