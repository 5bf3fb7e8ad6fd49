import { z } from 'zod';
import { FAMILIES } from './models/request.js';
import { MIB } from './units.js';

const TemplateSchema = z
  .object({
    system: z.string().optional().describe('system prompt for summarize jobs'),
    instruction: z.string().optional().describe('user turn; {document} and {language} are replaced'),
  })
  .strict();

/** The `limits:` section: what enqueue refuses before a job is queued. */
export const LimitsSettingsSchema = z
  .object({
    maxDocumentBytes: z
      .number()
      .int()
      .positive()
      .default(8 * MIB)
      .describe('largest summarize document, UTF-8 bytes; larger ones are refused at enqueue'),
  })
  .strict();

/** The `summarize:` section: the summary budget and the prompts of each model family. */
export const SummarizeSettingsSchema = z
  .object({
    maxOutputTokens: z.number().int().positive().default(512).describe('summary length budget'),
    templates: z.partialRecord(z.enum(FAMILIES), TemplateSchema).default({}).describe('per-family prompts'),
  })
  .strict();
