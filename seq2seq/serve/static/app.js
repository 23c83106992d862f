// The page over the API: pick a model, one input per line, see the n-best lists, scores and
// alignments. For a G2P model each line is split into words, and each word gets its phonemes.
// For a speech model the text box gives way to a file input: the file's bytes are posted to
// /v1/transcribe, and the transcript, its score and the n-best are shown.
"use strict";

const $ = (id) => document.getElementById(id);
let models = {};

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === "class") node.className = v;
    else node.setAttribute(k, v);
  }
  for (const child of children) node.append(child);
  return node;
}

function describe(m) {
  const parts = [`${m.type}${m.attention ? " + attention" : ""}`];
  if (m.task !== m.type) parts.push(m.task); // not "speech · speech"
  if (m.task === "speech") {
    parts.push(`${m.audio.sample_rate / 1000} kHz mono`, `vocabulary ${m.vocab.target}`);
  } else {
    parts.push(`vocabularies ${m.vocab.source} / ${m.vocab.target}`);
  }
  parts.push(m.precision);
  const shown = (k, v) => v.toFixed(/er$/.test(k) ? 3 : 2); // error rates: 3 decimals
  const dev = (m.metrics && m.metrics.dev) || {};
  for (const k of ["bleu", "chrf", "wer", "per", "asr_wer", "asr_cer"]) {
    if (typeof dev[`dev_${k}`] === "number") parts.push(`dev ${k} ${shown(k, dev[`dev_${k}`])}`);
  }
  const test = (m.metrics && m.metrics.test) || {};
  for (const [k, v] of Object.entries(test)) {
    if (typeof v === "number") parts.push(`test ${k} ${shown(k, v)}`);
  }
  return parts.join(" · ");
}

async function loadModels() {
  const answer = await fetch("/v1/models");
  const list = (await answer.json()).models;
  for (const m of list) {
    models[m.name] = m;
    $("model").append(el("option", { value: m.name }, m.name));
  }
  pick();
}

function pick() {
  const m = models[$("model").value];
  if (!m) return;
  $("model-info").textContent = describe(m);
  $("beam").value = m.decode.beam;
  $("nbest").value = Math.min(3, m.decode.beam);
  $("alignment-label").hidden = !m.attention;
  const speech = m.task === "speech";
  for (const id of ["inputs", "translate"]) $(id).hidden = speech;
  for (const id of ["audio-label", "transcribe", "ctc-label"]) $(id).hidden = !speech;
  if (speech) $("ctc").value = m.decode.ctc_weight;
}

function inputsOf(text, task) {
  // [{line, inputs: [...]}]: a G2P model reads words, so a line's words are separate inputs
  const lines = text.split("\n").map((s) => s.trim()).filter((s) => s);
  return lines.map((line) => ({ line, inputs: task === "g2p" ? line.split(/\s+/) : [line] }));
}

function heatmap(result, hyp) {
  const table = el("table", { class: "alignment" });
  const head = el("tr", {}, el("th"));
  for (const s of result.source_tokens) head.append(el("th", {}, s));
  table.append(head);
  hyp.alignment.forEach((row, i) => {
    const tr = el("tr", {}, el("th", {}, i < hyp.tokens.length ? hyp.tokens[i] : "</s>"));
    for (const w of row) {
      const td = el("td", { title: w.toFixed(3) });
      td.style.background = `rgba(37, 99, 235, ${w.toFixed(3)})`;
      tr.append(td);
    }
    table.append(tr);
  });
  return table;
}

function nbestList(result) {
  const list = el("ol", { class: "nbest" });
  for (const h of result.hypotheses) {
    const norm = h.norm_score === undefined ? "" : ` (norm ${h.norm_score.toFixed(3)})`;
    list.append(el("li", {}, el("span", { class: "hyp" }, h.text),
      el("span", { class: "score" }, `${h.score.toFixed(3)}${norm}`)));
  }
  return list;
}

function card(result, task) {
  const best = result.hypotheses[0];
  const out = el("div", { class: "card" },
    el("div", { class: "pair" }, el("span", { class: "input" }, result.input), " → ",
      el("span", { class: "output" }, best ? best.text : "")));
  if (task === "g2p" && best) {
    const chips = el("div", { class: "phonemes" });
    for (const p of best.tokens) chips.append(el("span", { class: "chip" }, p));
    out.append(chips);
  }
  if (result.unknown > 0) {
    out.append(el("p", { class: "warn" },
      `${Math.round(100 * result.unknown)}% of this input is unknown to the model: its output is a guess`));
  }
  out.append(nbestList(result));
  if (best && best.alignment) out.append(heatmap(result, best));
  return out;
}

function show(groups, answer, task) {
  const results = $("results");
  results.replaceChildren();
  let i = 0;
  for (const g of groups) {
    const section = el("article", { class: "line" });
    if (task === "g2p" && g.inputs.length > 1) section.append(el("h3", {}, g.line));
    for (const _ of g.inputs) section.append(card(answer.results[i++], task));
    results.append(section);
  }
}

function transcript(name, answer) {
  // one card: the file's name -> the best transcript, the audio's length, the n-best
  const best = answer.hypotheses[0];
  const out = el("div", { class: "card" },
    el("div", { class: "pair" }, el("span", { class: "input" }, name), " → ",
      el("span", { class: "output" }, answer.text)),
    el("p", { class: "meta muted" }, `${answer.seconds.toFixed(2)} s of audio` +
      (best ? ` · score ${best.score.toFixed(3)}` : "")),
    nbestList(answer));
  $("results").replaceChildren(el("article", { class: "line" }, out));
}

async function send(doing, url, init, shown) {
  // POST, then `shown(answer)` says what was done; an error from the API is shown, not lost
  $("error").hidden = true;
  $("status").textContent = `${doing}…`;
  const started = performance.now();
  try {
    const answer = await fetch(url, init);
    const data = await answer.json();
    if (!answer.ok) throw new Error(`${answer.status}: ${data.detail}`);
    $("status").textContent = `${shown(data)} in ${Math.round(performance.now() - started)} ms`;
  } catch (e) {
    $("status").textContent = "";
    $("error").textContent = e.message;
    $("error").hidden = false;
  }
}

function translate(m) {
  const groups = inputsOf($("inputs").value, m.task);
  if (!groups.length) return;
  const body = {
    model: m.name,
    inputs: groups.flatMap((g) => g.inputs),
    beam: Number($("beam").value),
    nbest: Number($("nbest").value),
    alignment: m.attention && $("alignment").checked,
  };
  return send("translating", "/v1/translate", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  }, (data) => {
    show(groups, data, m.task);
    return `${body.inputs.length}`;
  });
}

function transcribe(m) {
  const file = $("audio").files[0];
  if (!file) {
    $("error").textContent = "choose an audio file first";
    $("error").hidden = false;
    return;
  }
  const query = new URLSearchParams({
    model: m.name, beam: $("beam").value, nbest: $("nbest").value, ctc_weight: $("ctc").value,
  });
  return send("transcribing", `/v1/transcribe?${query}`, {
    method: "POST",
    headers: { "content-type": file.type || "application/octet-stream" },
    body: file,
  }, (data) => {
    transcript(file.name, data);
    return file.name;
  });
}

function submit(event) {
  event.preventDefault();
  const m = models[$("model").value];
  if (m) (m.task === "speech" ? transcribe : translate)(m);
}

$("model").addEventListener("change", pick);
$("form").addEventListener("submit", submit);
loadModels().catch((e) => {
  $("error").textContent = `could not list the models: ${e.message}`;
  $("error").hidden = false;
});
