// Bronnenbeheer (/beheer): the content team's page over /api/admin/*. Plain JS, no dependencies.
"use strict";

const KEY = "assistantAdminKey";
const GENERIC_ERROR = "Er ging iets mis. Probeer het opnieuw of neem contact op met de beheerder.";
const STATUS = {
  approved: ["Goedgekeurd", "ok"],
  unapproved: ["Niet goedgekeurd", "neutral"],
  expired: ["Verlopen", "bad"],
  expiring: ["Verloopt binnenkort", "warn"],
  "missing file": ["Bestand ontbreekt", "bad"],
  failed: ["Niet te lezen", "bad"],
};
const INDEXED = {
  current: "in de index",
  outdated: "vorige versie in de index; wacht op herindexering",
  absent: "niet in de index",
};
const KINDS = { factsheet: "Factsheet", report: "Rapport", table: "Tabel", news: "Nieuws" };
const MONTHS = ["januari", "februari", "maart", "april", "mei", "juni", "juli", "augustus", "september",
  "oktober", "november", "december"];

const state = { editing: null, opener: null, watching: null };

function dutchDate(iso) {
  if (!iso) return "";
  const [y, m, d] = iso.slice(0, 10).split("-").map(Number);
  const time = iso.length > 10 ? " " + new Date(iso).toLocaleTimeString("nl-NL", { hour: "2-digit", minute: "2-digit" }) : "";
  return `${d} ${MONTHS[m - 1]} ${y}${time}`;
}

class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

async function api(method, url, body) {
  const headers = { Authorization: "Bearer " + (sessionStorage.getItem(KEY) || "") };
  const init = { method, headers };
  if (body instanceof FormData) init.body = body;
  else if (body !== undefined) {
    headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  const res = await fetch(url, init);
  if (!res.ok) {
    let data = null;
    try { data = await res.json(); } catch (_) { /* not JSON */ }
    const err = (data && data.error) || {};
    const failure = new ApiError(res.status, err.code || "http_" + res.status, err.message || GENERIC_ERROR);
    if (res.status === 401 || res.status === 403) loggedOut(failure.message);
    throw failure;
  }
  return res.json();
}

function notice(text) {
  $("problem").textContent = "";
  $("notice").textContent = text;
}

function problem(text) {
  $("notice").textContent = "";
  $("problem").textContent = text;
}

// ------------------------------------------------------------------ login

function loggedIn() {
  $("login-form").hidden = true;
  $("logged-in").hidden = false;
  $("work").hidden = false;
}

function loggedOut(message) {
  sessionStorage.removeItem(KEY);
  $("login-form").hidden = false;
  $("logged-in").hidden = true;
  $("work").hidden = true;
  if (message) problem(message);
}

async function login(event) {
  event.preventDefault();
  const key = $("admin-key").value.trim();
  if (!key) {
    problem("Vul je beheersleutel in.");
    $("admin-key").focus();
    return;
  }
  sessionStorage.setItem(KEY, key);
  $("admin-key").value = "";
  try {
    await load();
    loggedIn();
    notice("Ingelogd.");
    $("add-source").focus();
  } catch (err) {
    if (err.status !== 401 && err.status !== 403) problem(err.message);
    $("admin-key").focus();
  }
}

// ------------------------------------------------------------------ the list

async function load() {
  const data = await api("GET", "/api/admin/sources");
  render(data.sources);
  if (data.job) showJob(data.job);
  if (data.job && data.job.status === "running") watch(data.job.id);
  return data;
}

function fact(label, value) {
  return value ? [el("dt", { text: label }), el("dd", { text: value })] : [];
}

function render(sources) {
  const list = $("sources");
  if (!sources.length) {
    list.replaceChildren(el("li", { class: "empty", text: "Er staan nog geen bronnen in het bronnenbestand." }));
    return;
  }
  list.replaceChildren(...sources.map((s) => {
    const [label, tone] = STATUS[s.status] || [s.status, "neutral"];
    const headingId = "src-" + s.id;
    const approve = s.approved
      ? el("button", { type: "button", class: "secondary", "data-action": "withdraw", onclick: () => act(s, "withdraw") }, "Intrekken")
      : el("button", { type: "button", "data-action": "approve", onclick: () => act(s, "approve") }, "Goedkeuren");
    return el("li", { class: "admin-source", "data-id": s.id },
      el("article", { "aria-labelledby": headingId },
        el("h3", { id: headingId, text: s.title }),
        el("p", { class: "status-line" },
          el("span", { class: "state " + tone, text: label }),
          el("span", { class: "indexed", text: ` ${INDEXED[s.indexed] || ""}` + (s.passages ? ` (${s.passages} passages, ${s.facts} cijfers)` : "") })),
        s.error ? el("p", { class: "source-error", text: "Fout bij de laatste herindexering: " + s.error }) : null,
        s.warning ? el("p", { class: "source-warning", text: s.warning }) : null,
        el("dl", { class: "facts" },
          fact("Id", s.id),
          fact("Uitgever", s.publisher),
          fact("Soort", KINDS[s.kind] || s.kind),
          fact("Gepubliceerd", dutchDate(s.published)),
          fact("Geldig tot", s.valid_until ? dutchDate(s.valid_until) : "niet ingevuld"),
          fact("Regio", s.region),
          fact("Periode", s.period),
          fact("Bestand", s.file),
          fact("Goedgekeurd door", s.approved_by ? s.approved_by + (s.approved_at ? ", " + dutchDate(s.approved_at) : "") : "")),
        el("div", { class: "row actions", role: "group", "aria-label": "Acties voor " + s.title },
          approve,
          el("button", { type: "button", class: "secondary", "data-action": "edit", onclick: (e) => openForm(s, e.currentTarget) }, "Bewerken"),
          el("button", { type: "button", class: "secondary", "data-action": "replace", onclick: (e) => openForm(s, e.currentTarget, true) }, "Bestand vervangen"),
          el("button", { type: "button", class: "danger", "data-action": "delete", onclick: () => remove(s) }, "Verwijderen"))));
  }));
}

async function act(source, action) {
  try {
    const s = await api("POST", `/api/admin/sources/${encodeURIComponent(source.id)}/${action}`);
    await load();
    notice(action === "approve"
      ? `“${s.title}” is goedgekeurd. Herindexeer om de bron te laten citeren.`
      : `“${s.title}” is ingetrokken. Herindexeer om de bron uit de antwoorden te halen.`);
    focusSource(source.id, action === "approve" ? "withdraw" : "approve");
  } catch (err) {
    problem(err.message);
  }
}

async function remove(source) {
  if (!window.confirm(`“${source.title}” verwijderen uit het bronnenbestand? Het bestand wordt bewaard in de geschiedenis.`)) return;
  try {
    await api("DELETE", `/api/admin/sources/${encodeURIComponent(source.id)}`);
    await load();
    notice(`“${source.title}” is verwijderd. Herindexeer om de bron uit de antwoorden te halen.`);
    $("add-source").focus();
  } catch (err) {
    problem(err.message);
  }
}

function focusSource(id, action) {
  const item = [...document.querySelectorAll(".admin-source")].find((li) => li.dataset.id === id);
  const button = item && item.querySelector(`[data-action="${action}"]`);
  if (button) button.focus();
}

// ------------------------------------------------------------------ upload and edit

function openForm(source, opener, replace = false) {
  const form = $("source-form");
  form.reset();
  $("form-problem").textContent = "";
  state.editing = source;
  state.opener = opener;
  const editing = Boolean(source);
  $("source-dialog-title").textContent = replace ? "Bestand vervangen" : editing ? "Bron bewerken" : "Bron toevoegen";
  $("source-submit").textContent = editing ? "Opslaan" : "Uploaden";
  $("file-required").hidden = editing;
  $("file-hint").textContent = editing
    ? "Kies alleen een bestand als je het huidige wilt vervangen; de bron moet daarna opnieuw worden goedgekeurd."
    : "PDF, Word (.docx), webpagina (.html), Excel (.xlsx), CSV (ook CBS StatLine), Markdown of tekst.";
  if (editing) {
    for (const name of ["title", "publisher", "kind", "url", "published", "valid_until", "region", "period"]) {
      form.elements[name].value = source[name] || "";
    }
  }
  $("source-dialog").showModal();
  (replace ? $("f-file") : editing ? $("f-title") : $("f-file")).focus();
}

function closeForm() {
  $("source-dialog").close();
}

async function submitForm(event) {
  event.preventDefault();
  const form = $("source-form");
  const data = new FormData(form);
  const file = $("f-file").files[0];
  if (!file) data.delete("file");
  const source = state.editing;
  if (!source && !file) {
    $("form-problem").textContent = "Kies een bestand om te uploaden.";
    $("f-file").focus();
    return;
  }
  $("source-submit").disabled = true;
  try {
    const saved = source
      ? await api("PATCH", `/api/admin/sources/${encodeURIComponent(source.id)}`, data)
      : await api("POST", "/api/admin/sources", data);
    closeForm();
    await load();
    notice(source
      ? `“${saved.title}” is opgeslagen.` + (file ? " Keur de nieuwe versie goed en herindexeer." : "")
      : `“${saved.title}” is toegevoegd (nog niet goedgekeurd).`);
    focusSource(saved.id, saved.approved ? "withdraw" : "approve");
  } catch (err) {
    $("form-problem").textContent = err.message;
  } finally {
    $("source-submit").disabled = false;
  }
}

// ------------------------------------------------------------------ re-index

function showJob(job) {
  $("job").hidden = false;
  const bar = $("job-progress");
  bar.max = Math.max(job.total, 1);
  bar.value = job.status === "running" ? job.done : bar.max;
  $("job-message").textContent = job.message + (job.status === "running" || !job.finished_at ? "" : ` (${dutchDate(job.finished_at)})`);
  const failed = Object.entries(job.failed || {});
  if (failed.length && job.status !== "running") {
    $("job-message").textContent += " " + failed.map(([id, why]) => `${id}: ${why}`).join(" ");
  }
  $("reindex").disabled = job.status === "running";
}

async function watch(jobId) {
  if (state.watching === jobId) return;
  state.watching = jobId;
  let last = null;
  try {
    const res = await fetch(`/api/admin/jobs/${encodeURIComponent(jobId)}`, {
      headers: { Authorization: "Bearer " + (sessionStorage.getItem(KEY) || ""), Accept: "text/event-stream" },
    });
    if (!res.ok) throw new ApiError(res.status, "", GENERIC_ERROR);
    await readEvents(res, (name, job) => {
      last = job;
      showJob(job);
    });
  } catch (err) {
    problem("De voortgang kon niet worden gevolgd: " + err.message);
  } finally {
    state.watching = null;
  }
  if (last && last.status !== "running") {
    await load().catch((err) => problem(err.message));
    if (last.status === "succeeded") notice(last.message);
    else problem(last.message);
    $("reindex").focus();
  }
}

async function reindex() {
  try {
    const started = await api("POST", "/api/admin/reindex");
    showJob(started.job);
    notice("Herindexering gestart. Adviseurs krijgen antwoord uit de vorige index tot deze klaar is.");
    watch(started.job_id);
  } catch (err) {
    problem(err.message);
  }
}

// ------------------------------------------------------------------ start

document.addEventListener("DOMContentLoaded", () => {
  $("login-form").addEventListener("submit", login);
  $("logout").addEventListener("click", () => {
    loggedOut();
    notice("Uitgelogd.");
    $("admin-key").focus();
  });
  $("add-source").addEventListener("click", (e) => openForm(null, e.currentTarget));
  $("source-form").addEventListener("submit", submitForm);
  $("source-close").addEventListener("click", closeForm);
  $("source-cancel").addEventListener("click", closeForm);
  $("source-dialog").addEventListener("close", () => {
    if (state.opener && state.opener.isConnected) state.opener.focus();
  });
  $("reindex").addEventListener("click", reindex);
  if (sessionStorage.getItem(KEY)) {
    load().then(loggedIn).catch((err) => err.status === 401 || err.status === 403 || problem(err.message));
  } else {
    $("admin-key").focus();
  }
});
