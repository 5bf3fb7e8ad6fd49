import { loadProfile, type Profile } from './profiles.js';
import { type RunningSimulator, startSimulator } from './server.js';

export { AdminError, type AdminStats, type ModelView } from './admin.js';
export {
  type AdminApi,
  type AdminHandler,
  type Behaviour,
  type ControlOptions,
  createControl,
} from './behaviour.js';
export type { SimulatorControl } from './control.js';
export type { ActiveFault, FaultRule, FaultRuleInput } from './faults.js';
export { loadProfile, type Profile, ProfileError, type ProfileInput, ProfileSchema } from './profiles.js';
export { type RunningSimulator, type SimulatorOptions, startSimulator } from './server.js';

export interface ProfileRunOptions {
  /** 0 (default) picks a free port. */
  port?: number;
  /** A shipped profile name (`steady`, `zero`, ...), a YAML/JSON file, or a parsed profile. */
  profile?: string | Profile;
  seed?: number;
  timeScale?: number;
}

/**
 * Starts the simulator with a profile by name or file, e.g.
 * `await startSimulatorWithProfile({ profile: 'primary-outage', timeScale: 10 })`.
 * @throws ProfileError naming the file and field of a bad profile
 */
export function startSimulatorWithProfile(options: ProfileRunOptions = {}): Promise<RunningSimulator> {
  const profile = typeof options.profile === 'string' ? loadProfile(options.profile) : options.profile;
  return startSimulator({
    ...(options.port !== undefined ? { port: options.port } : {}),
    ...(profile ? { profile } : {}),
    ...(options.seed !== undefined ? { seed: options.seed } : {}),
    ...(options.timeScale !== undefined ? { timeScale: options.timeScale } : {}),
  });
}
