import { BedrockModelClient, createBedrockRuntime } from '../bedrock/client.js';
import { BedrockControlPlane, ControlPlaneUnreachable } from '../bedrock/control-plane.js';
import { checkModelAccess, type ModelAccess } from '../bedrock/model-access.js';
import { CallAborted } from '../bedrock/types.js';
import type { Config } from '../config.js';
import type { ModelCatalog } from '../models/catalog.js';
import { isModelError, type ModelErrorKind } from '../models/errors.js';
import type { ModelRequest } from '../models/request.js';

/** `models --check`: what the control plane says of every catalog model and every chain entry. */
export interface CheckReport {
  region: string;
  status: 'checked' | 'unreachable';
  reason?: string;
  /** By catalog base id. */
  models: Record<string, ModelAccess>;
  /** Each chain's entries, as written, in order. */
  chains: Record<string, ModelAccess[]>;
}

/** Asks the control plane about the catalog's base ids and each chain entry as written. */
export async function checkAccess(config: Config, catalog: ModelCatalog): Promise<CheckReport> {
  const plane = new BedrockControlPlane({
    region: config.region,
    ...(config.endpoint ? { endpoint: config.endpoint } : {}),
  });
  const base = { region: config.region, models: {}, chains: {} };
  try {
    const chainIds = Object.values(config.chains).flat();
    const all = await checkModelAccess(plane, catalog, [...catalog.list().map((m) => m.id), ...chainIds]);
    const byId = new Map(all.map((a) => [a.id, a]));
    return {
      ...base,
      status: 'checked',
      models: Object.fromEntries(catalog.list().map((m) => [m.id, byId.get(m.id)!])),
      chains: Object.fromEntries(
        Object.entries(config.chains).map(([name, ids]) => [name, ids.map((id) => byId.get(id)!)]),
      ),
    };
  } catch (e) {
    if (e instanceof ControlPlaneUnreachable) return { ...base, status: 'unreachable', reason: e.message };
    throw e;
  } finally {
    plane.close();
  }
}

/** One probe call's outcome: `ok` or the error kind Bedrock's answer was classified as. */
export interface ProbeResult {
  chain: string;
  /** As written in the chain. */
  id: string;
  requestId: string;
  outcome: 'ok' | ModelErrorKind;
  httpStatus?: number;
  latencyMs: number;
}

/** The smallest call a model takes: one short user turn, one output token. */
const PROBE: ModelRequest = {
  messages: [{ role: 'user', content: 'Reply with OK.' }],
  params: { maxTokens: 1 },
};

/**
 * `models --probe`: one minimal InvokeModel call per model of each configured chain, once per
 * distinct id, through the real runtime client with no retries.
 */
export async function probeChains(config: Config, catalog: ModelCatalog): Promise<ProbeResult[]> {
  const client = new BedrockModelClient(
    createBedrockRuntime({
      region: config.region,
      ...(config.endpoint ? { endpoint: config.endpoint } : {}),
    }),
  );
  const seen = new Map<string, Promise<Omit<ProbeResult, 'chain' | 'id'>>>();
  const probe = (id: string): Promise<Omit<ProbeResult, 'chain' | 'id'>> => {
    const model = catalog.resolve(id);
    if (!model) return Promise.resolve({ requestId: id, outcome: 'invalid_request', latencyMs: 0 });
    let found = seen.get(model.requestId);
    if (!found) {
      const started = performance.now();
      const controller = new AbortController();
      const timer = setTimeout(() => controller.abort(new CallAborted('timeout')), config.policy.timeoutMs);
      found = client
        .invoke(model, PROBE, { api: 'invoke', signal: controller.signal })
        .then(
          (reply) => ({ requestId: model.requestId, outcome: 'ok' as const, latencyMs: reply.latencyMs }),
          (e: unknown) => ({
            requestId: model.requestId,
            outcome: isModelError(e) ? e.kind : ('internal' as const),
            ...(isModelError(e) && e.httpStatus ? { httpStatus: e.httpStatus } : {}),
            latencyMs: Math.round(performance.now() - started),
          }),
        )
        .finally(() => clearTimeout(timer));
      seen.set(model.requestId, found);
    }
    return found;
  };
  try {
    const jobs = Object.entries(config.chains).flatMap(([chain, ids]) =>
      ids.map(async (id) => ({ chain, id, ...(await probe(id)) })),
    );
    return await Promise.all(jobs);
  } finally {
    client.close();
  }
}

const where = (a: ModelAccess): string =>
  a.profile
    ? `  → ${a.profile.regions.join(', ')}${a.profile.type === 'APPLICATION' ? ' (application profile)' : ''}`
    : '';

const verdict = (a: ModelAccess): string =>
  `${a.status}${a.lifecycle && a.lifecycle !== 'ACTIVE' ? ` (${a.lifecycle})` : ''}${a.reason ? `: ${a.reason}` : ''}`;

/** `models --check` for people: the catalog's access, then each chain in order. */
export function describeCheck(report: CheckReport, endpoint: string | undefined): string[] {
  const lines = [`control plane of ${report.region}${endpoint ? ` at ${endpoint}` : ''}:`];
  if (report.status === 'unreachable') return [...lines, `  not reachable (${report.reason})`];
  for (const a of Object.values(report.models)) lines.push(`  ${a.id.padEnd(44)} ${verdict(a)}`);
  for (const [name, entries] of Object.entries(report.chains)) {
    lines.push(`chain ${name}:`);
    for (const [i, a] of entries.entries()) lines.push(`  ${i + 1}. ${a.id}  ${verdict(a)}${where(a)}`);
  }
  return lines;
}

/** `models --probe` for people: one line per chain entry. */
export function describeProbes(probes: readonly ProbeResult[]): string[] {
  const lines = ['probe (one call per chain model, 1 output token):'];
  for (const p of probes)
    lines.push(
      `  ${p.chain}: ${p.id}  ${p.outcome}${p.httpStatus ? ` (HTTP ${p.httpStatus})` : ''}, ${p.latencyMs} ms`,
    );
  return lines;
}
