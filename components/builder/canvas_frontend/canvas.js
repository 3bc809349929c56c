// Keras Functional Studio node canvas: a hand-written Streamlit component (no build step, no network).
// It draws the nodes and edges Python sends and reports each edit as one change, {id, change};
// Python decides whether the change is applied (the spec is the truth), then sends the new graph.
"use strict";
(function () {
  const NODE_WIDTH = 210;
  const MAX_SOURCE_HANDLES = 8;
  const GROUP_COLORS = {
    Inputs: "#16a34a", Core: "#2563eb", Convolution: "#ea580c", Pooling: "#0d9488", Reshaping: "#64748b",
    Normalization: "#0891b2", Recurrent: "#9a3412", Wrappers: "#a16207", Attention: "#db2777", Merge: "#c026d3",
    Applications: "#78716c", Models: "#4f46e5",
  };

  const root = document.getElementById("root");
  const viewport = document.getElementById("viewport");
  const world = document.getElementById("world");
  const svg = document.getElementById("edges");
  const edgeLayer = document.getElementById("edge-layer");
  const linkLayer = document.getElementById("links");
  const draft = document.getElementById("draft");
  const nodeLayer = document.getElementById("nodes");
  const problemsBox = document.getElementById("problems");
  const statusBox = document.getElementById("status");
  const buttons = {
    delete: document.getElementById("delete"), output: document.getElementById("output"),
    share: document.getElementById("share"), layout: document.getElementById("layout"), fit: document.getElementById("fit"),
  };

  const state = {
    nodes: [], edges: [], byId: new Map(), elements: new Map(), sizes: new Map(), positions: new Map(),
    view: { x: 0, y: 0, k: 1 }, fittedFor: null, selection: new Set(), drag: null, pendingArgs: null,
    counter: 0, statusTimer: null,
  };

  // ---- Streamlit protocol (components v1) ----
  function post(type, data) {
    window.parent.postMessage(Object.assign({ isStreamlitMessage: true, type: type }, data || {}), "*");
  }
  function emit(change, busyText) {
    state.counter += 1;
    const id = Date.now().toString(36) + "-" + state.counter + "-" + Math.random().toString(36).slice(2, 8);
    post("streamlit:setComponentValue", { value: { id: id, change: change }, dataType: "json" });
    setStatus(busyText || "Updating…");
  }
  function setStatus(text) {
    statusBox.textContent = text;
    clearTimeout(state.statusTimer);
    if (text) state.statusTimer = setTimeout(function () { statusBox.textContent = ""; clearPending(); }, 2500);
  }
  window.addEventListener("message", function (event) {
    const data = event.data;
    if (!data || data.type !== "streamlit:render") return;
    if (state.drag) { state.pendingArgs = data; return; }
    onRender(data);
  });

  function onRender(data) {
    const args = data.args || {};
    root.classList.toggle("dark", !!(data.theme && data.theme.base === "dark"));
    const height = Number(args.height) || 560;
    root.style.height = height + "px";
    state.nodes = args.nodes || [];
    state.edges = args.edges || [];
    state.byId = new Map(state.nodes.map(function (node) { return [node.id, node]; }));
    state.positions = new Map(state.nodes.map(function (node) { return [node.id, { x: node.x, y: node.y }]; }));
    const alive = new Set(state.nodes.map(function (n) { return "n:" + n.id; }).concat(state.edges.map(function (e) { return "e:" + e.id; })));
    state.selection.forEach(function (item) { if (!alive.has(item)) state.selection.delete(item); });
    renderProblems(args.problems || []);
    document.getElementById("empty").hidden = state.nodes.length > 0;
    renderNodes();
    renderEdges();
    if (state.fittedFor !== args.spec_name) { state.fittedFor = args.spec_name; fitView(); }
    setStatus("");
    updateToolbar();
    post("streamlit:setFrameHeight", { height: height + 2 });
  }

  // ---- drawing ----
  function element(tag, className, text) {
    const el = document.createElement(tag);
    if (className) el.className = className;
    if (text !== undefined) el.textContent = text;
    return el;
  }
  function svgElement(tag, attributes) {
    const el = document.createElementNS("http://www.w3.org/2000/svg", tag);
    Object.keys(attributes || {}).forEach(function (name) { el.setAttribute(name, attributes[name]); });
    return el;
  }
  function formatParams(count) {
    if (count === null || count === undefined) return "";
    return count.toLocaleString("en-US") + " params";
  }
  function targetSlots(node) {
    // One slot per existing input, plus an empty "+" slot while the node can take another input.
    if (node.max_inputs === 0) return { count: 0, add: false };
    const add = node.max_inputs === null || node.input_count < node.max_inputs;
    return { count: node.input_count + (add ? 1 : 0), add: add };
  }
  function sourceCount(node) { return Math.max(1, Math.min(node.output_count || 1, MAX_SOURCE_HANDLES)); }
  function slotX(index, count) { return NODE_WIDTH * (index + 1) / (count + 1); }

  function renderNodes() {
    nodeLayer.textContent = "";
    state.elements.clear();
    state.nodes.forEach(function (node) {
      const el = element("div", "node");
      el.dataset.id = node.id;
      el.setAttribute("data-testid", "node-" + node.id);
      el.classList.toggle("input", node.is_input);
      el.classList.toggle("output", node.output_refs.length > 0);
      el.classList.toggle("error", node.errors.length > 0);
      el.classList.toggle("selected", state.selection.has("n:" + node.id));
      el.style.setProperty("--group", GROUP_COLORS[node.group] || "var(--border)");
      const head = element("div", "head");
      head.appendChild(element("span", "title", node.id));
      if (node.is_input) head.appendChild(element("span", "badge input", "input"));
      if (node.output_refs.length) {
        const label = node.output_refs.length > 1 ? "output ×" + node.output_refs.length : "output";
        head.appendChild(element("span", "badge output", label));
      }
      if (node.shared_with.length) {
        const badge = element("span", "badge shared", "shared");
        badge.title = "Layer '" + node.layer + "' is also called by: " + node.shared_with.join(", ");
        head.appendChild(badge);
      }
      el.appendChild(head);
      const meta = element("div", "meta");
      const type = element("span", "type");
      type.appendChild(element("b", "", node.layer_type));
      if (node.layer !== node.id && !node.shared_with.length) type.appendChild(document.createTextNode(" · " + node.layer));
      type.title = "Layer '" + node.layer + "' of type " + node.layer_type;
      meta.appendChild(type);
      meta.appendChild(element("span", "params", formatParams(node.params)));
      el.appendChild(meta);
      const shape = element("div", "shape", node.shape || (node.errors.length ? "not built" : "…"));
      shape.title = "Output shape: " + (node.shape || "unknown");
      el.appendChild(shape);
      if (node.errors.length) {
        const problem = element("div", "problem", node.errors[0] + (node.errors.length > 1 ? " (+" + (node.errors.length - 1) + " more)" : ""));
        el.title = node.errors.join("\n\n");
        problem.setAttribute("data-testid", "node-problem-" + node.id);
        el.appendChild(problem);
      }
      const slots = targetSlots(node);
      for (let index = 0; index < slots.count; index += 1) {
        const isAdd = slots.add && index === slots.count - 1;
        const handle = element("div", "handle target" + (isAdd ? " add" : ""));
        handle.style.left = slotX(index, slots.count) + "px";
        if (isAdd) {
          handle.setAttribute("data-testid", "target-handle-" + node.id);
          handle.title = "Drop a connection here to add input " + (node.input_count + 1);
        } else {
          handle.setAttribute("data-testid", "target-handle-" + node.id + "-" + index);
          if (node.input_count > 1) handle.textContent = String(index + 1);
          handle.title = "Input " + (index + 1);
        }
        el.appendChild(handle);
      }
      const outputs = sourceCount(node);
      for (let index = 0; index < outputs; index += 1) {
        const handle = element("div", "handle source");
        handle.dataset.output = String(index);
        handle.style.left = slotX(index, outputs) + "px";
        handle.setAttribute("data-testid", "source-handle-" + node.id + "-" + index);
        handle.title = outputs > 1 ? "Output " + index + ": drag onto another node" : "Drag onto another node to connect";
        el.appendChild(handle);
      }
      placeNode(el, node.id);
      nodeLayer.appendChild(el);
      state.elements.set(node.id, el);
    });
    state.sizes = new Map(state.nodes.map(function (node) {
      const el = state.elements.get(node.id);
      return [node.id, { width: el.offsetWidth || NODE_WIDTH, height: el.offsetHeight || 70 }];
    }));
  }

  function placeNode(el, id) {
    const position = state.positions.get(id);
    el.style.left = position.x + "px";
    el.style.top = position.y + "px";
  }

  function anchor(id, side, index, count) {
    const position = state.positions.get(id);
    const size = state.sizes.get(id) || { width: NODE_WIDTH, height: 70 };
    return { x: position.x + slotX(index, count), y: position.y + (side === "bottom" ? size.height : 0) };
  }

  function curve(from, to) {
    const bend = Math.max(40, Math.abs(to.y - from.y) / 2);
    return "M " + from.x + " " + from.y + " C " + from.x + " " + (from.y + bend) + ", " + to.x + " " + (to.y - bend) + ", " + to.x + " " + to.y;
  }
  function verticalIsClear(x, top, bottom, skip) {
    let clear = true;
    state.positions.forEach(function (position, id) {
      if (skip.indexOf(id) >= 0) return;
      const size = state.sizes.get(id) || { width: NODE_WIDTH, height: 70 };
      if (x > position.x - 10 && x < position.x + size.width + 10 && bottom > position.y - 10 && top < position.y + size.height + 10) clear = false;
    });
    return clear;
  }
  function edgePath(from, to, source, target) {
    // A long edge runs straight down its own lane, then bends into its input slot, when that lane is free.
    const elbow = to.y - 56;
    if (elbow - from.y > 90 && Math.abs(to.x - from.x) > 4 && verticalIsClear(from.x, from.y, elbow, [source, target])) {
      return "M " + from.x + " " + from.y + " L " + from.x + " " + (elbow - 40) + " " + curve({ x: from.x, y: elbow - 40 }, to).slice(1);
    }
    return curve(from, to);
  }
  function verticalIsClear(x, top, bottom, skip) {
    let clear = true;
    state.positions.forEach(function (position, id) {
      if (skip.indexOf(id) >= 0) return;
      const size = state.sizes.get(id) || { width: NODE_WIDTH, height: 70 };
      if (x > position.x - 10 && x < position.x + size.width + 10 && bottom > position.y - 10 && top < position.y + size.height + 10) clear = false;
    });
    return clear;
  }
  function edgePath(from, to, source, target) {
    // A long edge runs straight down its own lane, then bends into its input slot, when that lane is free.
    const elbow = to.y - 56;
    if (elbow - from.y > 90 && Math.abs(to.x - from.x) > 4 && verticalIsClear(from.x, from.y, elbow, [source, target])) {
      return "M " + from.x + " " + from.y + " L " + from.x + " " + (elbow - 40) + " " + curve({ x: from.x, y: elbow - 40 }, to).slice(1);
    }
    return curve(from, to);
  }
  function pointOnCurve(from, to, t) {
    const bend = Math.max(40, Math.abs(to.y - from.y) / 2);
    const p = [from, { x: from.x, y: from.y + bend }, { x: to.x, y: to.y - bend }, to];
    const u = 1 - t;
    return {
      x: u * u * u * p[0].x + 3 * u * u * t * p[1].x + 3 * u * t * t * p[2].x + t * t * t * p[3].x,
      y: u * u * u * p[0].y + 3 * u * u * t * p[1].y + 3 * u * t * t * p[2].y + t * t * t * p[3].y,
    };
  }

  function labelPoint(from, to, d) {
    // On the drawn path, about 26 px before the target, so each number sits right above its input slot.
    const path = svgElement("path", { d: d });
    edgeLayer.appendChild(path);
    const length = path.getTotalLength();
    const point = path.getPointAtLength(Math.max(0, length - 26));
    path.remove();
    return { x: point.x, y: point.y };
  }

  function renderEdges() {
    edgeLayer.textContent = "";
    linkLayer.textContent = "";
    resizeSvg();
    state.edges.forEach(function (edge) {
      const source = state.byId.get(edge.source);
      const target = state.byId.get(edge.target);
      if (!source || !target) return;
      const from = anchor(edge.source, "bottom", Math.min(edge.source_output, sourceCount(source) - 1), sourceCount(source));
      const slots = targetSlots(target);
      const to = anchor(edge.target, "top", edge.position, Math.max(slots.count, edge.position + 1));
      const selected = state.selection.has("e:" + edge.id);
      const group = svgElement("g", { "class": "edge" + (selected ? " selected" : "") + (edge.error ? " error" : ""), "data-id": edge.id, "data-testid": "edge-" + edge.id });
      const d = edgePath(from, { x: to.x, y: to.y - 2 }, edge.source, edge.target);
      group.appendChild(svgElement("path", { "class": "edge-hit", d: d }));
      const marker = selected ? "arrow-selected" : edge.error ? "arrow-error" : "arrow";
      group.appendChild(svgElement("path", { "class": "edge-line", d: d, "marker-end": "url(#" + marker + ")" }));
      if (edge.label) {
        const at = labelPoint(from, to, d);
        const label = svgElement("g", { "class": "edge-label" });
        const width = 8 + edge.label.length * 6;
        label.appendChild(svgElement("rect", { x: at.x - width / 2, y: at.y - 8, width: width, height: 16, rx: 8 }));
        const text = svgElement("text", { x: at.x, y: at.y + 3.5, "text-anchor": "middle" });
        text.textContent = edge.label;
        label.appendChild(text);
        group.appendChild(label);
      }
      edgeLayer.appendChild(group);
    });
    renderLinks();
  }

  function renderLinks() {
    // Calls of one shared layer are joined by a dashed line, labelled with the layer id.
    const byLayer = new Map();
    state.nodes.forEach(function (node) {
      if (!node.shared_with.length) return;
      if (!byLayer.has(node.layer)) byLayer.set(node.layer, []);
      byLayer.get(node.layer).push(node.id);
    });
    byLayer.forEach(function (ids, layer) {
      ids.sort(function (a, b) { return state.positions.get(a).x - state.positions.get(b).x; });
      for (let i = 0; i + 1 < ids.length; i += 1) {
        const a = state.positions.get(ids[i]);
        const b = state.positions.get(ids[i + 1]);
        const sizeA = state.sizes.get(ids[i]);
        const sizeB = state.sizes.get(ids[i + 1]);
        let d, labelAt;
        if (Math.abs(a.y - b.y) < 40) {
          // Same row: a dashed arc below both nodes, clear of their centre output handles.
          const from = { x: a.x + sizeA.width * 0.8, y: a.y + sizeA.height + 4 };
          const to = { x: b.x + sizeB.width * 0.2, y: b.y + sizeB.height + 4 };
          const low = Math.max(from.y, to.y) + 34;
          d = "M " + from.x + " " + from.y + " C " + from.x + " " + low + ", " + to.x + " " + low + ", " + to.x + " " + to.y;
          labelAt = { x: (from.x + to.x) / 2, y: low + 6 };
        } else {
          const upper = a.y < b.y ? { p: a, s: sizeA } : { p: b, s: sizeB };
          const lower = a.y < b.y ? { p: b, s: sizeB } : { p: a, s: sizeA };
          const from = { x: upper.p.x + upper.s.width * 0.85, y: upper.p.y + upper.s.height };
          const to = { x: lower.p.x + lower.s.width * 0.85, y: lower.p.y };
          d = "M " + from.x + " " + from.y + " L " + to.x + " " + to.y;
          labelAt = { x: (from.x + to.x) / 2 + 6, y: (from.y + to.y) / 2 };
        }
        linkLayer.appendChild(svgElement("path", { "class": "link", d: d, "data-testid": "link-" + ids[i] + "-" + ids[i + 1] }));
        const text = svgElement("text", { "class": "link-label", x: labelAt.x, y: labelAt.y, "text-anchor": "middle" });
        text.textContent = "shared: " + layer;
        linkLayer.appendChild(text);
      }
    });
  }

  function resizeSvg() {
    let minX = 0, minY = 0, maxX = 1, maxY = 1;
    state.positions.forEach(function (position, id) {
      const size = state.sizes.get(id) || { width: NODE_WIDTH, height: 70 };
      minX = Math.min(minX, position.x); minY = Math.min(minY, position.y);
      maxX = Math.max(maxX, position.x + size.width); maxY = Math.max(maxY, position.y + size.height);
    });
    minX -= 2000; minY -= 2000; maxX += 2000; maxY += 2000;
    svg.style.left = minX + "px"; svg.style.top = minY + "px";
    svg.setAttribute("width", maxX - minX); svg.setAttribute("height", maxY - minY);
    svg.setAttribute("viewBox", minX + " " + minY + " " + (maxX - minX) + " " + (maxY - minY));
  }

  function renderProblems(problems) {
    problemsBox.textContent = "";
    problems.slice(0, 3).forEach(function (text) { problemsBox.appendChild(element("div", "", text)); });
    if (problems.length > 3) problemsBox.appendChild(element("div", "", "+" + (problems.length - 3) + " more problems"));
  }

  // ---- view ----
  function applyView() {
    world.style.transform = "translate(" + state.view.x + "px, " + state.view.y + "px) scale(" + state.view.k + ")";
  }
  function fitView() {
    if (!state.nodes.length) { state.view = { x: 40, y: 40, k: 1 }; applyView(); return; }
    let minX = Infinity, minY = Infinity, maxX = -Infinity, maxY = -Infinity;
    state.positions.forEach(function (position, id) {
      const size = state.sizes.get(id);
      minX = Math.min(minX, position.x); minY = Math.min(minY, position.y);
      maxX = Math.max(maxX, position.x + size.width); maxY = Math.max(maxY, position.y + size.height);
    });
    const width = viewport.clientWidth || 800;
    const height = viewport.clientHeight || 500;
    const margin = 36;
    const k = Math.max(0.25, Math.min(1.1, (width - 2 * margin) / (maxX - minX), (height - 2 * margin) / (maxY - minY)));
    state.view = { k: k, x: (width - (maxX - minX) * k) / 2 - minX * k, y: (height - (maxY - minY) * k) / 2 - minY * k };
    applyView();
  }
  function toWorld(event) {
    const rect = viewport.getBoundingClientRect();
    return { x: (event.clientX - rect.left - state.view.x) / state.view.k, y: (event.clientY - rect.top - state.view.y) / state.view.k };
  }
  viewport.addEventListener("wheel", function (event) {
    event.preventDefault();
    const rect = viewport.getBoundingClientRect();
    const sx = event.clientX - rect.left, sy = event.clientY - rect.top;
    const k = Math.max(0.2, Math.min(2.5, state.view.k * Math.exp(-event.deltaY * 0.0015)));
    state.view.x = sx - (sx - state.view.x) * k / state.view.k;
    state.view.y = sy - (sy - state.view.y) * k / state.view.k;
    state.view.k = k;
    applyView();
  }, { passive: false });

  // ---- selection ----
  function refreshSelection() {
    state.elements.forEach(function (el, id) { el.classList.toggle("selected", state.selection.has("n:" + id)); });
    renderEdges();
    updateToolbar();
  }
  function selectedOf(prefix) {
    return Array.from(state.selection).filter(function (item) { return item.startsWith(prefix); }).map(function (item) { return item.slice(2); });
  }
  function updateToolbar() {
    const nodes = selectedOf("n:");
    buttons.delete.disabled = state.selection.size === 0;
    buttons.output.disabled = nodes.length !== 1;
    buttons.share.disabled = nodes.length !== 1;
  }
  function clearPending() {
    document.querySelectorAll(".pending").forEach(function (el) { el.classList.remove("pending"); });
  }
  function deleteSelection() {
    if (!state.selection.size) return;
    const nodes = selectedOf("n:");
    const edges = selectedOf("e:");
    nodes.forEach(function (id) { const el = state.elements.get(id); if (el) el.classList.add("pending"); });
    edges.forEach(function (id) { const el = edgeLayer.querySelector('[data-id="' + CSS.escape(id) + '"]'); if (el) el.classList.add("pending"); });
    emit({ kind: "delete", nodes: nodes, edges: edges }, "Deleting…");
  }

  // ---- pointer interaction ----
  function nodeUnder(event) {
    const hit = document.elementFromPoint(event.clientX, event.clientY);
    const el = hit && hit.closest(".node");
    return el ? el.dataset.id : null;
  }
  function clearDropMarks() {
    state.elements.forEach(function (el) { el.classList.remove("drop-target", "drop-refused"); });
  }

  viewport.addEventListener("pointerdown", function (event) {
    if (event.button !== 0) return;
    viewport.focus({ preventScroll: true });  // preventDefault below would otherwise keep the keyboard outside the iframe
    const sourceHandle = event.target.closest(".handle.source");
    const nodeEl = event.target.closest(".node");
    const edgeEl = event.target.closest(".edge");
    const start = toWorld(event);
    if (sourceHandle && nodeEl) {
      const id = nodeEl.dataset.id;
      const output = Number(sourceHandle.dataset.output) || 0;
      const node = state.byId.get(id);
      state.drag = { mode: "connect", source: id, output: output, from: anchor(id, "bottom", output, sourceCount(node)) };
      viewport.classList.add("connecting");
    } else if (nodeEl) {
      const id = nodeEl.dataset.id;
      const key = "n:" + id;
      const toggle = event.shiftKey || event.ctrlKey || event.metaKey;
      if (toggle) {
        if (state.selection.has(key)) state.selection.delete(key); else state.selection.add(key);
      } else if (!state.selection.has(key)) {
        state.selection.clear();
        state.selection.add(key);
      }
      refreshSelection();
      const moving = selectedOf("n:").filter(function (other) { return state.positions.has(other); });
      const origins = new Map(moving.map(function (other) { return [other, Object.assign({}, state.positions.get(other))]; }));
      state.drag = { mode: "move", start: start, origins: origins, moved: false };
    } else if (edgeEl) {
      const key = "e:" + edgeEl.dataset.id;
      if (!(event.shiftKey || event.ctrlKey || event.metaKey)) state.selection.clear();
      state.selection.add(key);
      refreshSelection();
      state.drag = null;
      return;
    } else {
      if (!(event.shiftKey || event.ctrlKey || event.metaKey) && state.selection.size) { state.selection.clear(); refreshSelection(); }
      state.drag = { mode: "pan", screen: { x: event.clientX, y: event.clientY }, view: Object.assign({}, state.view) };
      viewport.classList.add("panning");
    }
    viewport.setPointerCapture(event.pointerId);
    event.preventDefault();
  });

  viewport.addEventListener("pointermove", function (event) {
    const drag = state.drag;
    if (!drag) return;
    if (drag.mode === "pan") {
      state.view.x = drag.view.x + event.clientX - drag.screen.x;
      state.view.y = drag.view.y + event.clientY - drag.screen.y;
      applyView();
    } else if (drag.mode === "move") {
      const point = toWorld(event);
      const dx = point.x - drag.start.x, dy = point.y - drag.start.y;
      if (Math.abs(dx) + Math.abs(dy) > 2) drag.moved = true;
      drag.origins.forEach(function (origin, id) {
        state.positions.set(id, { x: Math.round(origin.x + dx), y: Math.round(origin.y + dy) });
        placeNode(state.elements.get(id), id);
      });
      renderEdges();
    } else if (drag.mode === "connect") {
      const point = toWorld(event);
      draft.setAttribute("d", curve(drag.from, point));
      clearDropMarks();
      const over = nodeUnder(event);
      if (over) {
        const target = state.byId.get(over);
        const refused = over === drag.source || target.max_inputs === 0;
        state.elements.get(over).classList.add(refused ? "drop-refused" : "drop-target");
      }
    }
  });

  function endDrag(event, cancelled) {
    const drag = state.drag;
    state.drag = null;
    viewport.classList.remove("panning", "connecting");
    draft.setAttribute("d", "");
    clearDropMarks();
    if (drag && !cancelled) {
      if (drag.mode === "move" && drag.moved) {
        const positions = {};
        drag.origins.forEach(function (_, id) { const p = state.positions.get(id); positions[id] = [p.x, p.y]; });
        emit({ kind: "move", positions: positions }, "Saving layout…");
      } else if (drag.mode === "connect") {
        const target = nodeUnder(event);
        if (target) emit({ kind: "connect", source: drag.source, source_output: drag.output, target: target }, "Connecting…");
      }
    }
    if (state.pendingArgs) { const data = state.pendingArgs; state.pendingArgs = null; onRender(data); }
  }
  viewport.addEventListener("pointerup", function (event) { endDrag(event, false); });
  viewport.addEventListener("pointercancel", function (event) { endDrag(event, true); });

  document.addEventListener("keydown", function (event) {
    if (event.key === "Delete" || event.key === "Backspace") { deleteSelection(); event.preventDefault(); }
    else if (event.key === "Escape") { state.selection.clear(); refreshSelection(); }
    else if (event.key === "f" || event.key === "F") { fitView(); }
  });

  buttons.delete.addEventListener("click", deleteSelection);
  buttons.output.addEventListener("click", function () { emit({ kind: "toggle_output", node: selectedOf("n:")[0] }); });
  buttons.share.addEventListener("click", function () { emit({ kind: "share", node: selectedOf("n:")[0] }, "Adding a call…"); });
  buttons.layout.addEventListener("click", function () { state.fittedFor = null; emit({ kind: "layout" }, "Laying out…"); });
  buttons.fit.addEventListener("click", fitView);
  window.addEventListener("resize", function () { if (state.nodes.length) applyView(); });

  updateToolbar();
  post("streamlit:componentReady", { apiVersion: 1 });
})();
