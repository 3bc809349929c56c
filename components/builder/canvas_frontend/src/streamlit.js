// The Streamlit component protocol (components v1), without the streamlit-component-lib package:
// the page sends "streamlit:render" with the arguments; the component answers with its value and height.

export function post(type, data) {
  window.parent.postMessage({ isStreamlitMessage: true, type, ...(data || {}) }, "*");
}

export function onRender(callback) {
  window.addEventListener("message", (event) => {
    const data = event.data;
    if (data && data.type === "streamlit:render") callback(data.args || {}, data.theme || null);
  });
  post("streamlit:componentReady", { apiVersion: 1 });
}

export function setValue(value) {
  post("streamlit:setComponentValue", { value, dataType: "json" });
}

export function setFrameHeight(height) {
  post("streamlit:setFrameHeight", { height });
}

// Events reach Python one at a time: the next is sent once Python has acknowledged the previous one (its id comes
// back as the `ack` argument), so a quick second edit never replaces the first before the script has seen it.
const queue = [];
let waitingFor = null;
let waitingSince = 0;
let counter = 0;

function sendNext() {
  if (waitingFor && Date.now() - waitingSince < 8000) return;
  const next = queue.shift();
  if (!next) { waitingFor = null; return; }
  waitingFor = next.id;
  waitingSince = Date.now();
  setValue(next);
}

export function emit(change) {
  counter += 1;
  const id = Date.now().toString(36) + "-" + counter + "-" + Math.random().toString(36).slice(2, 7);
  const last = queue[queue.length - 1];
  if (last && last.change.kind === "move" && change.kind === "move") {
    last.change = { kind: "move", positions: { ...last.change.positions, ...change.positions } };
  } else {
    queue.push({ id, change });
  }
  sendNext();
  return id;
}

export function acknowledge(ack) {
  if (waitingFor && ack === waitingFor) waitingFor = null;
  sendNext();
}

export function busy() {
  return Boolean(waitingFor) || queue.length > 0;
}
