import type { NativeFamily } from '../request.js';
import { anthropic } from './anthropic.js';
import { cohere } from './cohere.js';
import { llama } from './llama.js';
import { mistral } from './mistral.js';
import { nova } from './nova.js';
import { titan } from './titan.js';
import type { FamilyAdapter } from './types.js';

/** One adapter per family: the native InvokeModel format each family speaks. */
export const ADAPTERS: Readonly<Record<NativeFamily, FamilyAdapter>> = {
  anthropic,
  titan,
  nova,
  llama,
  mistral,
  cohere,
};

/** The adapter that builds and parses `family`'s native bodies. */
export function adapterFor(family: NativeFamily): FamilyAdapter {
  return ADAPTERS[family];
}
