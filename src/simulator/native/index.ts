import type { Family } from '../../models/request.js';
import { anthropic } from './anthropic.js';
import { cohere } from './cohere.js';
import { llama } from './llama.js';
import { mistral } from './mistral.js';
import { nova } from './nova.js';
import { titan } from './titan.js';
import type { SimFamily } from './types.js';

export const SIM_FAMILIES: Readonly<Record<Family, SimFamily>> = {
  anthropic,
  titan,
  nova,
  llama,
  mistral,
  cohere,
};
