/**
 * bedrock-jobs as a library: what other Node services import to enqueue jobs and read
 * results, and what embeds a worker or the simulator in-process.
 */

export { signBody, type VerifyInput, verifySignature } from './callbacks/signature.js';
export { type Clock, ManualClock } from './clock.js';
export { type Config, type ConfigInput, loadConfig } from './config.js';
export { ConfigError } from './config-error.js';
export { ModelCatalog, type ResolvedModel } from './models/catalog.js';
export { ModelError, type ModelErrorKind } from './models/errors.js';
export type { ModelInfo } from './models/info.js';
export type { ChatMessage, Family, ModelReply, ModelRequest, StopReason, Usage } from './models/request.js';
export { BatchClosedError } from './queue/batch-closed.js';
export type { BatchOptions } from './queue/batch-options.js';
export { BatchWaitTimeoutError, type WaitOptions } from './queue/batch-wait.js';
export type { EnqueueResult } from './queue/bulk-add.js';
export type { Job, JobInput } from './queue/jobs.js';
export { PreflightRefusal } from './queue/preflight.js';
export {
  type BatchEnqueueResult,
  createProducer,
  type Producer,
  type ProducerOptions,
} from './queue/producer.js';
export { JobValidationError } from './queue/validation.js';
export { type RunningWorker, startWorker } from './queue/worker.js';
export type { WorkerOptions } from './queue/worker-options.js';
export { RedisSetupError } from './redis/checks.js';
export type { AttemptRecord } from './resilience/attempt.js';
export type { BatchState, CallbackState } from './results/batch-state.js';
export type { BatchCounters, FailureKind, ResultRecord } from './results/record.js';
export { type RunningSimulator, type SimulatorOptions, startSimulator } from './simulator/index.js';
