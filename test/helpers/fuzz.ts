/**
 * Hostile input for the property tests of every entry point (`test/fuzz/`,
 * `test/integration/ids-property.test.ts`), and how many cases each runs.
 *
 * `FUZZ_RUNS` sets the number of runs per property (the chaos run uses 10,000); without it each
 * file uses the small default it passes to {@link fuzzRuns}, so `npm test` stays quick.
 */
import fc from 'fast-check';
import type { Redis } from 'ioredis';

/** Runs per property: `FUZZ_RUNS` when set, else `fallback`. */
export function fuzzRuns(fallback: number): number {
  const n = Number(process.env.FUZZ_RUNS);
  return Number.isInteger(n) && n > 0 ? n : fallback;
}

/**
 * Runs between two audits and clean-ups of a test's keys. Finding keys walks the whole shared
 * Redis (other tests' keys too), so it is done this often rather than every run.
 */
export const CLEAN_EVERY = 100;

/** A test timeout that grows with the runs: `msPerRun` each, and never under `floorMs`. */
export function fuzzTimeout(runs: number, msPerRun: number, floorMs = 30_000): number {
  return Math.max(floorMs, runs * msPerRun);
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Raw UTF-16 code units: lone surrogates, controls, anything JSON escapes can carry. */
export const codeUnits = fc
  .array(fc.integer({ min: 0, max: 0xffff }), { minLength: 0, maxLength: 12 })
  .map((units) => String.fromCharCode(...units));

/** Bytes as a JSONL file or an HTTP body may hold them, decoded the way every door decodes them. */
export const decodedBytes = fc.uint8Array({ minLength: 0, maxLength: 12 }).map((b) => {
  try {
    return utf8.decode(b);
  } catch {
    return undefined; // refused at the door: "is not valid UTF-8"
  }
});

/** Strings an attacker or a careless client sends as ids. */
export const anyId = fc.oneof(
  fc.string({ unit: 'grapheme', maxLength: 12 }),
  fc.string({ unit: 'binary', maxLength: 12 }),
  codeUnits,
  decodedBytes,
  fc.constantFrom(
    'sur-\uD800',
    'sur-\uDBFF',
    'collide-\uFFFD',
    'a:b',
    'meta',
    'x\ny',
    '{bj}',
    'a/b',
    '../etc',
    '%2F',
    'a%00b',
    'x'.repeat(201),
    '__proto__',
    'constructor',
    'prototype',
  ),
);

/** Ids that got past the UTF-8 decoding of their door. */
export const decodedId = anyId.filter((id): id is string => id !== undefined);

/** Strings of every shape, rarely huge (100,000 characters). */
export const hostileString = fc.oneof(
  { weight: 6, arbitrary: fc.string({ maxLength: 20 }) },
  { weight: 2, arbitrary: codeUnits },
  { weight: 2, arbitrary: decodedId },
  { weight: 1, arbitrary: fc.constantFrom('', ' ', '\n', '\u0000', '\uFEFF', '\u202E', '\uD800x') },
  { weight: 1, arbitrary: fc.integer({ min: 10_000, max: 100_000 }).map((n) => 'x'.repeat(n)) },
);

/**
 * `text` percent-encoded as UTF-8 for a URL path or query; a lone surrogate, which UTF-8 cannot
 * hold, as the bytes of its CESU-8 form (not UTF-8 either), the nearest a client can send.
 */
export function percentEncode(text: string): string {
  return [...text].map((c) => (c.isWellFormed() ? encodeURIComponent(c) : '%ED%A0%80')).join('');
}

/** Keys that alter prototypes when copied, and ordinary ones. */
export const hostileKey = fc.oneof(
  fc.constantFrom('__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty', ''),
  fc.string({ maxLength: 8 }),
);

/** A value nested `depth` levels deep (arrays and objects taking turns). */
export function nested(depth: number, leaf: unknown = 'x'): unknown {
  let value = leaf;
  for (let i = 0; i < depth; i++) value = i % 2 === 0 ? [value] : { k: value };
  return value;
}

/** JSON values with hostile keys and strings, sometimes nested very deep. */
export const hostileJson: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 8, arbitrary: fc.jsonValue({ maxDepth: 3 }) },
  {
    weight: 3,
    arbitrary: fc.dictionary(hostileKey, fc.oneof(hostileString, fc.jsonValue({ maxDepth: 2 })), {
      maxKeys: 4,
    }),
  },
  { weight: 1, arbitrary: fc.integer({ min: 50, max: 2_000 }).map((d) => nested(d)) },
);

/** Anything JSON can carry where a field expects one type: the wrong types. */
const wrongType = fc.oneof(
  fc.constant(null),
  fc.boolean(),
  fc.double(),
  fc.integer(),
  fc.string({ maxLength: 5 }),
  fc.array(fc.jsonValue({ maxDepth: 1 }), { maxLength: 3 }),
  fc.dictionary(fc.string({ maxLength: 3 }), fc.jsonValue({ maxDepth: 1 }), { maxKeys: 2 }),
);

/** Model names: catalog aliases and ids, ids whose family a prefix reveals, and ones nothing knows. */
export const modelName = fc.oneof(
  fc.constantFrom(
    'nova-micro',
    'titan-express',
    'claude-3-haiku',
    'amazon.nova-lite-v1:0',
    'us.meta.llama3-3-70b-instruct-v1:0',
    'openai.gpt-oss-999',
  ),
  fc.constantFrom('acme.unknown-model', '', 'arn:aws:bedrock:::x', 'x'.repeat(300)),
  hostileString,
);

/** A well-formed job: generate or summarize, with some of the optional fields. */
export function validJob(documentBytes: number): fc.Arbitrary<Record<string, unknown>> {
  const extras = fc.record(
    {
      id: decodedId.filter((id) => /^[\w.-]{1,40}$/.test(id) && !/^\d+$/.test(id)),
      system: fc.string({ maxLength: 20 }),
      api: fc.constantFrom('invoke', 'converse'),
      params: fc.record(
        {
          maxTokens: fc.integer({ min: 1, max: 4_000 }),
          temperature: fc.double({ min: 0, max: 1, noNaN: true }),
          stopSequences: fc.array(fc.string({ minLength: 1, maxLength: 4 }), { maxLength: 4 }),
        },
        { requiredKeys: [] },
      ),
      models: fc.array(fc.constantFrom('nova-micro', 'titan-express', 'openai.gpt-oss-999'), {
        minLength: 1,
        maxLength: 3,
      }),
      priority: fc.integer({ min: 0, max: 2_097_151 }),
      metadata: fc.dictionary(fc.string({ maxLength: 6 }), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 3 }),
      native: fc.constant({ anthropic: { top_k: 5 } }),
    },
    { requiredKeys: [] },
  );
  const task = fc.oneof(
    fc.record({
      task: fc.constant('generate'),
      messages: fc.constantFrom(
        [{ role: 'user', content: 'Hi' }],
        [
          { role: 'user', content: '안녕하세요' },
          { role: 'assistant', content: 'Hello' },
          { role: 'user', content: 'Again \u{1F600}' },
        ],
      ),
    }),
    fc.record({
      task: fc.constant('summarize'),
      document: fc.oneof(
        fc.string({ minLength: 1, maxLength: 200 }).filter((d) => d.trim() !== ''),
        fc.constant('d'.repeat(documentBytes)),
      ),
    }),
  );
  return fc.tuple(task, extras).map(([t, e]) => ({ ...e, ...t }));
}

/** One way to spoil a job: a field of the wrong type or hostile, an unknown or prototype key, … */
const spoiler: fc.Arbitrary<[string, unknown]> = fc.oneof(
  fc.tuple(
    fc.constantFrom(
      'id',
      'batchId',
      'task',
      'chain',
      'models',
      'api',
      'system',
      'messages',
      'document',
      'language',
      'params',
      'native',
      'priority',
      'metadata',
    ),
    fc.oneof(wrongType, hostileString, hostileJson),
  ),
  fc.tuple(fc.constant('models'), fc.array(modelName, { minLength: 1, maxLength: 3 })),
  fc.tuple(fc.constant('chain'), fc.constantFrom('nope', '__proto__', 'constructor', 'toString')),
  fc.tuple(fc.constant('id'), decodedId),
  fc.tuple(fc.constant('batchId'), decodedId),
  fc.tuple(fc.constant('messages'), fc.constant([{ role: 'assistant', content: 'first' }])),
  fc.tuple(fc.constant('params'), fc.record({ temperature: fc.double(), maxTokens: fc.double() })),
  fc.tuple(hostileKey, hostileJson),
);

/**
 * Jobs as clients send them: well-formed, or spoiled in up to three ways (a field of the wrong
 * type, hostile strings, unknown models, chains naming nothing, prototype keys, deep or huge
 * values, a document just over `documentBytes`). About a third are valid.
 */
export function hostileJob(documentBytes: number): fc.Arbitrary<Record<string, unknown>> {
  const overLimit = fc.constant<[string, unknown]>(['document', 'd'.repeat(documentBytes + 1)]);
  return fc
    .tuple(
      validJob(documentBytes),
      fc.array(fc.oneof({ weight: 9, arbitrary: spoiler }, { weight: 1, arbitrary: overLimit }), {
        maxLength: 3,
      }),
    )
    .map(([job, spoils]) => spoils.reduce((j, [key, value]) => withKey(j, key, value), job));
}

/** `job` with `key` set as an own property, `__proto__` included (as `JSON.parse` would make it). */
function withKey(job: Record<string, unknown>, key: string, value: unknown): Record<string, unknown> {
  const out = { ...job };
  Object.defineProperty(out, key, { value, enumerable: true, configurable: true, writable: true });
  return out;
}

/**
 * Every key under `prefix` whose id part names a job or batch outside `ids`: what must never
 * exist after hostile input (a key reached through another id's key, or written for a
 * refused one). BullMQ's own per-queue keys and our shared keys are not about one id.
 */
export async function strayKeys(
  redis: Redis,
  prefix: string,
  ids: { has(id: string): boolean },
): Promise<string[]> {
  const shared = new Set(['batches', 'results', 'callback-outbox', 'preflight']);
  const bullOwn = new Set([
    'wait',
    'active',
    'meta',
    'id',
    'events',
    'marker',
    'prioritized',
    'pc',
    'delayed',
    'failed',
    'completed',
    'stalled-check',
    'waiting-children',
    'paused',
    'limiter',
    'de',
    'metrics',
    'repeat',
    'stalled',
  ]);
  const stray: string[] = [];
  for (const key of await redis.keys(`${prefix}:*`)) {
    const [kind, id, ...rest] = key.slice(prefix.length + 1).split(':');
    if (kind === undefined || shared.has(kind)) continue;
    if (kind === 'jobs' && (bullOwn.has(id ?? '') || id === undefined)) continue;
    if (kind === 'batch' && rest.length > 1) stray.push(key);
    else if (!ids.has(id ?? '')) stray.push(key);
  }
  return stray;
}
