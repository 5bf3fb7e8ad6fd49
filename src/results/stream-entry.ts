/**
 * One entry of the results stream (`keys.results`), as followers read it: a finished job
 * (`id`, `batchId`, `status`), or the end of a batch (`batchId`, `status: done`, its final
 * counters and `doneAt`). `streamId` is the entry's own stream id.
 */
export type ResultsEntry =
  | { type: 'job'; streamId: string; batchId: string; jobId: string; status: 'completed' | 'failed' }
  | {
      type: 'done';
      streamId: string;
      batchId: string;
      total: number;
      completed: number;
      failed: number;
      /** Unix ms on Redis's clock. */
      doneAt: number;
    };

function fieldsOf(flat: readonly string[]): Map<string, string> {
  const out = new Map<string, string>();
  for (let i = 0; i + 1 < flat.length; i += 2) out.set(flat[i]!, flat[i + 1]!);
  return out;
}

/** Reads one entry as XREAD/XRANGE return it; undefined for an entry of no batch or of another shape. */
export function parseResultsEntry(streamId: string, flat: readonly string[]): ResultsEntry | undefined {
  const f = fieldsOf(flat);
  const batchId = f.get('batchId');
  const status = f.get('status');
  if (!batchId) return undefined;
  if (status === 'done') {
    const n = (name: string) => Number(f.get(name) ?? 0);
    return {
      type: 'done',
      streamId,
      batchId,
      total: n('total'),
      completed: n('completed'),
      failed: n('failed'),
      doneAt: n('doneAt'),
    };
  }
  const jobId = f.get('id');
  if (!jobId || (status !== 'completed' && status !== 'failed')) return undefined;
  return { type: 'job', streamId, batchId, jobId, status };
}
