// Small SVG charts for the reawaken dashboard: lines (log or linear y), shaded bands, target ranges,
// error bars and forest plots. Written here (no library) so the page needs nothing from outside the app.
// Charts only draw what the API sent: no model numbers are computed in the browser.
"use strict";

const SVGNS = "http://www.w3.org/2000/svg";
const PALETTE = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#17becf", "#8c564b", "#e377c2", "#7f7f7f"];

function el(tag, attrs, parent) {
  const node = document.createElementNS(SVGNS, tag);
  for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, v);
  if (parent) parent.appendChild(node);
  return node;
}

function fmt(v) {
  if (v === null || v === undefined || !isFinite(v)) return "–";
  const a = Math.abs(v);
  if (a !== 0 && (a >= 1e5 || a < 1e-3)) return v.toExponential(1).replace("e+", "e");
  return +v.toPrecision(3) + "";
}

function niceTicks(lo, hi, n) {
  const span = hi - lo || 1;
  const step0 = Math.pow(10, Math.floor(Math.log10(span / n)));
  const step = [1, 2, 5, 10].map((m) => m * step0).find((s) => span / s <= n) || step0 * 10;
  const out = [];
  for (let t = Math.ceil(lo / step) * step; t <= hi + 1e-9 * span; t += step) out.push(+t.toPrecision(12));
  return out;
}

function scale(lo, hi, a, b, log) {
  if (log) {
    const l0 = Math.log10(lo), l1 = Math.log10(hi);
    return (v) => a + ((Math.log10(Math.max(v, lo)) - l0) / (l1 - l0 || 1)) * (b - a);
  }
  return (v) => a + ((v - lo) / (hi - lo || 1)) * (b - a);
}

function extent(values, log) {
  let lo = Infinity, hi = -Infinity;
  for (const v of values) {
    if (v === null || !isFinite(v) || (log && v <= 0)) continue;
    lo = Math.min(lo, v); hi = Math.max(hi, v);
  }
  if (!isFinite(lo)) return log ? [0.1, 10] : [0, 1];
  if (lo === hi) return log ? [lo / 10, hi * 10] : [lo - 1, hi + 1];
  return [lo, hi];
}

function frame(container, opts) {
  container.innerHTML = "";
  const fig = document.createElement("figure");
  fig.className = "chart";
  const W = 560, H = opts.height || 300, m = { l: 64, r: 12, t: opts.title ? 26 : 10, b: 44 };
  const svg = el("svg", { viewBox: `0 0 ${W} ${H}`, role: "img", "aria-label": opts.title || opts.yLabel || "chart" });
  fig.appendChild(svg);
  if (opts.title) el("text", { x: m.l, y: 16, class: "title" }, svg).textContent = opts.title;
  container.appendChild(fig);
  return { fig, svg, W, H, m };
}

function axes(svg, W, H, m, xs, ys, xr, yr, xLabel, yLabel, ylog, xlog) {
  const g = el("g", { class: "axes" }, svg);
  el("line", { x1: m.l, y1: H - m.b, x2: W - m.r, y2: H - m.b }, g);
  el("line", { x1: m.l, y1: m.t, x2: m.l, y2: H - m.b }, g);
  const xt = xlog ? logTicks(xr[0], xr[1]) : niceTicks(xr[0], xr[1], 6);
  for (const t of xt) {
    const x = xs(t);
    el("line", { x1: x, y1: H - m.b, x2: x, y2: H - m.b + 4 }, g);
    el("text", { x, y: H - m.b + 15, "text-anchor": "middle" }, g).textContent = fmt(t);
  }
  const yt = ylog ? logTicks(yr[0], yr[1]) : niceTicks(yr[0], yr[1], 5);
  for (const t of yt) {
    const y = ys(t);
    el("line", { x1: m.l - 4, y1: y, x2: W - m.r, y2: y, class: "grid" }, g);
    el("text", { x: m.l - 6, y: y + 3, "text-anchor": "end" }, g).textContent = fmt(t);
  }
  el("text", { x: (m.l + W - m.r) / 2, y: H - 6, "text-anchor": "middle", class: "label" }, g).textContent = xLabel;
  el("text", { x: 12, y: (m.t + H - m.b) / 2, "text-anchor": "middle", class: "label",
    transform: `rotate(-90 12 ${(m.t + H - m.b) / 2})` }, g).textContent = yLabel;
}

function logTicks(lo, hi) {
  const out = [];
  const a = Math.floor(Math.log10(lo)), b = Math.ceil(Math.log10(hi));
  const every = Math.max(1, Math.ceil((b - a) / 6));
  for (let e = a; e <= b; e += every) { const v = Math.pow(10, e); if (v >= lo * 0.999 && v <= hi * 1.001) out.push(v); }
  return out.length ? out : [lo, hi];
}

function legend(fig, items) {
  const ul = document.createElement("ul");
  ul.className = "legend";
  for (const it of items) {
    const li = document.createElement("li");
    const sw = document.createElement("span");
    sw.className = "swatch" + (it.kind ? " " + it.kind : "");
    sw.style.background = it.color;
    li.appendChild(sw);
    li.appendChild(document.createTextNode(it.name));
    ul.appendChild(li);
  }
  fig.appendChild(ul);
}

function path(points) {
  let d = "", pen = false;
  for (const [x, y] of points) {
    if (!isFinite(x) || !isFinite(y)) { pen = false; continue; }
    d += (pen ? "L" : "M") + x.toFixed(1) + "," + y.toFixed(1);
    pen = true;
  }
  return d;
}

// Line chart. opts: {title, xLabel, yLabel, log, series:[{name, x, y, color, dash, step, low, high, points}],
// ranges:[{x0, x1, low, high, label}], vlines:[{x, label}], yMin, caption}
function lineChart(container, opts) {
  const { fig, svg, W, H, m } = frame(container, opts);
  const log = !!opts.log;
  const allY = [], allX = [];
  for (const s of opts.series) { allX.push(...s.x); allY.push(...s.y); if (s.low) allY.push(...s.low, ...s.high); }
  for (const r of opts.ranges || []) { allY.push(r.low, r.high); allX.push(r.x0, r.x1); }
  let yr = extent(allY, log);
  if (opts.yMin !== undefined) yr = [opts.yMin, Math.max(yr[1], opts.yMin * 10)];
  if (!log && opts.zero !== false) yr = [Math.min(0, yr[0]), yr[1] * 1.05];
  const xr = extent(allX, false);
  const xs = scale(xr[0], xr[1], m.l, W - m.r, false), ys = scale(yr[0], yr[1], H - m.b, m.t, log);
  axes(svg, W, H, m, xs, ys, xr, yr, opts.xLabel, opts.yLabel, log);
  const items = [];
  for (const r of opts.ranges || []) {
    const hi = isFinite(r.high) ? r.high : yr[1], lo = isFinite(r.low) ? r.low : yr[0];
    const x0 = xs(r.x0), x1 = Math.max(xs(r.x1), x0 + 6);
    el("rect", { x: x0 - 3, y: ys(hi), width: x1 - x0 + 6, height: Math.max(2, ys(lo) - ys(hi)), class: "target" }, svg)
      .appendChild(el("title", {})).textContent = r.label;
  }
  if ((opts.ranges || []).length) items.push({ name: "published target range", color: "rgba(10,122,50,.35)", kind: "box" });
  for (const v of opts.vlines || []) {
    el("line", { x1: xs(v.x), x2: xs(v.x), y1: m.t, y2: H - m.b, class: "vline" }, svg);
  }
  opts.series.forEach((s, i) => {
    const color = s.color || PALETTE[i % PALETTE.length];
    if (s.low && s.high) {
      const up = s.x.map((x, k) => [xs(x), ys(s.high[k])]);
      const dn = s.x.map((x, k) => [xs(x), ys(s.low[k])]).reverse();
      el("path", { d: path(up) + path(dn).replace(/^M/, "L") + "Z", fill: color, class: "band" }, svg);
    }
    let pts = s.x.map((x, k) => [xs(x), ys(s.y[k])]);
    if (s.step) pts = pts.flatMap((p, k) => (k ? [[p[0], pts[k - 1][1]], p] : [p]));
    if (s.points) {
      for (const [x, y] of pts) if (isFinite(y)) el("circle", { cx: x, cy: y, r: 3.5, fill: color, class: "pt" }, svg);
    } else {
      el("path", { d: path(pts), stroke: color, fill: "none", "stroke-width": 1.8,
        "stroke-dasharray": s.dash ? "5,4" : "", class: "series", "data-name": s.name }, svg);
    }
    items.push({ name: s.name + (s.low ? " (95% band)" : ""), color });
  });
  legend(fig, items);
  caption(fig, opts.caption);
  return fig;
}

function caption(fig, text) {
  if (!text) return;
  const c = document.createElement("figcaption");
  c.textContent = text;
  fig.appendChild(c);
}

// Horizontal intervals: forest plots and error bars. opts: {title, xLabel, log, ref, rows:[{label, est, low,
// high, mark, markLabel}], refLines:[{x, label}], caption}
function intervalChart(container, opts) {
  const rows = opts.rows;
  const height = 40 + 56 + rows.length * 28;
  const { fig, svg, W, H, m } = frame(container, { ...opts, height });
  m.l = 8;
  const labelW = 0;
  const vals = [];
  for (const r of rows) vals.push(r.est, r.low, r.high, r.mark);
  for (const l of opts.refLines || []) vals.push(l.x);
  if (opts.ref !== undefined) vals.push(opts.ref);
  let xr = extent(vals, !!opts.log);
  if (!opts.log) { const pad = (xr[1] - xr[0]) * 0.08; xr = [xr[0] - pad, xr[1] + pad]; }
  else xr = [xr[0] / 1.15, xr[1] * 1.15];
  const xs = scale(xr[0], xr[1], m.l + labelW + 4, W - m.r, !!opts.log);
  const g = el("g", { class: "axes" }, svg);
  el("line", { x1: m.l, y1: H - m.b, x2: W - m.r, y2: H - m.b }, g);
  for (const t of opts.log ? logTicksFine(xr[0], xr[1]) : niceTicks(xr[0], xr[1], 6)) {
    el("line", { x1: xs(t), y1: H - m.b, x2: xs(t), y2: H - m.b + 4 }, g);
    el("text", { x: xs(t), y: H - m.b + 15, "text-anchor": "middle" }, g).textContent = fmt(t);
  }
  el("text", { x: (m.l + W) / 2, y: H - 6, "text-anchor": "middle", class: "label" }, g).textContent = opts.xLabel;
  if (opts.ref !== undefined) el("line", { x1: xs(opts.ref), x2: xs(opts.ref), y1: m.t, y2: H - m.b, class: "vline" }, svg);
  const items = [{ name: opts.estLabel || "estimate with 95% interval", color: "#1f4e79" }];
  for (const l of opts.refLines || []) {
    el("line", { x1: xs(l.x), x2: xs(l.x), y1: m.t, y2: H - m.b, class: "pub" }, svg);
    items.push({ name: l.label, color: "#0a7a32", kind: "dash" });
  }
  let marked = false;
  rows.forEach((r, i) => {
    const y = m.t + 22 + i * 28;
    el("text", { x: m.l, y: y - 8, class: "rowlabel" }, svg).textContent = r.label + (r.note ? "  " + r.note : "");
    if (isFinite(r.low) && isFinite(r.high)) {
      el("line", { x1: xs(r.low), x2: xs(r.high), y1: y, y2: y, class: "ci" }, svg);
    }
    if (isFinite(r.est)) el("rect", { x: xs(r.est) - 4, y: y - 4, width: 8, height: 8, class: "est" }, svg);
    if (r.mark !== undefined && r.mark !== null && isFinite(r.mark)) {
      el("text", { x: xs(r.mark), y: y + 5, "text-anchor": "middle", class: "truth" }, svg).textContent = "×";
      marked = true;
    }
  });
  if (marked) items.push({ name: opts.markLabel || "planted truth (×)", color: "#b00020" });
  legend(fig, items);
  caption(fig, opts.caption);
  return fig;
}

function logTicksFine(lo, hi) {
  const out = [];
  for (let e = Math.floor(Math.log10(lo)); e <= Math.ceil(Math.log10(hi)); e++) {
    for (const mlt of [1, 2, 5]) { const v = mlt * Math.pow(10, e); if (v >= lo && v <= hi) out.push(v); }
  }
  return out.length > 8 ? logTicks(lo, hi) : out;
}

window.Charts = { lineChart, intervalChart, fmt, PALETTE };
