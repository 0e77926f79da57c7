// numpynn serve, a language model: type a beginning, watch the model continue it (the text
// streamed as it is written), or draw new names. Plain JavaScript, no build step.
"use strict";

const NAMES = 20;  // names drawn by "New names"

const $ = (id) => document.getElementById(id);
let model = null;
let writing = null;  // the AbortController of the text being written
let written = 0;     // texts finished (for the tests: body[data-written])

// ---- the model ----------------------------------------------------------------------------

async function loadModel() {
  const response = await fetch("/api/model");
  model = await response.json();
  const dataset = model.dataset ? ` &middot; ${escapeHtml(model.dataset)}` : "";
  $("model-line").innerHTML = `<b>${escapeHtml(model.name)}</b>${dataset} &middot; ` +
    `${model.n_parameters.toLocaleString("en")} parameters`;
  describe(model);
  $("length").max = model.limits.max_length;
  $("top-k").max = model.vocabulary_size;
  $("names-panel").hidden = model.boundary === null;
  $("write").disabled = false;
  document.body.dataset.ready = "true";
}

function describe(model) {
  const facts = [
    ["Dataset", model.dataset || "not recorded"],
    ["Parameters", model.n_parameters.toLocaleString("en")],
    ["Vocabulary", `${model.vocabulary_size} characters`],
    ["Block", model.block === null ? "the whole prompt (recurrent)" : `${model.block} characters`],
    ["Layers", String(model.layers.length)],
  ];
  const dl = $("facts");
  dl.replaceChildren();
  for (const [term, value] of facts) {
    const dt = document.createElement("dt");
    const dd = document.createElement("dd");
    dt.textContent = term;
    dd.textContent = value;
    dl.append(dt, dd);
  }
  $("facts").title = `the vocabulary: ${JSON.stringify(model.vocabulary)}`;
  const layers = $("layers");
  layers.replaceChildren();
  for (const { type, ...config } of model.layers) {
    const li = document.createElement("li");
    const name = document.createElement("b");
    name.textContent = type;
    const settings = Object.entries(config).map(([key, value]) => `${key} ${value}`).join(", ");
    li.append(name, settings ? ` ${settings}` : "");
    layers.append(li);
  }
}

// ---- writing --------------------------------------------------------------------------------

function settings() {
  const body = { temperature: Number($("temperature").value) };
  const optional = { length: "length", top_k: "top-k", seed: "seed" };
  for (const [field, id] of Object.entries(optional)) {
    const text = $(id).value.trim();
    if (text !== "") body[field] = Number(text);
  }
  return body;
}

async function write() {
  if (writing) return;
  const prompt = $("prompt").value;
  const controller = new AbortController();
  writing = controller;
  setWriting(true);
  const output = $("output-text");
  $("output-prompt").textContent = prompt;
  output.textContent = "";
  setStatus("writing\u2026");
  let seed = "";
  let chunks = 0;
  document.body.dataset.chunks = "0";
  try {
    const response = await fetch("/api/generate", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ prompt, ...settings(), stream: true }),
      signal: controller.signal,
    });
    if (!response.ok) {
      const answer = await response.json().catch(() => ({}));
      $("output-prompt").textContent = "";
      setStatus(answer.error || `error ${response.status}`, true);
      return;
    }
    seed = response.headers.get("X-Seed") || "";
    const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      output.textContent += value;
      chunks += 1;
      document.body.dataset.chunks = String(chunks);
      const box = $("output");
      box.scrollTop = box.scrollHeight;
      setStatus(`writing\u2026 ${output.textContent.length} characters`);
    }
    setStatus(`${output.textContent.length} characters \u00b7 seed ${seed}`);
  } catch (error) {
    if (error.name === "AbortError") {
      setStatus(`stopped after ${output.textContent.length} characters \u00b7 seed ${seed}`);
    } else {
      setStatus(`the server did not answer (${error.message})`, true);
    }
  } finally {
    writing = null;
    setWriting(false);
    written += 1;
    document.body.dataset.written = String(written);
  }
}

function setWriting(on) {
  $("write").disabled = on;
  $("stop").disabled = !on;
  $("output").classList.toggle("writing", on);
  document.body.dataset.writing = String(on);
}

// ---- names --------------------------------------------------------------------------------

async function newNames() {
  const button = $("new-names");
  button.disabled = true;
  try {
    const { temperature, top_k, seed } = settings();
    const response = await fetch("/api/words", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ count: NAMES, prefix: $("prefix").value, temperature, top_k, seed }),
    });
    const answer = await response.json();
    if (!response.ok) {
      setStatus(answer.error || `error ${response.status}`, true);
      return;
    }
    const list = $("names");
    list.replaceChildren();
    for (const word of answer.words) {
      const li = document.createElement("li");
      li.textContent = word || "(empty)";
      list.append(li);
    }
  } catch (error) {
    setStatus(`the server did not answer (${error.message})`, true);
  } finally {
    button.disabled = false;
  }
}

// ---- the page -------------------------------------------------------------------------------

function setStatus(text, error = false) {
  const status = $("status");
  status.textContent = text;
  status.classList.toggle("error", error);
}

function escapeHtml(text) {
  const span = document.createElement("span");
  span.textContent = text;
  return span.innerHTML;
}

$("write").addEventListener("click", write);
$("stop").addEventListener("click", () => writing && writing.abort());
$("new-names").addEventListener("click", newNames);
$("prompt").addEventListener("keydown", (event) => {
  if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
    event.preventDefault();
    write();
  }
});
$("temperature").addEventListener("input", () => {
  $("temperature-value").textContent = Number($("temperature").value).toFixed(2);
});
$("temperature-value").textContent = Number($("temperature").value).toFixed(2);

loadModel().catch((error) => setStatus(`cannot load the model (${error.message})`, true));
