/**
 * Writes the sample corpus of `examples/corpus/`: support tickets, contracts, articles and
 * meeting notes in English and Korean, short and long, and one document longer than every
 * model's context window. Seeded, so the corpus is the same on every run.
 *
 *   npx tsx scripts/make-corpus.ts [outDir]
 */
import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { mulberry32 } from '../src/random.js';

const rand = mulberry32(0x9e3779b9);
const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)] as T;
const int = (lo: number, hi: number): number => lo + Math.floor(rand() * (hi - lo + 1));

const EN = {
  people: [
    'Alice Moreno',
    'Brian Okafor',
    'Chen Wei',
    'Dana Kowalski',
    'Elif Demir',
    'Farah Haddad',
    'Gustavo Lima',
    'Hana Sato',
  ],
  companies: [
    'Northwind Logistics',
    'Acme Analytics',
    'Bluefin Health',
    'Copperleaf Energy',
    'Delta Freight',
    'Evergreen Foods',
  ],
  products: [
    'the billing portal',
    'the mobile app',
    'the reporting API',
    'the warehouse scanner',
    'the payroll module',
  ],
  cities: ['Seattle', 'Lisbon', 'Nairobi', 'Osaka', 'Toronto', 'Busan'],
};
const EN_SENTENCES: Record<string, readonly (() => string)[]> = {
  ticket: [
    () =>
      `Customer ${pick(EN.people)} from ${pick(EN.companies)} reports that ${pick(EN.products)} returns an error after login.`,
    () => `The issue started on ${int(1, 28)} March and affects about ${int(2, 90)} percent of their users.`,
    () =>
      `Restarting the session did not help, and clearing the cache only worked for ${int(5, 40)} minutes.`,
    () =>
      `The error code shown is E-${int(100, 999)}, which points to an expired token in ${pick(EN.products)}.`,
    () => `Support asked for logs and received ${int(3, 30)} files covering the last ${int(2, 14)} days.`,
    () => `Engineering found that a configuration change deployed in ${pick(EN.cities)} caused the failure.`,
    () =>
      `A fix was rolled out to ${int(10, 100)} percent of servers and the error rate dropped to ${int(0, 3)}.${int(0, 9)} percent.`,
    () => `The customer asked for a credit of ${int(100, 5000)} dollars for the downtime.`,
    () => `Priority was raised to P${int(1, 3)} because the issue blocks month-end invoicing.`,
  ],
  contract: [
    () =>
      `This agreement is made between ${pick(EN.companies)} and ${pick(EN.companies)} on ${int(1, 28)} June ${int(2023, 2026)}.`,
    () =>
      `The supplier shall deliver the goods to the warehouse in ${pick(EN.cities)} within ${int(5, 60)} days of each order.`,
    () =>
      `Payment is due within ${pick([15, 30, 45, 60])} days of the invoice date, with a late fee of ${int(1, 5)} percent per month.`,
    () => `Either party may terminate this agreement with ${int(30, 180)} days of written notice.`,
    () => `The total value of the contract shall not exceed ${int(50, 900)},000 dollars per year.`,
    () => `Confidential information must not be disclosed for ${int(2, 7)} years after termination.`,
    () =>
      `Disputes shall be settled by arbitration in ${pick(EN.cities)} under the rules in force at that time.`,
    () =>
      `The liability of each party is limited to the fees paid in the ${int(6, 24)} months before the claim.`,
  ],
  article: [
    () =>
      `${pick(EN.companies)} announced on Tuesday that it will open a new office in ${pick(EN.cities)} next year.`,
    () => `The expansion is expected to create ${int(50, 900)} jobs over the next ${int(2, 5)} years.`,
    () =>
      `Chief executive ${pick(EN.people)} said the decision followed ${int(2, 9)} quarters of record growth.`,
    () => `Revenue rose ${int(3, 40)} percent to ${int(10, 900)} million dollars in the last fiscal year.`,
    () => `Analysts in ${pick(EN.cities)} noted that competition in the sector remains intense.`,
    () => `The company also plans to invest in ${pick(EN.products)} and in training for its staff.`,
    () => `Shares closed ${int(1, 9)} percent higher after the announcement.`,
  ],
  meeting: [
    () => `${pick(EN.people)} opened the meeting and reviewed the actions from last week.`,
    () => `The team agreed to ship ${pick(EN.products)} changes by ${int(1, 28)} October.`,
    () => `${pick(EN.people)} will prepare a cost estimate of about ${int(5, 80)},000 dollars.`,
    () => `The launch in ${pick(EN.cities)} was postponed by ${int(1, 6)} weeks because of testing delays.`,
    () => `Open risks include vendor delays and a shortage of ${int(2, 9)} engineers.`,
    () => `The next review is scheduled for ${pick(['Monday', 'Wednesday', 'Friday'])} at ${int(9, 16)}:00.`,
  ],
};

const KO = {
  people: ['김민준', '이서연', '박지훈', '최수아', '정우진', '강하은', '조현우', '윤지아'],
  companies: ['한빛물류', '새봄헬스케어', '푸른에너지', '다온식품', '미래분석', '한결화물'],
  products: ['결제 포털', '모바일 앱', '보고서 API', '창고 스캐너', '급여 모듈'],
  cities: ['서울', '부산', '대구', '인천', '광주', '대전'],
};
const KO_SENTENCES: Record<string, readonly (() => string)[]> = {
  ticket: [
    () =>
      `${pick(KO.companies)}의 ${pick(KO.people)} 고객이 로그인 후 ${pick(KO.products)}에서 오류가 발생한다고 신고했다.`,
    () =>
      `문제는 ${int(1, 12)}월 ${int(1, 28)}일에 시작되었으며 사용자의 약 ${int(2, 90)}퍼센트가 영향을 받았다.`,
    () => `세션을 다시 시작해도 해결되지 않았고 캐시를 지우면 ${int(5, 40)}분 동안만 정상적으로 작동했다.`,
    () => `화면에 표시된 오류 코드는 E-${int(100, 999)}이며 이는 만료된 토큰을 가리킨다.`,
    () => `지원팀은 최근 ${int(2, 14)}일간의 로그 파일 ${int(3, 30)}개를 받았다.`,
    () => `개발팀은 ${pick(KO.cities)} 서버에 배포된 설정 변경이 원인이라는 것을 확인했다.`,
    () => `수정 사항이 서버의 ${int(10, 100)}퍼센트에 배포된 후 오류율이 ${int(0, 3)}퍼센트로 떨어졌다.`,
    () => `고객은 서비스 중단에 대해 ${int(10, 500)}만 원의 보상을 요청했다.`,
  ],
  contract: [
    () =>
      `본 계약은 ${int(2023, 2026)}년 ${int(1, 12)}월 ${int(1, 28)}일 ${pick(KO.companies)}와 ${pick(KO.companies)} 사이에 체결되었다.`,
    () => `공급자는 주문일로부터 ${int(5, 60)}일 이내에 ${pick(KO.cities)} 창고로 물품을 납품하여야 한다.`,
    () =>
      `대금은 청구일로부터 ${pick([15, 30, 45, 60])}일 이내에 지급하며 연체 시 월 ${int(1, 5)}퍼센트의 지연이자가 부과된다.`,
    () => `각 당사자는 ${int(30, 180)}일 전에 서면으로 통지하여 본 계약을 해지할 수 있다.`,
    () => `계약 총액은 연간 ${int(5, 90)}억 원을 초과할 수 없다.`,
    () => `비밀 정보는 계약 종료 후 ${int(2, 7)}년 동안 공개되어서는 안 된다.`,
    () => `분쟁은 ${pick(KO.cities)}에서 중재를 통해 해결한다.`,
  ],
  article: [
    () => `${pick(KO.companies)}는 화요일 내년에 ${pick(KO.cities)}에 새 사무소를 연다고 발표했다.`,
    () => `이번 확장으로 앞으로 ${int(2, 5)}년 동안 ${int(50, 900)}개의 일자리가 생길 것으로 예상된다.`,
    () => `${pick(KO.people)} 대표는 ${int(2, 9)}분기 연속 최대 실적을 기록한 뒤 이 결정을 내렸다고 말했다.`,
    () => `지난 회계연도 매출은 ${int(3, 40)}퍼센트 증가한 ${int(100, 9000)}억 원을 기록했다.`,
    () => `${pick(KO.cities)}의 분석가들은 업계 경쟁이 여전히 치열하다고 지적했다.`,
    () => `회사는 ${pick(KO.products)}와 직원 교육에도 투자할 계획이다.`,
  ],
  meeting: [
    () => `${pick(KO.people)} 팀장이 회의를 시작하고 지난주 조치 사항을 검토했다.`,
    () => `팀은 ${int(1, 12)}월 ${int(1, 28)}일까지 ${pick(KO.products)} 변경 사항을 출시하기로 합의했다.`,
    () => `${pick(KO.people)} 씨가 약 ${int(500, 8000)}만 원의 비용 견적을 준비하기로 했다.`,
    () => `${pick(KO.cities)} 출시는 테스트 지연으로 ${int(1, 6)}주 연기되었다.`,
    () => `남은 위험 요소는 공급업체 지연과 개발자 ${int(2, 9)}명의 부족이다.`,
  ],
};

const KINDS = ['ticket', 'contract', 'article', 'meeting'] as const;

function paragraph(bank: readonly (() => string)[], sentences: number): string {
  return Array.from({ length: sentences }, () => pick(bank)()).join(' ');
}

function doc(lang: 'en' | 'ko', kind: (typeof KINDS)[number], paragraphs: number): string {
  const bank = (lang === 'en' ? EN_SENTENCES : KO_SENTENCES)[kind] ?? [];
  return Array.from({ length: paragraphs }, () => paragraph(bank, int(3, 7))).join('\n\n');
}

const out = process.argv[2] ?? join(import.meta.dirname, '..', 'examples', 'corpus');
mkdirSync(out, { recursive: true });
for (const f of readdirSync(out)) if (/\.(txt|md)$/.test(f)) rmSync(join(out, f));

const plan: { lang: 'en' | 'ko'; count: number; paragraphs: [number, number] }[] = [
  { lang: 'en', count: 140, paragraphs: [2, 12] },
  { lang: 'ko', count: 60, paragraphs: [2, 10] },
  { lang: 'en', count: 12, paragraphs: [170, 450] }, // ~20k-60k tokens: past Titan's and Llama 3's windows
  { lang: 'ko', count: 4, paragraphs: [200, 400] },
];
let n = 0;
for (const { lang, count, paragraphs } of plan) {
  for (let i = 0; i < count; i++) {
    const kind = pick(KINDS);
    const name = `${String(++n).padStart(3, '0')}-${lang}-${kind}.txt`;
    writeFileSync(join(out, name), `${doc(lang, kind, int(...paragraphs))}\n`);
  }
}
// Longer than every model's context window (300k tokens for the largest): needs map-reduce.
writeFileSync(
  join(out, `${String(++n).padStart(3, '0')}-ko-contract-huge.txt`),
  `${doc('ko', 'contract', 3_100)}\n`,
);
process.stdout.write(`wrote ${n} documents to ${out}\n`);
