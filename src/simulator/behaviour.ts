import { randomUUID } from 'node:crypto';
import { ModelCatalog } from '../models/catalog.js';
import type { CallContext, ModelState, SimulatorControl } from './control.js';
import { decideFault, type FaultRule, type FaultRuleInput, FaultRuleSchema } from './faults.js';
import { hash32 } from './generate.js';
import { type ModelOverride, ModelOverrideSchema, type Profile, ProfileSchema } from './profiles.js';
import { QuotaBook } from './quota.js';
import { SimStats } from './stats.js';

/** Seeded uniform random in [0, 1) (mulberry32). */
export function seededRandom(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** In-process control of a running simulator, for tests and the `/_sim/` endpoints. */
export interface AdminApi {
  addFault(rule: FaultRuleInput): string;
  removeFault(id: string): boolean;
  clearFaults(): void;
  faults(): (FaultRule & { id: string })[];
  setModel(baseId: string, override: ModelOverride): void;
  stats(): ReturnType<SimStats['snapshot']>;
  /** Quotas refilled, stats zeroed, run-time faults and overrides removed. */
  reset(): void;
}

export interface ControlOptions {
  profile?: Profile;
  seed?: number;
  timeScale?: number;
  clock?: () => number;
  catalog?: ModelCatalog;
}

export interface Behaviour {
  control: SimulatorControl;
  admin: AdminApi;
  seed: number;
}

/** Composes quotas, latency, faults and stats behind the {@link SimulatorControl} seam. */
export function createControl(options: ControlOptions = {}): Behaviour {
  const profile = options.profile ?? ProfileSchema.parse({});
  const catalog = options.catalog ?? new ModelCatalog();
  const clock = options.clock ?? (() => performance.now());
  const seed = options.seed ?? profile.seed ?? 1;
  const timeScale = options.timeScale ?? profile.timeScale ?? 1;
  const rand = seededRandom(seed);
  const started = clock();
  const stats = new SimStats();
  let runtimeModels: Record<string, ModelOverride> = {};
  let runtimeFaults: (FaultRule & { id: string })[] = [];
  const profileFaults = profile.faults;

  const model = (baseId: string): ModelState | undefined => {
    const info = catalog.get(baseId);
    const o = { ...profile.models[baseId], ...runtimeModels[baseId] };
    if (!info && Object.keys(o).length === 0) return undefined;
    const base = info ?? catalog.resolve(baseId)?.info;
    if (!base) return undefined;
    return {
      enabled: o.enabled ?? true,
      contextWindow: o.contextWindow ?? base.contextWindow,
      maxOutputTokens: o.maxOutputTokens ?? base.maxOutputTokens,
      firstTokenMs: o.firstTokenMs ?? base.firstTokenMs,
      tokensPerSecond: o.tokensPerSecond ?? base.tokensPerSecond,
    };
  };
  const limits = (baseId: string) => {
    const info = catalog.get(baseId) ?? catalog.resolve(baseId)?.info;
    const o = { ...profile.models[baseId], ...runtimeModels[baseId] };
    return { rpm: o.rpm ?? info?.rpm ?? 100, tpm: o.tpm ?? info?.tpm ?? 100_000 };
  };
  const quotas = new QuotaBook({ timeScale, profileMultiplier: profile.profileMultiplier, limits, clock });

  const jittered = (ms: number, ctx: CallContext): number => {
    if (profile.jitter === 0) return ms;
    // Jitter from the prompt hash keeps runs reproducible whatever the call order.
    const r = (hash32(ctx.promptText.slice(0, 256), seed) % 10_000) / 10_000;
    return ms * (1 - profile.jitter + 2 * profile.jitter * r);
  };

  const control: SimulatorControl = {
    model,
    admit: (ctx) => quotas.admit(ctx),
    settle: (reservation, actual) => quotas.settle(reservation, actual),
    fault(ctx) {
      const elapsed = (clock() - started) * timeScale;
      const decision = decideFault([...runtimeFaults, ...profileFaults], ctx, elapsed, rand);
      return decision.type === 'hang' && decision.afterMs !== undefined
        ? { type: 'hang', afterMs: decision.afterMs / timeScale }
        : decision;
    },
    latency(ctx) {
      const state = model(ctx.baseId);
      if (profile.zeroLatency || !state) return { firstTokenMs: 0, perTokenMs: 0 };
      return {
        firstTokenMs: jittered(state.firstTokenMs, ctx) / timeScale,
        perTokenMs: jittered(1000 / state.tokensPerSecond, ctx) / timeScale,
      };
    },
    record: (ctx, outcome, usage) => stats.record(ctx, outcome, usage),
  };

  const admin: AdminApi = {
    addFault(input) {
      const id = randomUUID();
      runtimeFaults = [{ ...FaultRuleSchema.parse(input), id }, ...runtimeFaults];
      return id;
    },
    removeFault(id) {
      const before = runtimeFaults.length;
      runtimeFaults = runtimeFaults.filter((f) => f.id !== id);
      return runtimeFaults.length < before;
    },
    clearFaults() {
      runtimeFaults = [];
    },
    faults: () => [...runtimeFaults],
    setModel(baseId, override) {
      runtimeModels = {
        ...runtimeModels,
        [baseId]: { ...runtimeModels[baseId], ...ModelOverrideSchema.parse(override) },
      };
      quotas.reset();
    },
    stats: () => stats.snapshot(),
    reset() {
      runtimeFaults = [];
      runtimeModels = {};
      quotas.reset();
      stats.reset();
    },
  };
  return { control, admin, seed };
}
