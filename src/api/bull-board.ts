import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { FastifyAdapter } from '@bull-board/fastify';
import type { Queue } from 'bullmq';
import type { FastifyInstance } from 'fastify';

/**
 * Mounts bull-board's view of the job queue under `prefix`. Its routes declare no scope:
 * `scopeRoutesUnder` (auth.ts), called before this, gives them theirs (reads for `read`,
 * actions for `admin`).
 */
export async function mountBullBoard(app: FastifyInstance, queue: Queue, prefix: string): Promise<void> {
  const serverAdapter = new FastifyAdapter();
  createBullBoard({
    queues: [new BullMQAdapter(queue)],
    serverAdapter,
    options: { uiConfig: { boardTitle: 'bedrock-jobs' } },
  });
  serverAdapter.setBasePath(prefix);
  await app.register(serverAdapter.registerPlugin(), { prefix });
}
