export { type AdminApi, createControl } from './behaviour.js';
export type { SimulatorControl } from './control.js';
export type { FaultRuleInput } from './faults.js';
export { loadProfile, type Profile, ProfileError } from './profiles.js';
export { type RunningSimulator, type SimulatorOptions, startSimulator } from './server.js';
