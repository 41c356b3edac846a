// The assistant panel: renders the server's events (see glmv_agent/assistant/events.py) and posts the person's
// messages, Stop and hold answers. Every request carries the access token from the page's URL.
"use strict";

const token = new URLSearchParams(location.search).get("token") || "";
const PHASES = {observe: "looking at the screen", generate: "waiting for the model", execute: "acting"};
const $ = (id) => document.getElementById(id);
let openHold = null;

function withToken(url) {
  return token ? `${url}${url.includes("?") ? "&" : "?"}token=${encodeURIComponent(token)}` : url;
}

async function post(path, body) {
  let response;
  try {
    response = await fetch(path, {
      method: "POST", body: JSON.stringify(body || {}),
      headers: {"Content-Type": "application/json", "X-Glmv-Token": token},
    });
  } catch (error) {
    $("notice").textContent = `cannot reach the assistant: ${error}`;
    return {ok: false, data: {}};
  }
  let data = {};
  try { data = await response.json(); } catch (error) { data = {}; }
  $("notice").textContent = response.ok ? "" : (data.error || `refused (${response.status})`);
  return {ok: response.ok, data};
}

function make(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

function turn(number) {
  let item = $(`turn-${number}`);
  if (!item) {
    item = make("li", "turn");
    item.id = `turn-${number}`;
    item.dataset.status = "pending";
    item.append(make("p", "you"), make("p", "kind", "…"), make("ol", "steps"), make("p", "answer"),
                make("p", "end"));
    $("turns").append(item);
  }
  return item;
}

function part(number, name) {
  return turn(number).querySelector(`.${name}`);
}

function status(text, state) {
  $("status").textContent = text;
  if (state) $("status").dataset.state = state;
}

function show(image, caption) {
  if (image) {
    $("screen").src = withToken(image);
    $("screen").hidden = false;
  }
  $("caption").textContent = caption;
}

function scrollDown() {
  $("turns").lastElementChild?.scrollIntoView({block: "end"});
}

const handlers = {
  said(e) {
    part(e.turn, "you").textContent = e.text;
    status(`message ${e.turn}: deciding whether it is a task or a question`, "routing");
  },
  routed(e) {
    const kind = part(e.turn, "kind");
    kind.textContent = e.kind === "task" ? "task: the agent acts" : "question: answered by looking, nothing is done";
    turn(e.turn).dataset.kind = e.kind;
  },
  phase(e) {
    status(`task ${e.turn}, step ${e.step}: ${PHASES[e.phase] || e.phase}`, "running");
  },
  planned(e) {
    show(e.image, `planned (step ${e.step}): ${e.action}`);
  },
  step(e) {
    const item = make("li", e.error ? "step failed" : "step");
    item.dataset.step = e.step;
    const retry = e.attempt ? ` (retry ${e.attempt})` : "";
    item.append(make("span", "index", `step ${e.step}${retry}`));
    if (e.thought) item.append(make("span", "thought", e.thought));
    if (e.action) item.append(make("code", "action", e.action));
    if (e.result) item.append(make("span", "result", e.result));
    if (e.error) item.append(make("span", "error", e.error));
    part(e.turn, "steps").append(item);
    if (e.image) show(e.image, `step ${e.step}: ${e.action || "no action"}${e.error ? ` (${e.error})` : ""}`);
    scrollDown();
  },
  held(e) {
    openHold = e.hold;
    $("hold-text").textContent = e.text;
    $("approve").textContent = e.kind === "takeover" ? "Continue" : "Approve";
    $("deny").textContent = e.kind === "takeover" ? "Stop" : "Deny";
    $("hold").dataset.kind = e.kind;
    $("hold").hidden = false;
    status(e.kind === "takeover" ? "your turn on the device: press Continue when done" :
           "waiting for you: approve or deny the marked action", "held");
    $("approve").focus();
  },
  released(e) {
    if (openHold === e.hold) {
      openHold = null;
      $("hold").hidden = true;
    }
    const words = {yes: "approved", no: "denied", stop: "stopped"};
    part(e.turn, "steps").append(make("li", "decision", `you ${words[e.answer] || e.answer} the held action`));
  },
  answered(e) {
    part(e.turn, "answer").textContent = e.text;
    show(e.image, `the screen question ${e.turn} was answered from`);
  },
  ended(e) {
    const item = turn(e.turn);
    item.dataset.status = e.status;
    const end = part(e.turn, "end");
    end.replaceChildren(make("strong", "status", e.status));
    if (e.kind === "task" && e.answer) part(e.turn, "answer").textContent = e.answer;
    if (e.error) end.append(make("span", "error", e.error));
    if (e.report) {
      const link = make("a", "report", "report");
      link.href = e.report;
      link.target = "_blank";
      link.rel = "noopener";
      end.append(link);
    }
    if (e.folder) end.append(make("span", "folder", `run folder: ${e.folder}`));
    if (e.kind !== "question") status(`${e.kind || "message"} ${e.turn}: ${e.status}`, e.status);
    else status(`question ${e.turn}: answered`, "answered");
    scrollDown();
  },
  state(e) {
    $("stop").disabled = !e.busy || e.stopping;
    $("send").disabled = e.busy;
    document.body.dataset.busy = e.busy ? "yes" : "no";
    if (e.stopping) status("stopping: the current step finishes, nothing new runs", "stopping");
  },
};

function connect() {
  const source = new EventSource(withToken("/api/events"));
  source.onopen = () => { $("connection").textContent = "connected"; };
  source.onerror = () => { $("connection").textContent = "reconnecting…"; };
  source.onmessage = (message) => {
    const event = JSON.parse(message.data);
    const handler = handlers[event.type];
    if (handler) handler(event);
  };
}

async function send(event) {
  event.preventDefault();
  const text = $("message").value.trim();
  if (!text || $("send").disabled) return;
  const {ok} = await post("/api/messages", {text});
  if (ok) $("message").value = "";
}

function answerHold(answer) {
  if (openHold !== null) post(`/api/holds/${openHold}`, {answer});
}

document.addEventListener("DOMContentLoaded", () => {
  $("composer").addEventListener("submit", send);
  $("message").addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) send(event);
  });
  $("stop").addEventListener("click", () => post("/api/stop"));
  $("approve").addEventListener("click", () => answerHold("yes"));
  $("deny").addEventListener("click", () => answerHold("no"));
  connect();
});
