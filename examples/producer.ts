/**
 * Another service enqueueing summaries and reading them back.
 *   BEDROCK_ENDPOINT=http://127.0.0.1:4010 npx bedrock-jobs worker &   # or real Bedrock
 *   npx tsx examples/producer.ts
 */
import { createProducer, JobValidationError } from '../src/index.js';

const producer = createProducer({ redis: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379' });

const tickets = [
  {
    id: 'ticket-1001',
    text: 'Customer reports that the billing portal returns E-401 after login since Monday.',
  },
  {
    id: 'ticket-1002',
    text: '고객이 로그인 후 결제 포털에서 오류가 발생한다고 신고했다. 캐시를 지우면 잠시 동안만 작동한다.',
  },
];

try {
  const batch = await producer.enqueueBatch(
    tickets.map((t) => ({
      id: t.id,
      task: 'summarize' as const,
      document: t.text,
      metadata: { source: 'helpdesk' },
    })),
  );
  console.log(`batch ${batch.batchId}: ${batch.enqueued} enqueued, ${batch.duplicates} already known`);
  const done = await producer.waitForBatch(batch.batchId, {
    onProgress: (c) => console.log(`${c.completed + c.failed}/${c.total}`),
  });
  for (const t of tickets) {
    const r = await producer.getResult(t.id);
    console.log(t.id, r?.status, r?.modelId, r?.text ?? r?.error);
  }
  console.log(done);
} catch (e) {
  if (e instanceof JobValidationError) console.error(`refused: ${e.message}`);
  else throw e;
} finally {
  await producer.close();
}
