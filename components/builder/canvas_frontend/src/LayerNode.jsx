// One node of the canvas: id, type, key parameters (editable), shape, parameter count, output state, problems and
// hints, one input handle per slot (numbered where the order matters, plus "+" for one more) and one output
// handle per output.
import React, { useContext, useEffect, useState } from "react";
import { Handle, Position, useStore } from "@xyflow/react";
import { CanvasContext } from "./context.js";
import { label } from "./labels.js";
import { formatValue, parseValue } from "./values.js";

export const GROUP_COLORS = {
  Inputs: "#16a34a", Core: "#2563eb", Convolution: "#ea580c", Pooling: "#0d9488", Reshaping: "#64748b",
  Normalization: "#0891b2", Recurrent: "#9a3412", Wrappers: "#a16207", Attention: "#db2777", Merge: "#c026d3",
  Applications: "#78716c", Models: "#4f46e5",
};
export const NODE_WIDTH = 220;

export function nodeWidth(node) {
  return Math.max(NODE_WIDTH, 24 + 18 * Math.max(node.output_count || 1, targetSlots(node).count));
}

export function targetSlots(node) {
  // One slot per input it has, plus an empty "+" slot while it can take one more.
  if (node.max_inputs === 0) return { count: 0, add: false };
  const add = node.max_inputs === null || node.max_inputs === undefined || node.input_count < node.max_inputs;
  return { count: node.input_count + (add ? 1 : 0), add };
}

function formatParams(count, labels) {
  if (count === null || count === undefined) return "";
  return label(labels, "params", "{count} params", { count: count.toLocaleString("en-US") });
}

function ParamField({ node, param }) {
  const { emit, labels } = useContext(CanvasContext);
  const shown = formatValue(param.value);
  const [text, setText] = useState(shown);
  const [problem, setProblem] = useState("");
  useEffect(() => { setText(shown); setProblem(""); }, [shown]);
  const testid = "param-" + node.id + "-" + param.name;
  const send = (value) => emit({ kind: "set_param", node: node.id, name: param.name, value });
  if (param.kind === "choice" && param.choices) {
    const current = param.value === null || param.value === undefined ? "" : String(param.value);
    return (
      <label className="param nodrag">
        <span>{param.name}</span>
        <select data-testid={testid} value={current}
          onChange={(event) => send(event.target.value === "" ? null : event.target.value)}>
          {param.choices.map((choice) => (
            <option key={String(choice)} value={choice === null ? "" : String(choice)}>{choice === null ? label(labels, "choice_none", "(none)") : String(choice)}</option>
          ))}
        </select>
      </label>
    );
  }
  if (param.kind === "bool") {
    return (
      <label className="param nodrag">
        <span>{param.name}</span>
        <input type="checkbox" data-testid={testid} checked={Boolean(param.value)} onChange={(event) => send(event.target.checked)} />
      </label>
    );
  }
  const commit = () => {
    if (text === shown) return;
    const parsed = parseValue(param.kind, text, param.required, labels);
    if (parsed.error) { setProblem(parsed.error); return; }
    setProblem("");
    send(parsed.value);
  };
  return (
    <label className={"param nodrag" + (problem ? " invalid" : "")} title={problem || param.name}>
      <span>{param.name}</span>
      <input data-testid={testid} value={text} spellCheck={false}
        onChange={(event) => setText(event.target.value)} onBlur={commit}
        onKeyDown={(event) => {
          if (event.key === "Enter") { event.preventDefault(); commit(); event.currentTarget.blur(); }
          if (event.key === "Escape") { setText(shown); setProblem(""); event.currentTarget.blur(); }
          event.stopPropagation();
        }} />
    </label>
  );
}

function slotPosition(index, count) {
  return ((index + 1) / (count + 1)) * 100 + "%";
}

const zoomedOut = (store) => store.transform[2] < 0.45; // too small to edit: parameters shown as text (fast to pan)

export function LayerNode({ data, selected }) {
  const node = data.node;
  const { direction, expanded, toggleExpanded, highlightLayer, labels } = useContext(CanvasContext);
  const t = (key, fallback, values) => label(labels, key, fallback, values);
  const compact = useStore(zoomedOut);
  const lr = direction === "LR";
  const slots = targetSlots(node);
  const outputs = Math.max(1, node.output_count || 1);
  const isOutput = node.output_refs.length > 0;
  const classes = ["layer-node"];
  if (selected) classes.push("selected");
  if (node.errors.length) classes.push("error");
  if (node.is_input) classes.push("input");
  if (isOutput) classes.push("output");
  if (node.shared_with.length && highlightLayer === node.layer) classes.push("shared-highlight");
  const open = expanded.has(node.id);
  return (
    <div className={classes.join(" ")} data-testid={"node-" + node.id}
      style={{ width: nodeWidth(node), "--group": GROUP_COLORS[node.group] || "#94a3b8" }}>
      <div className="head">
        <span className="title" title={node.id}>{node.id}</span>
        {node.is_input && <span className="badge input">{t("badge_input", "input")}</span>}
        {isOutput && (
          <span className={"badge output" + (node.pinned.length ? " pinned" : "")} data-testid={"output-badge-" + node.id}
            title={node.pinned.length ? t("pinned_title", "Pinned: a model output although other nodes use it")
              : t("output_title_free", "A model output: nothing uses it")}>
            {node.pinned.length ? t("badge_pinned", "output · pinned") : node.output_refs.length > 1
              ? t("badge_outputs", "output ×{count}", { count: node.output_refs.length }) : t("badge_output", "output")}
          </span>
        )}
        {node.unpinned.length > 0 && (
          <span className="badge unpinned" data-testid={"unpinned-badge-" + node.id}
            title={t("unpinned_title", "Nothing uses it, but you took it out of the model outputs")}>{t("badge_unpinned", "not an output")}</span>
        )}
        {node.shared_with.length > 0 && (
          <span className="badge shared"
            title={t("shared_title", "Layer '{layer}' is also called by: {nodes}", { layer: node.layer, nodes: node.shared_with.join(", ") })}>
            {t("badge_shared", "shared ×{count}", { count: node.shared_with.length + 1 })}
          </span>
        )}
      </div>
      <div className="meta">
        <span className="type" title={t("type_title", "Layer '{layer}' of type {type}", { layer: node.layer, type: node.layer_type })}>
          <b>{node.layer_type}</b>{node.layer !== node.id ? " · " + node.layer : ""}{node.trainable ? "" : " · " + t("frozen", "frozen")}
        </span>
        <span className="params">{formatParams(node.params, labels)}</span>
      </div>
      {node.key_params.length > 0 && compact && (
        <div className="key-params-text">{node.key_params.map((param) => param.name + " " + formatValue(param.value)).join(" · ")}</div>
      )}
      {node.key_params.length > 0 && !compact && (
        <div className="key-params">
          {node.key_params.map((param) => <ParamField key={param.name} node={node} param={param} />)}
        </div>
      )}
      <div className="shape" title={t("shape_title", "Output shape: {shape}", { shape: node.shape || t("unknown", "unknown") })}>
        {node.shape ? "→ " + node.shape : node.errors.length ? t("not_built", "not built") : "…"}
      </div>
      {node.errors.length > 0 && (
        <div className="problem" data-testid={"node-problem-" + node.id} title={node.errors.join("\n\n")}>
          {node.errors[0]}{node.errors.length > 1 ? " " + t("more_errors", "(+{count} more)", { count: node.errors.length - 1 }) : ""}
        </div>
      )}
      {node.hints.map((hint) => <div key={hint} className="hint" data-testid={"node-hint-" + node.id}>{hint}</div>)}
      {node.inner.length > 0 && (
        <div className="inner nodrag">
          <button type="button" className="expand" data-testid={"expand-" + node.id} onClick={() => toggleExpanded(node.id)}>
            {open ? t("hide_inside", "▾ hide inside") : t("show_inside", "▸ show inside ({count})", { count: node.inner.length })}
          </button>
          {open && <ol className="inner-list nowheel">{node.inner.map((line, i) => <li key={i}>{line}</li>)}</ol>}
        </div>
      )}
      {Array.from({ length: slots.count }, (_, index) => {
        const isAdd = slots.add && index === slots.count - 1;
        const label = isAdd ? (node.input_count > 0 ? "+" : "") : node.ordered && node.input_count > 1 ? String(index + 1) : "";
        const style = lr ? { top: slotPosition(index, slots.count) } : { left: slotPosition(index, slots.count) };
        return (
          <Handle key={"in-" + index} id={"in-" + index} type="target" position={lr ? Position.Left : Position.Top}
            className={"slot" + (isAdd ? " add" : " filled")} style={style}
            data-testid={"target-handle-" + node.id + "-" + index}
            title={isAdd ? t("slot_add_title", "Drop a connection here to add input {number}", { number: node.input_count + 1 })
              : t("slot_title", "Input {number}: drop a connection here to replace it", { number: index + 1 })}>
            {label}
          </Handle>
        );
      })}
      {Array.from({ length: outputs }, (_, index) => {
        const style = lr ? { top: slotPosition(index, outputs) } : { left: slotPosition(index, outputs) };
        return (
          <Handle key={"out-" + index} id={"out-" + index} type="source" position={lr ? Position.Right : Position.Bottom}
            className="out" style={style} data-testid={"source-handle-" + node.id + "-" + index}
            title={outputs > 1
              ? t("out_title_many", "Output {index} ({label}): drag onto a node to connect, or onto empty space to add a layer",
                { index, label: node.output_labels[index] || "" })
              : t("out_title", "Drag onto a node to connect, or onto empty space to add a layer")} />
        );
      })}
    </div>
  );
}
