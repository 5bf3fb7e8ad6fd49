import { type ModelInfo, type ModelInfoInput, ModelInfoSchema, type ModelSource } from '../info.js';

/**
 * The day the built-in catalog was checked against AWS's pages. The README's model section
 * repeats it; `src/models/builtin.test.ts` keeps every entry's `source.checked` on or before it.
 */
export const CATALOG_CHECKED = '2026-11-30';

/**
 * AWS's "Regional availability by models" page: per model and region, whether it is served
 * in-region, through a geographic profile, or a global one, and the EOL date of a LEGACY model.
 * It is what `profileOnly` (for us-east-1), `profiles` and most lifecycle entries rest on.
 */
export const REGIONS_PAGE =
  'https://docs.aws.amazon.com/bedrock/latest/userguide/models-region-compatibility.html';

/** A model's card in the Bedrock user guide: context window, output limit, lifecycle, ids. */
export const card = (slug: string): string =>
  `https://docs.aws.amazon.com/bedrock/latest/userguide/model-card-${slug}.html`;

/** A source read on {@link CATALOG_CHECKED}. */
export const checked = (url: string): ModelSource => ({ url, checked: CATALOG_CHECKED });

/** A built-in entry: like `customModels`, but it must say where its figures come from. */
export type BuiltinInput = ModelInfoInput & { source: ModelSource };

/** Parses a built-in entry, defaults applied. */
export const entry = (info: BuiltinInput): ModelInfo => ModelInfoSchema.parse(info);
