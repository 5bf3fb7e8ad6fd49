import { Job, type Queue } from 'bullmq';

/** Jobs handled at once when moving or removing them. */
const AT_ONCE = 32;

async function eachLimited(ids: readonly string[], fn: (id: string) => Promise<boolean>): Promise<number> {
  let done = 0;
  for (let i = 0; i < ids.length; i += AT_ONCE) {
    const results = await Promise.all(ids.slice(i, i + AT_ONCE).map(fn));
    done += results.filter(Boolean).length;
  }
  return done;
}

/**
 * Sends offline-lane jobs back online: each one still waiting in the delayed set is promoted,
 * and the normal processor runs it down its whole chain. A job no longer delayed (gone, running,
 * or promoted by an earlier run of this step) is left as it is, so the step may be repeated.
 * @returns how many jobs were promoted by this call
 */
export function sendOnline(queue: Queue, ids: readonly string[]): Promise<number> {
  return eachLimited(ids, async (id) => {
    const job = await Job.fromId(queue, id);
    if (!job || !(await job.isDelayed())) return false;
    try {
      await job.promote();
      return true;
    } catch {
      // Its state changed between the two calls (its deadline came): it runs online anyway.
      return false;
    }
  });
}

/**
 * Removes the BullMQ jobs of calls whose result the offline lane has written, so they do not
 * run online at their deadline. A job that cannot be removed (running) finds its result and
 * ends as a duplicate.
 */
export function removeJobs(queue: Queue, ids: readonly string[]): Promise<number> {
  return eachLimited(ids, async (id) => (await queue.remove(id).catch(() => 0)) === 1);
}
