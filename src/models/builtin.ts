import { AMAZON_MODELS } from './builtin/amazon.js';
import { ANTHROPIC_MODELS } from './builtin/anthropic.js';
import { CONVERSE_ONLY_MODELS } from './builtin/converse-only.js';
import { META_MODELS } from './builtin/meta.js';
import { COHERE_MODELS, MISTRAL_MODELS } from './builtin/mistral-cohere.js';
import type { ModelInfo } from './info.js';

export { CATALOG_CHECKED } from './builtin/entry.js';

/**
 * The models we ship knowledge of, one file per provider under `src/models/builtin/`: context
 * window, output limit, on-demand prices in us-east-1, lifecycle, profile geographies and
 * whether us-east-1 serves the model only through a profile, each entry with the AWS page it was
 * checked against and the day (`source`). How each figure was confirmed, and which could not
 * be, is noted on the entry (`docs/bedrock-wire.md#model-table`). Quotas are starting points
 * for the limiter: AWS's vary by account, and config `models.<id>.rpm/tpm` overrides them.
 */
export const BUILTIN_MODELS: readonly ModelInfo[] = [
  ...ANTHROPIC_MODELS,
  ...AMAZON_MODELS,
  ...META_MODELS,
  ...MISTRAL_MODELS,
  ...COHERE_MODELS,
  ...CONVERSE_ONLY_MODELS,
];
