import { z } from 'zod';

/** One job of the goodput bench as a baseline's BullMQ worker receives it. */
export const BenchJobSchema = z.strictObject({
  id: z.string().min(1),
  prompt: z.string().min(1),
});
/** One job of the goodput bench. */
export type BenchJob = z.infer<typeof BenchJobSchema>;

/** A model's answer, as a baseline stores it in Redis. */
export interface Answer {
  text: string;
  /** The model that answered, when the library says so (LangChain's fallbacks do not). */
  modelId?: string;
  inputTokens: number;
  outputTokens: number;
}

/** Where a baseline sends its calls and what it asks for. */
export interface CallerOptions {
  /** The simulator, e.g. http://127.0.0.1:4010. */
  endpoint: string;
  region: string;
  /** Models in the order the baseline tries them. */
  chain: readonly string[];
  maxTokens: number;
}

/** How a baseline answers one job over a chain of models: the only part the baselines differ in. */
export interface ChainCaller {
  /**
   * `signal` aborts the call in flight (a run that is cut short).
   * @throws the last model's error when every model of the chain failed, or when aborted
   */
  answer(job: BenchJob, signal?: AbortSignal): Promise<Answer>;
  /** Releases the client's connections. */
  close(): Promise<void>;
}

/**
 * The simulator accepts any signature, and a bench must never pick up real AWS credentials
 * from the machine, so every baseline signs with these.
 */
export const PLACEHOLDER_CREDENTIALS = { accessKeyId: 'goodput-bench', secretAccessKey: 'goodput-bench' };

/** Wraps whatever a library threw into an Error once, at the edge. */
export function toError(thrown: unknown): Error {
  return thrown instanceof Error ? thrown : new Error(String(thrown));
}

/**
 * The loop every hand-built baseline writes around its library: each model of the chain in
 * turn, the first answer wins, an abort ends the loop at once.
 * @throws the last model's error when every model failed, or the abort's
 */
export async function firstAnswer(
  chain: readonly string[],
  signal: AbortSignal | undefined,
  call: (modelId: string) => Promise<Answer>,
): Promise<Answer> {
  let last: unknown = new Error('empty chain');
  for (const modelId of chain) {
    try {
      return await call(modelId);
    } catch (e) {
      if (signal?.aborted) throw toError(e);
      last = e;
    }
  }
  throw toError(last);
}
