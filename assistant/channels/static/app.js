// Chat page of the Arbeidsmarkt-assistent: asks /api/chat/stream, renders answers with
// citation buttons, shows cited passages, sends feedback. Plain JS, no dependencies.
"use strict";

const REASONS = {
  prediction: "Geen eigen voorspellingen",
  no_evidence: "Niet gevonden in de bronnen",
  out_of_scope: "Buiten het onderwerp van de bronnen",
  invalid_question: "Vraag niet te verwerken",
};
const GENERIC_ERROR = "Er ging iets mis in de assistent. Probeer het later opnieuw of neem contact op met de beheerder.";

const state = { conversationId: null, busy: false };

class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

function headers(json = true) {
  const h = {};
  if (json) h["Content-Type"] = "application/json";
  const key = sessionStorage.getItem("assistantApiKey");
  if (key) h["Authorization"] = "Bearer " + key;
  return h;
}

async function failure(res) {
  let body = null;
  try { body = await res.json(); } catch (_) { /* not JSON */ }
  const err = (body && body.error) || {};
  return new ApiError(res.status, err.code || "http_" + res.status, err.message || GENERIC_ERROR);
}

async function getJson(url) {
  const res = await fetch(url, { headers: headers(false) });
  if (!res.ok) throw await failure(res);
  return res.json();
}

async function postJson(url, payload) {
  const res = await fetch(url, { method: "POST", headers: headers(), body: JSON.stringify(payload) });
  if (!res.ok) throw await failure(res);
  return res.json();
}

// ------------------------------------------------------------------ rendering

function pageLabel(page) {
  return /^\d/.test(page) ? "p. " + page : page;
}

const MONTHS = ["januari", "februari", "maart", "april", "mei", "juni", "juli", "augustus", "september",
  "oktober", "november", "december"];

// How old the cited figure is: publication date and the period it is for.
function sourceAge(c) {
  const parts = [];
  if (c.published) {
    const [y, m, d] = c.published.split("-").map(Number);
    parts.push(`gepubliceerd ${d} ${MONTHS[m - 1]} ${y}`);
  }
  if (c.period) parts.push(`cijfer over ${c.period}`);
  return parts.join(", ");
}

function citationLabel(c) {
  const age = sourceAge(c);
  return `${c.title} (${c.publisher}${age ? ", " + age : ""}), ${pageLabel(c.page)}`;
}

function citeButton(c) {
  return el("button", {
    type: "button", class: "cite", "data-n": c.n, "data-chunk": c.chunk_id,
    "aria-label": `Bron ${c.n}: ${citationLabel(c)}. Toon de passage.`,
    onclick: (e) => openPassage(c, e.currentTarget),
  }, `[${c.n}]`);
}

// Answer text with every [n] turned into a button that opens citation n.
function answerNodes(text, citations) {
  const byN = new Map(citations.map((c) => [c.n, c]));
  const nodes = [];
  let last = 0;
  for (const m of text.matchAll(/\[(\d+)\]/g)) {
    const c = byN.get(Number(m[1]));
    if (!c) continue;
    nodes.push(text.slice(last, m.index), citeButton(c));
    last = m.index + m[0].length;
  }
  nodes.push(text.slice(last));
  return nodes;
}

function addTurn(question) {
  const bot = el("article", { class: "msg bot", "aria-busy": "true" },
    el("p", { class: "who", text: "Assistent" }),
    el("p", { class: "answer-text", text: "…" }));
  const turn = el("li", { class: "turn" },
    el("div", { class: "msg user" }, el("p", { class: "who", text: "Jij" }), el("p", { text: question })),
    bot);
  $("conversation").append(turn);
  turn.scrollIntoView({ block: "end" });
  return bot;
}

function renderAnswer(bot, answer) {
  bot.removeAttribute("aria-busy");
  bot.replaceChildren();
  bot.dataset.answerId = answer.answer_id;
  if (answer.refused) {
    bot.classList.add("refusal");
    bot.dataset.reason = answer.refusal_reason || "";
    bot.append(
      el("p", { class: "who", text: "Assistent — geen antwoord" }),
      el("p", { class: "badge refusal-reason", text: "Reden: " + (REASONS[answer.refusal_reason] || answer.refusal_reason) }),
    );
  } else {
    bot.append(el("p", { class: "who", text: "Assistent" }));
  }
  bot.append(el("p", { class: "answer-text" }, answerNodes(answer.answer, answer.citations)));
  if (answer.citations.length) {
    bot.append(el("p", { class: "visually-hidden", text: "Bronnen" }), el("ol", { class: "sources", "aria-label": "Bronnen" },
      answer.citations.map((c) => el("li", {}, citeButton(c), " " + citationLabel(c) + (c.section ? " — " + c.section : "")))));
  }
  bot.append(actions(answer));
}

function renderError(bot, message) {
  bot.removeAttribute("aria-busy");
  bot.classList.add("error");
  bot.replaceChildren(el("p", { class: "who", text: "Melding" }), el("p", { class: "error-text", text: message }));
}

function actions(answer) {
  const status = el("p", { class: "feedback-status", role: "status" });
  const note = el("textarea", { "aria-label": "Toelichting voor het contentteam", maxlength: "2000" });
  const noteLabel = el("label", {});
  const sendNote = el("button", { type: "submit", text: "Verstuur feedback" });
  const form = el("form", { class: "feedback-note", hidden: true }, noteLabel, note, sendNote);
  let rating = null;
  const buttons = [];
  const rate = (value, label, prompt) => {
    const b = el("button", { type: "button", class: "secondary", "data-rating": value, "aria-pressed": "false", text: label,
      onclick: () => {
        rating = value;
        buttons.forEach((x) => x.setAttribute("aria-pressed", String(x === b)));
        if (!prompt) return submit("");
        noteLabel.textContent = prompt;
        form.hidden = false;
        note.focus();
      } });
    buttons.push(b);
    return b;
  };
  const submit = async (text) => {
    status.textContent = "Feedback versturen…";
    try {
      await postJson(`/api/answers/${encodeURIComponent(answer.answer_id)}/feedback`, { rating, note: text });
      status.textContent = "Bedankt, je feedback is opgeslagen voor het contentteam.";
      form.hidden = true;
      buttons.forEach((x) => { x.disabled = true; });
    } catch (err) {
      status.textContent = err.message;
    }
  };
  form.addEventListener("submit", (e) => { e.preventDefault(); submit(note.value.trim()); });
  const copy = el("button", { type: "button", class: "secondary copy", text: answer.citations.length ? "Kopieer met bronnen" : "Kopieer antwoord", onclick: () => copyAnswer(answer, status) });
  return el("div", {},
    el("div", { class: "actions" },
      copy,
      el("span", { class: "label", text: "Was dit nuttig?" }),
      rate("helpful", "Nuttig", null),
      rate("not_helpful", "Niet nuttig", "Wat klopt er niet of ontbreekt er? (optioneel)"),
      rate("missing_source", "Bron ontbreekt", "Welke bron of informatie ontbreekt?")),
    form, status);
}

function plainText(answer) {
  const lines = [answer.answer];
  if (answer.citations.length) {
    lines.push("", "Bronnen:");
    for (const c of answer.citations) {
      lines.push(`[${c.n}] ${c.title} (${c.publisher}), ${pageLabel(c.page)}${c.section ? ", " + c.section : ""}`);
      lines.push(`    "${c.quote}"`);
      if (c.url) lines.push("    " + c.url);
    }
  }
  return lines.join("\n");
}

async function copyAnswer(answer, status) {
  const text = plainText(answer);
  try {
    await navigator.clipboard.writeText(text);
  } catch (_) { // no clipboard permission: fall back to a selection copy
    const area = el("textarea", { class: "visually-hidden" });
    area.value = text;
    document.body.append(area);
    area.select();
    document.execCommand("copy");
    area.remove();
  }
  status.textContent = "Antwoord met bronnen gekopieerd.";
}

// ------------------------------------------------------------------ passage dialog

async function openPassage(citation, opener) {
  const dialog = $("passage-dialog");
  const body = $("passage-body");
  $("passage-title").textContent = citation.title;
  $("passage-meta").textContent = `${citation.publisher} · ${pageLabel(citation.page)}${citation.section ? " · " + citation.section : ""}`;
  const link = $("passage-link");
  link.href = citation.url || "#";
  link.hidden = !citation.url;
  body.replaceChildren(el("p", { text: "Passage laden…" }));
  dialog.dataset.chunk = citation.chunk_id;
  dialog.returnFocusTo = opener;
  if (!dialog.open) dialog.showModal();
  $("passage-close").focus();
  try {
    const p = await getJson(`/api/passages/${encodeURIComponent(citation.chunk_id)}?quote=${encodeURIComponent(citation.quote)}`);
    $("passage-meta").textContent =
      `${p.source.publisher} · ${/^\d/.test(p.page) ? "pagina " + p.page : p.page} · ${p.section}` +
      (p.source.published ? ` · gepubliceerd ${p.source.published}` : "");
    const cited = el("p", { class: "cited" });
    if (p.highlight) {
      cited.append(p.text.slice(0, p.highlight.start), el("mark", { text: p.text.slice(p.highlight.start, p.highlight.end) }), p.text.slice(p.highlight.end));
    } else {
      cited.append(p.text);
    }
    body.replaceChildren(
      ...p.before.map((n) => el("p", { class: "context", text: n.text })),
      cited,
      ...p.after.map((n) => el("p", { class: "context", text: n.text })),
    );
    if (!p.highlight) body.prepend(el("blockquote", {}, el("mark", { text: citation.quote })));
    cited.scrollIntoView({ block: "nearest" });
  } catch (err) {
    body.replaceChildren(el("p", { class: "error-text", text: err.message }), el("blockquote", {}, el("mark", { text: citation.quote })));
  }
}

function closePassage() {
  const dialog = $("passage-dialog");
  dialog.close();
}

// ------------------------------------------------------------------ asking

async function ask(question) {
  const bot = addTurn(question);
  const textNode = bot.querySelector(".answer-text");
  let text = "";
  let citations = [];
  let res;
  try {
    res = await fetch("/api/chat/stream", {
      method: "POST", headers: headers(),
      body: JSON.stringify({ question, conversation_id: state.conversationId }),
    });
  } catch (err) {
    renderError(bot, "Geen verbinding met de assistent. Controleer je netwerk en probeer het opnieuw.");
    throw err;
  }
  if (!res.ok) {
    const err = await failure(res);
    if (err.status === 404 && err.code === "conversation_not_found") state.conversationId = null;
    renderError(bot, err.message);
    throw err;
  }
  let finished = false;
  let draft = "";
  let failed = "";
  await readEvents(res, (name, data) => {
    if (name === "draft") {
      // the model's text as it writes: provisional, replaced by the verified answer that follows
      draft += data.text;
      textNode.classList.add("draft");
      textNode.title = "Wordt nog gecontroleerd tegen de bronnen";
      textNode.textContent = draft;
    } else if (name === "answer") {
      if (textNode.classList.contains("draft")) {
        textNode.classList.remove("draft");
        textNode.removeAttribute("title");
      }
      text += data.text;
      textNode.textContent = text;
    } else if (name === "error") {
      failed = data.message;
    } else if (name === "citations") {
      citations = data;
    } else if (name === "done") {
      finished = true;
      state.conversationId = data.conversation_id;
      renderAnswer(bot, { ...data, answer: text, citations });
    }
  }).catch(() => {});
  if (failed) {
    renderError(bot, failed);
    throw new ApiError(500, "answer_failed", failed);
  }
  if (!finished) {
    renderError(bot, "Het antwoord werd onderbroken. Stel de vraag opnieuw.");
    throw new ApiError(0, "interrupted", "Het antwoord werd onderbroken.");
  }
}

async function onSubmit(event) {
  event.preventDefault();
  const input = $("question");
  const question = input.value.trim();
  if (state.busy) return;
  if (!question) {
    $("status").textContent = "Stel een vraag: het invoerveld is leeg.";
    input.focus();
    return;
  }
  state.busy = true;
  $("send").disabled = true;
  $("status").textContent = "Bezig met zoeken in de goedgekeurde bronnen…";
  try {
    await ask(question);
    input.value = "";
    $("status").textContent = "";
  } catch (err) {
    $("status").textContent = "";
    if (err instanceof ApiError && err.status === 401) askForKey();
  } finally {
    state.busy = false;
    $("send").disabled = false;
    input.focus();
  }
}

function askForKey() {
  const dialog = $("key-dialog");
  $("api-key").value = sessionStorage.getItem("assistantApiKey") || "";
  dialog.showModal();
}

async function loadSources() {
  const list = $("source-list");
  try {
    const data = await getJson("/api/sources");
    const approved = data.sources.filter((s) => s.status === "approved");
    list.replaceChildren(...approved.map((s) =>
      el("li", {}, s.url ? el("a", { href: s.url, target: "_blank", rel: "noopener noreferrer", text: s.title }) : s.title,
        ` — ${s.publisher}, ${s.published}` + (s.passages ? "" : " (nog niet geïndexeerd)"))));
    if (!approved.length) list.replaceChildren(el("li", { text: "Er zijn nog geen goedgekeurde bronnen." }));
  } catch (err) {
    list.replaceChildren(el("li", { text: err.message }));
  }
}

function newConversation() {
  state.conversationId = null;
  $("conversation").replaceChildren();
  $("status").textContent = "Nieuw gesprek gestart.";
  $("question").focus();
}

document.addEventListener("DOMContentLoaded", () => {
  $("ask-form").addEventListener("submit", onSubmit);
  $("question").addEventListener("keydown", (e) => {
    if (e.key === "Enter" && !e.shiftKey && !e.isComposing) {
      e.preventDefault();
      $("ask-form").requestSubmit();
    }
  });
  $("new-chat").addEventListener("click", newConversation);
  $("passage-close").addEventListener("click", closePassage);
  $("passage-dialog").addEventListener("close", (e) => {
    const opener = e.currentTarget.returnFocusTo;
    if (opener && opener.isConnected) opener.focus();
  });
  $("passage-dialog").addEventListener("click", (e) => { // click on the backdrop closes
    if (e.target === e.currentTarget) closePassage();
  });
  $("key-dialog").addEventListener("close", (e) => {
    if (e.currentTarget.returnValue === "ok") {
      sessionStorage.setItem("assistantApiKey", $("api-key").value.trim());
      loadSources();
    }
  });
  loadSources();
  $("question").focus();
});
