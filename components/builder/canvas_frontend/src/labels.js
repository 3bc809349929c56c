// The canvas's texts come from Python in the session's language (the `labels` argument, translated with gettext in
// components/builder/canvas.py); the English here is only the fallback when a label is missing.
import React from "react";

const PLACEHOLDER = /\{([A-Za-z_][A-Za-z0-9_]*)\}/g;

function template(labels, key, fallback) {
  const value = labels && typeof labels[key] === "string" ? labels[key] : null;
  return value || fallback;
}

// The label as text, its {placeholders} filled from `values`.
export function label(labels, key, fallback, values) {
  return template(labels, key, fallback).replace(PLACEHOLDER, (whole, name) =>
    values && values[name] !== undefined && values[name] !== null ? String(values[name]) : whole);
}

// The label as React children: a placeholder may be an element (a bold word inside a translated sentence).
export function labelParts(labels, key, fallback, values) {
  const text = template(labels, key, fallback);
  const parts = [];
  let last = 0;
  text.replace(PLACEHOLDER, (whole, name, offset) => {
    if (offset > last) parts.push(text.slice(last, offset));
    const value = values ? values[name] : undefined;
    parts.push(value === undefined || value === null ? whole : React.isValidElement(value)
      ? React.cloneElement(value, { key: "p" + offset }) : String(value));
    last = offset + whole.length;
    return whole;
  });
  if (last < text.length) parts.push(text.slice(last));
  return parts;
}
