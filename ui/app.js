// The bedrock-jobs dashboard: logs in through POST /v1/session (a cookie), then renders the
// snapshots GET /ui/stream pushes every second. No build step; text goes in with textContent.
'use strict';

const $ = (sel) => document.querySelector(sel);

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === 'class') node.className = v;
    else if (k === 'dataset') Object.assign(node.dataset, v);
    else node.setAttribute(k, v);
  }
  for (const c of children) node.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return node;
}

const fmt = {
  int: (n) => (n ?? 0).toLocaleString('en-US'),
  num: (n, d = 1) => (n == null ? '—' : n.toLocaleString('en-US', { maximumFractionDigits: d })),
  usd: (n) => `$${(n ?? 0).toLocaleString('en-US', { minimumFractionDigits: 4, maximumFractionDigits: 4 })}`,
  eta(s) {
    if (s == null) return '—';
    if (s === 0) return 'done';
    if (s < 60) return `${s}s`;
    if (s < 3600) return `${Math.floor(s / 60)}m ${s % 60}s`;
    return `${Math.floor(s / 3600)}h ${Math.floor((s % 3600) / 60)}m`;
  },
  ago(ms) {
    const s = Math.max(0, Math.round((Date.now() - ms) / 1000));
    return s < 60 ? `${s}s ago` : s < 3600 ? `${Math.floor(s / 60)}m ago` : new Date(ms).toLocaleString();
  },
};

function showLogin() {
  $('#board').hidden = true;
  $('#logout').hidden = true;
  $('#login').hidden = false;
  $('#live').textContent = 'logged out';
  $('#live').className = 'live';
  $('#token').focus();
}

async function login(event) {
  event.preventDefault();
  const res = await fetch('/v1/session', {
    method: 'POST',
    body: new URLSearchParams({ token: $('#token').value }),
    credentials: 'same-origin',
  });
  if (res.ok) {
    location.reload();
    return;
  }
  const body = await res.json().catch(() => ({}));
  $('#login-error').textContent = body.error ?? `login failed (${res.status})`;
}

async function logout() {
  await fetch('/v1/session', { method: 'DELETE', credentials: 'same-origin' });
  location.reload();
}

// ---- chart -------------------------------------------------------------------------------
let chart;
function renderChart(series) {
  const data = [
    series.map((p) => p.t / 1000),
    series.map((p) => p.completed),
    series.map((p) => p.failed),
    series.map((p) => p.callErrors),
  ];
  if (chart) {
    chart.setData(data);
    return;
  }
  const box = $('#chart');
  chart = new uPlot(
    {
      width: box.clientWidth,
      height: 240,
      cursor: { drag: { x: false, y: false } },
      legend: { live: false },
      scales: { y: { range: (_u, _min, max) => [0, Math.max(5, max * 1.15)] } },
      axes: [{}, { label: 'per second', size: 60 }],
      series: [
        {},
        { label: 'completed', stroke: '#16a34a', fill: 'rgba(22,163,74,0.08)', width: 2 },
        { label: 'failed jobs', stroke: '#d97706', width: 2 },
        { label: 'failed calls', stroke: '#dc2626', width: 1.5, dash: [5, 4] },
      ],
    },
    data,
    box,
  );
  window.addEventListener('resize', () => chart.setSize({ width: box.clientWidth, height: 240 }));
}

// ---- models ------------------------------------------------------------------------------
function renderModels(models) {
  const rows = models.map((m) => {
    const open = m.breaker.state === 'open';
    const pill = el('span', { class: `pill ${m.breaker.state}` }, open ? 'open' : 'closed');
    const breaker = el('td', { class: 'breaker', dataset: { state: m.breaker.state } }, pill);
    if (open && m.breaker.probeInMs > 0) breaker.append(el('span', { class: 'muted' }, ` probe in ${fmt.num(m.breaker.probeInMs / 1000)}s`));
    let rate = el('td', { class: 'muted' }, 'no limit');
    if (m.rate) {
      const share = m.rate.quota.rpm > 0 ? Math.min(1, m.rate.rpm / m.rate.quota.rpm) : 0;
      const bar = el('span', { class: 'meter' }, el('span', { style: `width:${(share * 100).toFixed(1)}%` }));
      rate = el('td', {}, bar, `${fmt.num(m.rate.rpm, 0)} / ${fmt.int(m.rate.quota.rpm)}`);
    }
    const s = m.lastMinute;
    return el(
      'tr',
      { dataset: { model: m.modelId } },
      el('td', { class: 'model' }, m.modelId),
      breaker,
      rate,
      el('td', { class: 'num' }, fmt.int(s.calls)),
      el('td', { class: 'num' }, fmt.int(s.throttles)),
      el('td', { class: 'num' }, fmt.int(s.errors)),
      el('td', { class: 'num' }, fmt.num(s.p50, 0)),
      el('td', { class: 'num' }, fmt.num(s.p95, 0)),
    );
  });
  $('#models tbody').replaceChildren(...rows);
}

// ---- batches -----------------------------------------------------------------------------
/** A batch enqueued for the offline lane, or with results from it: its cost is shown per lane. */
const usedOffline = (b) => b.lane !== 'online' || b.lanes.offline.completed + b.lanes.offline.failed > 0;

/** The total cost; for the offline lane, what each lane cost and what going offline saved. */
function costOf(b) {
  if (!usedOffline(b)) return el('b', { class: 'cost' }, fmt.usd(b.costUsd));
  const { online, offline } = b.lanes;
  return el(
    'span',
    { class: 'cost', title: `total ${fmt.usd(b.costUsd)}; offline at on-demand prices would have cost ${fmt.usd(offline.onlineCostUsd)}` },
    // Each figure with its word, so that a narrow page wraps between them, not inside one.
    el('span', {}, el('b', {}, fmt.usd(online.costUsd)), ' online'), ' + ',
    el('span', {}, el('b', {}, fmt.usd(offline.costUsd)), ' offline'), ' ',
    el('span', { class: 'saved' }, `(saved ${fmt.usd(offline.onlineCostUsd - offline.costUsd)})`),
  );
}

function renderBatches(batches) {
  $('#no-batches').hidden = batches.length > 0;
  const cards = batches.map((b) => {
    const done = b.completed + b.failed;
    const perModel = Object.entries(b.perModel).sort((x, y) => y[1] - x[1]);
    return el(
      'div',
      { class: `batch${b.failed > 0 ? ' has-failed' : ''}`, dataset: { batchId: b.batchId, done: String(done), total: String(b.total) } },
      el(
        'div',
        { class: 'batch-head' },
        el(
          'span',
          {},
          el('span', { class: 'batch-id' }, b.batchId),
          ...(usedOffline(b) ? [' ', el('span', { class: `pill lane ${b.lane}`, title: 'lane' }, b.lane)] : []),
          el('span', { class: 'muted' }, `  · ${fmt.ago(b.createdAt)}`),
        ),
        el(
          'span',
          { class: 'batch-facts' },
          el('b', {}, fmt.int(b.completed)), ' done · ',
          el('b', {}, fmt.int(b.failed)), ' failed · ',
          el('b', {}, fmt.int(b.total)),
          ' total · ',
          ...(done >= b.total
            ? [el('b', {}, 'finished'), ' · ']
            : [
                el('b', {}, b.ratePerSecond == null ? '—' : fmt.num(b.ratePerSecond)),
                ' jobs/s · ETA ',
                el('b', {}, fmt.eta(b.etaSeconds)),
                ' · ',
              ]),
          costOf(b),
        ),
      ),
      el('progress', { max: String(Math.max(1, b.total)), value: String(done) }),
      el(
        'div',
        { class: 'per-model' },
        ...(perModel.length === 0
          ? [el('span', {}, 'no results yet')]
          : perModel.map(([id, n]) => el('span', {}, `${id}: ${fmt.int(n)}`))),
        el('span', {}, `tokens in/out: ${fmt.int(b.inputTokens)} / ${fmt.int(b.outputTokens)}`),
      ),
    );
  });
  $('#batches').replaceChildren(...cards);
}

// ---- live stream -------------------------------------------------------------------------
function connect() {
  const live = $('#live');
  const source = new EventSource('/ui/stream');
  source.onopen = () => {
    live.textContent = 'live';
    live.className = 'live on';
  };
  source.addEventListener('snapshot', (event) => {
    const snap = JSON.parse(event.data);
    renderModels(snap.models);
    renderBatches(snap.batches);
    renderChart(snap.series);
  });
  source.onerror = async () => {
    live.textContent = 'reconnecting…';
    live.className = 'live off';
    // A refused stream is not retried by the browser: find out whether the session ended.
    if (source.readyState === EventSource.CLOSED) {
      const res = await fetch('/v1/batches?limit=1', { credentials: 'same-origin' });
      if (res.status === 401) showLogin();
      else setTimeout(connect, 2000);
    }
  };
}

async function start() {
  $('#login-form').addEventListener('submit', login);
  $('#logout').addEventListener('click', logout);
  const res = await fetch('/v1/batches?limit=1', { credentials: 'same-origin' });
  if (res.status === 401) {
    showLogin();
    return;
  }
  $('#board').hidden = false;
  $('#logout').hidden = false;
  connect();
}

start();
