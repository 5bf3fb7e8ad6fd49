import type { CallerOptions, ChainCaller } from './types.js';

/** The baselines of the goodput bench, by the name the table prints. */
export const BASELINES = ['sdk-standard', 'sdk-adaptive', 'langchain', 'vercel-ai'] as const;
/** One of {@link BASELINES}. */
export type BaselineName = (typeof BASELINES)[number];

/**
 * The caller of one baseline. Each library is imported only here, when asked for, so a worker
 * process loads the one it runs and nothing else.
 */
export async function createCaller(name: BaselineName, options: CallerOptions): Promise<ChainCaller> {
  switch (name) {
    case 'sdk-standard':
      return (await import('./sdk.js')).sdkCaller({ ...options, retryMode: 'standard' });
    case 'sdk-adaptive':
      return (await import('./sdk.js')).sdkCaller({ ...options, retryMode: 'adaptive' });
    case 'langchain':
      return (await import('./langchain.js')).langchainCaller(options);
    case 'vercel-ai':
      return (await import('./vercel.js')).vercelCaller(options);
  }
}
