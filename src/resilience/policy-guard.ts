import type { AttemptRecord } from './attempt.js';
import type { BookkeepingStep, ResilienceEmitter } from './events.js';
import type { RateLimiter } from './ratelimit.js';

/**
 * Everything one model's policy reports and records around its calls: events on the bus,
 * attempts, refunds to the fleet limiter and the other steps of bookkeeping. None of it may
 * change a call's outcome: a step that throws is reported as `bookkeepingFailed` and goes no
 * further.
 */
export class PolicyGuard {
  constructor(
    private readonly modelId: string,
    private readonly events: ResilienceEmitter | undefined,
  ) {}

  /** Runs one step of bookkeeping; should it fail, it is reported and goes no further. */
  async keep(step: BookkeepingStep, work: () => Promise<void>): Promise<void> {
    try {
      await work();
    } catch (error) {
      this.failed(step, error);
    }
  }

  /** Reports a step of bookkeeping that threw. */
  failed(step: BookkeepingStep, error: unknown): void {
    try {
      this.events?.emit('bookkeepingFailed', { modelId: this.modelId, step, error });
    } catch {
      // A listener of the report itself threw: there is nowhere left to report it.
    }
  }

  /** Emits on the bus, if any; a listener that throws is reported, never thrown into the call. */
  notify(emit: (events: ResilienceEmitter) => void): void {
    const { events } = this;
    if (!events) return;
    try {
      emit(events);
    } catch (error) {
      this.failed('event', error);
    }
  }

  /**
   * Gives fleet tokens (and requests) reserved but not used back to the limiter (negative
   * tokens charge an answer that used more). When that fails (Redis lost for a moment), the
   * fleet's buckets stay charged for what nobody used: the fleet paces this model a little
   * slower until they refill, within the limiter's minute (a little faster, for an uncharged
   * overrun). Either costs far less than failing the call, which would lose an answer already
   * paid for and call a model again.
   */
  refund(limiter: RateLimiter, tokens: number, requests?: number): Promise<void> {
    return this.keep('refund', () => limiter.refund(this.modelId, tokens, requests));
  }

  /** Adds an attempt to the job's list and reports it. */
  record(attempts: AttemptRecord[], record: AttemptRecord): void {
    attempts.push(record);
    this.notify((ev) => ev.emit('attempt', record));
  }
}
