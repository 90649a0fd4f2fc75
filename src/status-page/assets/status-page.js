// The operators' status page. Polls the open status API (/status, /status/throughput) every
// POLL_MS and redraws in place; the admin token, asked for once when an admin action or the
// failure list first needs it, lives in this module's memory only (never in storage, cookies or
// the URL): reloading the page forgets it. Everything is built with DOM APIs and textContent,
// so file names and error messages can never inject markup.
import { formatClock, formatCount, formatDuration, formatFinish, formatPercent, formatSeconds, niceCeiling } from './format.js';

// Fresh enough to watch a backfill move, cheap enough for the database: each poll is a handful
// of indexed queries.
const POLL_MS = 2000;
const REQUEST_TIMEOUT_MS = 10_000;
const CHART_MINUTES = 60;
// The chart has one point a minute, and its query reads every file finished in the hour
// (~130 ms with 20,000 of them): it is refreshed less often than the rest.
const CHART_REFRESH_MS = 15_000;
const FAILURES_SHOWN = 20;
const STAGES = ['read', 'decompress', 'parse', 'clean', 'write'];
const FILE_STATUSES = ['pending', 'processing', 'done', 'failed'];
const SVG = 'http://www.w3.org/2000/svg';

let adminToken = null;
let afterUnlock = null;
let lastStatus = null;
let pollTimer = null;
let refreshing = null;
let refreshAgain = false;
let chartFetchedAt = 0;

const byId = (id) => document.getElementById(id);

function element(tag, properties = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(properties)) {
    if (name === 'className') node.className = value;
    else if (name === 'text') node.textContent = value;
    else if (name.startsWith('data-') || name.startsWith('aria-')) node.setAttribute(name, value);
    else node[name] = value;
  }
  node.append(...children);
  return node;
}

function svgElement(tag, attributes = {}) {
  const node = document.createElementNS(SVG, tag);
  for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, String(value));
  return node;
}

/**
 * Keeps a list's children in step with `items` by key: existing nodes are updated in place, so a
 * button never disappears under the pointer between two polls.
 */
function syncList(list, items, keyOf, create, update) {
  const existing = new Map([...list.children].map((child) => [child.dataset.key, child]));
  const wanted = items.map((item) => {
    const key = String(keyOf(item));
    let node = existing.get(key);
    if (!node) {
      node = create(item);
      node.dataset.key = key;
    }
    existing.delete(key);
    update(node, item);
    return node;
  });
  for (const stale of existing.values()) stale.remove();
  wanted.forEach((node, index) => {
    if (list.children[index] !== node) list.insertBefore(node, list.children[index] ?? null);
  });
}

class HttpError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

async function request(method, path, { admin = false } = {}) {
  const headers = { accept: 'application/json' };
  if (admin) headers.authorization = `Bearer ${adminToken}`;
  const response = await fetch(path, { method, headers, cache: 'no-store', signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
  const body = response.headers.get('content-type')?.includes('json') ? await response.json() : null;
  if (!response.ok) throw new HttpError(response.status, body?.message ?? `${method} ${path}: HTTP ${response.status}`);
  return body;
}

// ---- admin token -----------------------------------------------------------------------------

function withToken(action) {
  if (adminToken) return action();
  afterUnlock = action;
  openTokenDialog();
}

function openTokenDialog(message) {
  const dialog = byId('token-dialog');
  byId('token-error').hidden = !message;
  byId('token-error').textContent = message ?? '';
  byId('token-input').value = '';
  if (!dialog.open) dialog.showModal();
  byId('token-input').focus();
}

async function submitToken(event) {
  event.preventDefault();
  const candidate = byId('token-input').value.trim();
  if (!candidate) return;
  byId('token-submit').disabled = true;
  try {
    // Checked against an admin read before it is kept: a typo is reported here, not later.
    adminToken = candidate;
    await request('GET', '/status/failures?limit=1', { admin: true });
  } catch (error) {
    adminToken = null;
    byId('token-error').hidden = false;
    byId('token-error').textContent = error.status === 401 ? 'The service refused this token.' : `Could not check the token: ${error.message}`;
    return;
  } finally {
    byId('token-submit').disabled = false;
  }
  byId('token-dialog').close();
  renderLock();
  const action = afterUnlock;
  afterUnlock = null;
  if (action) await action();
  await refreshNow();
}

/** An admin call; a 401 forgets the token and asks again (it was rotated, or the service restarted with a new one). */
async function adminCall(method, path) {
  try {
    return await request(method, path, { admin: true });
  } catch (error) {
    if (error.status === 401) {
      adminToken = null;
      renderLock();
      afterUnlock = () => adminCall(method, path);
      openTokenDialog('The service refused the token: enter it again.');
      return null;
    }
    throw error;
  }
}

function renderLock() {
  byId('unlock').textContent = adminToken ? 'Forget token' : 'Admin token…';
  byId('unlock').setAttribute('aria-pressed', String(Boolean(adminToken)));
}

// ---- polling ---------------------------------------------------------------------------------

async function refresh() {
  try {
    const chartDue = Date.now() - chartFetchedAt >= CHART_REFRESH_MS;
    const [status, history] = await Promise.all([
      request('GET', '/status'),
      chartDue ? request('GET', `/status/throughput?minutes=${CHART_MINUTES}`) : null,
    ]);
    lastStatus = status;
    renderStatus(status);
    if (history) {
      chartFetchedAt = Date.now();
      renderChart(history.points);
    }
    if (adminToken) {
      const failures = await adminCall('GET', `/status/failures?limit=${FAILURES_SHOWN}`);
      if (failures) renderFailures(failures.items, status.files.failed);
    } else {
      renderFailuresLocked(status.files.failed);
    }
    byId('unreachable').hidden = true;
    byId('updated').textContent = `updated ${formatClock(new Date())}`;
  } catch (error) {
    byId('unreachable').hidden = false;
    byId('unreachable').textContent = `The service does not answer (${error.message}); retrying every ${POLL_MS / 1000} s. The figures below are from ${byId('updated').textContent || 'never'}.`;
    byId('state').textContent = 'unreachable';
    byId('state').className = 'pill bad';
  }
}

/** Refreshes now; a call made while one runs is folded into one more run after it. */
async function refreshNow() {
  if (refreshing) {
    refreshAgain = true;
    return refreshing;
  }
  refreshing = (async () => {
    do {
      refreshAgain = false;
      await refresh();
    } while (refreshAgain);
  })();
  try {
    await refreshing;
  } finally {
    refreshing = null;
  }
}

async function pollLoop() {
  clearTimeout(pollTimer);
  // A hidden tab does not poll: an operator's forgotten tab costs the database nothing.
  if (document.hidden) return;
  await refreshNow();
  clearTimeout(pollTimer);
  pollTimer = setTimeout(pollLoop, POLL_MS);
}

// ---- rendering -------------------------------------------------------------------------------

function renderStatus(status) {
  const state = byId('state');
  const draining = status.replica?.draining;
  state.textContent = draining ? 'draining' : status.paused ? 'paused' : 'running';
  state.className = `pill ${draining || status.paused ? 'warn' : 'good'}`;
  byId('pause').hidden = status.paused;
  byId('resume').hidden = !status.paused;

  byId('rate-1m').textContent = formatCount(status.throughput.lastMinute.tweetsPerSecond);
  byId('rate-15m').textContent = formatCount(status.throughput.last15Minutes.tweetsPerSecond);

  renderBackfills(status.backfills.active, status.paused);
  renderStages(status.stages);
  renderFiles(status);
  renderReplica(status);
}

function renderBackfills(backfills, paused) {
  byId('no-backfills').hidden = backfills.length > 0;
  syncList(
    byId('backfills'),
    backfills,
    (backfill) => backfill.id,
    (backfill) =>
      element(
        'li',
        { className: 'backfill', 'data-backfill-id': backfill.id },
        element('div', { className: 'backfill-head' },
          element('strong', { text: `#${backfill.id}` }),
          element('span', { className: 'what' }),
          element('span', { className: 'pill small' })),
        element('progress', { 'aria-label': `backfill ${backfill.id} progress` }),
        element('div', { className: 'facts' },
          element('span', { className: 'done-total' }),
          element('span', { className: 'written' }),
          element('span', { className: 'eta' }),
          element('span', { className: 'failed-files' })),
      ),
    (node, backfill) => {
      const finished = backfill.done + backfill.failed;
      const total = finished + backfill.pending + backfill.processing;
      node.querySelector('.what').textContent = describeRequest(backfill);
      const pill = node.querySelector('.pill');
      pill.textContent = backfill.status;
      pill.className = `pill small ${backfill.status === 'running' ? 'good' : 'neutral'}`;
      const bar = node.querySelector('progress');
      bar.max = Math.max(total, 1);
      bar.value = finished;
      const share = total > 0 ? ` (${formatPercent(finished / total)})` : '';
      node.querySelector('.done-total').textContent =
        backfill.status === 'listing'
          ? `${formatCount(finished)} / ${formatCount(total)} files so far, still listing (${formatCount(backfill.listed)} found)`
          : `${formatCount(finished)} / ${formatCount(total)} files${share}`;
      node.querySelector('.written').textContent = `${formatCount(backfill.tweetsWritten)} tweets written`;
      node.querySelector('.eta').textContent = describeEta(backfill, paused);
      const failed = node.querySelector('.failed-files');
      failed.hidden = backfill.failed === 0;
      failed.textContent = `${formatCount(backfill.failed)} failed`;
    },
  );
}

function describeRequest(backfill) {
  if (backfill.scheduled) return 'scheduled full scan';
  const prefixes = backfill.prefixes ?? [];
  if (prefixes.length === 0) return '';
  return prefixes.length <= 3 ? prefixes.join(', ') : `${prefixes[0]} … ${prefixes[prefixes.length - 1]} (${prefixes.length} prefixes)`;
}

// The ETA is the service's (status API, backfill-eta.ts): the work left divided by the
// backfill's pace over the last 15 minutes. Without a recent pace it falls back to the average
// since the backfill started, and says so.
function describeEta(backfill, paused) {
  if (paused) return 'ETA: paused';
  const recent = backfill.recent;
  const pace = recent && recent.files > 0 ? ` at ${formatCount(recent.tweetsPerSecond)} tweets/s` : '';
  if (recent?.etaSeconds === 0) return 'finishing';
  if (recent?.etaSeconds != null) return `ETA ${formatDuration(recent.etaSeconds)} · ${formatFinish(recent.etaSeconds)}${pace}`;
  if (backfill.etaSeconds != null && backfill.etaSeconds > 0) {
    return `ETA ${formatDuration(backfill.etaSeconds)} · ${formatFinish(backfill.etaSeconds)} (average since start)`;
  }
  return backfill.status === 'listing' ? 'ETA: after the first files' : 'ETA: waiting for the first files to finish';
}

function renderStages(stages) {
  syncList(
    byId('stages'),
    STAGES,
    (stage) => stage,
    (stage) =>
      element('li', { 'data-stage': stage },
        element('span', { className: 'stage-name', text: stage }),
        element('span', { className: 'track' }, element('span', { className: 'fill' })),
        element('span', { className: 'stage-share' })),
    (node, stage) => {
      const share = stages.share[stage] ?? 0;
      const bottleneck = stages.bottleneck === stage;
      node.classList.toggle('bottleneck', bottleneck);
      // CSSOM, not a style attribute: allowed by the page's style-src 'self'.
      node.querySelector('.fill').style.width = `${(share * 100).toFixed(1)}%`;
      node.querySelector('.stage-share').textContent = `${formatPercent(share)} · ${formatSeconds(stages.seconds[stage] ?? 0)}`;
    },
  );
  byId('bottleneck').hidden = !stages.bottleneck;
  byId('bottleneck').textContent = stages.bottleneck ? `Bottleneck: ${stages.bottleneck} (${formatPercent(stages.share[stages.bottleneck])} of the time)` : '';
  const files = `${formatCount(stages.files)} ${stages.files === 1 ? 'file' : 'files'} in the last ${stages.windowMinutes} min`;
  const hint = stages.hint.charAt(0).toUpperCase() + stages.hint.slice(1);
  byId('stages-hint').textContent = stages.files > 0 ? `${files}. ${hint}.` : `${hint}.`;
}

function renderFiles(status) {
  const counts = status.files;
  const total = FILE_STATUSES.reduce((sum, name) => sum + counts[name], 0);
  syncList(
    byId('files-bar'),
    FILE_STATUSES.filter((name) => counts[name] > 0),
    (name) => name,
    (name) => element('span', { className: `segment ${name}` }),
    (node, name) => {
      node.style.width = `${((counts[name] / total) * 100).toFixed(2)}%`;
    },
  );
  syncList(
    byId('files'),
    FILE_STATUSES,
    (name) => name,
    (name) => element('div', { className: `count ${name}`, 'data-status': name }, element('dt', { text: name }), element('dd')),
    (node, name) => {
      node.querySelector('dd').textContent = formatCount(counts[name]);
    },
  );
  const tweets = `${status.tweets.estimated ? '≈ ' : ''}${formatCount(status.tweets.total)} tweets in the database`;
  byId('totals').textContent = `${tweets} · queue depth ${formatCount(status.queueDepth)}`;
}

function renderFailuresLocked(failedCount) {
  byId('failures').replaceChildren();
  byId('no-failures').hidden = failedCount > 0;
  byId('no-failures').textContent = 'No failed file.';
  byId('failures-locked').hidden = failedCount === 0;
  byId('failed-count').textContent = `${formatCount(failedCount)} failed ${failedCount === 1 ? 'file' : 'files'}.`;
}

function renderFailures(items, failedCount) {
  byId('failures-locked').hidden = true;
  byId('no-failures').hidden = items.length > 0;
  syncList(
    byId('failures'),
    items,
    (file) => file.id,
    (file) => {
      const retry = element('button', { type: 'button', className: 'retry', text: 'Retry' });
      retry.addEventListener('click', () => retryFile(file.id, retry));
      return element('li', { className: 'failure', 'data-file-id': file.id },
        element('div', { className: 'failure-head' }, element('code', { className: 'name' }), retry),
        element('pre', { className: 'error' }),
        element('span', { className: 'muted when' }));
    },
    (node, file) => {
      node.querySelector('.name').textContent = file.name;
      node.querySelector('.error').textContent = file.error ?? '(no error recorded)';
      const when = file.finishedAt ? `failed at ${formatClock(file.finishedAt)}` : 'failed';
      node.querySelector('.when').textContent = `${when} · ${file.attempts} ${file.attempts === 1 ? 'attempt' : 'attempts'}${file.backfillId ? ` · backfill #${file.backfillId}` : ''}`;
    },
  );
  if (failedCount > items.length) {
    byId('no-failures').hidden = false;
    byId('no-failures').textContent = `The ${items.length} latest of ${formatCount(failedCount)} failed files.`;
  } else {
    byId('no-failures').textContent = 'No failed file.';
  }
}

async function retryFile(id, button) {
  withToken(async () => {
    button.disabled = true;
    button.textContent = 'Retrying…';
    try {
      const file = await adminCall('POST', `/files/${encodeURIComponent(id)}/retry`);
      if (file) button.textContent = 'Queued';
      await refreshNow();
    } catch (error) {
      button.disabled = false;
      button.textContent = 'Retry';
      // A 409 means someone else retried it meanwhile: the next poll shows where it is.
      button.title = error.message;
      await refreshNow();
    }
  });
}

function renderReplica(status) {
  const { executor, replica, notifications } = status;
  const parts = [
    `executor ${executor.kind} × ${executor.size} (${executor.busy} busy, ${executor.queued} queued)`,
    `notifications: ${notifications.source}${notifications.healthy ? '' : ' (unhealthy)'}`,
    `replica ${replica.owner}`,
  ];
  if (replica.lastClaimError) parts.push(`last claim error: ${replica.lastClaimError}`);
  byId('replica').textContent = parts.join(' · ');
  syncList(
    byId('in-flight'),
    replica.activeFiles,
    (file) => file.id,
    () => element('li', {}, element('code', { className: 'name' }), element('span', { className: 'muted running' })),
    (node, file) => {
      node.querySelector('.name').textContent = file.name;
      node.querySelector('.running').textContent = ` ${formatDuration(file.runningMs / 1000)} · attempt ${file.attempt}`;
    },
  );
}

/** Tweets per second, one point a minute: an area under a line, scaled to a round maximum. */
function renderChart(points) {
  const svg = byId('chart');
  const width = 600;
  const height = 150;
  const top = niceCeiling(Math.max(...points.map((point) => point.tweetsPerSecond), 0));
  byId('chart-max').textContent = `${formatCount(top)} tweets/s`;
  const x = (index) => (points.length > 1 ? (index / (points.length - 1)) * width : width);
  const y = (value) => height - (value / top) * (height - 4);
  const line = points.map((point, index) => `${x(index).toFixed(1)},${y(point.tweetsPerSecond).toFixed(1)}`).join(' ');
  const nodes = [
    svgElement('path', { class: 'area', d: `M0,${height} L${line.replaceAll(' ', ' L')} L${width},${height} Z` }),
    svgElement('polyline', { class: 'line', points: line, 'vector-effect': 'non-scaling-stroke' }),
  ];
  // One invisible column per minute carries its figure as a tooltip.
  const column = width / Math.max(points.length, 1);
  points.forEach((point, index) => {
    const hit = svgElement('rect', { class: 'hit', x: (index * column).toFixed(1), y: 0, width: column.toFixed(1), height });
    const title = svgElement('title');
    title.textContent = `${formatClock(point.end)}: ${formatCount(point.tweetsPerSecond)} tweets/s, ${point.files} files`;
    hit.append(title);
    nodes.push(hit);
  });
  svg.replaceChildren(...nodes);
}

// ---- wiring ----------------------------------------------------------------------------------

async function setPaused(paused) {
  withToken(async () => {
    const button = byId(paused ? 'pause' : 'resume');
    button.disabled = true;
    try {
      await adminCall('POST', paused ? '/ingest/pause' : '/ingest/resume');
    } finally {
      button.disabled = false;
      await refreshNow();
    }
  });
}

function start() {
  byId('pause').addEventListener('click', () => setPaused(true));
  byId('resume').addEventListener('click', () => setPaused(false));
  byId('unlock').addEventListener('click', () => {
    if (adminToken) {
      adminToken = null;
      renderLock();
      if (lastStatus) renderFailuresLocked(lastStatus.files.failed);
    } else {
      withToken(() => refreshNow());
    }
  });
  byId('unlock-failures').addEventListener('click', () => withToken(() => refreshNow()));
  byId('token-form').addEventListener('submit', submitToken);
  byId('token-cancel').addEventListener('click', () => {
    afterUnlock = null;
    byId('token-dialog').close();
  });
  byId('token-dialog').addEventListener('cancel', () => {
    afterUnlock = null;
  });
  document.addEventListener('visibilitychange', () => {
    if (!document.hidden) pollLoop();
  });
  renderLock();
  pollLoop();
}

start();
