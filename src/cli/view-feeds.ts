import { Writable } from 'node:stream';
import type { Config } from '../config.js';
import { ModelCatalog } from '../models/catalog.js';
import type { RedisClient } from '../redis/connect.js';
import type { ResilienceEmitter } from '../resilience/events.js';
import { type ModelFleetState, readFleetState } from '../resilience/fleet-view.js';
import { fleetNotices, HealthNotices } from './notices.js';
import type { ProgressView } from './progress.js';

/**
 * Puts the health changes an in-process worker's resilience events reveal (an outage, a breaker
 * opening, half-open, closing) above the bar; returns a function that stops listening.
 */
export function showHealth(
  events: ResilienceEmitter,
  view: ProgressView,
  now = () => Date.now(),
): () => void {
  const notices = new HealthNotices();
  const say = (lines: string[]) => {
    for (const line of lines) view.notice(line);
  };
  const handlers = {
    attempt: (a: { modelId: string; outcome: string; httpStatus?: number }) =>
      say(
        notices.note(
          {
            type: 'attempt',
            modelId: a.modelId,
            outcome: a.outcome,
            ...(a.httpStatus !== undefined ? { httpStatus: a.httpStatus } : {}),
          },
          now(),
        ),
      ),
    fallback: (f: { from: string; to: string }) => say(notices.note({ type: 'fallback', ...f }, now())),
    open: (o: { modelId: string; kind: string; halfOpenAt: number }) =>
      say(notices.note({ type: 'open', ...o }, now())),
    halfOpen: (h: { modelId: string }) => say(notices.note({ type: 'halfOpen', ...h }, now())),
    close: (c: { modelId: string }) => say(notices.note({ type: 'close', ...c }, now())),
  };
  events.on('attempt', handlers.attempt);
  events.on('fallback', handlers.fallback);
  events.on('open', handlers.open);
  events.on('halfOpen', handlers.halfOpen);
  events.on('close', handlers.close);
  return () => {
    events.off('attempt', handlers.attempt);
    events.off('fallback', handlers.fallback);
    events.off('open', handlers.open);
    events.off('halfOpen', handlers.halfOpen);
    events.off('close', handlers.close);
  };
}

/** A stream for a logger that hands each whole line it is given to `line`. */
export function lineSink(line: (text: string) => void): Writable {
  let partial = '';
  return new Writable({
    decodeStrings: false,
    write(chunk: string | Buffer, _encoding, done) {
      const lines = (partial + chunk.toString()).split('\n');
      partial = lines.pop() ?? '';
      for (const l of lines) if (l !== '') line(l);
      done();
    },
  });
}

/** How often the fleet's breakers are read for notices. */
const FLEET_REFRESH_MS = 1_000;

/**
 * Reads the fleet's breakers from Redis every second and says each transition through
 * `notice`, so a process apart from the workers sees a model go down and come back; returns a
 * function that stops and waits for a read in flight. A breaker already open at the first read
 * is reported too, unless `quietStart` (the caller has shown the models already). A failed read
 * is skipped: the next one compares with the last state seen.
 */
export function followFleet(
  redis: RedisClient,
  config: Config,
  notice: (line: string) => void,
  options: { quietStart?: boolean } = {},
): () => Promise<void> {
  const catalog = new ModelCatalog(config.customModels);
  let seen: ModelFleetState[] | undefined = options.quietStart ? undefined : [];
  let reading: Promise<void> = Promise.resolve();
  const read = () => {
    reading = reading
      .then(() => readFleetState(redis, config, catalog))
      .then((now) => {
        for (const line of fleetNotices(seen ?? now, now)) notice(line);
        seen = now;
      })
      .catch(() => {});
  };
  read();
  const timer = setInterval(read, FLEET_REFRESH_MS).unref();
  return async () => {
    clearInterval(timer);
    await reading;
  };
}
