import { z } from 'zod';
import type { Config } from '../config.js';
import { apiFor, type ResolvedModel } from '../models/catalog.js';
import { fromConverseOutput, toConverseInput } from '../models/converse.js';
import { adapterFor } from '../models/families/index.js';
import { isNativeFamily, type ModelRequest, type NativeReply } from '../models/request.js';
import { estimateTokens } from '../models/tokens.js';
import { generateRequest } from '../queue/job-request.js';
import type { QueuedJob } from '../queue/jobs.js';
import { chunkDocument } from '../summarize/chunk.js';
import { chunkBudget, fitsModel } from '../summarize/plan.js';
import { buildSummaryRequest, detectLanguage } from '../summarize/prompt.js';
import { recordId } from './names.js';

/** Bedrock's `modelInvocationType`: native InvokeModel bodies or Converse bodies. */
export type InvocationType = 'InvokeModel' | 'Converse';

/** One job's call, as one record of an invocation job's input file. */
export interface OfflineCall {
  model: ResolvedModel;
  type: InvocationType;
  /** The body InvokeModel (native) or Converse (without `modelId`) would be sent. */
  modelInput: Record<string, unknown>;
}

/** The call of a job on `model` for one request, in the body batch inference takes. */
function callOf(job: QueuedJob, model: ResolvedModel, request: ModelRequest): OfflineCall {
  if (apiFor(model, job.api) === 'converse' || !isNativeFamily(model.family)) {
    const { modelId: _modelId, ...body } = toConverseInput(model.requestId, request, model.info);
    return { model, type: 'Converse', modelInput: body as Record<string, unknown> };
  }
  return { model, type: 'InvokeModel', modelInput: adapterFor(model.family).toNative(request, model.info) };
}

/**
 * The offline calls of a job on `model` (the first of its chain), in the body Bedrock's batch
 * inference takes: the family's native body, or a Converse body when the job asks for Converse
 * or the model speaks nothing else. A summary is one call when its document fits the model's
 * window, else one call per chunk, cut as the online path cuts it for that model (the map step
 * of a summary in parts; the merge runs online once every chunk is back). The same job and
 * model always give the same calls, so a part's file can be written again from the job ids.
 */
export function offlineCalls(
  job: QueuedJob,
  model: ResolvedModel,
  config: Pick<Config, 'summarize'>,
): OfflineCall[] {
  if (job.task === 'generate') return [callOf(job, model, generateRequest(job))];
  const document = job.document ?? '';
  const maxTokens = job.params?.maxTokens ?? config.summarize.maxOutputTokens;
  const budget = chunkBudget(model, maxTokens);
  const pieces = fitsModel(document, model, budget)
    ? [document]
    : chunkDocument(document, model.family, budget);
  const language = job.language ?? detectLanguage(document);
  return pieces.map((piece) =>
    callOf(
      job,
      model,
      buildSummaryRequest({
        document: piece,
        family: model.family,
        language,
        params: { ...job.params, maxTokens },
        ...(job.native ? { native: job.native } : {}),
        config,
      }),
    ),
  );
}

/** One line of an input file, newline included. */
export function inputLine(index: number, modelInput: Record<string, unknown>): string {
  return `${JSON.stringify({ recordId: recordId(index), modelInput })}\n`;
}

/** One line of an output file (`<input>.out`): the model's answer, or why the record failed. */
export const OutputLineSchema = z.object({
  recordId: z.string().min(1),
  modelInput: z.unknown().optional(),
  modelOutput: z.record(z.string(), z.unknown()).optional(),
  error: z
    .object({
      errorCode: z.union([z.number(), z.string()]).optional(),
      errorMessage: z.string().optional(),
    })
    .optional(),
});
export type OutputLine = z.infer<typeof OutputLineSchema>;

/** `manifest.json.out`: a job's counts. */
export const ManifestSchema = z.object({
  totalRecordCount: z.number().int().nonnegative().optional(),
  processedRecordCount: z.number().int().nonnegative().optional(),
  successRecordCount: z.number().int().nonnegative().optional(),
  errorRecordCount: z.number().int().nonnegative().optional(),
  inputTokenCount: z.number().int().nonnegative().optional(),
  outputTokenCount: z.number().int().nonnegative().optional(),
});
export type Manifest = z.infer<typeof ManifestSchema>;

/** A record's answer in the unified shape, with usage always set. */
export type RecordReply = NativeReply & { usage: NonNullable<NativeReply['usage']> };

/**
 * Reads a record's `modelOutput` as the online path reads an answer: the family's native
 * format, or Converse's. A body without counts (Mistral's native one) gets our estimate of
 * both, since the output file has no usage headers.
 * @throws Error when the body is not the shape the model answers in.
 */
export function replyOf(
  call: Pick<OfflineCall, 'model' | 'type'>,
  modelOutput: Record<string, unknown>,
  modelInput?: unknown,
): RecordReply {
  const { model } = call;
  const reply =
    call.type === 'Converse' || !isNativeFamily(model.family)
      ? fromConverseOutput(modelOutput as Parameters<typeof fromConverseOutput>[0])
      : adapterFor(model.family).fromNative(modelOutput);
  const usage = reply.usage ?? {
    inputTokens: estimateTokens(JSON.stringify(modelInput ?? ''), model.family),
    outputTokens: estimateTokens(reply.text, model.family),
  };
  return { ...reply, usage };
}
