import { EventEmitter, once } from 'node:events';
import { BedrockRuntimeClient } from '@aws-sdk/client-bedrock-runtime';
import { ModelCatalog } from '../../src/models/catalog.js';
import type {
  Admission,
  CallContext,
  CallOutcome,
  FaultDecision,
  ModelState,
  SimulatorControl,
} from '../../src/simulator/control.js';

/** One `record` call the simulator made. */
export interface Recorded {
  ctx: CallContext;
  outcome: CallOutcome;
  usage: { inputTokens: number; outputTokens: number };
}

export interface TestControl extends SimulatorControl {
  records: Recorded[];
  settled: { key: string; actualTokens: number }[];
  /** Resolves with the next call the simulator records. */
  nextRecord(): Promise<Recorded>;
}

export interface TestControlOptions {
  /** Per-model changes on top of the catalog, by base id. */
  models?: Record<string, Partial<ModelState>>;
  admit?: (ctx: CallContext) => Admission;
  fault?: (ctx: CallContext) => FaultDecision;
  latency?: (ctx: CallContext, outputTokens: number) => { firstTokenMs: number; perTokenMs: number };
}

/**
 * A behaviour side that allows everything at zero latency (or what the options say), and
 * remembers what the wire side told it: the simulator's wire tests need no quotas or faults.
 */
export function testControl(options: TestControlOptions = {}): TestControl {
  const catalog = new ModelCatalog();
  const records: Recorded[] = [];
  const settled: { key: string; actualTokens: number }[] = [];
  const events = new EventEmitter();
  let n = 0;
  return {
    records,
    settled,
    async nextRecord() {
      const [r] = (await once(events, 'record')) as [Recorded];
      return r;
    },
    model(baseId) {
      const info = catalog.resolve(baseId)?.info;
      if (!info) return undefined;
      return {
        available: true,
        enabled: true,
        contextWindow: info.contextWindow,
        maxOutputTokens: info.maxOutputTokens,
        firstTokenMs: info.firstTokenMs,
        tokensPerSecond: info.tokensPerSecond,
        ...options.models?.[baseId],
      };
    },
    admit(ctx) {
      if (options.admit) return options.admit(ctx);
      n += 1;
      return {
        ok: true,
        reservation: { key: `r${n}`, reservedTokens: ctx.inputTokens + ctx.maxOutputTokens },
      };
    },
    settle(reservation, actualTokens) {
      settled.push({ key: reservation.key, actualTokens });
    },
    fault(ctx) {
      return options.fault ? options.fault(ctx) : { type: 'none' };
    },
    latency(ctx, outputTokens) {
      return options.latency ? options.latency(ctx, outputTokens) : { firstTokenMs: 0, perTokenMs: 0 };
    },
    record(ctx, outcome, usage) {
      const r = { ctx, outcome, usage };
      records.push(r);
      events.emit('record', r);
    },
  };
}

/** The real SDK with its default (HTTP/2) handler, dummy credentials and no retries. */
export function sdkClient(endpoint: string): BedrockRuntimeClient {
  return new BedrockRuntimeClient({
    region: 'us-east-1',
    endpoint,
    maxAttempts: 1,
    credentials: { accessKeyId: 'AKIDTEST', secretAccessKey: 'test-secret' },
  });
}
