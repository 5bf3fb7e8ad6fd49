import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ConfigSchema } from '../config.js';
import { ModelCatalog } from '../models/catalog.js';
import {
  type JobContext,
  type JobInput,
  parseJob,
  QueuedJobSchema,
  storedJob,
  validateJobModels,
} from './jobs.js';
import { isJobValidationError, JobValidationError } from './validation.js';

const ctx: JobContext = {
  catalog: new ModelCatalog(),
  config: ConfigSchema.parse({
    chains: { default: ['claude-3-haiku'], fast: ['nova-micro', 'titan-express'] },
  }),
};

const generate: JobInput = { task: 'generate', messages: [{ role: 'user', content: 'Hello' }] };
const summarize: JobInput = { task: 'summarize', document: '긴 문서입니다. A long document.' };

/** The message of the error `parseJob` throws, or fails the test when it does not throw. */
function refusal(input: unknown, path?: string): string {
  try {
    parseJob(input, path ? { ...ctx, path } : ctx);
  } catch (e) {
    if (isJobValidationError(e)) return e.message;
    throw e;
  }
  throw new Error('expected the job to be refused');
}

describe('parseJob', () => {
  it('accepts a minimal generate job and defaults api to invoke', () => {
    expect(parseJob(generate, ctx)).toEqual({ ...generate, api: 'invoke' });
  });

  it('accepts a full summarize job with native fields, params, priority and metadata', () => {
    const job = {
      ...summarize,
      id: 'doc-42',
      batchId: 'nightly-2026-01-01',
      models: ['us.anthropic.claude-3-5-sonnet-20241022-v2:0', 'us.meta.llama3-1-70b-instruct-v1:0'],
      api: 'converse',
      system: 'Be brief.',
      language: 'Korean',
      params: { maxTokens: 300, temperature: 0.2, topP: 0.9, stopSequences: ['END'] },
      native: { anthropic: { top_k: 5 } },
      priority: 3,
      metadata: { source: 's3://bucket/doc-42', tags: ['a', 'b'] },
    } as const;

    expect(parseJob(job, ctx)).toEqual(job);
  });

  it('names the field and the limit for a temperature above 1', () => {
    expect(refusal({ ...generate, params: { temperature: 1.5 } }, 'jobs[3]')).toBe(
      'jobs[3].params.temperature: must be at most 1',
    );
  });

  it.each([
    [{ ...generate, params: { topP: -0.1 } }, 'job.params.topP: must be at least 0'],
    [{ ...generate, params: { maxTokens: 0 } }, 'job.params.maxTokens: must be at least 1'],
    [{ ...generate, params: { maxTokens: 2.5 } }, 'job.params.maxTokens: must be an integer'],
    [
      { ...generate, params: { stopSequences: ['a', 'b', 'c', 'd', 'e'] } },
      'job.params.stopSequences: must have at most 4 items',
    ],
    [{ ...generate, params: { stopSequences: [''] } }, 'job.params.stopSequences[0]: must not be empty'],
    [{ ...generate, params: { maxToken: 5 } }, 'job.params.maxToken: unknown field'],
    [{ ...generate, task: 'translate' }, 'job.task: must be one of "generate", "summarize"'],
    [{ ...generate, api: 'grpc' }, 'job.api: must be one of "invoke", "converse"'],
    [{ ...generate, priority: -1 }, 'job.priority: must be at least 0'],
    [{ ...generate, priority: 1.5 }, 'job.priority: must be an integer'],
    [{ ...generate, models: [] }, 'job.models: must have at least 1 item'],
    [{ ...generate, prompt: 'hi' }, 'job.prompt: unknown field'],
    [{ messages: generate.messages }, 'job.task: is required'],
    ['just text', 'job: must be an object, not string'],
  ])('refuses %j with a message naming the field', (input, message) => {
    expect(refusal(input)).toBe(message);
  });

  describe('ids', () => {
    it('refuses an id with ":" and says why', () => {
      expect(refusal({ ...generate, id: 'tenant:42' })).toBe(
        'job.id: must not contain ":" (it has a meaning in the Redis keys the job id becomes part of)',
      );
    });

    it('refuses an integer id, which BullMQ keeps for its own ids', () => {
      expect(refusal({ ...generate, id: '42' })).toMatch(/^job\.id: must not be an integer/);
    });

    it('refuses an id that would alias a BullMQ key', () => {
      expect(refusal({ ...generate, id: 'wait' })).toMatch(/^job\.id: is a name BullMQ uses/);
    });

    it('refuses ids longer than 200 characters', () => {
      expect(refusal({ ...generate, id: 'x'.repeat(201) })).toBe(
        'job.id: must be at most 200 characters long (is 201)',
      );
    });

    it('refuses a batch id with ":"', () => {
      expect(refusal({ ...generate, batchId: 'a:b' })).toMatch(/^job\.batchId: must not contain ":"/);
    });
  });

  describe('generate jobs', () => {
    it('need messages', () => {
      expect(refusal({ task: 'generate' })).toBe('job.messages: is required for generate jobs');
      expect(refusal({ task: 'generate', messages: [] })).toBe('job.messages: is required for generate jobs');
    });

    it('need turns that alternate, starting with the user', () => {
      const messages = [
        { role: 'user', content: 'a' },
        { role: 'user', content: 'b' },
      ];

      expect(refusal({ task: 'generate', messages })).toBe(
        'job.messages[1].role: must be "assistant": turns alternate, starting with "user"',
      );
      expect(refusal({ task: 'generate', messages: [{ role: 'assistant', content: 'a' }] })).toMatch(
        /^job\.messages\[0\]\.role: must be "user"/,
      );
    });

    it('refuse empty message content and a document', () => {
      expect(refusal({ task: 'generate', messages: [{ role: 'user', content: '' }] })).toBe(
        'job.messages[0].content: must not be empty',
      );
      expect(refusal({ ...generate, document: 'x' })).toBe('job.document: is only for summarize jobs');
    });
  });

  describe('summarize jobs', () => {
    it('need a non-empty document', () => {
      expect(refusal({ task: 'summarize' })).toBe('job.document: is required for summarize jobs');
      expect(refusal({ task: 'summarize', document: '  \n' })).toBe('job.document: must not be empty');
    });

    it('refuse messages', () => {
      expect(refusal({ ...summarize, messages: generate.messages })).toBe(
        'job.messages: is only for generate jobs',
      );
    });
  });

  it('refuses native fields for a family that does not exist', () => {
    expect(refusal({ ...generate, native: { gpt: { seed: 1 } } })).toBe(
      'job.native.gpt: is not a model family; expected one of anthropic, titan, nova, llama, mistral, cohere, openai, deepseek, qwen, writer, google, minimax, moonshot, nvidia, zai',
    );
  });

  it('refuses metadata over 16 KB of JSON', () => {
    expect(refusal({ ...generate, metadata: { blob: 'x'.repeat(16 * 1024) } })).toMatch(
      /^job\.metadata: must be at most 16384 bytes as JSON \(is 163\d\d\)$/,
    );
  });

  it('refuses metadata that is not JSON', () => {
    expect(refusal({ ...generate, metadata: { when: new Date(0) } })).toMatch(
      /^job\.metadata\.when: must be a JSON value/,
    );
  });

  it('refuses a "__proto__" key in metadata or native fields, naming where, instead of silently dropping it', () => {
    const parsed = (json: string) => JSON.parse(json) as unknown;

    expect(refusal({ ...generate, metadata: parsed('{"tags":{"__proto__":{"admin":true}}}') })).toBe(
      'job.metadata.tags.__proto__: the key "__proto__" is not allowed (it can alter object prototypes)',
    );
    expect(refusal({ ...generate, native: parsed('{"anthropic":{"__proto__":{"top_k":5}}}') })).toBe(
      'job.native.anthropic.__proto__: the key "__proto__" is not allowed (it can alter object prototypes)',
    );
    expect(refusal({ ...generate, metadata: { constructor: { prototype: { x: 1 } } } }, 'line 3')).toBe(
      'line 3.metadata.constructor: the key "constructor" is not allowed (it can alter object prototypes)',
    );
    expect(
      parseJob({ ...generate, metadata: { constructor: 'a plain value', prototype: 1 } }, ctx).metadata,
    ).toEqual({
      constructor: 'a plain value',
      prototype: 1,
    });
  });

  it('names the whole path of a "__proto__" key deep in arrays and objects', () => {
    const metadata = JSON.parse('{"a":[1,{"b":[{"ok":true},{"__proto__":{}}]}]}') as Record<string, unknown>;

    expect(refusal({ ...generate, metadata })).toBe(
      'job.metadata.a[1].b[1].__proto__: the key "__proto__" is not allowed (it can alter object prototypes)',
    );
  });

  it('checks a chain once per call when given where to remember it, and still refuses a bad one', () => {
    const validChains = new Set<string>();
    const call: JobContext = { ...ctx, validChains };
    parseJob(generate, call);
    parseJob({ ...generate, chain: 'fast' }, call);
    parseJob({ ...generate, models: ['nova-micro'] }, call);

    expect([...validChains].sort()).toEqual(['default', 'fast']);
    expect(() => parseJob({ ...generate, chain: 'slow' }, { ...call, path: 'jobs[3]' })).toThrow(
      'jobs[3].chain: unknown chain "slow"; configured chains: default, fast',
    );
    expect([...validChains].sort()).toEqual(['default', 'fast']);
  });

  it('refuses both a chain and a model list', () => {
    expect(refusal({ ...generate, chain: 'fast', models: ['nova-micro'] })).toBe(
      'job.models: give either "chain" or "models", not both',
    );
  });

  it('lists every problem in one message', () => {
    const message = refusal({ ...generate, params: { temperature: 2, topP: 2 } });

    expect(message).toBe('job.params.temperature: must be at most 1; job.params.topP: must be at most 1');
  });

  it('never throws anything but a JobValidationError naming a path, whatever the input', () => {
    const anyJobish = fc.oneof(
      fc.anything(),
      fc.record(
        {
          id: fc.oneof(fc.string(), fc.integer()),
          task: fc.constantFrom('generate', 'summarize', 'other'),
          messages: fc.array(
            fc.record({ role: fc.constantFrom('user', 'assistant', 'x'), content: fc.string() }),
          ),
          document: fc.string(),
          params: fc.dictionary(
            fc.constantFrom('maxTokens', 'temperature', 'topP', 'stopSequences', 'x'),
            fc.anything(),
          ),
          native: fc.dictionary(fc.string(), fc.anything()),
          metadata: fc.anything(),
          models: fc.array(fc.string()),
          chain: fc.string(),
          priority: fc.double(),
        },
        { requiredKeys: [] },
      ),
    );

    fc.assert(
      fc.property(anyJobish, (input) => {
        try {
          parseJob(input, { ...ctx, path: 'jobs[0]' });
        } catch (e) {
          expect(e).toBeInstanceOf(JobValidationError);
          expect((e as JobValidationError).message).toMatch(/^jobs\[0\]/);
        }
      }),
      { numRuns: 500 },
    );
  });
});

describe('validateJobModels', () => {
  it('returns the models of the default chain when a job names neither chain nor models', () => {
    expect(validateJobModels({}, ctx.catalog, ctx.config)).toEqual(['claude-3-haiku']);
  });

  it('returns a named chain', () => {
    expect(validateJobModels({ chain: 'fast' }, ctx.catalog, ctx.config)).toEqual([
      'nova-micro',
      'titan-express',
    ]);
  });

  it('accepts unknown model ids whose family the prefix reveals, also behind profiles and ARNs', () => {
    const models = [
      'anthropic.claude-9-opus-v1:0',
      'eu.amazon.nova-premier-v1:0',
      'arn:aws:bedrock:us-east-1:123456789012:inference-profile/us.meta.llama4-maverick-17b-instruct-v1:0',
    ];

    expect(validateJobModels({ models }, ctx.catalog, ctx.config)).toEqual(models);
  });

  it('refuses a model whose family cannot be inferred, naming the id and the accepted prefixes', () => {
    expect(() =>
      validateJobModels(
        { models: ['nova-micro', 'stability.sd3-large'] },
        ctx.catalog,
        ctx.config,
        'jobs[2]',
      ),
    ).toThrow(
      /^jobs\[2\]\.models\[1\]: unknown model "stability\.sd3-large": its family cannot be inferred; use .*"anthropic\.", "amazon\.titan-text", "amazon\.nova", "meta\.llama", "mistral\.", "cohere\.command", "openai\.", "deepseek\."/,
    );
  });

  it('refuses a profile-only model named by its base id, which Bedrock would refuse, naming its profile', () => {
    const profileOnly = 'meta.llama3-3-70b-instruct-v1:0';

    expect(() => validateJobModels({ models: ['nova-micro', profileOnly] }, ctx.catalog, ctx.config)).toThrow(
      `job.models[1]: model "${profileOnly}" is served only through an inference profile: use "us.${profileOnly}" or another geography's profile`,
    );
    expect(
      validateJobModels({ models: [`us.${profileOnly}`, 'llama3-3-70b'] }, ctx.catalog, ctx.config),
    ).toEqual([`us.${profileOnly}`, 'llama3-3-70b']);
  });

  it('refuses a chain named after a property every object has, instead of crashing', () => {
    for (const chain of ['__proto__', 'constructor', 'toString', 'hasOwnProperty']) {
      expect(() => validateJobModels({ chain }, ctx.catalog, ctx.config)).toThrow(
        new JobValidationError([
          { path: 'job.chain', message: `unknown chain "${chain}"; configured chains: default, fast` },
        ]),
      );
    }
  });

  it('quotes at most 60 characters of a huge model id, chain name or key, and lists at most 10 problems', () => {
    const huge = 'x'.repeat(100_000);
    const many = Object.fromEntries(Array.from({ length: 500 }, (_, i) => [`extra${i}`, 1]));

    expect(refusal({ ...generate, models: [`acme.${huge}`] })).toMatch(
      /^job\.models\[0\]: unknown model "acme\.x{55}…": its family cannot be inferred/,
    );
    expect(refusal({ ...generate, chain: huge })).toMatch(/^job\.chain: unknown chain "x{60}…"; configured/);
    expect(refusal({ ...generate, [`key ${huge}`]: 1 })).toBe(`job["key ${'x'.repeat(56)}…"]: unknown field`);
    expect(refusal({ ...generate, ...many })).toMatch(
      /^job\.extra0: unknown field; .*job\.extra9: unknown field; and 490 more$/,
    );
  });

  it('refuses an unknown chain, listing the configured ones', () => {
    expect(() => validateJobModels({ chain: 'slow' }, ctx.catalog, ctx.config)).toThrow(
      'job.chain: unknown chain "slow"; configured chains: default, fast',
    );
  });

  it('is part of parseJob', () => {
    expect(refusal({ ...generate, models: ['gpt-4o'] }, 'jobs[7]')).toMatch(
      /^jobs\[7\]\.models\[0\]: unknown model "gpt-4o"/,
    );
  });
});

describe('QueuedJobSchema', () => {
  it('requires the id and enqueue time BullMQ job data carries', () => {
    const queued = { ...generate, id: 'j-1', enqueuedAt: '2026-01-01T00:00:00.000Z' };

    expect(QueuedJobSchema.parse(queued)).toEqual({ ...queued, api: 'invoke' });
    expect(QueuedJobSchema.safeParse(generate).success).toBe(false);
  });
});

describe('storedJob', () => {
  const queued = QueuedJobSchema.parse({ ...generate, id: 'j-1', enqueuedAt: '2026-01-01T00:00:00.000Z' });

  it('leaves out the default api, and parses back to the same job', () => {
    const stored = storedJob(queued);

    expect(stored).not.toHaveProperty('api');
    expect(QueuedJobSchema.parse(JSON.parse(JSON.stringify(stored)))).toEqual(queued);
  });

  it('keeps an api that is not the default', () => {
    const converse = { ...queued, api: 'converse' as const };

    expect(storedJob(converse)).toEqual(converse);
  });
});
