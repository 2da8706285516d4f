// The lineage graph: drawn as SVG from the server's layout (graph.json), with pan and zoom,
// node actions (open, expand neighbours, "+N more") and the path between two nodes.
(function () {
  "use strict";
  const box = document.getElementById("lineage");
  if (!box) return;
  const SVG = "http://www.w3.org/2000/svg";
  const NODE_W = 190;
  const NODE_H = 40;
  const panel = document.getElementById("lineage-panel");
  const status = document.getElementById("lineage-status");
  const controls = document.getElementById("lineage-controls");
  const state = { expand: [], graph: null, selected: null, pathStart: null, view: null };

  const svg = document.createElementNS(SVG, "svg");
  svg.setAttribute("class", "lineage-svg");
  const viewport = document.createElementNS(SVG, "g");
  svg.appendChild(viewport);
  box.appendChild(svg);

  function el(name, attrs, parent) {
    const node = document.createElementNS(SVG, name);
    for (const [key, value] of Object.entries(attrs || {})) node.setAttribute(key, value);
    if (parent) parent.appendChild(node);
    return node;
  }

  function html(name, text, attrs) {
    const node = document.createElement(name);
    if (text !== undefined) node.textContent = text;
    for (const [key, value] of Object.entries(attrs || {})) node.setAttribute(key, value);
    return node;
  }

  function short(text, size) {
    return text.length > size ? text.slice(0, size - 1) + "…" : text;
  }

  // -- loading ---------------------------------------------------------------------------
  async function load() {
    const query = new URLSearchParams();
    query.set("root", box.dataset.root);
    query.set("direction", controls.elements.direction.value);
    query.set("depth", controls.elements.depth.value || "0");
    state.expand.forEach((name) => query.append("expand", name));
    status.textContent = "loading…";
    box.setAttribute("aria-busy", "true");
    try {
      const response = await fetch(box.dataset.url + "?" + query.toString(), {
        credentials: "same-origin",
      });
      const data = await response.json();
      if (!response.ok) throw new Error(data.error ? data.error.message : response.statusText);
      state.graph = data;
    } catch (error) {
      status.textContent = "Could not load the lineage: " + error.message;
      return;
    } finally {
      box.removeAttribute("aria-busy");
    }
    const g = state.graph;
    status.textContent =
      g.nodes.length + " nodes" + (g.truncated ? " (cut at the node limit: lower the depth)" : "");
    draw();
  }

  // -- drawing ---------------------------------------------------------------------------
  function edgePath(a, b) {
    const x1 = a.x + NODE_W;
    const y1 = a.y + NODE_H / 2;
    const x2 = b.x;
    const y2 = b.y + NODE_H / 2;
    if (x2 <= x1) {  // a back edge or a same-data link: bow below
      const low = Math.max(y1, y2) + NODE_H;
      return `M${a.x + NODE_W / 2},${a.y + NODE_H} C${a.x + NODE_W / 2},${low} ${b.x + NODE_W / 2},${low} ${b.x + NODE_W / 2},${b.y + NODE_H}`;
    }
    const mid = (x1 + x2) / 2;
    return `M${x1},${y1} C${mid},${y1} ${mid},${y2} ${x2},${y2}`;
  }

  function draw() {
    const g = state.graph;
    const byId = new Map(g.nodes.map((node) => [node.id, node]));
    viewport.replaceChildren();
    el("defs", {}, viewport).appendChild(arrowMarker());
    const edges = el("g", { class: "edges" }, viewport);
    for (const edge of g.edges) {
      const a = byId.get(edge.source);
      const b = byId.get(edge.target);
      if (!a || !b) continue;
      el("path", {
        d: edgePath(a, b),
        class: "edge " + edge.kind,
        "data-source": edge.source,
        "data-target": edge.target,
        "marker-end": edge.kind === "same" ? "" : "url(#arrow)",
      }, edges);
    }
    const nodes = el("g", { class: "nodes" }, viewport);
    for (const node of g.nodes) {
      const classes = ["node", node.kind];
      if (node.root) classes.push("root");
      if (node.expanded) classes.push("expanded");
      const group = el("g", {
        class: classes.join(" "),
        transform: `translate(${node.x},${node.y})`,
        "data-id": node.id,
        tabindex: "0",
        role: "button",
      }, nodes);
      el("rect", { width: NODE_W, height: NODE_H, rx: node.kind === "artifact" ? 18 : 4 }, group);
      const label = el("text", { x: 10, y: node.detail ? 17 : 25, class: "label" }, group);
      label.textContent = short(node.label, 26);
      if (node.detail) {
        const detail = el("text", { x: 10, y: 32, class: "detail" }, group);
        detail.textContent = short(node.detail, 30);
      }
      const title = el("title", {}, group);
      title.textContent = node.label + (node.uri ? "\n" + node.uri : "");
      group.addEventListener("click", (event) => { event.stopPropagation(); select(node.id); });
      group.addEventListener("dblclick", () => activate(node));
      group.addEventListener("keydown", (event) => {
        if (event.key === "Enter") activate(node);
        if (event.key === " ") { event.preventDefault(); select(node.id); }
      });
    }
    if (!state.view) fit();
    applyView();
    if (state.selected && byId.has(state.selected)) select(state.selected);
    else showHelp();
    box.dataset.nodes = String(g.nodes.length);
  }

  function arrowMarker() {
    const marker = document.createElementNS(SVG, "marker");
    for (const [k, v] of Object.entries({
      id: "arrow", viewBox: "0 0 10 10", refX: "10", refY: "5",
      markerWidth: "7", markerHeight: "7", orient: "auto-start-reverse",
    })) marker.setAttribute(k, v);
    el("path", { d: "M 0 0 L 10 5 L 0 10 z", class: "arrow" }, marker);
    return marker;
  }

  // -- pan and zoom ----------------------------------------------------------------------
  function fit() {
    const g = state.graph;
    const width = box.clientWidth || 800;
    const height = box.clientHeight || 500;
    const scale = Math.min(1, (width - 40) / (g.width || 1), (height - 40) / (g.height + NODE_H || 1));
    const k = Math.max(scale, 0.2);
    state.view = {
      k,
      x: (width - (g.width - 240 + NODE_W) * k) / 2,
      y: Math.max(20, (height - g.height * k) / 2),
    };
  }

  function applyView() {
    const v = state.view;
    viewport.setAttribute("transform", `translate(${v.x},${v.y}) scale(${v.k})`);
  }

  let drag = null;
  svg.addEventListener("pointerdown", (event) => {
    if (event.target.closest("g.node")) return;
    drag = { x: event.clientX, y: event.clientY, vx: state.view.x, vy: state.view.y };
    svg.setPointerCapture(event.pointerId);
  });
  svg.addEventListener("pointermove", (event) => {
    if (!drag) return;
    state.view.x = drag.vx + event.clientX - drag.x;
    state.view.y = drag.vy + event.clientY - drag.y;
    applyView();
  });
  svg.addEventListener("pointerup", () => { drag = null; });
  svg.addEventListener("wheel", (event) => {
    event.preventDefault();
    const rect = svg.getBoundingClientRect();
    const px = event.clientX - rect.left;
    const py = event.clientY - rect.top;
    const v = state.view;
    const k = Math.min(3, Math.max(0.1, v.k * Math.exp(-event.deltaY * 0.0015)));
    v.x = px - ((px - v.x) * k) / v.k;
    v.y = py - ((py - v.y) * k) / v.k;
    v.k = k;
    applyView();
  }, { passive: false });

  // -- node actions ----------------------------------------------------------------------
  function node(id) {
    return state.graph.nodes.find((n) => n.id === id);
  }

  function activate(target) {
    if (target.kind === "more") expand(target.more_of);
    else window.location.href = target.url;
  }

  function expand(id) {
    if (!state.expand.includes(id)) state.expand.push(id);
    state.selected = id;
    load();
  }

  function showHelp() {
    panel.replaceChildren(html("p", "Click a node: open it, expand its neighbours, or pick two nodes to highlight the path between them. Drag to pan, wheel to zoom.", { class: "muted" }));
  }

  function button(text, id, action) {
    const b = html("button", text, { type: "button", id });
    b.addEventListener("click", action);
    return b;
  }

  function select(id) {
    const target = node(id);
    if (!target) return;
    state.selected = id;
    svg.querySelectorAll("g.node.selected").forEach((n) => n.classList.remove("selected"));
    const shape = svg.querySelector(`g.node[data-id="${CSS.escape(id)}"]`);
    if (shape) shape.classList.add("selected");
    const parts = [html("h3", target.label)];
    if (target.kind === "more") {
      parts.push(html("p", target.more_count + " more neighbours, folded to keep the drawing readable."));
      parts.push(button("Show them all", "expand-node", () => expand(target.more_of)));
    } else {
      parts.push(html("p", target.kind + " · " + target.detail + (target.state ? " · " + target.state : "")));
      if (target.uri) parts.push(html("p", target.uri, { class: "mono" }));
      const open = html("a", "Open", { href: target.url, id: "open-node", class: "button" });
      parts.push(open);
      if (!target.expanded) parts.push(button("Expand neighbours", "expand-node", () => expand(id)));
      parts.push(button("Path from here", "path-from", () => {
        state.pathStart = id;
        clearPath();
        select(id);
      }));
      if (state.pathStart && state.pathStart !== id && node(state.pathStart)) {
        parts.push(button("Path to here", "path-to", () => highlightPath(state.pathStart, id)));
      }
    }
    if (state.pathStart && node(state.pathStart)) {
      parts.push(html("p", "Path starts at: " + node(state.pathStart).label, { class: "muted" }));
    }
    panel.replaceChildren(...parts);
  }

  // -- the path between two nodes --------------------------------------------------------
  function clearPath() {
    svg.querySelectorAll(".on-path").forEach((n) => n.classList.remove("on-path"));
  }

  function search(from, to, directed) {
    const next = new Map();
    for (const edge of state.graph.edges) {
      if (edge.kind === "more") continue;
      const link = (a, b) => { if (!next.has(a)) next.set(a, []); next.get(a).push([b, edge]); };
      link(edge.source, edge.target);
      if (!directed || edge.kind === "same") link(edge.target, edge.source);
    }
    const came = new Map([[from, null]]);
    const queue = [from];
    while (queue.length) {
      const current = queue.shift();
      if (current === to) break;
      for (const [neighbour, edge] of next.get(current) || []) {
        if (!came.has(neighbour)) { came.set(neighbour, [current, edge]); queue.push(neighbour); }
      }
    }
    if (!came.has(to)) return null;
    const path = [];
    for (let at = to; came.get(at); at = came.get(at)[0]) path.push(came.get(at)[1]);
    return path;
  }

  function highlightPath(from, to) {
    clearPath();
    const path = search(from, to, true) || search(to, from, true) || search(from, to, false);
    if (!path) {
      status.textContent = "No path between the two nodes in this drawing.";
      return;
    }
    const ids = new Set([from, to]);
    for (const edge of path) {
      ids.add(edge.source);
      ids.add(edge.target);
      svg.querySelectorAll("path.edge").forEach((p) => {
        if (p.dataset.source === edge.source && p.dataset.target === edge.target) p.classList.add("on-path");
      });
    }
    ids.forEach((id) => {
      const shape = svg.querySelector(`g.node[data-id="${CSS.escape(id)}"]`);
      if (shape) shape.classList.add("on-path");
    });
    status.textContent = "Path: " + path.length + " edges between " + node(from).label + " and " + node(to).label + ".";
  }

  // -- controls --------------------------------------------------------------------------
  controls.addEventListener("submit", (event) => { event.preventDefault(); state.view = null; load(); });
  document.getElementById("lineage-reset").addEventListener("click", () => {
    state.expand = [];
    state.selected = null;
    state.pathStart = null;
    state.view = null;
    load();
  });
  svg.addEventListener("click", (event) => {
    if (event.target.closest("g.node")) return;
    state.selected = null;
    svg.querySelectorAll("g.node.selected").forEach((n) => n.classList.remove("selected"));
    showHelp();
  });
  load();
})();
