import { type Clock, monotonicClock } from '../clock.js';
import { ModelCatalog } from '../models/catalog.js';
import { inferFamily, parseModelId } from '../models/model-id.js';
import { createRandom, deriveSeed, type Random } from '../random.js';
import {
  type AdminApi,
  AdminError,
  type AdminHandler,
  type AdminStats,
  createAdminHandler,
  type ModelView,
} from './admin.js';
import { planBatch } from './batch-faults.js';
import { type BatchLimits, BatchTimingSchema, batchLimits } from './batch-profile.js';
import { BatchStats } from './batch-stats.js';
import type { BatchControl, CallContext, ModelState, SimulatorControl } from './control.js';
import { decideFault } from './fault-effects.js';
import { batchRulesFor, type CompiledFault, compileFault, unseenShare } from './fault-match.js';
import { FaultRuleSchema } from './fault-rule.js';
import { callLatency } from './latency.js';
import {
  formatIssues,
  type ModelOverride,
  ModelOverrideSchema,
  type Profile,
  ProfileError,
  ProfileSchema,
} from './profiles.js';
import { type QuotaLimits, Quotas, quotaKey } from './quota.js';
import { SimStats } from './stats.js';

export type { AdminApi, AdminHandler } from './admin.js';

/** Options of {@link createControl}; explicit options win over the profile's. */
export interface ControlOptions {
  /** Defaults to an empty profile: catalog quotas and latency, no faults. */
  profile?: Profile;
  /** Wins over the profile's seed; default 1. */
  seed?: number;
  /** Wins over the profile's time scale; default 1. */
  timeScale?: number;
  /**
   * Where quota refills, fault windows, stats and uptime take their time; real monotonic time
   * by default. Give the simulator's wire side the same clock.
   */
  clock?: Clock;
  catalog?: ModelCatalog;
}

/** The behaviour side: the {@link SimulatorControl} seam plus its admin API. */
export interface Behaviour extends SimulatorControl {
  /** This same control, for callers that pass the seam on its own. */
  control: SimulatorControl;
  admin: AdminApi;
  /** Serves `/_sim/*` for this control. */
  adminHandler: AdminHandler;
  seed: number;
  timeScale: number;
}

interface Resolved {
  state: ModelState;
  limits: QuotaLimits;
  batch: BatchLimits;
}

/** Profile `models` keyed by base id (aliases resolved), checked against the catalog. */
function normalizeModels(profile: Profile, catalog: ModelCatalog): Map<string, ModelOverride> {
  const out = new Map<string, ModelOverride>();
  const source = `profile ${profile.name ?? '(unnamed)'}`;
  for (const [key, override] of Object.entries(profile.models)) {
    if (key === '*') {
      out.set(key, override);
      continue;
    }
    const { baseId, geo } = parseModelId(key);
    if (geo)
      throw new ProfileError(
        `${source}: models["${key}"]: use the base id; a profile's quota is the base quota × profileMultiplier`,
      );
    const id = catalog.get(baseId)?.id ?? baseId;
    if (!catalog.get(id) && !inferFamily(id))
      throw new ProfileError(
        `${source}: models["${key}"]: not in the catalog and its family cannot be inferred`,
      );
    out.set(id, { ...out.get(id), ...override });
  }
  return out;
}

/**
 * Composes quotas, latency, faults and stats behind the simulator seam. Every decision uses
 * the injected clock and seeded random streams, so a run is reproducible from its seed.
 * @throws ProfileError when the profile names a model the simulator cannot know
 */
export function createControl(options: ControlOptions = {}): Behaviour {
  const profile = options.profile ?? ProfileSchema.parse({});
  const catalog = options.catalog ?? new ModelCatalog();
  const source = options.clock ?? monotonicClock;
  const clock = (): number => source.now();
  const seed = options.seed ?? profile.seed ?? 1;
  const timeScale = options.timeScale ?? profile.timeScale ?? 1;
  if (!(timeScale > 0 && Number.isFinite(timeScale)))
    throw new RangeError(`timeScale: must be a positive finite number, got ${timeScale}`);
  const faultRandom: Random = createRandom(deriveSeed(seed, 'faults'));
  const latencyRandom: Random = createRandom(deriveSeed(seed, 'latency'));
  const latencyOptions = { timeScale, jitter: profile.jitter, zero: profile.zeroLatency };
  const startedAt = clock();

  const profileModels = normalizeModels(profile, catalog);
  let runtimeModels = new Map<string, ModelOverride>();
  const canonical = (id: string): string => catalog.get(id)?.id ?? id;
  const profileFaults = (): CompiledFault[] =>
    profile.faults.map((rule, i) => compileFault(rule, `p${i + 1}`, 'profile', canonical));
  let runtimeFaults: CompiledFault[] = [];
  let activeProfileFaults = profileFaults();
  let faults: CompiledFault[] = activeProfileFaults;
  let nextFaultId = 1;
  const refreshFaults = (): void => {
    // Newest run-time rule first: the rule a test just added decides before older ones.
    faults = [...runtimeFaults, ...activeProfileFaults];
  };

  const cache = new Map<string, Resolved>();
  const resolve = (baseId: string): Resolved | undefined => {
    const hit = cache.get(baseId);
    if (hit) return hit;
    const listed = catalog.get(baseId);
    const id = listed?.id ?? baseId;
    const specific = profileModels.has(id) || runtimeModels.has(id);
    // Ids outside the catalog exist only when the profile or admin API names them.
    const info = listed ?? (specific ? catalog.resolve(id)?.info : undefined);
    if (!info) return undefined;
    const o = { ...profileModels.get('*'), ...profileModels.get(id), ...runtimeModels.get(id) };
    const resolved: Resolved = {
      state: {
        available: o.available ?? true,
        enabled: o.enabled ?? true,
        contextWindow: o.contextWindow ?? info.contextWindow,
        maxOutputTokens: o.maxOutputTokens ?? info.maxOutputTokens,
        firstTokenMs: o.firstTokenMs ?? info.firstTokenMs,
        tokensPerSecond: o.tokensPerSecond ?? info.tokensPerSecond,
      },
      limits: {
        rpm: o.rpm ?? info.rpm,
        tpm: o.tpm ?? info.tpm,
        ...(o.quotaWindowSeconds !== undefined ? { windowSeconds: o.quotaWindowSeconds } : {}),
        ...(o.quotaBurst !== undefined ? { burst: o.quotaBurst } : {}),
      },
      batch: batchLimits(info, {
        ...profileModels.get('*')?.batch,
        ...profileModels.get(id)?.batch,
        ...runtimeModels.get(id)?.batch,
      }),
    };
    cache.set(baseId, resolved);
    return resolved;
  };

  // The wire side checks the model before admitting; the fallback only guards misuse.
  const limits = (baseId: string): QuotaLimits => resolve(baseId)?.limits ?? { rpm: 1, tpm: 1 };
  const share = (ctx: Pick<CallContext, 'baseId' | 'geo' | 'modelId'>): number =>
    1 - unseenShare(faults, ctx, (clock() - startedAt) * timeScale);
  const quotas = new Quotas({
    clock,
    timeScale,
    profileMultiplier: profile.profileMultiplier,
    limits,
    share,
  });
  const stats = new SimStats({ clock, timeScale, startedAt });
  const batchStats = new BatchStats();
  const batch: BatchControl = {
    timeScale,
    timing: profile.batch ?? BatchTimingSchema.parse({}),
    // The wire side checks the model first; the fallback only guards misuse.
    limits: (baseId) => resolve(baseId)?.batch ?? batchLimits({ batchInference: false }),
    plan: (job) =>
      planBatch(batchRulesFor(faults, job, (clock() - startedAt) * timeScale), job.jobName, seed),
    job: (key, event) => batchStats.job(key, event),
    records: (key, counts) => batchStats.records(key, counts),
  };

  const control: SimulatorControl = {
    model: (baseId) => resolve(baseId)?.state,
    admit(ctx) {
      const admission = quotas.admit(ctx);
      if (admission.ok) stats.admitted(admission.reservation.key);
      return admission;
    },
    settle: (reservation, actualTokens) => quotas.settle(reservation, actualTokens),
    fault(ctx: CallContext) {
      const simulatedMs = (clock() - startedAt) * timeScale;
      const { decision, kind } = decideFault(faults, ctx, simulatedMs, timeScale, faultRandom);
      if (kind) stats.fault(quotaKey(ctx), kind);
      return decision;
    },
    latency(ctx) {
      const state = resolve(ctx.baseId)?.state;
      return state ? callLatency(state, latencyOptions, latencyRandom) : { firstTokenMs: 0, perTokenMs: 0 };
    },
    record: (ctx, outcome, usage) => stats.record(quotaKey(ctx), outcome, usage),
    batch,
  };

  const view = (id: string): ModelView | undefined => {
    const base = canonical(parseModelId(id).baseId);
    const resolved = resolve(base);
    if (!resolved) return undefined;
    return {
      id: base,
      state: { ...resolved.state },
      quota: quotas.limitsFor({ baseId: base }),
      profileQuota: quotas.limitsFor({ baseId: base, geo: 'us' }),
    };
  };

  const admin: AdminApi = {
    addFault(input) {
      const parsed = FaultRuleSchema.safeParse(input);
      if (!parsed.success) throw new AdminError(400, formatIssues(parsed.error).join('; '));
      const id = `f${nextFaultId++}`;
      runtimeFaults = [compileFault(parsed.data, id, 'runtime', canonical), ...runtimeFaults];
      refreshFaults();
      return id;
    },
    removeFault(id) {
      const before = runtimeFaults.length + activeProfileFaults.length;
      runtimeFaults = runtimeFaults.filter((f) => f.id !== id);
      activeProfileFaults = activeProfileFaults.filter((f) => f.id !== id);
      refreshFaults();
      return runtimeFaults.length + activeProfileFaults.length < before;
    },
    clearFaults() {
      const removed = faults.length;
      runtimeFaults = [];
      activeProfileFaults = [];
      refreshFaults();
      return removed;
    },
    faults: () => faults.map(({ id, source, rule }) => ({ id, source, rule })),
    setModel(id, override) {
      const { baseId, geo } = parseModelId(id);
      if (geo)
        throw new AdminError(
          400,
          `model ${id}: use the base id; profile quotas follow it × profileMultiplier`,
        );
      const base = canonical(baseId);
      if (!catalog.get(base) && !inferFamily(base)) throw new AdminError(404, `unknown model ${id}`);
      const parsed = ModelOverrideSchema.safeParse(override);
      if (!parsed.success) throw new AdminError(400, formatIssues(parsed.error).join('; '));
      runtimeModels = new Map(runtimeModels).set(base, { ...runtimeModels.get(base), ...parsed.data });
      cache.clear();
      return view(base)!;
    },
    model: view,
    stats: (): AdminStats => ({ ...stats.snapshot(), quotas: quotas.levels(), batch: batchStats.snapshot() }),
    resetStats: () => {
      stats.reset();
      batchStats.reset();
    },
    reset() {
      runtimeFaults = [];
      activeProfileFaults = profileFaults();
      refreshFaults();
      runtimeModels = new Map();
      cache.clear();
      quotas.reset();
      stats.reset();
      batchStats.reset();
    },
    health: () => ({
      ok: true,
      profile: profile.name ?? null,
      seed,
      timeScale,
      uptimeMs: Math.round(clock() - startedAt),
      simulatedMs: Math.round((clock() - startedAt) * timeScale),
    }),
  };

  return { ...control, control, admin, adminHandler: createAdminHandler(admin), seed, timeScale };
}
