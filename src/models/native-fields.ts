import type { NativeFamily } from './request.js';

/** One field a job's `native.<family>` may add to that family's body, with a value Bedrock takes. */
export interface NativeField {
  /** As written in `native.<family>`; a dot names a member of an object we build (`inferenceConfig.top_k`). */
  name: string;
  /** What `native.<family>` holds to set it, e.g. `{ top_k: 20 }`. */
  example: Record<string, unknown>;
  /** Where it does not apply, when somewhere. */
  note?: string;
}

const field = (name: string, example: Record<string, unknown>, note?: string): NativeField =>
  note ? { name, example, note } : { name, example };

/**
 * The native fields each family's InvokeModel body takes beyond what the shared `params`
 * (`maxTokens`, `temperature`, `topP`, `stopSequences`) already set: what only `native`
 * reaches (`docs/bedrock-wire.md#native-formats`); Converse-only families have no native body.
 * Tool use is left out: jobs answer with text. With `api: "converse"` the same object goes
 * to Converse as `additionalModelRequestFields`.
 */
export const NATIVE_FIELDS: Readonly<Record<NativeFamily, readonly NativeField[]>> = {
  anthropic: [
    field('top_k', { top_k: 20 }),
    field('thinking', { thinking: { type: 'disabled' } }),
    field('anthropic_beta', { anthropic_beta: [] }),
    field('metadata', { metadata: { user_id: 'u-1' } }),
  ],
  titan: [field('textGenerationConfig', { textGenerationConfig: { stopSequences: ['User:'] } })],
  nova: [field('inferenceConfig.top_k', { inferenceConfig: { top_k: 20 } })],
  llama: [],
  mistral: [field('top_k', { top_k: 20 }, 'not in the chat body of Mistral Large 2')],
  cohere: [
    field('k', { k: 20 }),
    field('documents', { documents: [{ title: 'Note', snippet: 'Queues hold jobs.' }] }),
    field('prompt_truncation', { prompt_truncation: 'AUTO_PRESERVE_ORDER' }),
    field('frequency_penalty', { frequency_penalty: 0.2 }),
    field('presence_penalty', { presence_penalty: 0.2 }),
    field('seed', { seed: 7 }),
    field('raw_prompting', { raw_prompting: false }),
  ],
};
