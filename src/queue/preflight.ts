import { BedrockControlPlane, ControlPlaneUnreachable } from '../bedrock/control-plane.js';
import { checkModelAccess, type ModelAccess } from '../bedrock/model-access.js';
import { type Clock, systemClock } from '../clock.js';
import type { Config } from '../config.js';
import type { Logger } from '../log.js';
import type { ModelCatalog } from '../models/catalog.js';
import type { RedisClient } from '../redis/connect.js';
import type { Keys } from '../redis/keys.js';
import { type PreflightRecord, preflightTtlSeconds, writePreflight } from './preflight-record.js';

/** The IAM actions the preflight asks with; README.md, "Model access before a batch". */
export const PREFLIGHT_ACTIONS = [
  'bedrock:ListFoundationModels',
  'bedrock:GetFoundationModelAvailability',
  'bedrock:GetInferenceProfile',
] as const;

/** A `--strict` worker found a chain none of whose models the account may use. */
export class PreflightRefusal extends Error {
  override readonly name = 'PreflightRefusal';
}

export interface PreflightDeps {
  config: Config;
  catalog: ModelCatalog;
  redis: RedisClient;
  keys: Keys;
  logger: Logger;
  /** Refuse to start when a chain has no usable model (`worker --strict`). */
  strict?: boolean;
  /**
   * Times the refreshes: the real clock by default, not the worker's test clock, since a
   * refresh asks AWS again on a wall-clock cadence.
   */
  clock?: Clock;
  /** Asks the control plane; by default one for `config.region` and `config.endpoint`. */
  plane?: BedrockControlPlane;
}

/** What the worker keeps of its preflight while it runs. */
export interface Preflight {
  /** Ids as sent to Bedrock that chains skip without a call; refreshed in place. */
  readonly unusable: ReadonlySet<string>;
  /** Stops the refreshes and closes the control-plane client. Idempotent. */
  close(): Promise<void>;
}

const OFF: Preflight = { unusable: new Set(), close: async () => {} };

/** The chains that name `id`, as written. */
const chainsOf = (config: Config, id: string): string[] =>
  Object.entries(config.chains)
    .filter(([, ids]) => ids.includes(id))
    .map(([name]) => name);

/** Chains every entry of which the control plane calls unusable, with why. */
function deadChains(config: Config, models: readonly ModelAccess[]): string[] {
  const byId = new Map(models.map((m) => [m.id, m]));
  return Object.entries(config.chains)
    .filter(([, ids]) => ids.every((id) => byId.get(id)?.status === 'unusable'))
    .map(
      ([name, ids]) =>
        `chain "${name}": ${ids.map((id) => `${id} (${byId.get(id)?.reason ?? 'not usable'})`).join(', ')}`,
    );
}

/**
 * Asks the Bedrock control plane which models of the configured chains the account may use,
 * before the worker takes a job and then every `worker.preflightRefreshMs`. A model that is not
 * usable is logged once, naming its chains, and its id joins {@link Preflight.unusable}, which
 * the processor consults so jobs skip it without a call. The result is written to Redis for
 * `status`, `models` and `GET /v1/models`. When the control plane does not answer (no
 * permission, no network) it warns once and the worker runs without preflight.
 * @throws PreflightRefusal with `strict`, when a chain has no usable model
 */
export async function startPreflight(deps: PreflightDeps): Promise<Preflight> {
  const { config, catalog, logger } = deps;
  if (!config.worker.preflight) return OFF;

  const clock = deps.clock ?? systemClock;
  const plane =
    deps.plane ??
    new BedrockControlPlane({
      region: config.region,
      ...(config.endpoint ? { endpoint: config.endpoint } : {}),
    });
  const ids = [...new Set(Object.values(config.chains).flat())];
  const unusable = new Set<string>();
  /** Ids already warned about, with the reason given: a refresh warns again only when it changes. */
  const warned = new Map<string, string>();
  let unreachableWarned = false;
  const stop = new AbortController();
  const ttlSeconds = preflightTtlSeconds(config.worker.preflightRefreshMs);

  const check = async (): Promise<PreflightRecord> => {
    const base = { checkedAt: new Date().toISOString(), region: config.region, chains: config.chains };
    try {
      const models = await checkModelAccess(plane, catalog, ids, stop.signal);
      return { ...base, status: 'checked', models };
    } catch (e) {
      if (!(e instanceof ControlPlaneUnreachable)) throw e;
      return { ...base, status: 'unreachable', reason: e.message, models: [] };
    }
  };

  const apply = (record: PreflightRecord): void => {
    if (record.status === 'unreachable') {
      // The last answer stands until the control plane answers again.
      if (!unreachableWarned)
        logger.warn(
          { reason: record.reason, needs: PREFLIGHT_ACTIONS },
          `could not ask the Bedrock control plane which models the account may use (${record.reason}); running without preflight. It needs ${PREFLIGHT_ACTIONS.join(', ')}`,
        );
      unreachableWarned = true;
      return;
    }
    unreachableWarned = false;
    const now = new Set<string>();
    for (const m of record.models) {
      if (m.status !== 'unusable') continue;
      now.add(m.requestId);
      if (warned.get(m.id) === m.reason) continue;
      warned.set(m.id, m.reason ?? '');
      const chains = chainsOf(config, m.id);
      logger.warn(
        { model: m.id, chains, reason: m.reason },
        `chain ${chains.map((c) => `"${c}"`).join(', ')}: model ${m.id} is not usable, its jobs skip it without a call: ${m.reason}`,
      );
    }
    for (const id of unusable)
      if (!now.has(id)) logger.info({ model: id }, `model ${id} is usable again; chains call it again`);
    for (const m of record.models) if (m.status !== 'unusable') warned.delete(m.id);
    unusable.clear();
    for (const id of now) unusable.add(id);
  };

  const publish = async (record: PreflightRecord): Promise<void> => {
    await writePreflight(deps.redis, deps.keys, record, ttlSeconds).catch((err: unknown) =>
      logger.warn({ err }, 'could not write the preflight to Redis'),
    );
  };

  let first: PreflightRecord;
  try {
    first = await check();
  } catch (e) {
    plane.close();
    throw e;
  }
  apply(first);
  await publish(first);
  const dead = first.status === 'checked' ? deadChains(config, first.models) : [];
  if (deps.strict && dead.length > 0) {
    plane.close();
    throw new PreflightRefusal(
      `--strict: no model the account may use in ${dead.join('; ')}. Enable access to a model of the chain, change the chain, or start without --strict`,
    );
  }
  for (const d of dead)
    logger.warn(`${d}: no model of the chain is usable; its jobs will fail with Bedrock's own answers`);

  const loop = async (): Promise<void> => {
    for (;;) {
      try {
        await clock.sleep(config.worker.preflightRefreshMs, stop.signal);
      } catch {
        return; // closed
      }
      try {
        const record = await check();
        apply(record);
        await publish(record);
      } catch (err) {
        if (stop.signal.aborted) return;
        logger.warn({ err }, 'preflight refresh failed; the last answer stands');
      }
    }
  };
  const running = loop();
  let closing: Promise<void> | undefined;
  return {
    unusable,
    close() {
      closing ??= (async () => {
        stop.abort();
        await running;
        plane.close();
      })();
      return closing;
    },
  };
}
