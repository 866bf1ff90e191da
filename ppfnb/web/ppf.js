// ppf.js: the PPF predictor page. It starts the predictor's browser build
// (ppf.wasm, run by Go's wasm_exec.js, which must be loaded first) and
// shows, for a predictor file: one slider per layer for the key/value
// groups and MLP channels kept, the global pruning ratio they add up to,
// the predicted perplexity as the sliders move, the agent's policy for a
// chosen ratio, and a chart of predicted perplexity against ratio.
// `ppf serve` serves it with index.html; the notebook widget inlines it.
//
// Globals:
//   ppfLoad(wasm, name)  start the Go program (wasm: a URL, or a promise of
//                        its bytes) and resolve with its API, globalThis[name]
//                        (default "ppf"), once ready
//   ppfPage(root, opts)  build the page in the element root; opts: wasm,
//                        name, predictor / agent (file texts) or config (the
//                        URL of {predictor, agent, note}: URLs), note
//   ppfGunzipBase64(s)   the bytes of base64 text of gzip data (the widget's wasm)
(function () {
  "use strict";

  function ppfLoad(wasm, name) {
    name = name || "ppf";
    const existing = globalThis[name];
    if (existing && existing.ready) return existing.ready;
    const api = (globalThis[name] = {});
    let exports = null;
    api.ready = new Promise((resolve, reject) => {
      api._ready = (obj) => {
        fastScoring(obj, exports);
        resolve(obj);
      };
      api._fail = reject;
    });
    (async () => {
      const go = new Go();
      go.argv = ["ppfwasm", name];
      let bytes;
      if (typeof wasm === "string") {
        const resp = await fetch(wasm);
        if (!resp.ok) throw new Error(`could not fetch ${wasm}: HTTP ${resp.status}`);
        bytes = await resp.arrayBuffer();
      } else {
        bytes = await wasm;
      }
      const { instance } = await WebAssembly.instantiate(bytes, go.importObject);
      exports = instance.exports;
      go.run(instance).then(() => api._fail(new Error("the predictor's Go program stopped; reload the page")));
    })().catch((e) => api._fail(e));
    return api.ready;
  }

  // fastScoring puts the program's WebAssembly exports (ppfExchange,
  // ppfLayers, ppfScoreExchange: see wasm/internal/api/export.go) behind
  // api.score and api.scoreBatch: a call through them costs about 0.1 µs,
  // one through the Go functions that the API object holds 10 to 40 µs.
  // Anything the fast path cannot take (not a policy of numbers, a value
  // out of range, no predictor) goes to those functions, which reject
  // with the reason. The numbers are the same: both call Session.Score.
  function fastScoring(api, ex) {
    if (!ex || !ex.ppfScoreExchange) return;
    const slowScore = api.score, slowBatch = api.scoreBatch;
    let ptr = 0, len = 0, view = null;
    const exchange = (n) => {
      if (n > len) {
        ptr = ex.ppfExchange(n);
        len = n;
        view = null;
      }
      if (!view || view.buffer !== ex.mem.buffer) view = new Float64Array(ex.mem.buffer, ptr, len); // memory grew: a new view
      return view;
    };
    const pack = (p, L, v, o) => {
      if (p === null || typeof p !== "object") return false;
      const h = p.heads, m = p.mlp;
      if (!h || !m || h.length !== L || m.length !== L) return false;
      for (let i = 0; i < L; i++) {
        const a = h[i], b = m[i];
        if (typeof a !== "number" || typeof b !== "number") return false;
        v[o + i] = a;
        v[o + L + i] = b;
      }
      return true;
    };
    api.score = (p) => {
      const L = ex.ppfLayers();
      if (L > 0 && pack(p, L, exchange(2 * L + 1), 0) && ex.ppfScoreExchange(1) < 0) return Promise.resolve(exchange(0)[2 * L]);
      return slowScore(p);
    };
    api.scoreBatch = (ps) => {
      const L = ex.ppfLayers(), n = Array.isArray(ps) ? ps.length : 0;
      if (L > 0 && n > 0) {
        const v = exchange(n * (2 * L + 1));
        let ok = true;
        for (let i = 0; ok && i < n; i++) ok = pack(ps[i], L, v, 2 * L * i);
        if (ok && ex.ppfScoreExchange(n) < 0) return Promise.resolve(exchange(0).slice(2 * L * n, 2 * L * n + n));
      }
      return slowBatch(ps);
    };
  }

  async function ppfGunzipBase64(b64) {
    const bin = atob(b64);
    const bytes = new Uint8Array(bin.length);
    for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
    const stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream("gzip"));
    return new Response(stream).arrayBuffer();
  }

  // el builds an element: el("div", {class: "x", onclick: f}, child, "text").
  function el(tag, attrs, ...children) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (k === "class") e.className = v;
      else if (k.startsWith("on")) e.addEventListener(k.slice(2), v);
      else if (v !== false && v !== null && v !== undefined) e.setAttribute(k, v === true ? "" : v);
    }
    e.append(...children);
    return e;
  }

  const SVG = "http://www.w3.org/2000/svg";
  function svg(tag, attrs, text) {
    const e = document.createElementNS(SVG, tag);
    for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, v);
    if (text !== undefined) e.textContent = text;
    return e;
  }

  function fmtPPL(x) {
    return x >= 1000 ? x.toFixed(0) : x.toPrecision(4);
  }
  const plural = (n, one, many) => `${n} ${n === 1 ? one : many}`;

  async function ppfPage(root, opts) {
    opts = opts || {};
    root.classList.add("ppf");
    root.dataset.state = "loading";
    root.dataset.updates = "0";
    const st = { api: null, info: null, agentInfo: null, texts: {}, rows: [], curves: { agent: [], uniform: [] }, current: null, source: "", seq: 0 };

    // The fixed frame: title, note, message, drop zone; "main" is rebuilt per predictor.
    const sub = el("p", { class: "ppf-sub" }, "Starting the predictor…");
    const note = el("div", { class: "ppf-note", hidden: !opts.note }, opts.note || "");
    const msg = el("div", { class: "ppf-msg", role: "alert", hidden: true });
    const fileInput = el("input", { type: "file", multiple: true, accept: ".json,application/json", "aria-label": "predictor and agent files" });
    const drop = el("div", { class: "ppf-drop" },
      "Drop a predictor file (written by predictor.Save, e.g. stories260K.predictor.json) and, if you have one, its agent file here, or choose them:", fileInput,
      el("br"), el("span", { class: "ppf-hint" }, "The files are read in this browser and never uploaded."));
    const main = el("div", { class: "ppf-main", hidden: true });
    root.replaceChildren(el("h2", {}, "PPF performance predictor"), sub, note, msg, drop, main);

    function say(text, isError) {
      msg.textContent = text;
      msg.classList.toggle("ppf-error", !!isError);
      msg.hidden = !text;
    }
    const fail = (text) => say(text, true);

    fileInput.addEventListener("change", () => loadFiles(fileInput.files).finally(() => (fileInput.value = "")));
    drop.addEventListener("dragover", (e) => {
      e.preventDefault();
      drop.classList.add("ppf-over");
    });
    drop.addEventListener("dragleave", () => drop.classList.remove("ppf-over"));
    drop.addEventListener("drop", (e) => {
      e.preventDefault();
      drop.classList.remove("ppf-over");
      loadFiles(e.dataTransfer.files);
    });

    try {
      st.api = await ppfLoad(opts.wasm || "ppf.wasm", opts.name);
    } catch (e) {
      root.dataset.state = "error";
      sub.textContent = "";
      fail(`Could not start the predictor's WebAssembly build: ${e.message || e}`);
      return;
    }
    root.api = st.api;

    // What the page opens with: texts given inline, or URLs from a config file.
    let predictor = opts.predictor, agent = opts.agent;
    try {
      if (opts.config) {
        const cfg = await (await fetch(opts.config)).json();
        if (cfg.note) {
          note.textContent = cfg.note;
          note.hidden = false;
        }
        if (cfg.predictor) predictor = await fetchText(cfg.predictor);
        if (cfg.agent) agent = await fetchText(cfg.agent);
      }
    } catch (e) {
      fail(`Could not fetch the page's predictor files: ${e.message || e}`);
    }
    if (predictor) await loadTexts({ name: "the shipped predictor", text: predictor }, agent ? { name: "the shipped agent", text: agent } : null);
    if (!st.info) {
      root.dataset.state = "empty";
      sub.textContent = "No predictor loaded yet.";
    }

    async function fetchText(url) {
      const resp = await fetch(url);
      if (!resp.ok) throw new Error(`${url}: HTTP ${resp.status}`);
      return resp.text();
    }

    async function loadFiles(files) {
      say("");
      const list = [];
      for (const f of files) list.push({ name: f.name, text: await f.text() });
      const isAgent = (f) => {
        try {
          return JSON.parse(f.text).format === "ppf-agent";
        } catch {
          return false; // the predictor's loader says what is wrong with it
        }
      };
      const agents = list.filter(isAgent), preds = list.filter((f) => !isAgent(f));
      if (preds.length > 1 || agents.length > 1) {
        fail("Drop one predictor file and at most one agent file at a time.");
        return;
      }
      if (preds.length) await loadTexts(preds[0], agents[0] || null);
      else if (agents.length) await loadAgent(agents[0]);
    }

    // loadTexts loads a predictor and its agent; without a new agent it
    // keeps the old one if it fits the new predictor.
    async function loadTexts(pred, agentFile) {
      const api = st.api, oldAgent = st.texts.agent;
      await api.unloadAgent();
      let info;
      try {
        info = await api.loadPredictor(pred.text);
      } catch (e) {
        if (oldAgent) await api.loadAgent(oldAgent).catch(() => {});
        fail(`${pred.name}: ${e.message}`);
        return;
      }
      st.info = info;
      st.texts = { predictor: pred.text };
      st.agentInfo = null;
      if (agentFile) {
        try {
          st.agentInfo = await api.loadAgent(agentFile.text);
          st.texts.agent = agentFile.text;
        } catch (e) {
          fail(`${agentFile.name}: ${e.message}`);
        }
      } else if (oldAgent) {
        try {
          st.agentInfo = await api.loadAgent(oldAgent);
          st.texts.agent = oldAgent;
        } catch {
          say("The agent loaded before was for another model and has been unloaded; drop this predictor's agent file to see its policies.");
        }
      }
      await build();
    }

    async function loadAgent(f) {
      if (!st.info) {
        fail(`${f.name} is an agent file; drop its predictor file first (or both together).`);
        return;
      }
      try {
        st.agentInfo = await st.api.loadAgent(f.text);
        st.texts.agent = f.text;
      } catch (e) {
        fail(`${f.name}: ${e.message}`);
        return;
      }
      await build();
    }

    // build lays out the sliders, controls and chart for the loaded predictor.
    async function build() {
      const info = st.info, ag = st.agentInfo, L = info.layers.length;
      const pct = (x) => `${(100 * x).toFixed(1)}%`;
      sub.textContent = `Model ${info.modelId}: ${plural(L, "layer", "layers")}, ${info.params.toLocaleString("en")} prunable parameters. ` +
        `Predictor: ${info.arch} network trained on ${info.trainN} policies (validation RMSE ${info.valRMSE.toFixed(3)} in log-perplexity). ` +
        (ag ? `Agent: trained for ratios ${ag.ratioMin} to ${ag.ratioMax}.` : "No agent loaded.");

      // Read-outs.
      const ppl = el("span", { class: "ppf-big ppf-ppl" }, "—");
      const ratio = el("span", { class: "ppf-big ppf-ratio" }, "—");
      const source = el("span", { class: "ppf-source" }, "");
      const readout = el("div", { class: "ppf-readout" },
        el("div", {}, ppl, el("span", { class: "ppf-label" }, `predicted perplexity (dense model: ${fmtPPL(info.densePerplexity)})`)),
        el("div", {}, ratio, el("span", { class: "ppf-label" }, "global pruning ratio: share of the prunable parameters removed")),
        el("div", {}, source, el("span", { class: "ppf-label" }, "the policy shown")));

      // Target ratio: the agent's (or the uniform) policy for it.
      const lo = ag ? ag.ratioMin : 0, hi = ag ? ag.ratioMax : Math.min(0.9, Math.floor(info.maxRatio * 100) / 100);
      const start = Math.min(hi, Math.max(lo, 0.4));
      const target = el("input", { type: "range", class: "ppf-target", min: lo, max: hi, step: 0.01, value: start, "aria-label": "target ratio" });
      const targetOut = el("output", {}, start.toFixed(2));
      const which = el("select", { class: "ppf-which", "aria-label": "policy source" },
        ...(ag ? [el("option", { value: "agent" }, "the agent's policy")] : []), el("option", { value: "uniform" }, "uniform pruning"));
      const compare = el("span", { class: "ppf-compare" }, "");
      const controls = el("div", { class: "ppf-controls" },
        el("label", {}, "Policy for ratio ", target, " ", targetOut), el("label", {}, " from ", which),
        el("button", { type: "button", onclick: () => applyDense() }, "Dense (keep all)"), compare);
      target.addEventListener("input", () => applyTarget());
      which.addEventListener("change", () => applyTarget());

      // One row per layer: key/value groups, MLP channels, drop.
      st.rows = [];
      const tbody = el("tbody");
      info.layers.forEach((l, i) => {
        const head = el("input", { type: "range", class: "ppf-head", min: l.minHeadUnits, max: l.headUnits, step: 1, value: l.headUnits, disabled: l.headUnits === 0, "aria-label": `layer ${i} key/value groups kept` });
        const mlp = el("input", { type: "range", class: "ppf-mlp", min: l.minMlpUnits, max: l.mlpUnits, step: 1, value: l.mlpUnits, disabled: l.mlpUnits === 0, "aria-label": `layer ${i} MLP channels kept` });
        const dropBox = el("input", { type: "checkbox", class: "ppf-drop-layer", "aria-label": `drop layer ${i}` });
        const hl = el("span", { class: "ppf-units" }), ml = el("span", { class: "ppf-units" });
        const tr = el("tr", {}, el("th", { scope: "row" }, String(i)), el("td", {}, head, " ", hl), el("td", {}, mlp, " ", ml), el("td", {}, dropBox));
        for (const c of [head, mlp, dropBox]) c.addEventListener("input", () => { st.source = "edited by hand"; refresh(); });
        st.rows.push({ l, head, mlp, dropBox, hl, ml, tr });
        tbody.append(tr);
      });
      const table = el("table", { class: "ppf-layers" },
        el("thead", {}, el("tr", {}, el("th", {}, "layer"), el("th", {}, "attention: key/value groups kept"), el("th", {}, "MLP: channels kept"), el("th", {}, "drop"))), tbody);

      const chart = svg("svg", { class: "ppf-chart", width: 440, height: 300, viewBox: "0 0 440 300", role: "img", "aria-label": "predicted perplexity against pruning ratio" });
      const hint = el("p", { class: "ppf-hint" },
        "Sliders move in whole units of the model: key/value groups (each with its query heads) and MLP channels; a dropped layer keeps neither. " +
        "Perplexities are the predictor's estimates, computed in this page in microseconds, not measurements of the pruned model.");
      main.replaceChildren(readout, controls, el("div", { class: "ppf-body" }, table, el("div", {}, chart)), hint);
      main.hidden = false;
      Object.assign(st, { ppl, ratio, sourceEl: source, target, targetOut, which, compare, chart, lo, hi });

      // The chart's curves: the agent's and the uniform policies over ratio.
      const grid = (a, b, n) => Array.from({ length: n }, (_, k) => a + ((b - a) * k) / (n - 1));
      st.curves = { agent: [], uniform: [] };
      for (const r of grid(0, info.maxRatio * 0.999, 61)) {
        try {
          st.curves.uniform.push({ ratio: r, ppl: (await st.api.uniform(r)).perplexity });
        } catch {} // a ratio out of reach of whole units: no point
      }
      if (ag) for (const r of grid(ag.ratioMin, ag.ratioMax, 41)) st.curves.agent.push({ ratio: r, ppl: (await st.api.policyFor(r)).perplexity });
      await applyTarget();
      root.dataset.state = "ready";
    }

    async function applyTarget() {
      const r = Number(st.target.value), useAgent = st.which.value === "agent";
      st.targetOut.textContent = r.toFixed(2);
      try {
        const u = await st.api.uniform(r);
        const a = st.agentInfo ? await st.api.policyFor(r) : null;
        st.compare.textContent = a ? `at ${r.toFixed(2)}: agent ${fmtPPL(a.perplexity)}, uniform ${fmtPPL(u.perplexity)}` : `no agent loaded: uniform ${fmtPPL(u.perplexity)}`;
        st.source = useAgent ? `agent, ratio ${r.toFixed(2)}` : `uniform, ratio ${r.toFixed(2)}`;
        setSliders(useAgent ? a : u);
        show(useAgent ? a : u);
      } catch (e) {
        fail(e.message);
      }
    }

    function applyDense() {
      for (const row of st.rows) {
        row.head.value = row.l.headUnits;
        row.mlp.value = row.l.mlpUnits;
        row.dropBox.checked = false;
      }
      st.source = "dense";
      refresh();
    }

    function setSliders(r) {
      st.rows.forEach((row, i) => {
        row.dropBox.checked = r.dropped[i];
        if (!r.dropped[i]) {
          row.head.value = r.headUnits[i];
          row.mlp.value = r.mlpUnits[i];
        }
      });
    }

    function policy() {
      const heads = [], mlp = [];
      for (const { l, head, mlp: m, dropBox } of st.rows) {
        heads.push(dropBox.checked ? 0 : l.headUnits ? Number(head.value) / l.headUnits : 1);
        mlp.push(dropBox.checked ? 0 : l.mlpUnits ? Number(m.value) / l.mlpUnits : 1);
      }
      return { heads, mlp };
    }

    async function refresh() {
      const seq = ++st.seq;
      try {
        const r = await st.api.evaluate(policy());
        if (seq === st.seq) show(r);
      } catch (e) {
        if (seq !== st.seq) return;
        st.ppl.textContent = "—";
        delete st.ppl.dataset.value;
        fail(e.message);
      }
    }

    function show(r) {
      st.current = r;
      st.ppl.textContent = fmtPPL(r.perplexity);
      st.ppl.dataset.value = String(r.perplexity);
      st.ratio.textContent = r.ratio.toFixed(3);
      st.ratio.dataset.value = String(r.ratio);
      st.sourceEl.textContent = st.source;
      st.rows.forEach((row, i) => {
        const d = r.dropped[i];
        row.head.disabled = d || row.l.headUnits === 0;
        row.mlp.disabled = d || row.l.mlpUnits === 0;
        row.tr.classList.toggle("ppf-dropped", d);
        row.hl.textContent = `${d ? 0 : r.headUnits[i]} / ${row.l.headUnits} groups`;
        row.ml.textContent = `${d ? 0 : r.mlpUnits[i]} / ${row.l.mlpUnits} channels`;
      });
      drawChart();
      root.dataset.updates = String(Number(root.dataset.updates) + 1);
    }

    // drawChart plots the curves, the target ratio and the policy shown.
    function drawChart() {
      const c = st.chart, W = 440, H = 300, m = { l: 50, r: 14, t: 30, b: 40 };
      const cur = st.current, target = Number(st.target.value);
      const xMax = Math.min(1, Math.max(st.hi, cur ? cur.ratio : 0) * 1.04 + 0.01);
      const vis = (p) => p.ratio <= xMax;
      const pts = [...st.curves.uniform.filter(vis), ...st.curves.agent];
      if (cur) pts.push({ ratio: cur.ratio, ppl: cur.perplexity });
      let yLo = Math.min(...pts.map((p) => p.ppl)), yHi = Math.max(...pts.map((p) => p.ppl));
      if (!(yHi > yLo)) yHi = yLo * 1.1 + 1;
      const ly0 = Math.log(yLo) - 0.05 * (Math.log(yHi) - Math.log(yLo)), ly1 = Math.log(yHi) + 0.05 * (Math.log(yHi) - Math.log(yLo));
      const X = (r) => m.l + ((W - m.l - m.r) * r) / xMax;
      const Y = (p) => H - m.b - ((H - m.t - m.b) * (Math.log(p) - ly0)) / (ly1 - ly0);
      const kids = [];
      kids.push(svg("rect", { x: m.l, y: m.t, width: W - m.l - m.r, height: H - m.t - m.b, fill: "#fbfcfd", stroke: "#d5dbe1" }));
      for (let r = 0; r <= xMax + 1e-9; r += xMax > 0.5 ? 0.1 : 0.05) {
        kids.push(svg("line", { x1: X(r), x2: X(r), y1: H - m.b, y2: H - m.b + 4, stroke: "#59636e" }));
        kids.push(svg("text", { x: X(r), y: H - m.b + 16, "text-anchor": "middle" }, r.toFixed(r > 0 && xMax <= 0.5 ? 2 : 1)));
      }
      for (const t of yTicks(Math.exp(ly0), Math.exp(ly1))) {
        kids.push(svg("line", { x1: m.l, x2: W - m.r, y1: Y(t), y2: Y(t), stroke: "#eceff2" }));
        kids.push(svg("text", { x: m.l - 5, y: Y(t) + 4, "text-anchor": "end" }, fmtTick(t)));
      }
      kids.push(svg("text", { x: (m.l + W - m.r) / 2, y: H - 6, "text-anchor": "middle" }, "global pruning ratio"));
      kids.push(svg("text", { x: 12, y: (m.t + H - m.b) / 2, "text-anchor": "middle", transform: `rotate(-90 12 ${(m.t + H - m.b) / 2})` }, "predicted perplexity (log scale)"));
      kids.push(svg("line", { x1: X(target), x2: X(target), y1: m.t, y2: H - m.b, stroke: "#9aa5b1", "stroke-dasharray": "2 3" }));
      const line = (ps, attrs) => ps.length > 1 && kids.push(svg("polyline", { points: ps.filter(vis).map((p) => `${X(p.ratio).toFixed(1)},${Y(p.ppl).toFixed(1)}`).join(" "), fill: "none", ...attrs }));
      line(st.curves.uniform, { stroke: "#7b8794", "stroke-width": 1.5, "stroke-dasharray": "5 4" });
      line(st.curves.agent, { stroke: "#2f6fdb", "stroke-width": 2 });
      if (cur) kids.push(svg("circle", { cx: X(cur.ratio), cy: Y(cur.perplexity), r: 5, fill: "#c2410c", stroke: "#fff", "stroke-width": 1.5 }));
      // Legend.
      let lx = m.l;
      const key = (label, attrs) => {
        kids.push(attrs.circle ? svg("circle", { cx: lx + 8, cy: 14, r: 4.5, fill: "#c2410c" }) : svg("line", { x1: lx, x2: lx + 18, y1: 14, y2: 14, ...attrs }));
        kids.push(svg("text", { x: lx + 22, y: 18 }, label));
        lx += 30 + label.length * 5.6;
      };
      if (st.curves.agent.length) key("agent's policies", { stroke: "#2f6fdb", "stroke-width": 2 });
      key("uniform", { stroke: "#7b8794", "stroke-width": 1.5, "stroke-dasharray": "5 4" });
      key("policy shown", { circle: true });
      c.replaceChildren(...kids);
    }

    // yTicks picks round values for the log axis: 1-2-5, 1-3 or powers
    // of 10 a decade, the densest with at most 7 ticks; linear steps for a
    // narrow range.
    function yTicks(lo, hi) {
      for (const ks of [[1, 2, 5], [1, 3], [1]]) {
        const out = [];
        for (let e = Math.floor(Math.log10(lo)); e <= Math.ceil(Math.log10(hi)); e++)
          for (const k of ks) {
            const t = k * Math.pow(10, e);
            if (t >= lo && t <= hi) out.push(t);
          }
        if (out.length >= 3 && out.length <= 7) return out;
        if (out.length > 7) continue;
        break; // too few round values: a narrow range
      }
      const raw = (hi - lo) / 4, mag = Math.pow(10, Math.floor(Math.log10(raw)));
      const step = [1, 2, 5, 10].map((k) => k * mag).find((s) => s >= raw);
      const out = [];
      for (let t = Math.ceil(lo / step) * step; t <= hi; t += step) out.push(t);
      return out;
    }
    function fmtTick(t) {
      if (t >= 1e6) return t.toExponential(0);
      if (t >= 1000) return `${+(t / 1000).toPrecision(3)}k`;
      return String(+t.toPrecision(3));
    }
  }

  globalThis.ppfLoad = ppfLoad;
  globalThis.ppfPage = ppfPage;
  globalThis.ppfGunzipBase64 = ppfGunzipBase64;

  // index.html: <script src="ppf.js" data-mount="ID" data-wasm="…" data-config="…">
  const me = document.currentScript;
  if (me && me.dataset.mount) {
    ppfPage(document.getElementById(me.dataset.mount), { wasm: me.dataset.wasm, config: me.dataset.config });
  }
})();
