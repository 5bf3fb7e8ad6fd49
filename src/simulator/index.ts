import type { Clock } from '../clock.js';
import type { Logger } from '../log.js';
import type { AdminApi } from './admin.js';
import { createControl } from './behaviour.js';
import type { ControlPlaneOptions } from './control-plane.js';
import { loadProfile, type Profile } from './profiles.js';
import { type RunningSimulator, startSimulator } from './server.js';

export { AdminError, type AdminStats, type ModelView } from './admin.js';
export type { BatchFault } from './batch-faults.js';
export type { BatchLimits, BatchLimitsOverride, BatchTiming } from './batch-profile.js';
export type { BatchModelStats, BatchStatsSnapshot } from './batch-stats.js';
export {
  type AdminApi,
  type AdminHandler,
  type Behaviour,
  type ControlOptions,
  createControl,
} from './behaviour.js';
export {
  type BatchControl,
  type CallContext,
  type FaultDecision,
  type ModelState,
  SIM_ERRORS,
  type SimError,
  type SimulatorControl,
  simError,
} from './control.js';
export type { ControlPlaneOptions } from './control-plane.js';
export type { ActiveFault, FaultRule, FaultRuleInput } from './fault-rule.js';
export { loadProfile, type Profile, ProfileError, type ProfileInput, ProfileSchema } from './profiles.js';
export {
  type RunningSimulator,
  type SimulatorOptions,
  SimulatorOptionsSchema,
  startSimulator,
} from './server.js';

export interface ProfileRunOptions {
  /** 0 (default) picks a free port. */
  port?: number;
  host?: string;
  /** A shipped profile name (`steady`, `zero`, ...), a YAML/JSON file, or a parsed profile. */
  profile?: string | Profile;
  seed?: number;
  timeScale?: number;
  /**
   * One clock for quotas, fault windows, stats and latency waits; real monotonic time by
   * default. Tests pass a `ManualClock` to freeze or step the simulator's time.
   */
  clock?: Clock;
  logger?: Logger;
  /** How the `bedrock` control plane answers; `{ access: 'denied' }` refuses every call. */
  controlPlane?: ControlPlaneOptions;
}

/** A simulator run from a profile, with the in-process admin API of its behaviour side. */
export interface ProfileSimulator extends RunningSimulator {
  admin: AdminApi;
}

/**
 * Starts the simulator with a profile by name or file, e.g.
 * `await startSimulatorWithProfile({ profile: 'primary-outage', timeScale: 10 })`: the
 * profile's behaviour side behind the wire side, and `/_sim/*` served by its admin API.
 * @throws ProfileError naming the file and field of a bad profile
 */
export async function startSimulatorWithProfile(options: ProfileRunOptions = {}): Promise<ProfileSimulator> {
  const profile = typeof options.profile === 'string' ? loadProfile(options.profile) : options.profile;
  const behaviour = createControl({
    ...(profile ? { profile } : {}),
    ...(options.seed !== undefined ? { seed: options.seed } : {}),
    ...(options.timeScale !== undefined ? { timeScale: options.timeScale } : {}),
    ...(options.clock ? { clock: options.clock } : {}),
  });
  const sim = await startSimulator({
    control: behaviour.control,
    adminHandler: behaviour.adminHandler,
    seed: behaviour.seed,
    ...(options.port !== undefined ? { port: options.port } : {}),
    ...(options.host !== undefined ? { host: options.host } : {}),
    ...(options.clock ? { clock: options.clock } : {}),
    ...(options.logger ? { logger: options.logger } : {}),
    ...(options.controlPlane ? { controlPlane: options.controlPlane } : {}),
  });
  return { url: sim.url, port: sim.port, close: () => sim.close(), admin: behaviour.admin };
}
