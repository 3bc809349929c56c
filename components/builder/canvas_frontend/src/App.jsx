// The Builder's node canvas on React Flow. Python sends the spec's picture (nodes, edges, palette); every user
// action goes back as one intent (studio/graph/intents.py) or a request (select, undo, redo). Python applies it
// and sends the new picture: the spec stays the truth, this view never changes it on its own.
import React, { useCallback, useEffect, useMemo, useRef, useState } from "react";
import {
  Background, Controls, MarkerType, MiniMap, Panel, ReactFlow, ReactFlowProvider, useEdgesState, useNodesState, useReactFlow,
} from "@xyflow/react";
import { CanvasContext } from "./context.js";
import { GROUP_COLORS, LayerNode } from "./LayerNode.jsx";
import { label, labelParts } from "./labels.js";
import { Palette, TypePicker } from "./Palette.jsx";
import { acknowledge, busy, emit, onRender, setFrameHeight } from "./streamlit.js";

const NODE_TYPES = { layer: LayerNode };
const MINIMAP_FROM = 12;

function useStreamlitArgs() {
  const [state, setState] = useState({ args: null, theme: null });
  useEffect(() => onRender((args, theme) => {
    acknowledge(args.ack);
    setState({ args, theme });
  }), []);
  return state;
}

function availableHeight(minimum, present) {
  // Fill the window below the frame's top edge (the frame is served from the app's origin, so it can look).
  try {
    const top = Math.max(window.frameElement.getBoundingClientRect().top, 0);
    const height = window.parent.innerHeight - top - (present ? 28 : 24);
    return Math.round(Math.max(minimum, Math.min(height, 2400)));
  } catch (error) {
    return minimum;
  }
}

function toFlowNodes(args, previous) {
  const selected = new Set(previous.filter((node) => node.selected).map((node) => node.id));
  return (args.nodes || []).map((node) => ({
    id: node.id, type: "layer", position: { x: node.x, y: node.y }, data: { node },
    selected: selected.has(node.id), deletable: false,
  }));
}

function toFlowEdges(args, previous) {
  const selected = new Set(previous.filter((edge) => edge.selected).map((edge) => edge.id));
  return (args.edges || []).map((edge) => ({
    id: edge.id, source: edge.source, target: edge.target, sourceHandle: "out-" + edge.source_output,
    targetHandle: "in-" + edge.position, label: edge.label || undefined, selected: selected.has(edge.id), deletable: false,
    className: edge.error ? "bad" : "", markerEnd: { type: MarkerType.ArrowClosed, width: 16, height: 16 },
    interactionWidth: 22, labelBgPadding: [4, 2], labelBgBorderRadius: 6,
  }));
}

function Canvas() {
  const { args, theme } = useStreamlitArgs();
  const flow = useReactFlow();
  const [nodes, setNodes, onNodesChange] = useNodesState([]);
  const [edges, setEdges, onEdgesChange] = useEdgesState([]);
  const [height, setHeight] = useState(560);
  const [drag, setDrag] = useState(null); // a palette item being dragged: {item, x, y, moved}
  const [picker, setPicker] = useState(null);
  const [expanded, setExpanded] = useState(new Set());
  const [collapsed, setCollapsed] = useState(false);
  const [status, setStatus] = useState("");
  const [armedShare, setArmedShare] = useState(null);
  const wrapper = useRef(null);
  const lastSelected = useRef(undefined);
  const lastIds = useRef("");
  const nudgeTimer = useRef(null);
  const labelsRef = useRef({});
  labelsRef.current = (args && args.labels) || {};

  const direction = (args && args.direction) || "TB";
  const present = Boolean(args && args.present);
  const minimum = (args && args.height) || 560;
  const labels = (args && args.labels) || {};
  const t = (key, fallback, values) => label(labels, key, fallback, values);

  const send = useCallback((change, text) => {
    emit(change);
    setStatus(text || label(labelsRef.current, "updating", "Updating…"));
  }, []);

  // A new picture from Python: keep what is selected here, take Python's selection when it changed there.
  useEffect(() => {
    if (!args) return;
    setNodes((previous) => {
      let next = toFlowNodes(args, previous);
      if (args.selected !== lastSelected.current) {
        lastSelected.current = args.selected;
        if (args.selected) next = next.map((node) => ({ ...node, selected: node.id === args.selected }));
      }
      return next;
    });
    setEdges((previous) => toFlowEdges(args, previous));
    if (!busy()) setStatus("");
  }, [args, setNodes, setEdges]);

  // Fit the graph into view when nodes come or go (a new node is never out of sight).
  useEffect(() => {
    if (!args) return;
    const ids = (args.nodes || []).map((node) => node.id).join("|") + "#" + direction + "#" + args.spec_name;
    if (ids === lastIds.current) return;
    lastIds.current = ids;
    const timer = setTimeout(() => flow.fitView({ padding: 0.12, maxZoom: 1.1, duration: 0 }), 80);
    return () => clearTimeout(timer);
  }, [args, direction, flow]);

  // Fill the available height; follow the window.
  useEffect(() => {
    const resize = () => {
      const next = availableHeight(minimum, present);
      setHeight((current) => (Math.abs(current - next) > 2 ? next : current));
    };
    resize();
    let parent = null;
    try { parent = window.parent; parent.addEventListener("resize", resize); } catch (error) { parent = null; }
    const watch = setInterval(resize, 400); // a message shown above the canvas moves it down: stay inside the window
    return () => { clearInterval(watch); if (parent) parent.removeEventListener("resize", resize); };
  }, [minimum, present]);
  useEffect(() => {
    setFrameHeight(height);
    const timer = setTimeout(() => flow.fitView({ padding: 0.12, maxZoom: 1.1, duration: 0 }), 120);
    return () => clearTimeout(timer);
  }, [height, flow]);

  const selectedNodes = nodes.filter((node) => node.selected).map((node) => node.id);
  const selectedEdges = edges.filter((edge) => edge.selected).map((edge) => edge.id);
  const byId = useMemo(() => new Map((args && args.nodes ? args.nodes : []).map((node) => [node.id, node])), [args]);
  const highlightLayer = selectedNodes.length === 1 && byId.get(selectedNodes[0]) ? byId.get(selectedNodes[0]).layer : null;

  const deleteSelection = useCallback(() => {
    if (!selectedNodes.length && !selectedEdges.length) return;
    send({ kind: "delete", nodes: selectedNodes, edges: selectedEdges }, t("deleting", "Deleting…"));
  }, [selectedNodes, selectedEdges, send, labels]);

  const allPositions = () => {
    const positions = {};
    flow.getNodes().forEach((node) => { positions[node.id] = [Math.round(node.position.x), Math.round(node.position.y)]; });
    return positions;
  };

  // --- wiring ---
  const onConnect = useCallback((connection) => {
    const target = byId.get(connection.target);
    const slot = Number(String(connection.targetHandle || "in-0").slice(3));
    const output = Number(String(connection.sourceHandle || "out-0").slice(4));
    const replace = Boolean(target) && slot < target.input_count;
    send({ kind: "connect", source: connection.source, source_output: output, target: connection.target, slot, replace },
      replace ? t("replacing_input", "Replacing input {slot}…", { slot: slot + 1 }) : t("connecting", "Connecting…"));
  }, [byId, send, labels]);

  const onConnectEnd = useCallback((event, connection) => {
    if (connection.isValid || !connection.fromNode || !connection.fromHandle || connection.fromHandle.type !== "source") return;
    const point = "changedTouches" in event ? event.changedTouches[0] : event;
    const hit = document.elementFromPoint(point.clientX, point.clientY);
    const nodeElement = hit && hit.closest(".react-flow__node");
    const output = Number(String(connection.fromHandle.id || "out-0").slice(4));
    const source = connection.fromNode.id;
    if (nodeElement) {
      const targetId = nodeElement.getAttribute("data-id");
      if (targetId === source) return;
      const target = byId.get(targetId);
      const replaceOnly = target && target.max_inputs === 1 && target.input_count === 1;
      send({ kind: "connect", source, source_output: output, target: targetId, ...(replaceOnly ? { slot: 0, replace: true } : {}) },
        t("connecting", "Connecting…"));
      return;
    }
    if (hit && hit.closest(".react-flow__pane")) {
      const bounds = wrapper.current.getBoundingClientRect();
      setPicker({
        x: Math.min(point.clientX - bounds.left, bounds.width - 250), y: Math.min(point.clientY - bounds.top, bounds.height - 330),
        position: flow.screenToFlowPosition({ x: point.clientX, y: point.clientY }),
        source, sourceRef: output ? source + ":" + output : source,
      });
    }
  }, [byId, flow, send, labels]);

  const pick = useCallback(({ item, share }) => {
    const p = picker;
    setPicker(null);
    const position = [Math.round(p.position.x), Math.round(p.position.y)];
    if (share) {
      send({ kind: "share", node: share, inputs: [p.sourceRef] }, t("calling_again", "Calling the layer again…"));
    } else {
      send({ kind: "add_node", layer_type: item.type, inputs: [p.sourceRef], position, ...(item.preset ? { preset: item.preset } : {}) },
        t("adding", "Adding {label}…", { label: item.label }));
    }
  }, [picker, send, labels]);

  // --- dragging from the palette (pointer events: works with mouse, pen and touch, and in tests) ---
  const dropItem = useCallback((item, clientX, clientY, moved) => {
    const extra = item.preset ? { preset: item.preset } : {};
    if (!moved) { // a click: after the selected node, else in the middle of the view
      const after = selectedNodes.length === 1 && item.type !== "Input" ? [selectedNodes[0]] : [];
      send({ kind: "add_node", layer_type: item.type, inputs: after, ...extra }, t("adding", "Adding {label}…", { label: item.label }));
      return;
    }
    const hits = document.elementsFromPoint(clientX, clientY);
    const nodeElement = hits.map((element) => element.closest(".react-flow__node")).find(Boolean);
    const edgeElement = hits.map((element) => element.closest(".react-flow__edge")).find(Boolean);
    const inPane = hits.some((element) => element.closest(".react-flow"));
    if (!inPane) return;
    const point = flow.screenToFlowPosition({ x: clientX, y: clientY });
    const position = [Math.round(point.x - 110), Math.round(point.y - 30)];
    if (nodeElement && item.type !== "Input") {
      send({ kind: "add_node", layer_type: item.type, inputs: [nodeElement.getAttribute("data-id")], ...extra },
        t("adding", "Adding {label}…", { label: item.label }));
    } else if (edgeElement && !item.preset && item.type !== "Input") {
      send({ kind: "insert", edge: edgeElement.getAttribute("data-id"), layer_type: item.type },
        t("inserting", "Inserting {label}…", { label: item.label }));
    } else {
      send({ kind: "add_node", layer_type: item.type, position, ...extra }, t("adding", "Adding {label}…", { label: item.label }));
    }
  }, [flow, selectedNodes, send, labels]);

  const onPress = useCallback((event, item) => {
    if (event.button !== 0) return;
    event.preventDefault();
    setDrag({ item, x: event.clientX, y: event.clientY, startX: event.clientX, startY: event.clientY, moved: false });
  }, []);

  useEffect(() => {
    if (!drag) return undefined;
    const move = (event) => setDrag((current) => current && {
      ...current, x: event.clientX, y: event.clientY,
      moved: current.moved || Math.abs(event.clientX - current.startX) + Math.abs(event.clientY - current.startY) > 5,
    });
    const up = (event) => {
      const current = drag;
      setDrag(null);
      const moved = current.moved || Math.abs(event.clientX - current.startX) + Math.abs(event.clientY - current.startY) > 5;
      dropItem(current.item, event.clientX, event.clientY, moved);
    };
    window.addEventListener("pointermove", move);
    window.addEventListener("pointerup", up);
    return () => { window.removeEventListener("pointermove", move); window.removeEventListener("pointerup", up); };
  }, [drag, dropItem]);

  // --- keyboard: Delete, Ctrl/Cmd+Z, Shift+Ctrl/Cmd+Z (and Ctrl+Y), Ctrl/Cmd+D, arrows nudge, Esc, F fits ---
  useEffect(() => {
    const keydown = (event) => {
      const tag = event.target && event.target.tagName;
      if (tag === "INPUT" || tag === "SELECT" || tag === "TEXTAREA") return;
      const mod = event.ctrlKey || event.metaKey;
      const key = event.key.toLowerCase();
      if (event.key === "Delete" || event.key === "Backspace") { event.preventDefault(); deleteSelection(); }
      else if (mod && key === "z") { event.preventDefault(); send({ kind: event.shiftKey ? "redo" : "undo" }, event.shiftKey ? t("redoing", "Redo…") : t("undoing", "Undo…")); }
      else if (mod && key === "y") { event.preventDefault(); send({ kind: "redo" }, t("redoing", "Redo…")); }
      else if (mod && key === "d") {
        event.preventDefault();
        selectedNodes.forEach((id) => send({ kind: "duplicate", node: id }, t("duplicating", "Duplicating…")));
      } else if (event.key.startsWith("Arrow") && selectedNodes.length) {
        event.preventDefault();
        const step = event.shiftKey ? 50 : 10;
        const dx = { ArrowLeft: -step, ArrowRight: step }[event.key] || 0;
        const dy = { ArrowUp: -step, ArrowDown: step }[event.key] || 0;
        setNodes((current) => current.map((node) => (node.selected ? { ...node, position: { x: node.position.x + dx, y: node.position.y + dy } } : node)));
        clearTimeout(nudgeTimer.current);
        nudgeTimer.current = setTimeout(() => send({ kind: "move", positions: allPositions() }, t("saving_layout", "Saving the layout…")), 500);
      } else if (event.key === "Escape") {
        setPicker(null); setArmedShare(null);
        setNodes((current) => current.map((node) => ({ ...node, selected: false })));
        setEdges((current) => current.map((edge) => ({ ...edge, selected: false })));
      } else if (key === "f" && !mod) { flow.fitView({ padding: 0.12, maxZoom: 1.1, duration: 200 }); }
    };
    window.addEventListener("keydown", keydown);
    return () => window.removeEventListener("keydown", keydown);
  });

  const onNodeClick = useCallback((event, node) => {
    if (armedShare) {
      send({ kind: "share", node: armedShare, inputs: [node.id] }, t("calling_again", "Calling the layer again…"));
      setArmedShare(null);
      return;
    }
    if (event.target.closest && event.target.closest(".nodrag")) return;
    if (args && args.selected !== node.id && !(event.shiftKey || event.ctrlKey || event.metaKey)) {
      lastSelected.current = node.id;
      send({ kind: "select", node: node.id }, " ");
    }
  }, [args, armedShare, send, labels]);

  const onNodeDragStop = useCallback(() => {
    send({ kind: "move", positions: allPositions() }, t("saving_layout", "Saving the layout…"));
  }, [send, labels]);

  const toggleExpanded = useCallback((id) => setExpanded((current) => {
    const next = new Set(current);
    if (next.has(id)) next.delete(id); else next.add(id);
    return next;
  }), []);

  if (!args) return null;
  const context = { emit: (change) => send(change), direction, expanded, toggleExpanded, highlightLayer, labels };
  const layers = [];
  const seenLayers = new Set();
  (args.nodes || []).forEach((node) => {
    if (node.layer_type === "Input" || seenLayers.has(node.layer)) return;
    seenLayers.add(node.layer);
    layers.push({ id: node.layer, type: node.layer_type, node: node.id });
  });
  const one = selectedNodes.length === 1 ? selectedNodes[0] : null;
  const dark = theme && theme.base === "dark";
  return (
    <CanvasContext.Provider value={context}>
      <div className={"canvas-root" + (dark ? " dark" : "") + (present ? " present" : "")} style={{ height }} data-testid="canvas-root">
        <Palette groups={args.palette || []} onPress={onPress} collapsed={collapsed} setCollapsed={setCollapsed} labels={labels} />
        <div className="flow" ref={wrapper} data-testid="canvas-viewport">
          <ReactFlow
            nodes={nodes} edges={edges} nodeTypes={NODE_TYPES} onNodesChange={onNodesChange} onEdgesChange={onEdgesChange}
            onConnect={onConnect} onConnectEnd={onConnectEnd} onNodeClick={onNodeClick} onNodeDragStop={onNodeDragStop}
            onPaneClick={() => { setPicker(null); setArmedShare(null); }}
            deleteKeyCode={null} minZoom={0.05} maxZoom={2.5} colorMode={dark ? "dark" : "light"}
            connectionRadius={28} proOptions={{ hideAttribution: true }} fitView fitViewOptions={{ padding: 0.12, maxZoom: 1.1 }}
            onlyRenderVisibleElements={(args.nodes || []).length > 80}
          >
            <Background gap={20} size={1} />
            <Controls showInteractive={false} position="bottom-right" />
            {(args.nodes || []).length >= MINIMAP_FROM && (
              <MiniMap pannable zoomable position="top-right" data-testid="canvas-minimap"
                nodeColor={(node) => GROUP_COLORS[node.data.node.group] || "#94a3b8"} />
            )}
            <Panel position="top-left" className="toolbar">
              <button type="button" data-testid="canvas-delete" disabled={!selectedNodes.length && !selectedEdges.length}
                onClick={deleteSelection} title={t("delete_title", "Delete the selected nodes and edges (Del)")}>{t("delete", "Delete")}</button>
              <button type="button" data-testid="canvas-output" disabled={!one}
                onClick={() => send({ kind: "toggle_output", node: one }, t("changing_outputs", "Changing the outputs…"))}
                title={t("output_title", "Pin or unpin the selected node as a model output")}>{t("output", "Output ±")}</button>
              <button type="button" data-testid="canvas-duplicate" disabled={!one}
                onClick={() => send({ kind: "duplicate", node: one }, t("duplicating", "Duplicating…"))}
                title={t("duplicate_title", "Duplicate (Ctrl/Cmd+D)")}>{t("duplicate", "Duplicate")}</button>
              <button type="button" data-testid="canvas-share" disabled={!one || byId.get(one).layer_type === "Input"}
                onClick={() => setArmedShare(one)}
                title={t("share_title", "Call the selected node's layer again (same weights): then click its input")}>
                {t("share", "Call again")}
              </button>
              <span className="separator" />
              <button type="button" data-testid="canvas-layout-tb" className={direction === "TB" ? "on" : ""}
                onClick={() => send({ kind: "layout", direction: "TB" }, t("laying_out", "Laying out…"))}
                title={t("layout_tb_title", "Auto-layout, top-down")}>{t("layout_tb", "↓ Layout")}</button>
              <button type="button" data-testid="canvas-layout-lr" className={direction === "LR" ? "on" : ""}
                onClick={() => send({ kind: "layout", direction: "LR" }, t("laying_out", "Laying out…"))}
                title={t("layout_lr_title", "Auto-layout, left to right")}>{t("layout_lr", "→ Layout")}</button>
              <button type="button" data-testid="canvas-fit" onClick={() => flow.fitView({ padding: 0.12, maxZoom: 1.1, duration: 200 })}
                title={t("fit_title", "Fit the whole graph in view (F)")}>{t("fit", "Fit")}</button>
              <span className="status" data-testid="canvas-status">
                {armedShare
                  ? t("share_armed", "Click the node whose output the new call of '{layer}' takes (Esc cancels)", { layer: byId.get(armedShare).layer })
                  : status}
              </span>
            </Panel>
            {(args.problems || []).length > 0 && (
              <Panel position="bottom-left" className="problems" data-testid="canvas-problems">
                {args.problems.slice(0, 3).map((text) => <div key={text}>{text}</div>)}
                {args.problems.length > 3 && (
                  <div>{args.problems.length - 3 === 1
                    ? t("more_problem", "+{count} more problem", { count: 1 })
                    : t("more_problems", "+{count} more problems", { count: args.problems.length - 3 })}</div>
                )}
              </Panel>
            )}
            {(args.nodes || []).length === 0 && (
              <Panel position="top-center" className="empty" data-testid="canvas-empty">
                {labelParts(labels, "empty", "No nodes yet: drag an {input} from the palette onto the canvas, then drag layers onto it.",
                  { input: <b>Input</b> })}
              </Panel>
            )}
          </ReactFlow>
          {picker && <TypePicker picker={picker} groups={args.palette || []} layers={layers} onPick={pick} onClose={() => setPicker(null)}
            labels={labels} />}
        </div>
        {drag && drag.moved && (
          <div className="drag-ghost" style={{ left: drag.x + 8, top: drag.y + 8 }}>{drag.item.label}</div>
        )}
      </div>
    </CanvasContext.Provider>
  );
}

export function App() {
  return (
    <ReactFlowProvider>
      <Canvas />
    </ReactFlowProvider>
  );
}
