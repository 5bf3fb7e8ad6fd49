import { afterAll, afterEach, beforeAll } from 'vitest';
import {
  type ProfileInput,
  ProfileSchema,
  type ProfileSimulator,
  startSimulatorWithProfile,
} from '../../src/simulator/index.js';

interface Closable {
  close(): Promise<void>;
}

export interface PipelineContext {
  /** The file's simulator; its faults, overrides and stats are reset after each test. */
  readonly sim: ProfileSimulator;
  /** Closes `thing` after the test, in reverse order of tracking (worker before producer). */
  track<T extends Closable>(thing: T): T;
}

/**
 * One zero-latency simulator per test file (the profile's fields on top), reset after every
 * test, plus whatever a test starts (workers, producers, APIs), closed after it. Call after
 * `useRedis()` so its key cleanup and leak check run once everything here is closed.
 */
export function usePipeline(profile: ProfileInput = {}): PipelineContext {
  let sim: ProfileSimulator | undefined;
  const open: Closable[] = [];
  beforeAll(async () => {
    sim = await startSimulatorWithProfile({
      profile: ProfileSchema.parse({ zeroLatency: true, jitter: 0, ...profile }),
    });
  });
  afterAll(async () => {
    await sim?.close();
  });
  afterEach(async () => {
    for (const thing of open.splice(0).reverse()) await thing.close();
    sim?.admin.reset();
  });
  return {
    get sim() {
      if (!sim) throw new Error('the simulator is only available inside tests of a usePipeline() file');
      return sim;
    },
    track(thing) {
      open.push(thing);
      return thing;
    },
  };
}
