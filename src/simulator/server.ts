import type { AddressInfo } from 'node:net';
import { type Logger, silentLogger } from '../log.js';
import { ModelCatalog } from '../models/catalog.js';
import { createAdminHandler } from './admin.js';
import { type AdminApi, createControl } from './behaviour.js';
import type { SimulatorControl } from './control.js';
import { type AnyRequest, type AnyResponse, createDualListener } from './listener.js';
import { isSimError } from './native/validate.js';
import type { Profile } from './profiles.js';
import { prepareCall, route } from './routes.js';
import { serve } from './serve.js';
import { newReply, readBody, sendError, sendRawError } from './wire.js';

export interface SimulatorOptions {
  /** 0 (default) picks a free port. */
  port?: number;
  host?: string;
  profile?: Profile;
  seed?: number;
  timeScale?: number;
  /** Replaces the profile-driven behaviour entirely (tests of the wire side). */
  control?: SimulatorControl;
  catalog?: ModelCatalog;
  logger?: Logger;
}

export interface RunningSimulator {
  url: string;
  port: number;
  admin: AdminApi;
  close(): Promise<void>;
}

/**
 * Starts the Bedrock-Runtime-compatible simulator: HTTP/2 cleartext and HTTP/1.1 on one port.
 *
 * Requests must carry an `Authorization` header, as Bedrock requires, but SigV4 signatures
 * are not checked: any credentials work, so the real SDKs need only an endpoint override.
 */
export async function startSimulator(options: SimulatorOptions = {}): Promise<RunningSimulator> {
  const catalog = options.catalog ?? new ModelCatalog();
  const behaviour = createControl({
    catalog,
    ...(options.profile ? { profile: options.profile } : {}),
    ...(options.seed !== undefined ? { seed: options.seed } : {}),
    ...(options.timeScale !== undefined ? { timeScale: options.timeScale } : {}),
  });
  const control = options.control ?? behaviour.control;
  const adminHandler = createAdminHandler(behaviour.admin);
  const logger = options.logger ?? silentLogger;
  const closing = new AbortController();

  const handle = async (req: AnyRequest, res: AnyResponse): Promise<void> => {
    if (req.url?.startsWith('/_sim/')) return adminHandler(req, res);
    const reply = newReply(res);
    const r = req.method === 'POST' && req.url ? route(req.url) : undefined;
    if (!r)
      return sendRawError(
        reply,
        404,
        'UnknownOperationException',
        `No operation at ${req.method} ${req.url}`,
      );
    if (!req.headers.authorization)
      return sendRawError(reply, 403, 'MissingAuthenticationTokenException', 'Missing Authentication Token');
    const body = await readBody(req);
    if (body === 'too_large')
      return sendError(reply, {
        name: 'ValidationException',
        message: 'Input is too long for requested model.',
      });
    const call = prepareCall(r, body, control, catalog);
    if (isSimError(call)) {
      control.record(
        {
          modelId: r.modelId,
          baseId: r.modelId,
          operation: r.operation,
          inputTokens: 0,
          maxOutputTokens: 0,
          promptText: '',
        },
        'client_error',
        { inputTokens: 0, outputTokens: 0 },
      );
      return sendError(reply, call);
    }
    const gone = new AbortController();
    const abort = () => gone.abort();
    res.once('close', abort);
    closing.signal.addEventListener('abort', abort, { once: true });
    try {
      await serve(call, reply, gone.signal, { control, seed: behaviour.seed });
    } finally {
      closing.signal.removeEventListener('abort', abort);
    }
  };

  const listener = createDualListener((req, res) => {
    handle(req, res).catch((e: unknown) => {
      logger.error({ err: e }, 'simulator request failed');
      sendError(newReply(res), { name: 'InternalServerException', message: 'Internal server error' });
    });
  });
  await new Promise<void>((resolve, reject) => {
    listener.server.once('error', reject);
    listener.server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => resolve());
  });
  const port = (listener.server.address() as AddressInfo).port;
  let closed: Promise<void> | undefined;
  return {
    url: `http://${options.host ?? '127.0.0.1'}:${port}`,
    port,
    admin: behaviour.admin,
    close() {
      closed ??= (async () => {
        closing.abort();
        await listener.close();
      })();
      return closed;
    },
  };
}
