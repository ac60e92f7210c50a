import type { Middleware } from '@feathersjs/koa'
import { sendHtmlPage } from '../html-page.ts'

/**
 * `GET /warehouse?token=<appliance token or seller JWT>`: a page for the
 * warehouse wall. Plain HTML and the browser's own EventSource (which resends
 * Last-Event-ID by itself when it reconnects); no build step. It shows
 * incoming orders and maintenance banners as they arrive. It only displays:
 * printing and acknowledging receipts is the appliance's job.
 */
export function warehousePage(): Middleware {
  return async (ctx, next) => {
    if (ctx.path !== '/warehouse') return next()
    sendHtmlPage(ctx, html)
  }
}

const html = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Bazaar warehouse</title>
<style>
  body { font-family: system-ui, sans-serif; margin: 0; background: #f4f4f0; color: #222; }
  header { display: flex; justify-content: space-between; align-items: center; padding: 12px 20px; background: #223; color: #fff; }
  #status { font-size: 14px; }
  #status.live::before { content: "● "; color: #4c4; }
  #status.down::before { content: "● "; color: #c44; }
  #banners .banner { background: #ffd54f; padding: 10px 20px; border-bottom: 1px solid #c9a400; }
  #orders { list-style: none; margin: 0; padding: 16px 20px; display: grid; gap: 12px; }
  .order { background: #fff; border-radius: 6px; padding: 12px 16px; box-shadow: 0 1px 3px rgba(0,0,0,.15); }
  .order h2 { font-size: 16px; margin: 0 0 6px; }
  .order table { border-collapse: collapse; width: 100%; font-size: 14px; }
  .order td { padding: 2px 0; }
  .order td.n { text-align: right; }
  .order .total { font-weight: bold; margin-top: 6px; }
  #empty { padding: 20px; color: #777; }
  form { padding: 20px; }
</style>
</head>
<body>
<header><strong>Bazaar warehouse</strong><span id="status" class="down">connecting</span></header>
<div id="banners"></div>
<p id="empty">No orders yet.</p>
<ul id="orders"></ul>
<script>
(function () {
  var token = new URLSearchParams(location.search).get('token');
  var statusEl = document.getElementById('status');
  if (!token) {
    statusEl.textContent = 'no token';
    var form = document.createElement('form');
    form.innerHTML = '<label>Appliance token <input name="token" size="50" autocomplete="off"></label> <button>Show orders</button>';
    document.body.appendChild(form);
    return;
  }
  function money(minor, currency) {
    try { return new Intl.NumberFormat(undefined, { style: 'currency', currency: currency }).format(minor / 100); }
    catch (e) { return (minor / 100).toFixed(2) + ' ' + currency; }
  }
  function el(tag, text, cls) {
    var node = document.createElement(tag);
    if (text !== undefined) node.textContent = text;
    if (cls) node.className = cls;
    return node;
  }
  function showOrder(order) {
    if (document.querySelector('[data-order-id="' + CSS.escape(order.orderId) + '"]')) return;
    document.getElementById('empty').hidden = true;
    var card = el('li', undefined, 'order');
    card.dataset.orderId = order.orderId;
    card.appendChild(el('h2', 'Order ' + order.orderId.slice(0, 8) + ' · ' + new Date(order.createdAt).toLocaleString()));
    var table = el('table');
    order.items.forEach(function (item) {
      var row = el('tr');
      row.appendChild(el('td', item.quantity + ' × ' + item.title));
      row.appendChild(el('td', money(item.unitPrice * item.quantity, order.currency), 'n'));
      table.appendChild(row);
    });
    card.appendChild(table);
    card.appendChild(el('div', 'Total ' + money(order.total, order.currency), 'total'));
    var list = document.getElementById('orders');
    list.insertBefore(card, list.firstChild);
  }
  function showMaintenance(notice) {
    var id = 'maintenance-' + notice.id;
    var banner = document.getElementById(id) || el('div', undefined, 'banner maintenance');
    banner.id = id;
    banner.textContent = 'Maintenance: ' + notice.message + ' (' + new Date(notice.startsAt).toLocaleString() + ' to ' + new Date(notice.endsAt).toLocaleString() + ')';
    document.getElementById('banners').appendChild(banner);
  }
  var source = new EventSource('/events?token=' + encodeURIComponent(token));
  source.onopen = function () { statusEl.textContent = 'live'; statusEl.className = 'live'; };
  source.onerror = function () { statusEl.textContent = source.readyState === 2 ? 'disconnected' : 'reconnecting'; statusEl.className = 'down'; };
  source.addEventListener('order', function (e) { showOrder(JSON.parse(e.data)); });
  source.addEventListener('notice', function (e) { var n = JSON.parse(e.data); if (n.kind === 'order.received') showOrder(n); });
  source.addEventListener('maintenance', function (e) { showMaintenance(JSON.parse(e.data)); });
  source.addEventListener('maintenance-cancelled', function (e) {
    var banner = document.getElementById('maintenance-' + JSON.parse(e.data).id);
    if (banner) banner.remove();
  });
})();
</script>
</body>
</html>
`
