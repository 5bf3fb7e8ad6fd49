import type { Logger } from '../log.js';
import type { BookkeepingStep, ResilienceEmitter } from '../resilience/events.js';

/** What each failed step means for the fleet: the call's own outcome stands in every case. */
const CONSEQUENCE: Readonly<Record<BookkeepingStep, string>> = {
  refund:
    'could not give unused capacity back to the fleet rate limiter; the model is paced a little slower until its window passes',
  throttled: 'could not report a throttle to the fleet rate limiter; the fleet keeps its rate for now',
  probe:
    'could not tell the fleet how its probe went; the model stays open for the fleet until the probe lapses',
  breaker: "the model's breaker failed while recording an answer; the answer is kept",
  event: 'a listener of the resilience events threw; the call is unaffected',
};

/**
 * Logs each failed bookkeeping step of the policies on `events` as one warning: model, step
 * and error, never the request or the answer.
 */
export function logBookkeepingFailures(events: ResilienceEmitter, logger: Logger): void {
  events.on('bookkeepingFailed', (e) =>
    logger.warn({ err: e.error, model: e.modelId, step: e.step }, CONSEQUENCE[e.step]),
  );
}
