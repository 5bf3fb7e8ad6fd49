import { z } from 'zod';
import type { RedisClient } from '../redis/connect.js';
import type { Keys } from '../redis/keys.js';
import { LANES } from '../redis/names.js';

/** Bedrock's statuses of a model invocation job (`ModelInvocationJobStatus`). */
export const INVOCATION_STATUSES = [
  'Submitted',
  'Validating',
  'Scheduled',
  'InProgress',
  'Completed',
  'PartiallyCompleted',
  'Failed',
  'Stopping',
  'Stopped',
  'Expired',
] as const;
export type InvocationStatus = (typeof INVOCATION_STATUSES)[number];

/** Statuses after which a job changes no more; Completed and PartiallyCompleted have output to read. */
const TERMINAL: ReadonlySet<string> = new Set([
  'Completed',
  'PartiallyCompleted',
  'Failed',
  'Stopped',
  'Expired',
]);
const WITH_OUTPUT: ReadonlySet<string> = new Set(['Completed', 'PartiallyCompleted']);

/** True once an invocation job will change no more. */
export const isTerminal = (status: string | undefined): boolean =>
  status !== undefined && TERMINAL.has(status);
/** True when a finished invocation job wrote records to read back. */
export const hasOutput = (status: string | undefined): boolean =>
  status !== undefined && WITH_OUTPUT.has(status);

/**
 * One part of a batch's offline lane: one input file and one invocation job. It moves
 * planned → uploaded → created (`jobArn`) → Bedrock's statuses → collected, and every step
 * is recorded before the next starts, so a coordinator that crashed resumes where it was.
 */
export const PartStateSchema = z.object({
  part: z.number().int().nonnegative(),
  modelId: z.string().min(1).describe('the model id as sent to Bedrock'),
  type: z.enum(['InvokeModel', 'Converse']),
  records: z.number().int().positive(),
  inputKey: z.string().min(1),
  outputPrefix: z.string().min(1),
  uploaded: z.boolean().default(false),
  jobArn: z.string().min(1).optional(),
  status: z
    .union([z.enum(INVOCATION_STATUSES), z.literal('NotCreated')])
    .optional()
    .describe("Bedrock's status; NotCreated when Bedrock refused the job (its calls ran online)"),
  message: z.string().optional().describe("Bedrock's message of a failed or refused job"),
  submittedAt: z.iso
    .datetime({ offset: true })
    .optional()
    .describe("when we created the invocation job (our clock): its results' startedAt"),
  collected: z.boolean().default(false).describe('every record has a result or was sent online'),
  offline: z.number().int().nonnegative().default(0).describe('results written from the output'),
  online: z
    .number()
    .int()
    .nonnegative()
    .default(0)
    .describe('calls sent online (record errors, a failed job)'),
});
export type PartState = z.output<typeof PartStateSchema>;

/**
 * The lane a batch was enqueued in, from its lane record's `lane` field; undefined when absent
 * or unknown.
 */
export function parseLane(value: string | undefined): (typeof LANES)[number] | undefined {
  const lane = z.enum(LANES).safeParse(value);
  return lane.success ? lane.data : undefined;
}

/** A batch's offline lane as Redis holds it. */
export interface LaneState {
  lane: (typeof LANES)[number];
  /** Unix ms: jobs not back by then run online (their BullMQ delay ends). */
  deadlineMs: number;
  planned: boolean;
  /** Looks at the invocation jobs so far: the next wait doubles with each. */
  polls: number;
  doneAt?: number;
  parts: PartState[];
}

/** Reads and writes one batch's offline lane (`keys.offline`, `keys.offlinePart`). */
export class OfflineState {
  private readonly key: string;

  constructor(
    private readonly redis: RedisClient,
    private readonly keys: Keys,
    readonly batchId: string,
    private readonly ttlSeconds: number,
  ) {
    this.key = keys.offline(batchId);
  }

  /** The lane's state; undefined when the batch has no offline part (or it expired). */
  async load(): Promise<LaneState | undefined> {
    const h = await this.redis.hgetall(this.key);
    const lane = parseLane(h.lane);
    if (!lane) return undefined;
    const parts = Object.entries(h)
      .filter(([field]) => field.startsWith('part:'))
      .map(([, json]) => PartStateSchema.parse(JSON.parse(json)))
      .sort((a, b) => a.part - b.part);
    return {
      lane,
      deadlineMs: Number(h.deadline ?? 0),
      planned: h.planned === '1',
      polls: Number(h.polls ?? 0),
      ...(h.doneAt ? { doneAt: Number(h.doneAt) } : {}),
      parts,
    };
  }

  /**
   * Records the plan in one transaction: each part's state and its job ids in record order.
   * Until `planned` is set nothing was uploaded or created, so a crash before it is planned anew.
   * @param total the lane's parts with these, over every round
   */
  async savePlan(
    parts: readonly { state: PartState; ids: readonly string[] }[],
    total: number,
  ): Promise<void> {
    const multi = this.redis.multi();
    for (const { state, ids } of parts) {
      const list = this.keys.offlinePart(this.batchId, state.part);
      multi.del(list);
      for (let i = 0; i < ids.length; i += 1000) multi.rpush(list, ...ids.slice(i, i + 1000));
      multi.expire(list, this.ttlSeconds);
      multi.hset(this.key, `part:${state.part}`, JSON.stringify(state));
    }
    multi.hset(this.key, 'planned', '1', 'parts', String(total));
    multi.expire(this.key, this.ttlSeconds);
    await multi.exec();
  }

  /** Writes one part's state after a step. */
  async savePart(state: PartState): Promise<void> {
    await this.redis.hset(this.key, `part:${state.part}`, JSON.stringify(PartStateSchema.parse(state)));
  }

  /** The job ids of a part, in record order. */
  async ids(part: number): Promise<string[]> {
    return this.redis.lrange(this.keys.offlinePart(this.batchId, part), 0, -1);
  }

  /** Counts one more look at the invocation jobs. */
  async polled(): Promise<number> {
    return this.redis.hincrby(this.key, 'polls', 1);
  }

  /**
   * Opens another round of the lane for jobs that came after its plan: the parts so far stay
   * as they are, and the next step plans the newcomers as parts numbered after them.
   */
  async nextRound(): Promise<void> {
    const multi = this.redis.multi();
    multi.hdel(this.key, 'doneAt');
    multi.hset(this.key, 'planned', '0', 'polls', '0');
    await multi.exec();
  }

  /** Marks the lane finished: every part collected. */
  async done(at: number): Promise<void> {
    await this.redis.hset(this.key, 'doneAt', String(at));
  }
}
