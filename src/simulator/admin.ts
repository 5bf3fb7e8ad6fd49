import type { BatchStatsSnapshot } from './batch-stats.js';
import type { ModelState } from './control.js';
import { type ActiveFault, type FaultRule, type FaultRuleInput, FaultRuleSchema } from './fault-rule.js';
import type { AnyRequest, AnyResponse } from './listener.js';
import { formatIssues, type ModelOverride, ModelOverrideSchema } from './profiles.js';
import type { QuotaLimits } from './quota.js';
import type { StatsSnapshot } from './stats.js';
import { newReply, readBody, sendJson } from './wire.js';

/** Bad input to the admin API; `status` is what the HTTP handler answers. */
export class AdminError extends Error {
  override readonly name = 'AdminError';
  constructor(
    readonly status: 400 | 404,
    message: string,
  ) {
    super(message);
  }
}

/** One model as the simulator sees it now: state, on-demand and cross-region quotas. */
export interface ModelView {
  id: string;
  state: ModelState;
  quota: QuotaLimits;
  profileQuota: QuotaLimits;
}

/** `GET /_sim/stats`: the counters and what each quota bucket holds. */
export interface AdminStats extends StatsSnapshot {
  /** What each quota key's buckets hold now (requests, tokens). */
  quotas: Record<string, { requests: number; tokens: number }>;
  /** Model invocation jobs created and ended per model, and the records they answered. */
  batch: BatchStatsSnapshot;
}

/** In-process control of a running simulator, for tests; `/_sim/` is the same over HTTP. */
export interface AdminApi {
  /**
   * Adds a run-time fault rule; it is checked before older rules and the profile's.
   * @returns its id, for {@link AdminApi.removeFault}
   * @throws AdminError naming the bad field
   */
  addFault(rule: FaultRuleInput): string;
  removeFault(id: string): boolean;
  /** Removes every fault rule, the profile's too (until {@link AdminApi.reset}); returns how many. */
  clearFaults(): number;
  faults(): ActiveFault[];
  /**
   * Changes a model at run time (base id or alias), e.g. `{ enabled: false }` or a new `rpm`.
   * @throws AdminError (404) for a model the simulator does not know
   */
  setModel(id: string, override: ModelOverride): ModelView;
  model(id: string): ModelView | undefined;
  stats(): AdminStats;
  resetStats(): void;
  /** Back to how the profile started: quotas full, stats zero, run-time faults and model changes gone. */
  reset(): void;
  health(): Record<string, unknown>;
}

/** A handler for `/_sim/*` requests; never rejects. */
export type AdminHandler = (req: AnyRequest, res: AnyResponse) => Promise<void>;

const BODY_LIMIT = 1_000_000;

async function jsonBody(req: AnyRequest): Promise<unknown> {
  const body = await readBody(req, BODY_LIMIT);
  if (body === 'too_large') throw new AdminError(400, `body: larger than ${BODY_LIMIT} bytes`);
  if (body.length === 0) return undefined;
  try {
    return JSON.parse(body.toString('utf8'));
  } catch (e) {
    throw new AdminError(400, `body: not JSON (${(e as Error).message})`);
  }
}

/** Validates one rule or an array of them, all before any is added. */
function parseFaults(body: unknown): FaultRule[] {
  if (body === undefined) throw new AdminError(400, 'body: expected a fault rule or an array of fault rules');
  const items = Array.isArray(body) ? body : [body];
  return items.map((item, i) => {
    const parsed = FaultRuleSchema.safeParse(item);
    if (parsed.success) return parsed.data;
    throw new AdminError(400, formatIssues(parsed.error, Array.isArray(body) ? [i] : []).join('; '));
  });
}

function parseOverride(body: unknown): ModelOverride {
  const parsed = ModelOverrideSchema.safeParse(body ?? {});
  if (!parsed.success) throw new AdminError(400, formatIssues(parsed.error).join('; '));
  return parsed.data;
}

type Answer = [status: number, body: unknown];
type Route = (admin: AdminApi, req: AnyRequest, url: URL, param: string) => Promise<Answer> | Answer;

const ROUTES: readonly { path: RegExp; method: string; run: Route }[] = [
  { path: /^\/_sim\/health$/, method: 'GET', run: (admin) => [200, admin.health()] },
  {
    path: /^\/_sim\/stats$/,
    method: 'GET',
    run: (admin, _req, url) => {
      const snapshot = admin.stats();
      if (url.searchParams.get('reset') === '1') admin.resetStats();
      return [200, snapshot];
    },
  },
  {
    path: /^\/_sim\/reset$/,
    method: 'POST',
    run: (admin) => {
      admin.reset();
      return [200, { ok: true }];
    },
  },
  { path: /^\/_sim\/faults$/, method: 'GET', run: (admin) => [200, { faults: admin.faults() }] },
  {
    path: /^\/_sim\/faults$/,
    method: 'POST',
    run: async (admin, req) => [201, { ids: parseFaults(await jsonBody(req)).map((r) => admin.addFault(r)) }],
  },
  { path: /^\/_sim\/faults$/, method: 'DELETE', run: (admin) => [200, { removed: admin.clearFaults() }] },
  {
    path: /^\/_sim\/faults\/([^/]+)$/,
    method: 'DELETE',
    run: (admin, _req, _url, id) =>
      admin.removeFault(id) ? [200, { removed: 1 }] : [404, { error: `no fault rule with id ${id}` }],
  },
  {
    path: /^\/_sim\/models\/([^/]+)$/,
    method: 'GET',
    run: (admin, _req, _url, id) => {
      const view = admin.model(id);
      return view ? [200, view] : [404, { error: `unknown model ${id}` }];
    },
  },
  {
    path: /^\/_sim\/models\/([^/]+)$/,
    method: 'POST',
    run: async (admin, req, _url, id) => [200, admin.setModel(id, parseOverride(await jsonBody(req)))],
  },
];

async function answer(admin: AdminApi, req: AnyRequest): Promise<Answer> {
  const url = new URL(req.url ?? '/', 'http://simulator');
  const method = req.method ?? 'GET';
  let pathMatched = false;
  for (const route of ROUTES) {
    const m = route.path.exec(url.pathname);
    if (!m) continue;
    pathMatched = true;
    if (route.method !== method) continue;
    let param = '';
    try {
      param = decodeURIComponent(m[1] ?? '');
    } catch {
      return [400, { error: `path: ${url.pathname} is not valid URL encoding` }];
    }
    return await route.run(admin, req, url, param);
  }
  return pathMatched
    ? [405, { error: `${method} is not supported on ${url.pathname}` }]
    : [404, { error: `no simulator admin route ${method} ${url.pathname}` }];
}

/**
 * The simulator's own endpoints under `/_sim/` (the wire side forwards them here):
 * `GET /_sim/health`, `GET /_sim/stats[?reset=1]`, `POST /_sim/reset`,
 * `GET|POST|DELETE /_sim/faults`, `DELETE /_sim/faults/:id`, `GET|POST /_sim/models/:id`.
 * Bad input answers 4xx with `{ error }` naming the field.
 */
export function createAdminHandler(admin: AdminApi): AdminHandler {
  return async (req, res) => {
    const reply = newReply(res);
    try {
      const [status, body] = await answer(admin, req);
      sendJson(reply, status, body);
    } catch (e) {
      if (e instanceof AdminError) sendJson(reply, e.status, { error: e.message });
      else sendJson(reply, 500, { error: `simulator admin failed: ${(e as Error).message}` });
    }
  };
}
