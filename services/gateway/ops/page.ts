import type { Context } from 'koa'
import { sendHtmlPage } from '../html-page.ts'

/**
 * `GET /ops`: the operations console. Plain HTML and the browser's own fetch and EventSource, no
 * build step, like `/warehouse`. It holds no data: it asks for an admin's token, keeps it in memory
 * only (never in storage or the address bar), sends it as `Authorization` and, for the SSE stream,
 * as `?token=`. Everything shown is inserted as text, never as markup (payloads and errors are
 * whatever a producer sent).
 */
export function opsPage() {
  return (ctx: Context) => sendHtmlPage(ctx, html, { frame: false })
}

const html = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Bazaar operations</title>
<style>
  body { font-family: system-ui, sans-serif; margin: 0; background: #f6f6f3; color: #1d1d1d; }
  header { display: flex; justify-content: space-between; align-items: center; padding: 10px 20px; background: #223; color: #fff; }
  main { padding: 0 20px 40px; }
  h2 { font-size: 17px; margin: 22px 0 6px; }
  table { border-collapse: collapse; background: #fff; font-size: 14px; min-width: 40%; }
  caption { text-align: left; font-weight: 600; padding: 4px 0; }
  th, td { border: 1px solid #ddd; padding: 4px 8px; text-align: left; vertical-align: top; }
  td.n { text-align: right; font-variant-numeric: tabular-nums; }
  tr.alert td { background: #fff1f0; }
  pre { margin: 0; white-space: pre-wrap; word-break: break-all; max-width: 60ch; font-size: 12px; }
  button { font: inherit; padding: 3px 10px; }
  #status.live::before { content: "\\25CF  "; color: #4c4; }
  #status.down::before { content: "\\25CF  "; color: #c44; }
  #result { min-height: 1.4em; font-weight: 600; }
  .muted { color: #666; }
  .err { color: #a00; }
  form.login { padding: 20px; }
</style>
</head>
<body>
<header><strong>Bazaar operations</strong><span id="status" class="down" role="status">signed out</span></header>
<main>
<form class="login" id="login">
  <label>Admin token <input type="password" name="token" id="token" size="60" autocomplete="off" required></label>
  <button type="submit">Open console</button>
  <p id="login-error" class="err" role="alert"></p>
</form>
<div id="console" hidden>
  <p id="result" aria-live="polite"></p>
  <p class="muted">Namespace <span id="namespace"></span>, updated <time id="at"></time>. <span id="errors" class="err"></span></p>
  <h2 id="queues-h">Queues</h2>
  <table aria-labelledby="queues-h"><thead><tr><th scope="col">service</th><th scope="col">queue</th><th scope="col">ready</th><th scope="col">unacked</th><th scope="col">consumers</th><th scope="col">in /s</th><th scope="col">delivered /s</th><th scope="col">retrying</th><th scope="col">dead letters</th></tr></thead><tbody id="queues"></tbody></table>
  <h2 id="dlq-h">Dead-letter queues</h2>
  <table aria-labelledby="dlq-h"><thead><tr><th scope="col">dead-letter queue</th><th scope="col">messages</th><th scope="col"><span class="muted">actions</span></th></tr></thead><tbody id="dlqs"></tbody></table>
  <section id="letters-panel" hidden aria-labelledby="letters-h">
    <h2 id="letters-h">Messages of <span id="letters-queue"></span></h2>
    <p><button type="button" id="replay-selected">Replay selected</button> <button type="button" id="replay-all">Replay all</button> <button type="button" id="purge">Purge…</button> <button type="button" id="close-letters">Close</button></p>
    <table><thead><tr><th scope="col"><span class="muted">select</span></th><th scope="col">#</th><th scope="col">id</th><th scope="col">routing key</th><th scope="col">error</th><th scope="col">attempts</th><th scope="col">replays</th><th scope="col">dead-lettered</th><th scope="col">payload</th></tr></thead><tbody id="letters"></tbody></table>
    <p id="letters-note" class="muted"></p>
  </section>
  <h2 id="outbox-h">Outbox backlogs</h2>
  <table aria-labelledby="outbox-h"><thead><tr><th scope="col">service</th><th scope="col">rows not relayed</th><th scope="col">oldest row</th></tr></thead><tbody id="outbox"></tbody></table>
  <h2 id="jobs-h">Jobs</h2>
  <table aria-labelledby="jobs-h"><thead><tr><th scope="col">service</th><th scope="col">due</th><th scope="col">late</th><th scope="col">failed</th><th scope="col">oldest due</th></tr></thead><tbody id="jobs"></tbody></table>
  <h2 id="schedules-h">Schedules</h2>
  <table aria-labelledby="schedules-h"><thead><tr><th scope="col">service</th><th scope="col">schedules</th><th scope="col">paused</th><th scope="col">next due</th></tr></thead><tbody id="schedules"></tbody></table>
  <h2 id="parked-h">Parked keys</h2>
  <table aria-labelledby="parked-h"><thead><tr><th scope="col">service</th><th scope="col">parked keys</th><th scope="col">messages waiting</th></tr></thead><tbody id="parked"></tbody></table>
  <h2 id="imports-h">Imports</h2>
  <table aria-labelledby="imports-h"><thead><tr><th scope="col">accepted</th><th scope="col">running</th><th scope="col">completed</th><th scope="col">cancelled</th><th scope="col">oldest open</th></tr></thead><tbody id="imports"></tbody></table>
</div>
</main>
<script>
(function () {
  var token = null; // in memory only
  var state = null;
  var open = null; // the dead-letter queue whose messages are shown, and its depth when read
  var source = null;
  var $ = function (id) { return document.getElementById(id); };
  function el(tag, text, cls) {
    var node = document.createElement(tag);
    if (text !== undefined && text !== null) node.textContent = String(text);
    if (cls) node.className = cls;
    return node;
  }
  function short(name) { return state && name.indexOf(state.namespace + '.') === 0 ? name.slice(state.namespace.length + 1) : name; }
  function rate(r) { return r === undefined || r === null ? '' : (Math.round(r * 10) / 10).toString(); }
  function when(iso) { return iso ? new Date(iso).toLocaleString() : ''; }
  function row(cells, numeric) {
    var tr = el('tr');
    cells.forEach(function (c, i) { tr.appendChild(el('td', c === null || c === undefined ? '' : c, numeric && numeric.indexOf(i) >= 0 ? 'n' : undefined)); });
    return tr;
  }
  function fill(id, rows, empty, width) {
    var body = $(id);
    body.textContent = '';
    if (rows === null) { var u = el('td', 'unknown (see above)', 'err'); u.colSpan = width; body.appendChild(el('tr')).appendChild(u); return; }
    if (!rows.length) { var e = el('td', empty, 'muted'); e.colSpan = width; body.appendChild(el('tr')).appendChild(e); return; }
    rows.forEach(function (r) { body.appendChild(r); });
  }
  function say(text, isError) { var r = $('result'); r.textContent = text; r.className = isError ? 'err' : ''; }

  function api(method, path, body) {
    return fetch(path, {
      method: method,
      headers: Object.assign({ authorization: 'Bearer ' + token }, body ? { 'content-type': 'application/json' } : {}),
      body: body ? JSON.stringify(body) : undefined
    }).then(function (res) {
      return res.json().catch(function () { return {}; }).then(function (data) {
        if (!res.ok) { var err = new Error(data.message || ('HTTP ' + res.status)); err.status = res.status; throw err; }
        return data;
      });
    });
  }

  function render(s) {
    state = s;
    $('namespace').textContent = s.namespace;
    $('at').textContent = when(s.at);
    $('at').dateTime = s.at;
    $('errors').textContent = Object.keys(s.errors || {}).map(function (k) { return k + ': ' + s.errors[k]; }).join('; ');
    fill('queues', s.queues && s.queues.map(function (q) {
      var tr = row([q.service, short(q.queue) + (q.exists ? '' : ' (missing)'), q.ready, q.unacked, q.consumers, rate(q.publishRate), rate(q.deliverRate), q.retry, q.deadLetters], [2, 3, 4, 5, 6, 7, 8]);
      if (q.deadLetters > 0) tr.className = 'alert';
      return tr;
    }), 'no queues in this namespace', 9);
    var dlqs = (s.queues || []).filter(function (q) { return q.dlq && q.deadLetters !== null; });
    fill('dlqs', s.queues && dlqs.map(function (q) {
      var dlq = q.dlq;
      var tr = row([short(dlq), q.deadLetters], [1]);
      tr.dataset.dlq = dlq;
      if (q.deadLetters > 0) tr.className = 'alert';
      var td = el('td');
      var b = el('button', 'Show messages');
      b.type = 'button';
      b.setAttribute('aria-label', 'Show messages of ' + short(dlq));
      b.onclick = function () { showLetters(dlq); };
      td.appendChild(b);
      tr.appendChild(td);
      return tr;
    }), 'no dead-letter queues', 3);
    fill('outbox', s.outbox && s.outbox.filter(function (o) { return o.backlog !== null; }).map(function (o) { return row([o.service, o.backlog, when(o.oldestAt)], [1]); }), 'no outboxes in this namespace', 3);
    fill('jobs', s.jobs && s.jobs.map(function (j) { return row([j.service, j.due, j.late, j.failed, when(j.oldestDueAt)], [1, 2, 3]); }), 'no service has jobs tables', 5);
    fill('schedules', s.schedules && s.schedules.map(function (j) { return row([j.service, j.schedules, j.paused, when(j.nextDueAt)], [1, 2]); }), 'no schedules', 4);
    fill('parked', s.parked && s.parked.map(function (p) { return row([p.service, p.keys, p.messages], [1, 2]); }), 'no parked keys', 3);
    fill('imports', s.imports ? [row([s.imports.accepted, s.imports.running, s.imports.completed, s.imports.cancelled, when(s.imports.oldestOpenAt)], [0, 1, 2, 3])] : [], 'no imports table in this namespace', 5);
    if (open) {
      var now = dlqs.filter(function (q) { return q.dlq === open.dlq; })[0];
      if (now && now.deadLetters !== open.depth) showLetters(open.dlq);
    }
  }

  function showLetters(dlq) {
    return api('GET', '/ops/api/dead-letters?queue=' + encodeURIComponent(dlq) + '&limit=100').then(function (r) {
      open = { dlq: r.dlq, depth: r.depth };
      $('letters-panel').hidden = false;
      $('letters-queue').textContent = short(r.dlq);
      fill('letters', r.letters.map(function (l) {
        var tr = el('tr');
        tr.dataset.messageId = l.id || '';
        var pick = el('td');
        var box = el('input');
        box.type = 'checkbox';
        box.value = l.id || '';
        box.disabled = !l.id;
        box.setAttribute('aria-label', 'Select message ' + (l.id || l.position));
        pick.appendChild(box);
        tr.appendChild(pick);
        [l.position, l.id, l.routingKey, l.error, l.attempts, l.replays, when(l.deadLetteredAt || l.lastFailureAt)].forEach(function (c, i) { tr.appendChild(el('td', c, i === 0 || i === 4 || i === 5 ? 'n' : undefined)); });
        var payload = el('td');
        payload.appendChild(el('pre', l.payload));
        tr.appendChild(payload);
        return tr;
      }), 'no messages', 9);
      $('letters-note').textContent = r.depth > r.letters.length ? 'Showing ' + r.letters.length + ' of ' + r.depth + ' messages.' : r.depth + ' message(s).';
    }).catch(function (err) { say(err.message, true); });
  }

  function replay(body) {
    say('Replaying…');
    return api('POST', '/ops/api/replay', Object.assign({ queue: open.dlq }, body)).then(function (s) {
      var text = 'Replayed ' + s.replayed + ' of ' + s.total + ' from ' + short(s.dlq) + '; ' + s.left + ' left, ' + s.failed + ' failed.';
      if (s.failures.length) text += ' First failure: ' + s.failures[0].error;
      say(text, s.failed > 0);
      return showLetters(open.dlq);
    }).catch(function (err) { say(err.message, true); });
  }

  $('replay-selected').onclick = function () {
    var ids = Array.prototype.map.call(document.querySelectorAll('#letters input:checked'), function (b) { return b.value; });
    if (!ids.length) return say('Select the messages to replay first.', true);
    replay({ ids: ids });
  };
  $('replay-all').onclick = function () { replay({ all: true }); };
  $('purge').onclick = function () {
    var name = short(open.dlq);
    var typed = window.prompt('This deletes every message of ' + name + ' and cannot be undone. Type the queue name to confirm:');
    if (typed === null) return;
    if (typed.trim() !== name && typed.trim() !== open.dlq) return say('Purge cancelled: the name did not match; nothing was deleted.', true);
    api('POST', '/ops/api/purge', { queue: open.dlq, confirm: typed.trim() }).then(function (r) {
      say('Purged ' + r.purged + ' message(s) from ' + short(r.dlq) + '.');
      return showLetters(open.dlq);
    }).catch(function (err) { say(err.message, true); });
  };
  $('close-letters').onclick = function () { open = null; $('letters-panel').hidden = true; };

  function connect() {
    var statusEl = $('status');
    source = new EventSource('/ops/api/stream?token=' + encodeURIComponent(token));
    source.onopen = function () { statusEl.textContent = 'live'; statusEl.className = 'live'; };
    source.onerror = function () { statusEl.textContent = source.readyState === 2 ? 'disconnected' : 'reconnecting'; statusEl.className = 'down'; };
    source.addEventListener('state', function (e) { render(JSON.parse(e.data)); });
  }

  $('login').onsubmit = function (e) {
    e.preventDefault();
    token = $('token').value.trim();
    api('GET', '/ops/api/state').then(function (s) {
      $('token').value = '';
      $('login').hidden = true;
      $('console').hidden = false;
      render(s);
      connect();
    }).catch(function (err) {
      token = null;
      $('login-error').textContent = err.status === 403 ? 'This token is not an admin\\'s.' : err.message;
    });
  };
})();
</script>
</body>
</html>
`
