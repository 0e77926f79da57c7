// numpynn serve: draw a digit (or upload an image), see the class probabilities and the
// 28 x 28 input the model received. Plain JavaScript, no build step.
"use strict";

const DEBOUNCE_MS = 120;   // predict this long after the last stroke movement...
const MAX_WAIT_MS = 350;   // ...but at least this often while drawing continues
const BRUSH = 0.075;       // stroke width as a fraction of the canvas side

const $ = (id) => document.getElementById(id);
const canvas = $("canvas");
const ctx = canvas.getContext("2d");
const preview = $("preview");
const previewCtx = preview.getContext("2d");

let model = null;
let side = 0;               // the canvas side in drawing units (CSS pixels when it was reset)
let hasInk = false;
let drawing = null;        // the pointer id of the stroke in progress
let last = null;           // its last point
let timer = null;
let firstChange = 0;       // when the changes not yet sent began
let inFlight = false;
let dirty = false;         // the canvas changed while a request was in flight
let generation = 0;        // bumped by "clear": answers to older requests are dropped

// ---- the model ----------------------------------------------------------------------------

async function loadModel() {
  const response = await fetch("/api/model");
  model = await response.json();
  const accuracy = model.test_accuracy == null
    ? "test accuracy unknown"
    : `test accuracy ${(100 * model.test_accuracy).toFixed(2)}%`;
  const dataset = model.dataset ? ` &middot; ${escapeHtml(model.dataset)}` : "";
  $("model-line").innerHTML = `<b>${escapeHtml(model.name)}</b>${dataset} &middot; ${accuracy}`;
  // Each layer a span that does not wrap, with the arrow that leads to it: a wrapped line
  // breaks between layers only, and starts with the arrow ("-> ReLU"), never ends with it.
  const architecture = $("architecture");
  architecture.replaceChildren();
  model.architecture.split(" -> ").forEach((layer, k) => {
    const span = document.createElement("span");
    span.textContent = k ? `\u2192 ${layer}` : layer;
    architecture.append(k ? " " : "", span);
  });
  const [height, width] = model.input_shape;
  preview.width = width;
  preview.height = height;
  const size = `${height}\u00d7${width}`;
  const box = height === 28 && width === 28 ? 20 : Math.min(height, width); // MNIST's 20 of 28
  $("preview-note").textContent = `The ${size} input, after the same preprocessing as MNIST: ` +
    `greyscale, light ink on black, cropped, scaled to ${box}\u00d7${box} and centred by its ` +
    "centre of mass.";
  buildBars(model.classes);
  if (model.input_mode === "upload") {
    $("input-title").textContent = "Upload an image";
    $("draw").hidden = true;
    $("clear").hidden = true;
    $("upload").hidden = false;
    $("upload-button").hidden = false;
    $("preview-note").textContent = `The ${size} input, framed as Fashion-MNIST's items: ` +
      "greyscale, light on black, trimmed to the item, its longer side filling the frame, " +
      "centred.";
  }
  document.body.dataset.ready = "true";
}

function buildBars(classes) {
  const bars = $("bars");
  bars.replaceChildren();
  for (const label of classes) {
    const li = document.createElement("li");
    li.dataset.class = label;
    li.dataset.probability = "0";
    li.innerHTML = '<span class="label"></span><span class="track"><span class="fill"></span></span>'
      + '<span class="value"></span>';
    li.querySelector(".label").textContent = label;
    li.title = label;
    bars.append(li);
  }
}

// ---- drawing --------------------------------------------------------------------------------

function resetCanvas() {
  side = canvas.clientWidth;
  const scale = window.devicePixelRatio || 1;
  canvas.width = Math.round(side * scale);
  canvas.height = Math.round(side * scale);
  ctx.setTransform(scale, 0, 0, scale, 0, 0);
  ctx.fillStyle = "#000";
  ctx.fillRect(0, 0, side, side);
  ctx.strokeStyle = "#fff";
  ctx.fillStyle = "#fff";
  ctx.lineWidth = Math.max(2, BRUSH * side);
  ctx.lineCap = "round";
  ctx.lineJoin = "round";
  hasInk = false;
}

function point(event) {
  const box = canvas.getBoundingClientRect();  // the page may have been resized since
  return { x: (event.clientX - box.left) * side / box.width, y: (event.clientY - box.top) * side / box.height };
}

canvas.addEventListener("pointerdown", (event) => {
  if (drawing !== null) return;
  event.preventDefault();
  canvas.setPointerCapture(event.pointerId);
  drawing = event.pointerId;
  last = point(event);
  ctx.beginPath();
  ctx.arc(last.x, last.y, ctx.lineWidth / 2, 0, 2 * Math.PI);
  ctx.fill();
  changed();
});

canvas.addEventListener("pointermove", (event) => {
  if (event.pointerId !== drawing) return;
  const events = event.getCoalescedEvents ? event.getCoalescedEvents() : [event];
  ctx.beginPath();
  ctx.moveTo(last.x, last.y);
  for (const e of events.length ? events : [event]) {
    last = point(e);
    ctx.lineTo(last.x, last.y);
  }
  ctx.stroke();
  changed();
});

for (const type of ["pointerup", "pointercancel"]) {
  canvas.addEventListener(type, (event) => {
    if (event.pointerId !== drawing) return;
    drawing = null;
    schedule(0);
  });
}

function changed() {
  hasInk = true;
  if (timer === null) firstChange = performance.now();
  const waited = performance.now() - firstChange;
  schedule(waited >= MAX_WAIT_MS ? 0 : DEBOUNCE_MS);
}

function schedule(delay) {
  clearTimeout(timer);
  timer = setTimeout(() => { timer = null; sendCanvas(); }, delay);
}

function sendCanvas() {
  if (!hasInk) return;
  if (inFlight) { dirty = true; return; }
  canvas.toBlob((blob) => predict(blob, "image/png"), "image/png");
}

$("clear").addEventListener("click", () => {
  clearTimeout(timer);
  timer = null;
  generation += 1;
  dirty = false;
  resetCanvas();
  showNothing("");
});

// ---- upload (Fashion-MNIST models) ---------------------------------------------------------

const UPLOAD_SIDE = 560;     // uploads are scaled down to this side first: a phone photo is
                            // megabytes, the model sees 28 x 28

$("file").addEventListener("change", async () => {
  const file = $("file").files[0];
  if (!file) return;
  const image = $("upload-image");
  if (image.src) URL.revokeObjectURL(image.src);
  image.src = URL.createObjectURL(file);
  $("upload-hint").hidden = true;
  let bitmap;
  try {
    bitmap = await createImageBitmap(file);
  } catch (error) {
    showNothing("");
    setStatus(`cannot read ${file.name} as an image`, true);
    return;
  }
  const scale = Math.min(1, UPLOAD_SIDE / Math.max(bitmap.width, bitmap.height));
  const small = document.createElement("canvas");
  small.width = Math.max(1, Math.round(bitmap.width * scale));
  small.height = Math.max(1, Math.round(bitmap.height * scale));
  const smallCtx = small.getContext("2d");
  smallCtx.fillStyle = "#fff";  // transparent pixels count as white paper, as on the server
  smallCtx.fillRect(0, 0, small.width, small.height);
  smallCtx.drawImage(bitmap, 0, 0, small.width, small.height);
  small.toBlob((blob) => predict(blob, "image/png"), "image/png");
});

// ---- prediction -------------------------------------------------------------------------------

async function predict(body, type) {
  const mine = generation;
  inFlight = true;
  setStatus("reading\u2026");
  try {
    const response = await fetch("/api/predict", {
      method: "POST", headers: { "content-type": type }, body,
    });
    const answer = await response.json();
    if (mine !== generation) return;
    if (response.ok) {
      showAnswer(answer);
      setStatus("");
    } else if (response.status === 422 && answer.error.startsWith("no digit found")) {
      showNothing("no digit found");
    } else if (response.status === 503 && model.input_mode === "draw") {
      setStatus("the server is busy; trying again\u2026");
      dirty = true;  // sent again when this request is over...
      await new Promise((resolve) => setTimeout(resolve, 1000));  // ...after Retry-After
    } else {
      setStatus(answer.error || `error ${response.status}`, true);
    }
  } catch (error) {
    if (mine === generation) setStatus(`the server did not answer (${error.message})`, true);
  } finally {
    inFlight = false;
    if (dirty) { dirty = false; sendCanvas(); }
  }
}

function showAnswer(answer) {
  const prediction = $("prediction");
  prediction.textContent = answer.label;
  prediction.className = answer.label.length > 2 ? "long" : "";
  $("confidence").textContent = `${(100 * answer.probability).toFixed(1)}% sure`;
  document.querySelectorAll("#bars li").forEach((li, k) => {
    const p = answer.probabilities[k];
    li.dataset.probability = String(p);
    li.classList.toggle("top", k === answer.class);
    li.querySelector(".fill").style.width = `${(100 * p).toFixed(2)}%`;
    li.querySelector(".value").textContent = `${(100 * p).toFixed(1)}%`;
  });
  if (answer.input) drawPreview(answer.input);
  document.body.dataset.predictions = String(Number(document.body.dataset.predictions || 0) + 1);
}

function showNothing(message) {
  const prediction = $("prediction");
  prediction.textContent = message || "\u2013";
  prediction.className = message ? "none" : "";
  $("confidence").textContent = "";
  document.querySelectorAll("#bars li").forEach((li) => {
    li.dataset.probability = "0";
    li.classList.remove("top");
    li.querySelector(".fill").style.width = "0";
    li.querySelector(".value").textContent = "";
  });
  previewCtx.fillStyle = "#000";
  previewCtx.fillRect(0, 0, preview.width, preview.height);
  setStatus("");
}

function drawPreview(rows) {
  const image = previewCtx.createImageData(preview.width, preview.height);
  rows.forEach((row, i) => row.forEach((v, j) => {
    const k = 4 * (i * preview.width + j);
    image.data[k] = image.data[k + 1] = image.data[k + 2] = Math.round(255 * v);
    image.data[k + 3] = 255;
  }));
  previewCtx.putImageData(image, 0, 0);
}

function setStatus(text, error = false) {
  const status = $("status");
  status.textContent = text;
  status.classList.toggle("error", error);
}

function escapeHtml(text) {
  return String(text).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

resetCanvas();
showNothing("");
loadModel().catch((error) => setStatus(`cannot load the model (${error.message})`, true));
