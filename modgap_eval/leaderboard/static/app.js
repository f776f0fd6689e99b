// Renders the modgap-eval leaderboard from the JSON embedded in index.html.
// Works from file:// and any static host: no fetch, no network, no libraries.
// Every string from the data is untrusted: it reaches the page only through textContent and
// setAttribute, never parsed as HTML.
"use strict";

(function () {
  const SVG_NS = "http://www.w3.org/2000/svg";
  const PALETTE = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2", "#17becf", "#7f7f7f", "#bcbd22"];

  const board = JSON.parse(document.getElementById("leaderboard-data").textContent);
  // The declared metrics (modgap_eval/metrics.py): the table's gap and representation columns come from them.
  const METRICS = JSON.parse(document.getElementById("metrics-data").textContent);
  const models = board.models;
  const colors = new Map(models.map((m, i) => [m.id, PALETTE[i % PALETTE.length]]));
  // Plot labels: the name, plus what tells apart models that share it (args, revision, provenance).
  const labels = new Map(models.map((m) => {
    const twins = models.filter((o) => o.name === m.name);
    if (twins.length === 1) return [m.id, m.name];
    const args = Object.entries(m.args).map(([k, v]) => k + "=" + v).join(",");
    return [m.id, m.name + " [" + ([args, m.revision, m.provenance === "reported" ? "reported" : ""].filter(Boolean).join(" @ ") || m.id.slice(0, 6)) + "]"];
  }));
  // reading: null shows each entry's own numbers (its primary reading), else a declared reading's name.
  const state = { scope: null, metric: "cos", variant: "excess", reading: null, sortKey: "gap", sortDir: 1 };
  // The readings the current view offers (set by render): declared names and the primary's name.
  let view = { names: [], primary: null };

  // ---- small DOM helpers ------------------------------------------------------------------
  function el(tag, attrs, children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, String(v));
    for (const child of [].concat(children === undefined ? [] : children)) {
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return node;
  }
  function svg(tag, attrs, text) {
    const node = document.createElementNS(SVG_NS, tag);
    for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, String(v));
    if (text !== undefined) node.textContent = String(text);
    return node;
  }
  function fmt(value, digits) {
    return value === null || value === undefined || !Number.isFinite(value) ? "—" : value.toFixed(digits);
  }
  function isNum(v) {
    return typeof v === "number" && Number.isFinite(v);
  }
  function interval(ci) {
    return "[" + fmt(ci.low, 2) + ", " + fmt(ci.high, 2) + "]";
  }

  // ---- data access -------------------------------------------------------------------------
  function scopes() {
    const groups = new Set(), tasks = new Set();
    for (const m of models) {
      Object.keys(m.groups).forEach((g) => groups.add(g));
      Object.keys(m.tasks).forEach((t) => tasks.add(t));
    }
    return { groups: [...groups].sort(), tasks: [...tasks].sort() };
  }
  function entryOf(model) {
    const cells = state.scope.kind === "group" ? model.groups : model.tasks;
    return Object.prototype.hasOwnProperty.call(cells, state.scope.name) ? cells[state.scope.name] : null;
  }
  function familyMetric(family) {
    // The declared metric a family's column shows: the member of the chosen similarity, else the only one.
    const members = METRICS.representation.filter((m) => m.family === family);
    return members.find((m) => m.similarity === state.metric) || members.find((m) => m.similarity === null) || null;
  }
  function similarity(entry, family) {
    // A representation cell: the chosen variant of a baselined metric, or the plain number; null if absent.
    const spec = familyMetric(family), rep = entry.representation;
    const value = spec && rep ? rep[spec.name] : null;
    if (value === null || value === undefined) return null;
    return spec.baselined ? value[state.variant] : value;
  }
  // ---- declared readings ------------------------------------------------------------------
  // A task or group may declare several readings of its score (VoiceBench's strict and voicebench,
  // lm-eval's acc/acc_norm/pmi); the entry's own text/speech/gap are the primary one, marked in
  // `readings` for a task. A group's own numbers are its members' primaries: one name when they agree.
  function declared(entry) {
    return Object.keys(entry.readings || {});
  }
  function primaryOf(row) {
    const marked = (e) => (e ? Object.keys(e.readings || {}).filter((n) => e.readings[n].primary) : []);
    if (state.scope.kind === "task") return marked(row.entry)[0] || null;
    const names = new Set(row.entry.tasks.flatMap((t) => marked(row.model.tasks[t])));
    return names.size === 1 ? [...names][0] : null;
  }
  function readingChoices(list) {
    const names = [], primaries = new Set();
    for (const r of list) {
      declared(r.entry).forEach((n) => (names.includes(n) ? null : names.push(n)));
      if (declared(r.entry).length) primaries.add(primaryOf(r));
    }
    return { names, primary: primaries.size === 1 ? [...primaries][0] : null };
  }
  function primaryLabel() {
    if (view.primary !== null) return view.primary + " (primary)";
    return state.scope.kind === "group" ? "primary (each task's own)" : "primary";
  }
  // What a row shows of its entry or of a reading: the scores and the paired statistics (gap_ci, mcnemar_p,
  // pairs), the latter absent where the reading has none (VoiceBench's own reading, a group's readings).
  const SHOWN = ["text", "speech", "gap", "gap_ci", "mcnemar_p", "pairs"];
  function numbersOf(source, primary, reading) {
    const out = { primary, reading };
    for (const k of SHOWN) out[k] = source && source[k] !== undefined ? source[k] : null;
    return out;
  }
  function shown(row) {
    // The numbers of the chosen reading and its name. A row without declared readings has one set of
    // numbers: a published row's are the publication's own.
    const e = row.entry;
    if (!declared(e).length) return numbersOf(e, true, row.model.provenance === "reported" ? "as published" : "its only reading");
    if (state.reading === null) return numbersOf(e, true, primaryLabel());
    // own keys only: a reading named "constructor" must not find Object's
    const r = Object.prototype.hasOwnProperty.call(e.readings, state.reading) ? e.readings[state.reading] : null;
    if (!r) return numbersOf(null, false, "no " + state.reading + " reading");
    return numbersOf(r, !!r.primary, state.reading);
  }
  // Said wherever a chosen reading's CI or McNemar test would be and the reading has none.
  const NO_STATS = "no paired statistics for this reading";
  function lacksStats(row) {
    const numbers = shown(row);
    return state.reading !== null && numbers.reading === state.reading && !numbers.gap_ci;
  }
  function readingName() {
    // Headers and axes name the reading shortly; the selector, the Reading column and the note mark the primary.
    return state.reading === null ? view.primary || "primary" : state.reading;
  }
  function readingSuffix() {
    return view.names.length ? " · " + readingName() : "";
  }

  function rows() {
    const out = [];
    for (const model of models) {
      const entry = entryOf(model);
      if (entry) out.push({ model, entry, run: model.runs[entry.run] || null });
    }
    return out;
  }

  const COLUMNS = [
    { key: "model", label: "Model", value: (r) => r.model.name, text: true },
    { key: "parameters", label: "Params", value: (r) => r.model.parameters, show: (v) => (isNum(v) ? (v / 1e6).toFixed(1) + " M" : "—") },
    { key: "reading", label: "Reading", value: (r) => shown(r).reading, show: (v) => v, text: true, when: () => view.names.length > 0 },
    ...METRICS.gap.map((m) => ({ key: m.name, label: m.label, value: (r) => shown(r)[m.name], show: (v) => fmt(v, m.digits), spec: () => m, read: true })),
    { key: "ci", label: "GAP CI", value: (r) => (shown(r).gap_ci ? shown(r).gap_ci.low : null), show: (v, r) => (isNum(v) ? interval(shown(r).gap_ci) : "—") },
    ...[...new Set(METRICS.representation.map((m) => m.family))].map((family) => {
      const first = METRICS.representation.find((m) => m.family === family);
      return { key: family, label: first.label, value: (r) => similarity(r.entry, family), show: (v) => fmt(v, first.digits), spec: () => familyMetric(family) };
    }),
    { key: "n", label: "n", value: (r) => (r.entry.n_paired === undefined ? null : r.entry.n_paired), show: (v) => (isNum(v) ? String(v) : "—") },
  ];

  function columns() {
    return COLUMNS.filter((c) => !c.when || c.when());
  }
  function sortRows(list) {
    const column = columns().find((c) => c.key === state.sortKey) || COLUMNS.find((c) => c.key === "gap");
    return list.slice().sort((a, b) => {
      const va = column.value(a), vb = column.value(b);
      const missingA = va === null || va === undefined || (!column.text && !isNum(va));
      const missingB = vb === null || vb === undefined || (!column.text && !isNum(vb));
      if (missingA || missingB) return missingA === missingB ? a.model.name.localeCompare(b.model.name) : missingA ? 1 : -1;
      const order = column.text ? String(va).localeCompare(String(vb)) : va - vb;
      return order === 0 ? a.model.name.localeCompare(b.model.name) : order * state.sortDir;
    });
  }

  // ---- table -------------------------------------------------------------------------------
  function renderTable(list) {
    const table = document.getElementById("board");
    table.replaceChildren();
    const headRow = el("tr");
    for (const column of columns()) {
      let label = column.label, title = "Sort by " + column.label;
      const spec = column.spec ? column.spec() : null;
      if (spec && spec.similarity) label += " " + state.metric;
      if (spec && spec.baselined) label += " (" + state.variant + ")";
      if (spec) title = spec.per_sample + "; " + (spec.higher_is_better ? "higher" : "lower") + " is better. Sort by " + label;
      // A score's header names its reading on a line of its own (the table stays narrow).
      const reading = column.read && view.names.length ? el("span", { class: "reading" }, readingName()) : [];
      const th = el("th", { "data-key": column.key, scope: "col", tabindex: 0, title: title + readingSuffix() }, [label, reading]);
      if (column.key === state.sortKey) th.setAttribute("aria-sort", state.sortDir > 0 ? "ascending" : "descending");
      th.addEventListener("click", () => sortBy(column.key));
      th.addEventListener("keydown", (e) => (e.key === "Enter" ? sortBy(column.key) : null));
      headRow.append(th);
    }
    table.append(el("thead", {}, headRow));
    const body = el("tbody");
    for (const row of list) {
      const tr = el("tr", { "data-model": row.model.id, class: row.model.provenance });
      for (const column of columns()) {
        const value = column.value(row);
        const td = el("td", { "data-key": column.key });
        if (isNum(value)) td.setAttribute("data-value", String(value));
        if (column.key === "model") {
          td.append(el("span", { class: "swatch", style: "background:" + colors.get(row.model.id) }));
          td.append(el("span", { class: "name" }, row.model.name));
          if (row.model.provenance === "reported") td.append(el("span", { class: "badge" }, "reported, not reproduced"));
          const where = [row.model.source, row.model.revision].filter(Boolean).join(" @ ");
          if (where) td.append(el("div", { class: "sub" }, where));
          const args = Object.entries(row.model.args).map(([k, v]) => k + "=" + v).join(", ");
          if (args) td.append(el("div", { class: "sub" }, args));
        } else {
          td.textContent = column.show(value, row);
          td.className = column.key === "reading" ? "reading" : "num";
          const detail = cellDetail(column, row);
          if (detail) td.setAttribute("title", detail);
        }
        tr.append(td);
      }
      body.append(tr);
    }
    table.append(body);
    document.getElementById("empty").hidden = list.length > 0;
  }

  function cellDetail(column, row) {
    // Hover text: the numbers behind a cell that the table has no room for, and each score's reading.
    const key = column.key, entry = row.entry, numbers = shown(row), ci = numbers.gap_ci;
    const reading = column.read ? numbers.reading + " reading" : "";
    if (key === "gap") {
      const parts = reading ? [reading] : [];
      // the entry's relative gap is its own numbers' (a reading's would be its gap over its text score)
      if (numbers.primary && isNum(entry.relative_gap)) parts.push("relative gap " + fmt(100 * entry.relative_gap, 1) + "%");
      if (isNum(numbers.mcnemar_p)) parts.push("McNemar p " + numbers.mcnemar_p.toPrecision(3));
      const p = numbers.pairs;
      if (p) parts.push("both right " + p.both_right + ", text only " + p.text_only + ", speech only " + p.speech_only + ", both wrong " + p.both_wrong);
      if (lacksStats(row)) parts.push(NO_STATS);
      return parts.join("; ");
    }
    if (column.read) return reading;
    if (key === "ci" && ci) return Math.round(ci.level * 100) + "% paired bootstrap CI, " + ci.bootstrap_iters + " resamples" + (state.reading === null ? "" : " (" + state.reading + " reading)");
    if (key === "ci" && lacksStats(row)) return NO_STATS;
    const spec = familyMetric(key);
    if (spec && spec.baselined && entry.representation) {
      const v = entry.representation[spec.name];
      if (v) return "matched " + fmt(v.matched, 4) + ", mismatched " + fmt(v.mismatched, 4) + ", excess " + fmt(v.excess, 4);
    }
    return "";
  }

  function sortBy(key) {
    state.sortDir = state.sortKey === key ? -state.sortDir : 1;
    state.sortKey = key;
    render();
  }

  // ---- plots -------------------------------------------------------------------------------
  function linearScale(lo, hi, a, b) {
    const span = hi - lo || 1;
    return (v) => a + ((v - lo) / span) * (b - a);
  }
  function padded(values) {
    let lo = Math.min(...values), hi = Math.max(...values);
    if (lo === hi) { lo -= 1; hi += 1; }
    const pad = (hi - lo) * 0.06;
    return [lo - pad, hi + pad];
  }
  function ticks(lo, hi, count) {
    // Round steps (1, 2 or 5 times a power of ten), each tick labelled with just enough decimals.
    const raw = (hi - lo) / count;
    const magnitude = Math.pow(10, Math.floor(Math.log10(raw)));
    const step = [1, 2, 5, 10].map((m) => m * magnitude).reduce((best, s) => (Math.abs(Math.log(s / raw)) < Math.abs(Math.log(best / raw)) ? s : best));
    const digits = Math.max(0, -Math.floor(Math.log10(step) + 1e-9));
    const out = [];
    for (let i = Math.ceil(lo / step); i * step <= hi + 1e-9 * step; i++) out.push({ value: i * step, label: (i * step).toFixed(digits) });
    return out;
  }
  function axisLabel(group, x, y, text, anchor, extra) {
    group.append(svg("text", Object.assign({ x, y, "text-anchor": anchor || "middle", class: "axis" }, extra || {}), text));
  }

  function renderGapBars(list) {
    const plot = document.getElementById("gap-bars");
    plot.replaceChildren();
    const withGap = list.filter((r) => isNum(shown(r).gap));
    const rowH = 24, left = 220, right = 30, top = 10, width = 720;
    const height = top + Math.max(withGap.length, 1) * rowH + 34;
    plot.setAttribute("viewBox", "0 0 " + width + " " + height);
    plot.setAttribute("height", height);
    if (!withGap.length) {
      axisLabel(plot, width / 2, 30, "no GAP in this view");
      return;
    }
    const values = [0];
    const ciOf = (r) => shown(r).gap_ci;
    for (const r of withGap) {
      values.push(shown(r).gap);
      if (ciOf(r)) values.push(ciOf(r).low, ciOf(r).high);
    }
    const [lo, hi] = padded(values);
    const x = linearScale(lo, hi, left, width - right);
    const bottom = top + withGap.length * rowH;
    for (const t of ticks(lo, hi, 5)) {
      plot.append(svg("line", { x1: x(t.value), x2: x(t.value), y1: top, y2: bottom, class: "grid" }));
      axisLabel(plot, x(t.value), bottom + 14, t.label);
    }
    axisLabel(plot, (left + width - right) / 2, bottom + 30, "GAP = text − speech (points)" + readingSuffix() + "; whiskers: bootstrap CI");
    withGap.forEach((r, i) => {
      const y = top + i * rowH;
      const g = svg("g", { class: "bar", "data-model": r.model.id });
      const gap = shown(r).gap, ci = ciOf(r);
      const x0 = x(Math.min(0, gap)), x1 = x(Math.max(0, gap));
      g.append(svg("rect", { x: x0, y: y + 5, width: Math.max(x1 - x0, 1), height: rowH - 10, fill: colors.get(r.model.id) }));
      if (ci) {
        const mid = y + rowH / 2;
        g.append(svg("line", { x1: x(ci.low), x2: x(ci.high), y1: mid, y2: mid, class: "whisker" }));
        g.append(svg("line", { x1: x(ci.low), x2: x(ci.low), y1: mid - 6, y2: mid + 6, class: "whisker" }));
        g.append(svg("line", { x1: x(ci.high), x2: x(ci.high), y1: mid - 6, y2: mid + 6, class: "whisker" }));
      }
      g.append(svg("title", {}, labels.get(r.model.id) + ": GAP " + fmt(gap, 2) + (ci ? " " + interval(ci) : "") + " (" + shown(r).reading + (lacksStats(r) ? "; " + NO_STATS : "") + ")"));
      axisLabel(g, left - 8, y + rowH / 2 + 4, truncate(labels.get(r.model.id), 30), "end");
      plot.append(g);
    });
    plot.append(svg("line", { x1: x(0), x2: x(0), y1: top, y2: bottom, class: "zero" }));
  }

  function renderLayerCurves(list) {
    const plot = document.getElementById("layer-curves");
    plot.replaceChildren();
    const width = 720, height = 320, left = 60, right = 190, top = 12, bottom = 44;
    plot.setAttribute("viewBox", "0 0 " + width + " " + height);
    const key = "layer_" + state.metric;
    const curves = list.filter((r) => r.entry.representation && r.entry.representation[key]);
    if (!curves.length) {
      plot.setAttribute("viewBox", "0 0 " + width + " 60");
      axisLabel(plot, width / 2, 34, state.scope.kind === "task" ? "no per-layer curves in this task" : "choose a task to see per-layer curves");
      return;
    }
    let maxLayer = 1;
    const ys = [];
    for (const r of curves) {
      const c = r.entry.representation[key];
      maxLayer = Math.max(maxLayer, c.matched.mean.length - 1);
      ys.push(...c.matched.mean, ...c.mismatched.mean);
    }
    const [lo, hi] = padded(ys.filter(isNum));
    const x = linearScale(0, maxLayer, left, width - right);
    const y = linearScale(lo, hi, height - bottom, top);
    for (const t of ticks(lo, hi, 4)) {
      plot.append(svg("line", { x1: left, x2: width - right, y1: y(t.value), y2: y(t.value), class: "grid" }));
      axisLabel(plot, left - 6, y(t.value) + 4, t.label, "end");
    }
    for (let l = 0; l <= maxLayer; l += Math.max(1, Math.ceil(maxLayer / 10))) axisLabel(plot, x(l), height - bottom + 16, l);
    axisLabel(plot, (left + width - right) / 2, height - 8, "layer (0 = decoder input); solid: matched pairs, dashed: mismatched (chance)");
    axisLabel(plot, 14, (top + height - bottom) / 2, state.metric === "cos" ? "cosine" : "Euclidean", "middle", { transform: "rotate(-90 14 " + (top + height - bottom) / 2 + ")" });
    curves.forEach((r, i) => {
      const c = r.entry.representation[key];
      const color = colors.get(r.model.id);
      const g = svg("g", { class: "curve", "data-model": r.model.id });
      for (const [series, dash] of [[c.matched.mean, null], [c.mismatched.mean, "5 4"]]) {
        const points = series.map((v, l) => (isNum(v) ? x(l).toFixed(1) + "," + y(v).toFixed(1) : null)).filter(Boolean).join(" ");
        const line = svg("polyline", { points, fill: "none", stroke: color, "stroke-width": 2 });
        if (dash) line.setAttribute("stroke-dasharray", dash);
        g.append(line);
      }
      g.append(svg("title", {}, labels.get(r.model.id)));
      const ly = top + 8 + i * 18;
      g.append(svg("line", { x1: width - right + 12, x2: width - right + 32, y1: ly, y2: ly, stroke: color, "stroke-width": 3 }));
      axisLabel(g, width - right + 38, ly + 4, truncate(labels.get(r.model.id), 22), "start");
      plot.append(g);
    });
  }

  function renderScatter(list) {
    const plot = document.getElementById("gap-aps");
    plot.replaceChildren();
    const width = 720, height = 340, left = 60, right = 30, top = 12, bottom = 44;
    plot.setAttribute("viewBox", "0 0 " + width + " " + height);
    const points = list.filter((r) => isNum(shown(r).gap) && isNum(similarity(r.entry, "aps")));
    if (!points.length) {
      plot.setAttribute("viewBox", "0 0 " + width + " 60");
      axisLabel(plot, width / 2, 34, "no model in this view has both GAP and APS");
      return;
    }
    const [xlo, xhi] = padded(points.map((r) => similarity(r.entry, "aps")));
    const [ylo, yhi] = padded(points.map((r) => shown(r).gap));
    const x = linearScale(xlo, xhi, left, width - right);
    const y = linearScale(ylo, yhi, height - bottom, top);
    for (const t of ticks(xlo, xhi, 5)) {
      plot.append(svg("line", { x1: x(t.value), x2: x(t.value), y1: top, y2: height - bottom, class: "grid" }));
      axisLabel(plot, x(t.value), height - bottom + 16, t.label);
    }
    for (const t of ticks(ylo, yhi, 4)) {
      plot.append(svg("line", { x1: left, x2: width - right, y1: y(t.value), y2: y(t.value), class: "grid" }));
      axisLabel(plot, left - 6, y(t.value) + 4, t.label, "end");
    }
    axisLabel(plot, (left + width - right) / 2, height - 8, "APS " + state.metric + " (" + state.variant + ")");
    axisLabel(plot, 14, (top + height - bottom) / 2, "GAP" + readingSuffix(), "middle", { transform: "rotate(-90 14 " + (top + height - bottom) / 2 + ")" });
    for (const r of points) {
      const px = x(similarity(r.entry, "aps")), py = y(shown(r).gap);
      const g = svg("g", { class: "point", "data-model": r.model.id });
      g.append(svg("circle", { cx: px, cy: py, r: 6, fill: colors.get(r.model.id) }));
      g.append(svg("title", {}, labels.get(r.model.id) + ": APS " + fmt(similarity(r.entry, "aps"), 3) + ", GAP " + fmt(shown(r).gap, 2) + " (" + shown(r).reading + ")"));
      // Labels of points in the right third go to their left so they stay inside the plot.
      const onRight = px > left + (width - left - right) * 0.66;
      axisLabel(g, onRight ? px - 9 : px + 9, py - 7, truncate(labels.get(r.model.id), 24), onRight ? "end" : "start");
      plot.append(g);
    }
  }

  function truncate(text, n) {
    return text.length > n ? text.slice(0, n - 1) + "…" : text;
  }

  // ---- provenance and runs -----------------------------------------------------------------
  function renderRuns(list) {
    const box = document.getElementById("runs");
    box.replaceChildren();
    for (const r of list) {
      const run = r.run;
      if (!run) continue;
      const item = el("li", { "data-model": r.model.id }, [el("strong", {}, r.model.name), " — " + run.provenance + ", run " + run.id + ", " + run.finished_at]);
      const facts = [];
      if (run.citation) facts.push("reported in: " + run.citation + (run.url ? " (" + run.url + ")" : ""));
      if (run.note) facts.push(run.note);
      if (run.results_path) facts.push("file: " + run.results_path);
      if (r.entry.identity) facts.push("task version " + r.entry.identity.version + ", scorer " + JSON.stringify(r.entry.identity.scorer) + ", content " + r.entry.identity.content_hash.slice(0, 12));
      if (run.envelope) {
        const e = run.envelope;
        facts.push("modgap-eval " + e.package_version + (e.git_revision ? " @ " + e.git_revision.slice(0, 12) : "") + ", seed " + e.seed + ", " + e.device + "/" + e.dtype + ", decoder " + e.audio_decoder + ", resampler " + e.resampler + (e.limit ? ", limit " + e.limit : ""));
        facts.push("command: " + e.command.join(" "));
      }
      item.append(el("ul", {}, facts.map((f) => el("li", {}, f))));
      box.append(item);
    }
  }

  // ---- controls ----------------------------------------------------------------------------
  function renderControls() {
    const select = document.getElementById("scope");
    const { groups, tasks } = scopes();
    for (const [label, names, kind] of [["Groups", groups, "group"], ["Tasks", tasks, "task"]]) {
      if (!names.length) continue;
      const og = el("optgroup", { label });
      for (const name of names) og.append(el("option", { value: kind + ":" + name }, name));
      select.append(og);
    }
    // Opens on the URL's #group:NAME / #task:NAME, else on the suite most models report in full: the group
    // most models report with a gap (both modalities: a speech-only published row has none), then the one most
    // models report at all, then the one covering most tasks (a suite before its own sub-groups), then by name.
    const has = (m, g) => Object.prototype.hasOwnProperty.call(m.groups, g);
    const withGap = (g) => models.filter((m) => has(m, g) && m.groups[g].gap !== null && m.groups[g].gap !== undefined).length;
    const reporting = (g) => models.filter((m) => has(m, g)).length;
    const covering = (g) => Math.max(0, ...models.filter((m) => Object.prototype.hasOwnProperty.call(m.groups, g))
      .map((m) => (m.groups[g].tasks || []).length));
    const widest = groups.slice().sort((a, b) => withGap(b) - withGap(a) || reporting(b) - reporting(a)
      || covering(b) - covering(a)
      || (a < b ? -1 : 1))[0];
    // A link may name a reading too: #task:NAME&reading=READING (kept where the view declares it).
    const decode = (text) => { try { return decodeURIComponent(text); } catch (e) { return ""; } };  // a bad % escape
    const [askedScope, askedReading] = window.location.hash.slice(1).split("&reading=");
    const asked = decode(askedScope);
    if (askedReading) state.reading = decode(askedReading) || null;
    const offered = [...groups.map((g) => "group:" + g), ...tasks.map((t) => "task:" + t)];
    const first = offered.includes(asked) ? asked : widest ? "group:" + widest : tasks.length ? "task:" + tasks[0] : null;
    if (first) {
      select.value = first;
      setScope(first);
    }
    select.addEventListener("change", () => { setScope(select.value); render(); linkHere(); });
    document.getElementById("metric").addEventListener("change", (e) => { state.metric = e.target.value; render(); });
    document.getElementById("variant").addEventListener("change", (e) => { state.variant = e.target.value; render(); });
    document.getElementById("reading").addEventListener("change", (e) => { state.reading = e.target.value || null; render(); linkHere(); });
  }
  function linkHere() {
    const scope = state.scope.kind + ":" + state.scope.name;
    window.location.hash = scope + (state.reading === null ? "" : "&reading=" + encodeURIComponent(state.reading));
  }
  function renderReadings(list) {
    // The reading selector, where the view declares readings: the primary first (the default), then the others.
    const select = document.getElementById("reading");
    const others = view.names.filter((n) => n !== view.primary);
    select.replaceChildren(el("option", { value: "" }, primaryLabel()), ...others.map((n) => el("option", { value: n }, n)));
    select.value = state.reading === null ? "" : state.reading;
    document.getElementById("reading-control").hidden = !view.names.length;
    const note = document.getElementById("reading-note");
    note.hidden = !view.names.length;
    const primary = view.primary ? "the " + view.primary + " reading" : state.scope.kind === "group" ? "each task's primary reading" : "the primary reading";
    const shownNow = state.reading !== null ? "the " + state.reading + " reading." : view.primary ? primary + " (primary)." : primary + ".";
    const sentences = ["Text, Speech and GAP: " + shownNow];
    const having = list.filter((r) => shown(r).reading === state.reading), lacking = having.filter(lacksStats);
    if (lacking.length) sentences.push("GAP CI and McNemar test: none, " + NO_STATS + (lacking.length < having.length ? " on the rows showing —." : "."));
    if (list.some((r) => !declared(r.entry).length)) sentences.push("Rows without declared readings show their only numbers (a published row: as published).");
    note.textContent = sentences.join(" ");
  }
  function setScope(value) {
    const i = value.indexOf(":");
    state.scope = { kind: value.slice(0, i), name: value.slice(i + 1) };
  }

  function render() {
    if (!state.scope) {
      document.getElementById("empty").hidden = false;
      return;
    }
    view = readingChoices(rows());
    // A reading chosen in another view stays chosen where this one declares it too (as other than its primary).
    if (!view.names.includes(state.reading) || state.reading === view.primary) state.reading = null;
    const list = sortRows(rows());
    document.getElementById("scope-title").textContent = (state.scope.kind === "group" ? "Group " : "Task ") + state.scope.name;
    renderReadings(list);
    renderTable(list);
    renderGapBars(list);
    renderLayerCurves(list);
    renderScatter(list);
    renderRuns(list);
  }

  renderControls();
  render();
  document.body.setAttribute("data-ready", "1");
})();
