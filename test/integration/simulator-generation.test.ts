import { ConverseCommand, InvokeModelCommand } from '@aws-sdk/client-bedrock-runtime';
import { afterEach, describe, expect, it } from 'vitest';
import { ModelCatalog } from '../../src/models/catalog.js';
import { ADAPTERS } from '../../src/models/families/index.js';
import { type RunningSimulator, startSimulator } from '../../src/simulator/index.js';
import { buildSummaryRequest } from '../../src/summarize/prompt.js';
import { sdkClient, testControl } from './simulator-fixtures.js';

const HAIKU = 'anthropic.claude-3-haiku-20240307-v1:0';
const NOVA = 'amazon.nova-lite-v1:0';
const KOREAN_DOCUMENT = [
  '정부는 내년부터 전기차 보조금 제도를 개편한다고 밝혔다.',
  '보조금은 차량 가격과 주행 거리에 따라 차등 지급된다.',
  '고가 차량에 대한 보조금은 줄어들고 보급형 차량에 대한 지원은 늘어난다.',
  '오늘 저녁에는 비가 조금 내리겠습니다.',
  '정부는 충전소 설치 지원도 확대해 전기차 보급을 늘릴 계획이다.',
  '업계는 보조금 개편이 전기차 가격 인하로 이어질 것으로 기대했다.',
  '주말에는 가족과 함께 공원에 갔어요.',
  '새 보조금 제도는 내년 1월부터 시행된다.',
].join('\n');

const sims: RunningSimulator[] = [];
afterEach(async () => {
  await Promise.all(sims.splice(0).map((s) => s.close()));
});

async function simulator(seed: number) {
  const sim = await startSimulator({ control: testControl(), seed });
  sims.push(sim);
  return sdkClient(sim.url);
}

const sentences = (text: string): string[] =>
  text
    .split(/(?<=[.!?])\s+|\n+/)
    .map((s) => s.trim())
    .filter(Boolean);

describe('generated answers', () => {
  it("summarizes a Korean document from the project's own prompt in Korean, with its sentences", async () => {
    const client = await simulator(1);
    const model = new ModelCatalog().get(HAIKU)!;
    const body = ADAPTERS.anthropic.toNative(
      buildSummaryRequest({ document: KOREAN_DOCUMENT, family: 'anthropic' }),
      model,
    );

    const out = await client.send(new InvokeModelCommand({ modelId: HAIKU, body: JSON.stringify(body) }));
    const reply = ADAPTERS.anthropic.fromNative(JSON.parse(new TextDecoder().decode(out.body)));
    client.destroy();

    const summary = sentences(reply.text);
    expect(summary[0]).toBe('정부는 내년부터 전기차 보조금 제도를 개편한다고 밝혔다.');
    expect(summary.length).toBeGreaterThan(1);
    for (const s of summary) expect(KOREAN_DOCUMENT.split('\n')).toContain(s);
    expect(reply.text).not.toMatch(/[A-Za-z]/);
    expect(reply.stopReason).toBe('end_turn');
  });

  it('summarizes through Converse too', async () => {
    const client = await simulator(1);
    const request = buildSummaryRequest({ document: KOREAN_DOCUMENT, family: 'nova' });

    const out = await client.send(
      new ConverseCommand({
        modelId: NOVA,
        system: [{ text: request.system ?? '' }],
        messages: [{ role: 'user', content: [{ text: request.messages[0]?.content ?? '' }] }],
      }),
    );
    client.destroy();

    const text = out.output && 'message' in out.output ? (out.output.message?.content?.[0]?.text ?? '') : '';
    expect(sentences(text)[0]).toBe('정부는 내년부터 전기차 보조금 제도를 개편한다고 밝혔다.');
  });

  it('answers the same text for the same seed and input on another simulator, another for another seed', async () => {
    const body = JSON.stringify({
      anthropic_version: 'bedrock-2023-05-31',
      max_tokens: 300,
      messages: [{ role: 'user', content: 'Explain backoff with jitter.' }],
    });
    const text = async (seed: number) => {
      const client = await simulator(seed);
      const out = await client.send(new InvokeModelCommand({ modelId: HAIKU, body }));
      client.destroy();
      return (JSON.parse(new TextDecoder().decode(out.body)) as { content: { text: string }[] }).content[0]
        ?.text;
    };

    const a = await text(5);
    const b = await text(5);
    const c = await text(6);

    expect(a).toBe(b);
    expect(c).not.toBe(a);
  });
});
