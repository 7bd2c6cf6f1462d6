// The aigw dashboard: polls the admin API every few seconds and draws what it answers.
// Charts are uPlot (vendored beside this file); every chart's numbers are in a table too.
"use strict";

const POLL_MS = 5000;
const COLORS = ["#0284c7", "#db2777", "#16a34a", "#ea580c", "#7c3aed", "#0d9488", "#ca8a04", "#64748b"];
const charts = {};
let currentTarget = "";

const $ = (id) => document.getElementById(id);

function el(tag, attributes, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes || {})) node.setAttribute(name, value);
  for (const child of children) node.append(child instanceof Node ? child : String(child));
  return node;
}

async function getJson(url) {
  const answer = await fetch(url, { credentials: "same-origin", headers: { accept: "application/json" } });
  if (answer.status === 401) { location.href = "/-/login"; throw new Error("logged out"); }
  const body = await answer.json();
  if (!answer.ok) throw new Error(body.error ? body.error.message : answer.statusText);
  return body;
}

function fill(table, columns, rows, keyColumn) {
  table.replaceChildren(el("tr", {}, ...columns.map(([, title]) => el("th", {}, title))));
  if (!rows.length) {
    table.append(el("tr", {}, el("td", { colspan: columns.length, class: "empty" }, "nothing yet")));
    return;
  }
  for (const row of rows) {
    const line = el("tr", { "data-key": String(row[keyColumn]) });
    for (const [name] of columns) {
      const cell = el("td", { "data-col": name });
      const value = row[name];
      if (value instanceof Node) cell.append(value); else cell.textContent = value == null ? "-" : String(value);
      line.append(cell);
    }
    table.append(line);
  }
}

// Buckets of the window: every step from since to until, so a quiet minute shows as 0.
function buckets(answer) {
  const xs = [];
  for (let t = Math.floor(answer.since / answer.step) * answer.step; t <= answer.until; t += answer.step) xs.push(t);
  return xs;
}

// Costs are exact decimal text (as `aigw usage` prints them): added as integers of 10^-18
// dollars, so a table's total is the ledger's to the last digit.
const SCALE = 18;
function units(text) {
  const [whole, fraction = ""] = String(text).split(".");
  return BigInt(whole + (fraction + "0".repeat(SCALE)).slice(0, SCALE));
}
function decimal(amount) {
  const digits = amount.toString().padStart(SCALE + 1, "0");
  const fraction = digits.slice(-SCALE).replace(/0+$/, "");
  return digits.slice(0, -SCALE) + (fraction ? "." + fraction : "");
}

// Per value of the dimension: its totals over the window, and its per-bucket values.
function summarize(answer, measure) {
  const xs = buckets(answer);
  const index = new Map(xs.map((x, i) => [x, i]));
  const keys = new Map();
  for (const row of answer.rows) {
    const key = row[answer.by] == null ? "(none)" : row[answer.by];
    if (!keys.has(key)) keys.set(key, { key, calls: 0, errors: 0, tokens: 0, prompt: 0, completion: 0, cost: 0n, latency: 0, hits: 0, points: new Array(xs.length).fill(0) });
    const total = keys.get(key);
    total.calls += row.calls; total.errors += row.errors; total.hits += row.cache_hits;
    total.prompt += row.prompt_tokens; total.completion += row.completion_tokens;
    total.tokens += row.prompt_tokens + row.completion_tokens;
    total.cost += units(row.cost); total.latency += row.latency_ms;
    const at = index.get(row.bucket);
    if (at !== undefined) total.points[at] += measure(row);
  }
  const totals = [...keys.values()];
  totals.forEach((t, i) => { t.color = COLORS[i % COLORS.length]; t.cost = decimal(t.cost); t.avg_latency = t.calls ? (t.latency / t.calls).toFixed(1) : "-"; });
  return { xs, totals };
}

function draw(id, summary, label) {
  const box = $(id);
  const width = Math.max(box.clientWidth, 300);
  const data = [summary.xs, ...summary.totals.map((t) => t.points)];
  const series = [{}, ...summary.totals.map((t) => ({ label: t.key, stroke: t.color, width: 2, fill: t.color + "22", points: { show: false } }))];
  const signature = series.map((s) => s.label).join("|");
  const chart = charts[id];
  if (chart && chart.signature === signature && chart.width === width) { chart.plot.setData(data); return; }
  if (chart) chart.plot.destroy();
  const options = {
    width, height: 180, series, legend: { show: false },
    scales: { x: { time: true }, y: { range: (u, min, max) => [0, max > 0 ? max * 1.1 : 1] } },
    axes: [{}, { label, size: 72, values: (u, ticks) => ticks.map(short) }],
  };
  charts[id] = { plot: new uPlot(options, data, box), signature, width };
}

// A tick's value in few digits: a cost of 0.00004 dollars stays readable.
function short(value) {
  if (value === 0) return "0";
  return Math.abs(value) >= 1000 ? value.toLocaleString() : String(Number(value.toPrecision(2)));
}

function named(total) {
  const swatch = el("span", { class: "swatch" });
  swatch.style.background = total.color; // CSSOM: the page's policy allows no style attribute
  return el("span", {}, swatch, total.key);
}

async function ledgerPanels(window) {
  const seconds = { "15m": 900, "1h": 3600, "6h": 21600, "24h": 86400, "7d": 604800 }[window];
  const step = Math.max(60, Math.ceil(seconds / 120 / 60) * 60);
  const ask = (by) => getJson(`/-/api/usage/series?since=${window}&step=${step}&by=${by}`);
  const [apis, backends, subscriptions, models] = await Promise.all(["api", "backend", "subscription", "model"].map(ask));
  reach("ledger", apis.fleet);
  if (apis.error) problem("ledger: " + apis.error);
  const requestColumns = (key) => [["name", key], ["calls", "requests"], ["errors", "errors"], ["avg_latency", "avg ms"], ["hits", "cache hits"]];
  for (const [answer, key] of [[apis, "api"], [backends, "backend"]]) {
    const summary = summarize(answer, (row) => row.calls);
    draw(key + "-chart", summary, "requests");
    fill($(key + "-table"), requestColumns(key), summary.totals.map((t) => ({ ...t, name: named(t) })), "key");
  }
  const tokenColumns = (key) => [["name", key], ["calls", "calls"], ["prompt", "prompt"], ["completion", "completion"], ["tokens", "tokens"], ["cost", "cost $"]];
  for (const [answer, key] of [[subscriptions, "subscription"], [models, "model"]]) {
    const tokens = summarize(answer, (row) => row.prompt_tokens + row.completion_tokens);
    draw(key + "-chart", tokens, "tokens");
    draw(key + "-cost-chart", summarize(answer, (row) => Number(row.cost)), "cost $");
    fill($(key + "-table"), tokenColumns(key), tokens.totals.map((t) => ({ ...t, name: named(t) })), "key");
  }
  const cache = apis.cache;
  $("cache-calls").textContent = cache.calls;
  $("cache-hits").textContent = cache.cache_hits;
  $("cache-rate").textContent = (cache.hit_rate * 100).toFixed(1) + " %";
  $("cache-saved").textContent = cache.tokens_saved;
}

function reach(kind, fleet) {
  for (const badge of document.querySelectorAll(`[data-reach="${kind}"]`)) {
    const text = {
      ledger: fleet ? "fleet-wide (ledger in PostgreSQL)" : "this replica (ledger in SQLite)",
      breakers: fleet ? "fleet-wide (breakers in Redis)" : "this worker (breakers in memory)",
      replica: "this replica's workers (metrics)",
    }[kind];
    badge.textContent = text;
    badge.classList.toggle("local", !fleet);
  }
}

function limitText(limit) {
  const settings = Object.entries(limit.settings).map(([k, v]) => `${k}=${v}`).join(" ");
  return el("span", { class: "limit", title: limit.origin }, `${limit.statement} ${settings} (${limit.applies_to.join(", ")})`);
}

async function overviewPanels(window) {
  const answer = await getJson(`/-/api/overview?since=${window}`);
  $("version").textContent = "version " + answer.version;
  reach("breakers", answer.breakers.fleet);
  reach("replica", false);
  const replica = answer.replica;
  if (replica) {
    $("workers").textContent = `${replica.workers.answered} answered, ${replica.workers.missing} missing`;
    fill($("replica-api-table"), [["api", "api"], ["requests", "requests"], ["errors", "errors"], ["cache_hits", "cache hits"]], replica.apis, "api");
    fill($("replica-backend-table"), [["backend", "backend"], ["requests", "requests"], ["errors", "errors"]], replica.backends, "backend");
    fill($("refusals-table"), [["api", "api"], ["statement", "statement"], ["count", "refused"]], replica.refusals, "statement");
  } else {
    $("workers").textContent = "metrics are off";
  }
  fill($("breakers-table"), [["backend", "backend"], ["state", "state"], ["seconds_left", "seconds left"]],
    answer.breakers.rows.map((r) => ({ ...r, state: el("span", { class: r.open ? "state-open" : "state-closed" }, r.open ? "open" : "closed") })), "backend");
  fill($("subscriptions-table"),
    [["id", "id"], ["name", "name"], ["scope", "scope"], ["state", "state"], ["source", "source"], ["calls", "calls"], ["tokens", "tokens"], ["cost", "cost $"], ["limits", "limits per subscription"]],
    answer.subscriptions.map((s) => ({ ...s, limits: s.limits.length ? el("div", {}, ...s.limits.map(limitText)) : el("span", { class: "empty" }, "none") })), "id");
  targets(answer.targets);
  if (answer.ledger.error) problem("ledger: " + answer.ledger.error);
}

function targets(list) {
  const select = $("target");
  const values = list.map((t) => JSON.stringify([t.api, t.operation, t.product]));
  if (select.dataset.values === values.join("\n")) return;
  select.dataset.values = values.join("\n");
  select.replaceChildren(...list.map((t, i) => el("option", { value: values[i] },
    `${t.api} / ${t.operation}${t.route ? " (" + t.route + ")" : ""}${t.product ? " in product " + t.product : ""}`)));
  if (values.includes(currentTarget)) select.value = currentTarget;
  showPolicy();
}

async function showPolicy() {
  const value = $("target").value;
  if (!value) return;
  currentTarget = value;
  const [api, operation, product] = JSON.parse(value);
  const query = new URLSearchParams({ api, operation });
  if (product) query.set("product", product);
  const answer = await fetch("/-/api/explain?" + query, { credentials: "same-origin" });
  $("policy").textContent = await answer.text();
  $("policy").dataset.target = value; // which target the text is of: tests wait for it
}

function problem(text) {
  const line = $("problem");
  line.hidden = !text;
  line.textContent = text || "";
}

async function poll() {
  const window = $("window").value;
  try {
    problem("");
    await Promise.all([ledgerPanels(window), overviewPanels(window)]);
    $("updated").textContent = "updated " + new Date().toLocaleTimeString();
    document.body.dataset.polls = String(Number(document.body.dataset.polls || 0) + 1);
  } catch (error) {
    problem(String(error.message || error));
  }
}

// The four ledger panels alike: a heading with its reach, the chart(s), the numbers' table.
function buildLedgerPanels() {
  for (const panel of document.querySelectorAll(".ledger-panel")) {
    const by = panel.dataset.by;
    panel.id = by + "-panel";
    panel.append(el("h2", {}, panel.dataset.title + " ", el("span", { class: "reach", "data-reach": "ledger" })));
    panel.append(el("div", { class: "chart", id: by + "-chart" }));
    if (panel.dataset.cost) panel.append(el("div", { class: "chart", id: by + "-cost-chart" }));
    panel.append(el("table", { class: "numbers", id: by + "-table" }));
  }
}

document.addEventListener("DOMContentLoaded", () => {
  buildLedgerPanels();
  $("window").addEventListener("change", poll);
  $("target").addEventListener("change", showPolicy);
  poll();
  setInterval(poll, POLL_MS);
});
