import { z } from 'zod';
import type { Config } from '../config.js';
import type { ModelCatalog } from '../models/catalog.js';
import { FAMILY_PREFIXES } from '../models/model-id.js';
import { FAMILIES } from '../models/request.js';
import { APIS, DEFAULT_CHAIN_NAME, LANES, TASKS } from '../redis/names.js';
import { BatchIdSchema, JobIdSchema } from './ids.js';
import {
  formatPath,
  type JobIssue,
  JobValidationError,
  prototypeKeyPath,
  quote,
  toJobIssues,
} from './validation.js';

/** Largest `metadata`, as UTF-8 JSON. */
export const MAX_METADATA_BYTES = 16 * 1024;
/** BullMQ's highest priority value (2^21 - 1). */
export const MAX_PRIORITY = 2_097_151;
export const MAX_STOP_SEQUENCES = 4;

const MessageSchema = z.strictObject({
  role: z.enum(['user', 'assistant']),
  content: z.string().min(1, { error: 'must not be empty' }),
});

const ParamsSchema = z.strictObject({
  maxTokens: z.number().int().min(1).optional().describe('output token budget'),
  temperature: z.number().min(0).max(1).optional(),
  topP: z.number().min(0).max(1).optional(),
  stopSequences: z
    .array(z.string().min(1, { error: 'must not be empty' }))
    .max(MAX_STOP_SEQUENCES)
    .optional(),
});

const JsonObject = z.record(z.string(), z.json());

/** The fields of a job, before the rules that tie fields together. */
const JobFields = z.strictObject({
  id: JobIdSchema.optional().describe('idempotency key: the same id is never processed twice'),
  batchId: BatchIdSchema.optional(),
  task: z.enum(TASKS),
  chain: z.string().min(1).optional().describe(`a named chain from config; default "${DEFAULT_CHAIN_NAME}"`),
  models: z.array(z.string().min(1)).min(1).optional().describe('ordered model ids, aliases, profiles, ARNs'),
  api: z.enum(APIS).default('invoke'),
  system: z.string().optional(),
  messages: z.array(MessageSchema).optional().describe('generate: alternating turns, user first'),
  document: z.string().optional().describe('summarize: the text, any length and language'),
  language: z.string().min(1).max(50).optional().describe('summarize: answer language; default detected'),
  params: ParamsSchema.optional(),
  native: z.record(z.string(), JsonObject).optional().describe('extra native fields per family'),
  priority: z
    .number()
    .int()
    .min(0)
    .max(MAX_PRIORITY)
    .optional()
    .describe('BullMQ priority: 0 none (first), then 1 is served before 2, …'),
  metadata: JsonObject.optional().describe('caller data, kept with the job, ≤ 16 KB as JSON'),
});

type Fields = z.output<typeof JobFields>;

/** Rules across fields (`docs/architecture.md#the-job`); each issue names the field to fix. */
function crossFieldRules(job: Fields, ctx: z.RefinementCtx): void {
  const issue = (path: PropertyKey[], message: string) => ctx.addIssue({ code: 'custom', path, message });
  if (job.chain !== undefined && job.models !== undefined) {
    issue(['models'], 'give either "chain" or "models", not both');
  }
  if (job.task === 'generate') {
    if (!job.messages || job.messages.length === 0) issue(['messages'], 'is required for generate jobs');
    job.messages?.forEach((m, i) => {
      const expected = i % 2 === 0 ? 'user' : 'assistant';
      if (m.role !== expected) {
        issue(['messages', i, 'role'], `must be "${expected}": turns alternate, starting with "user"`);
      }
    });
    if (job.document !== undefined) issue(['document'], 'is only for summarize jobs');
    if (job.language !== undefined) issue(['language'], 'is only for summarize jobs');
  } else {
    if (job.document === undefined) issue(['document'], 'is required for summarize jobs');
    else if (job.document.trim().length === 0) issue(['document'], 'must not be empty');
    if (job.messages !== undefined) issue(['messages'], 'is only for generate jobs');
  }
  for (const key of Object.keys(job.native ?? {})) {
    if (!(FAMILIES as readonly string[]).includes(key)) {
      issue(['native', key], `is not a model family; expected one of ${FAMILIES.join(', ')}`);
    }
  }
  if (job.metadata !== undefined) {
    const bytes = Buffer.byteLength(JSON.stringify(job.metadata), 'utf8');
    if (bytes > MAX_METADATA_BYTES) {
      issue(['metadata'], `must be at most ${MAX_METADATA_BYTES} bytes as JSON (is ${bytes})`);
    }
  }
}

/** A job as callers send it (`docs/architecture.md#the-job`). */
export const JobSchema = JobFields.superRefine(crossFieldRules);
export type JobInput = z.input<typeof JobSchema>;
export type Job = z.output<typeof JobSchema>;

/**
 * A job as it sits in BullMQ: id assigned, time of enqueue recorded, its generation, and the
 * lane its batch asked for when that is not `online` (such a job waits, delayed, for the
 * offline lane).
 */
export const QueuedJobSchema = JobFields.extend({
  id: JobIdSchema,
  enqueuedAt: z.iso.datetime(),
  retry: z
    .number()
    .int()
    .positive()
    .optional()
    .describe('set by a retry on purpose (`./retry-failed.ts`): its result supersedes the failed one'),
  lane: z.enum(LANES).exclude(['online']).optional(),
}).superRefine(crossFieldRules);
export type QueuedJob = z.output<typeof QueuedJobSchema>;
/** A job as written to BullMQ: {@link QueuedJob} with fields at their default left out. */
export type StoredJob = z.input<typeof QueuedJobSchema>;

/**
 * The payload to hand BullMQ for `job`: a field at its schema default is left out, since every
 * reader parses the payload with {@link QueuedJobSchema} and gets it back. A queued job is held
 * in Redis until it runs, so each byte it need not carry counts once per job of a backlog.
 */
export function storedJob(job: QueuedJob): StoredJob {
  const { api, ...rest } = job;
  return api === 'invoke' ? rest : job;
}

/** What validating a job needs besides the job. */
export interface JobContext {
  catalog: ModelCatalog;
  config: Pick<Config, 'chains'> & { limits?: Pick<Config['limits'], 'maxDocumentBytes'> };
  /** How messages name the job: `job` (default), `jobs[3]`, `line 12`. */
  path?: string;
  /**
   * Chains already found valid with this catalog and config, filled in as jobs pass: one call
   * that enqueues many jobs of one chain checks its models once. Leave it out to check every job.
   */
  validChains?: Set<string>;
}

function acceptedPrefixes(): string {
  const prefixes = FAMILY_PREFIXES.map(([p]) => `"${p}"`).join(', ');
  return `a catalog id or alias, or an id starting with ${prefixes} (optionally behind a "us."/"eu."/"global."/... profile prefix or inside a Bedrock ARN)`;
}

/**
 * Whether a job that finds a model busy moves on to the next model of its chain (`spill`, the
 * default) or waits for it: `config.spill[<chain>]`, by the job's chain name (`default` when it
 * names none; a job with its own `models` list spills).
 */
export function chainSpills(job: Pick<Job, 'chain' | 'models'>, config: Pick<Config, 'spill'>): boolean {
  if (job.models) return true;
  const name = job.chain ?? DEFAULT_CHAIN_NAME;
  return Object.hasOwn(config.spill, name) ? (config.spill[name] ?? true) : true;
}

/**
 * The model ids a job will try, in order: its `models`, or the ids of its chain (`default` when
 * it names none).
 * @throws JobValidationError naming the chain or the id whose family cannot be inferred, and
 *   which ids are accepted.
 */
export function validateJobModels(
  job: Pick<Job, 'chain' | 'models'>,
  catalog: ModelCatalog,
  config: Pick<Config, 'chains'>,
  path = 'job',
): string[] {
  const issues: JobIssue[] = [];
  let ids: readonly string[];
  let where: (i: number) => string;
  if (job.models) {
    ids = job.models;
    where = (i) => `${path}.models[${i}]`;
  } else {
    const name = job.chain ?? DEFAULT_CHAIN_NAME;
    // Own keys only: a chain named "__proto__" or "constructor" is no chain, not Object's.
    const chain = Object.hasOwn(config.chains, name) ? config.chains[name] : undefined;
    if (!chain) {
      const known = Object.keys(config.chains);
      const hint = known.length > 0 ? `configured chains: ${known.join(', ')}` : 'the config has no chains';
      const message = job.chain
        ? `unknown chain ${quote(name)}; ${hint}`
        : `no chain or models given and the config has no "${DEFAULT_CHAIN_NAME}" chain; ${hint}`;
      throw new JobValidationError([{ path: `${path}.chain`, message }]);
    }
    ids = chain;
    where = () => `${path}.chain`;
  }
  const owner = () => (job.models ? '' : ` in chain ${quote(job.chain ?? DEFAULT_CHAIN_NAME)}`);
  ids.forEach((id, i) => {
    const model = catalog.resolve(id);
    if (!model) {
      issues.push({
        path: where(i),
        message: `unknown model ${quote(id)}${owner()}: its family cannot be inferred; use ${acceptedPrefixes()}`,
      });
    } else if (model.info.profileOnly && model.requestId === model.baseId) {
      // Bedrock refuses such a call with a ValidationException: refused here, before any is made.
      issues.push({
        path: where(i),
        message: `model ${quote(id)}${owner()} is served only through an inference profile: use "us.${model.baseId}" or another geography's profile`,
      });
    }
  });
  if (issues.length > 0) throw new JobValidationError(issues);
  return [...ids];
}

/**
 * Validates one job: fields, cross-field rules, then its models against the catalog and config.
 * Never throws anything but {@link JobValidationError}, whatever `input` is.
 * @throws JobValidationError with a message like `jobs[3].params.temperature: must be at most 1`.
 */
export function parseJob(input: unknown, ctx: JobContext): Job {
  const path = ctx.path ?? 'job';
  let parsed: ReturnType<typeof JobSchema.safeParse>;
  try {
    const protoKey = prototypeKeyPath(input);
    if (protoKey) {
      const key = String(protoKey.at(-1));
      throw new JobValidationError([
        {
          path: formatPath(path, protoKey),
          message: `the key "${key}" is not allowed (it can alter object prototypes)`,
        },
      ]);
    }
    parsed = JobSchema.safeParse(input, { reportInput: true });
  } catch (e) {
    if (e instanceof JobValidationError) throw e;
    // Only input zod cannot walk gets here (a cyclic or absurdly deep object, a throwing getter).
    throw new JobValidationError([{ path, message: 'must be plain JSON data (no cycles)' }]);
  }
  if (!parsed.success) throw new JobValidationError(toJobIssues(path, parsed.error));
  const maxBytes = ctx.config.limits?.maxDocumentBytes;
  if (maxBytes !== undefined && parsed.data.document !== undefined) {
    const bytes = Buffer.byteLength(parsed.data.document, 'utf8');
    if (bytes > maxBytes) {
      throw new JobValidationError([
        {
          path: `${path}.document`,
          message: `is ${bytes} bytes of UTF-8, over the limit of ${maxBytes} (limits.maxDocumentBytes)`,
          code: 'too_large',
        },
      ]);
    }
  }
  const chain = parsed.data.models ? undefined : (parsed.data.chain ?? DEFAULT_CHAIN_NAME);
  if (chain === undefined || !ctx.validChains?.has(chain)) {
    validateJobModels(parsed.data, ctx.catalog, ctx.config, path);
    if (chain !== undefined) ctx.validChains?.add(chain);
  }
  return parsed.data;
}
