import { type Family, isNativeFamily, type NativeFamily } from '../../models/request.js';
import { anthropic } from './anthropic.js';
import { cohere } from './cohere.js';
import { llama } from './llama.js';
import { mistral } from './mistral.js';
import { nova } from './nova.js';
import { titan } from './titan.js';
import type { SimFamily } from './types.js';

/**
 * The simulator's own reading of each family's native format. Written apart from the
 * project's adapters (`src/models/families/`) on purpose: adapter tests against the
 * simulator then check two independent readings of the wire reference against each other.
 */
export const SIM_FAMILIES: Readonly<Record<NativeFamily, SimFamily>> = {
  anthropic,
  titan,
  nova,
  llama,
  mistral,
  cohere,
};

/**
 * The simulator's reading of a family's native format, or undefined for a family we serve
 * through Converse only: the simulator answers those models through Converse alone.
 */
export function simFamilyOf(family: Family): SimFamily | undefined {
  return isNativeFamily(family) ? SIM_FAMILIES[family] : undefined;
}
