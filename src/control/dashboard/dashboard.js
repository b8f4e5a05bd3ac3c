// keel's dashboard: draws each snapshot that GET /events pushes (the JSON of /status, with
// the equity curve). Text goes in with textContent only: nothing from the run is parsed as
// markup.
"use strict";

const SVG = "http://www.w3.org/2000/svg";
const $ = (id) => document.getElementById(id);
let updates = 0;

function el(tag, text, cls) {
  const node = document.createElement(tag);
  if (text !== undefined && text !== null) node.textContent = String(text);
  if (cls) node.className = cls;
  return node;
}

function num(value, digits = 2) {
  const n = Number(value);
  if (!Number.isFinite(n)) return "–";
  return n.toLocaleString("en-US", { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

function qty(value) {
  const n = Number(value);
  return Number.isFinite(n) ? String(+n.toPrecision(8)) : "–";
}

function time(ms) {
  return ms ? new Date(ms).toISOString().replace("T", " ").slice(0, 19) : "–";
}

function duration(s) {
  const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60);
  return h ? `${h}h ${m}m` : m ? `${m}m ${s % 60}s` : `${s}s`;
}

function signed(cell, value) {
  cell.classList.add(Number(value) < 0 ? "neg" : "pos");
  return cell;
}

// Fills `table`'s body with one row per item (cells from `cells(item)`), or a note when none.
function rows(table, items, cells, none) {
  const body = $(table).tBodies[0];
  body.replaceChildren();
  if (!items.length) {
    const td = el("td", none, "empty");
    td.colSpan = $(table).tHead.rows[0].cells.length;
    const tr = el("tr");
    tr.append(td);
    body.append(tr);
    return;
  }
  for (const item of items) {
    const tr = el("tr");
    tr.append(...cells(item).map((c) => (c instanceof Node ? c : el("td", c))));
    body.append(tr);
  }
}

// Draws `values` over `times` as a polyline in `svg` (its viewBox is 600 x 160); an `area`
// chart (drawdown) is filled down from zero.
function chart(svg, times, values, area) {
  const width = 600, height = 160, pad = 14;
  svg.replaceChildren();
  if (values.length < 2) return;
  const t0 = times[0], t1 = times[times.length - 1] || t0 + 1;
  let lo = Math.min(...values), hi = area ? 0 : Math.max(...values);
  if (hi === lo) { lo -= 1; if (!area) hi += 1; }
  const x = (t) => ((t - t0) / (t1 - t0 || 1)) * width;
  const y = (v) => pad + (1 - (v - lo) / (hi - lo)) * (height - 2 * pad);
  const points = values.map((v, i) => `${x(times[i]).toFixed(1)},${y(v).toFixed(1)}`).join(" ");
  if (area) {
    const fill = document.createElementNS(SVG, "polygon");
    fill.setAttribute("points", `0,${y(hi).toFixed(1)} ${points} ${width},${y(hi).toFixed(1)}`);
    fill.setAttribute("class", "area");
    svg.append(fill);
  }
  const line = document.createElementNS(SVG, "polyline");
  line.setAttribute("points", points);
  line.setAttribute("class", "line");
  svg.append(line);
  for (const [v, at] of [[hi, pad - 3], [lo, height - 3]]) {
    const label = document.createElementNS(SVG, "text");
    label.setAttribute("x", "3");
    label.setAttribute("y", String(at));
    label.setAttribute("class", "axis");
    label.textContent = num(v || 0); // never "-0.00"
    svg.append(label);
  }
}

function drawCharts(curve) {
  const times = curve.map((p) => p.ts);
  chart($("equity-chart"), times, curve.map((p) => p.equity), false);
  chart($("drawdown-chart"), times, curve.map((p) => -p.drawdown_pct), true);
  const span = curve.length ? ` from ${time(times[0])} to ${time(times[times.length - 1])}` : "";
  $("curve-points").textContent = `${curve.length} points${span}`;
  $("curve-points").dataset.points = String(curve.length);
}

// The supervision tree, each actor coloured by its health, with its restarts.
function tree(node, actors) {
  const li = el("li");
  const actor = actors.get(node.name);
  if (node.strategy) {
    li.className = "supervisor";
    li.append(el("span", node.name, "name"), el("span", node.strategy, "strategy"));
    const ul = el("ul");
    ul.append(...(node.children || []).map((child) => tree(child, actors)));
    li.append(ul);
    return li;
  }
  const state = actor ? actor.state : "unknown";
  li.className = `actor state-${state}`;
  li.dataset.actor = node.name;
  li.title = actor && actor.last_error ? `last error: ${actor.last_error}` : state;
  const restarts = actor ? actor.restarts : 0;
  li.append(
    el("span", null, "dot"),
    el("span", node.name, "name"),
    el("span", state, "strategy"),
    el("span", `restarts ${restarts}`, restarts ? "restarts some" : "restarts"),
  );
  return li;
}

function kind(k) {
  if (k.type === "limit") return `limit ${num(k.price)}`;
  if (k.type === "stop") return `stop ${num(k.trigger)}`;
  return k.type;
}

function drawStatus(s) {
  const a = s.account;
  $("ready").textContent = s.ready ? "ready" : "not ready";
  $("ready").className = `badge ${s.ready ? "ok" : "warn"}`;
  $("ready").title = s.not_ready.join("; ");
  $("uptime").textContent = duration(s.uptime_s);
  $("candles").textContent = String(s.feed.candles);
  $("last-close").textContent = time(s.feed.last_close);
  $("stopped").hidden = !s.trading_stopped;
  $("stopped").textContent = s.trading_stopped ? `Trading stopped: ${s.trading_stopped}` : "";
  $("equity").textContent = num(a.equity);
  $("cash").textContent = num(a.cash);
  $("exposure").textContent = num(a.exposure);
  $("drawdown").textContent = `${num(s.drawdown_pct)} %`;
  $("fills").textContent = String(a.fills);

  rows("positions", a.positions, (p) => [
    p.symbol, qty(p.qty), num(p.avg_entry), num(p.last_price),
    num(Number(p.qty) * Number(p.last_price)),
    signed(el("td", num((Number(p.last_price) - Number(p.avg_entry)) * Number(p.qty))),
      Number(p.last_price) - Number(p.avg_entry)),
  ], "no position");
  rows("orders", a.open_orders, (o) => [
    o.request.client_order_id, o.request.symbol, o.request.side, kind(o.request.kind),
    qty(o.request.qty), qty(o.filled_qty), o.status,
  ], "no open order");

  const actors = new Map(s.actors.map((x) => [x.name, x]));
  $("tree").replaceChildren(tree(s.tree, actors));

  rows("breakers", s.breakers, (b) => [
    b.name, el("td", b.state, b.state === "closed" ? "pos" : "neg"), b.last_transition || "–",
  ], "no breaker");

  const r = s.risk;
  const flags = [
    ["halted", r.halted], ["flatten requested", r.flatten_requested],
    ["kill switch", r.kill_switch], ["daily limit hit", r.daily_limit_hit],
    ["reduce only", r.reduce_only],
  ];
  $("risk").replaceChildren(...flags.map(([name, on]) => el("li", name, on ? "on" : "off")));

  // What the llm strategy decided (absent for the other strategies).
  $("llm-panel").hidden = !s.llm;
  if (s.llm) {
    const l = s.llm;
    rows("llm", [l], () => [
      l.decision_points, l.buys, l.sells, l.holds, l.failures, l.unavailable, l.missing, l.fallbacks,
    ], "");
  }

  rows("events", s.events.slice(-15).reverse(), (e) => [
    time(e.at_ms), e.actor, e.event, el("td", e.reason, "reason"),
  ], "no event yet");
}

function draw(snapshot) {
  updates += 1;
  document.body.dataset.updates = String(updates);
  $("phase").textContent = snapshot.phase;
  $("phase").className = `badge ${snapshot.phase === "running" ? "ok" : "warn"}`;
  $("updated").textContent = new Date().toLocaleTimeString();
  if (snapshot.status) drawStatus(snapshot.status);
  drawCharts(snapshot.curve);
}

const events = new EventSource("/events");
events.onmessage = (message) => draw(JSON.parse(message.data));
events.onerror = () => {
  $("phase").textContent = "disconnected (retrying)";
  $("phase").className = "badge bad";
};
