// Parameter values as the node shows them (text) and as the intent carries them (JSON), by the catalogue's kinds.
import { label } from "./labels.js";

export function formatValue(value) {
  if (value === null || value === undefined) return "";
  if (Array.isArray(value)) return value.map((item) => (item === null ? "None" : formatValue(item))).join(", ");
  if (typeof value === "object") return JSON.stringify(value);
  return String(value);
}

function number(text, integer) {
  const trimmed = text.trim();
  if (/^(none|null)$/i.test(trimmed)) return null;
  const value = Number(trimmed);
  if (trimmed === "" || !Number.isFinite(value) || (integer && !Number.isInteger(value))) return undefined;
  return value;
}

function list(text, integer) {
  const parts = text.replace(/[()[\]]/g, "").split(",").map((part) => part.trim()).filter((part) => part !== "");
  const values = parts.map((part) => number(part, integer));
  return values.some((value) => value === undefined) ? undefined : values;
}

export function parseValue(kind, text, required, labels) {
  const trimmed = text.trim();
  if (trimmed === "") return required ? { error: label(labels, "value_needed", "A value is needed here.") } : { value: null };
  if (kind === "int" || kind === "optional_int") {
    const value = number(trimmed, true);
    return value === undefined ? { error: label(labels, "expect_int", "Expected a whole number such as 64. Received: {text}", { text: trimmed }) } : { value };
  }
  if (kind === "float") {
    const value = number(trimmed, false);
    return value === undefined ? { error: label(labels, "expect_float", "Expected a number such as 0.5. Received: {text}", { text: trimmed }) } : { value };
  }
  if (kind === "shape") {
    const value = list(trimmed, true);
    return value === undefined ? {
      error: label(labels, "expect_shape", "Expected a shape such as 28, 28, 1 (None for any size). Received: {text}", { text: trimmed }),
    } : { value };
  }
  if (kind === "int_or_tuple") {
    const value = list(trimmed, true);
    if (value === undefined) return {
      error: label(labels, "expect_int_or_tuple", "Expected a number or numbers such as 3 or 3, 3. Received: {text}", { text: trimmed }),
    };
    return { value: value.length === 1 && !trimmed.includes(",") ? value[0] : value };
  }
  try {
    return { value: JSON.parse(trimmed) };
  } catch (error) {
    return { value: trimmed };
  }
}
