// The layer palette beside the canvas: the catalogue's groups (the tutorial's favourites first), searchable.
// Press on an item and drag it onto the canvas (a new node), onto a node (its new consumer) or onto an edge
// (inserted there); a plain click adds it after the selected node.
import React, { useState } from "react";
import { label, labelParts } from "./labels.js";

export function itemKey(item) {
  return item.preset ? "model-" + item.preset : item.type;
}

export function matches(item, query) {
  const words = query.toLowerCase().split(/\s+/).filter(Boolean);
  return words.every((word) => item.search.includes(word));
}

export function Palette({ groups, onPress, collapsed, setCollapsed, labels }) {
  const [query, setQuery] = useState("");
  const t = (key, fallback, values) => label(labels, key, fallback, values);
  if (collapsed) {
    return (
      <div className="palette collapsed">
        <button type="button" data-testid="palette-open" title={t("palette_show", "Show the layer palette")} onClick={() => setCollapsed(false)}>▸</button>
      </div>
    );
  }
  const seen = new Set(); // an item listed twice (a favourite and in its group) is "palette-X" the first time
  const testId = (group, item) => {
    const key = itemKey(item);
    if (seen.has(key)) return "palette-" + group + "-" + key;
    seen.add(key);
    return "palette-" + key;
  };
  const shown = groups
    .map((group) => ({ ...group, items: group.items.filter((item) => !query || matches(item, query)) }))
    .filter((group) => group.items.length && (query ? group.group !== "Favourites" : true));
  return (
    <div className="palette" data-testid="palette">
      <div className="palette-head">
        <input className="search" data-testid="palette-search" placeholder={t("search", "Search layers…")} value={query}
          onChange={(event) => setQuery(event.target.value)} onKeyDown={(event) => event.stopPropagation()} />
        <button type="button" title={t("palette_hide", "Hide the palette")} onClick={() => setCollapsed(true)}>◂</button>
      </div>
      <div className="palette-body">
        {shown.length === 0 && <div className="empty">{t("no_match", "No layer type matches “{query}”.", { query })}</div>}
        {shown.map((group) => (
          <details key={group.group} open={Boolean(query) || group.group === "Favourites"} className="group">
            <summary>{group.label || group.group}</summary>
            {group.items.map((item) => (
              <div key={itemKey(item)} className="palette-item" data-testid={testId(group.group, item)} title={item.summary}
                onPointerDown={(event) => onPress(event, item)}>
                {item.label}
              </div>
            ))}
          </details>
        ))}
      </div>
      <div className="palette-tip">{t("palette_tip", "Drag onto the canvas, a node or an edge")}</div>
    </div>
  );
}

export function TypePicker({ picker, groups, layers, onPick, onClose, labels }) {
  // After dragging an output onto empty space: which layer takes it? A new one, or another call of a layer.
  const [query, setQuery] = useState("");
  const t = (key, fallback, values) => label(labels, key, fallback, values);
  const items = [];
  const seen = new Set();
  for (const group of groups) {
    for (const item of group.items) {
      const key = itemKey(item);
      if (seen.has(key) || item.type === "Input" || (query && !matches(item, query))) continue;
      seen.add(key);
      items.push(item);
    }
  }
  const shared = layers.filter((layer) => !query || layer.id.toLowerCase().includes(query.toLowerCase()));
  return (
    <div className="picker nowheel" data-testid="type-picker" style={{ left: picker.x, top: picker.y }}
      onPointerDown={(event) => event.stopPropagation()}>
      <div className="picker-head">
        <span>{labelParts(labels, "picker_title", "New consumer of {ref}", { ref: <b>{picker.sourceRef}</b> })}</span>
        <button type="button" onClick={onClose} title={t("close", "Close (Esc)")}>×</button>
      </div>
      <input autoFocus className="search" data-testid="picker-search" placeholder={t("search", "Search layers…")} value={query}
        onChange={(event) => setQuery(event.target.value)}
        onKeyDown={(event) => {
          event.stopPropagation();
          if (event.key === "Escape") onClose();
          if (event.key === "Enter" && items.length) onPick({ item: items[0] });
        }} />
      <div className="picker-list">
        {shared.length > 0 && <div className="picker-group">{t("picker_shared", "Call a layer again (shared weights)")}</div>}
        {shared.map((layer) => (
          <div key={"share-" + layer.id} className="picker-item shared" data-testid={"picker-share-" + layer.id}
            onClick={() => onPick({ share: layer.node })}>{layer.id} <small>{layer.type}</small></div>
        ))}
        <div className="picker-group">{t("picker_new", "New layer")}</div>
        {items.map((item) => (
          <div key={itemKey(item)} className="picker-item" data-testid={"picker-" + itemKey(item)} title={item.summary}
            onClick={() => onPick({ item })}>{item.label}</div>
        ))}
      </div>
    </div>
  );
}
