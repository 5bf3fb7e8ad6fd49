import type { ModelClient } from '../bedrock/types.js';
import type { Clock } from '../clock.js';
import type { Config } from '../config.js';
import { type PolicyConfig, policyFor } from '../config-policy.js';
import type { ResolvedModel } from '../models/catalog.js';
import { parseModelId } from '../models/model-id.js';
import type { Random } from '../random.js';
import type { BreakerRegistry } from './breaker.js';
import type { ResilienceEmitter } from './events.js';
import type { FleetBreakers } from './fleet-breaker.js';
import { ModelPolicy } from './policy.js';
import type { PolicyRuntime } from './policy-options.js';

/**
 * The policy settings of a model id as sent: that id's overrides in `config.models`, else
 * those of its base model (a profile `us.x` inherits the settings written for `x`).
 */
export function modelPolicyConfig(config: Config, modelId: string): PolicyConfig {
  return policyFor(config, config.models[modelId] ? modelId : parseModelId(modelId).baseId);
}

export interface PolicyRegistryOptions {
  config: Config;
  client: ModelClient;
  breakers: BreakerRegistry;
  clock: Clock;
  rand: Random;
  /** Defaults to the breakers' bus, so one listener sees everything. */
  events?: ResilienceEmitter;
  runtime?: Partial<PolicyRuntime>;
  /** Breaker state shared by the fleet. */
  fleet?: FleetBreakers;
}

/** The policies of one worker process, one per model id as sent, built on first use. */
export class PolicyRegistry {
  private readonly policies = new Map<string, ModelPolicy>();

  constructor(private readonly o: PolicyRegistryOptions) {}

  for(model: ResolvedModel): ModelPolicy {
    let policy = this.policies.get(model.requestId);
    if (!policy) {
      policy = new ModelPolicy({
        modelId: model.requestId,
        config: modelPolicyConfig(this.o.config, model.requestId),
        client: this.o.client,
        breaker: this.o.breakers.get(model.requestId),
        clock: this.o.clock,
        rand: this.o.rand,
        events: this.o.events ?? this.o.breakers.events,
        ...(this.o.runtime ? { runtime: this.o.runtime } : {}),
        ...(this.o.fleet ? { fleet: this.o.fleet } : {}),
      });
      this.policies.set(model.requestId, policy);
    }
    return policy;
  }
}
