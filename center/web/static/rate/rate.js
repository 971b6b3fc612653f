// The QR rating page: /rate/#t=<token>. The token is read from the fragment (never sent in a
// URL), kept in this tab's sessionStorage, and removed from the address bar at once.
import { api, ApiError } from "/web/api.js";
import { dateText, el, fill } from "/web/format.js";

const LEVELS = [
  [5, "非常满意"],
  [4, "满意"],
  [3, "基本满意"],
  [2, "不满意"],
  [1, "非常不满意"],
];
const KEY = "hallq.rate";
const $ = (id) => document.getElementById(id);
let level = null;

function takeToken() {
  const fragment = new URLSearchParams(location.hash.slice(1));
  const fromLink = fragment.get("t");
  if (fromLink) {
    sessionStorage.setItem(KEY, fromLink);
    history.replaceState(null, "", location.pathname);
    return fromLink;
  }
  return sessionStorage.getItem(KEY);
}

function say(text, kind = "") {
  const box = $("message");
  box.textContent = text;
  box.className = `message ${kind}`;
}

function showVisit(v) {
  $("hall").textContent = `${v.hall} · 好差评`;
  const box = $("visit");
  fill(box,
    el("div", { class: "number" }, v.number),
    el("div", {}, `办理事项：${v.service_name}`),
    el("div", {}, v.window_name ? `办理窗口：${v.window_name}` : "办理窗口：—"),
    el("div", {}, `办理日期：${dateText(v.hall_day)}`));
  box.hidden = false;
}

function buildLevels() {
  const box = $("levels");
  for (const [value, label] of LEVELS) {
    box.append(el("button", {
      type: "button",
      class: "level",
      role: "radio",
      "aria-checked": "false",
      dataset: { level: String(value) },
      onclick: () => choose(value),
    }, el("span", { class: "dot" }), label, el("span", { class: "stars" }, "★".repeat(value))));
  }
  box.setAttribute("role", "radiogroup");
}

function choose(value) {
  level = value;
  for (const b of document.querySelectorAll(".level")) {
    b.setAttribute("aria-checked", String(Number(b.dataset.level) === value));
  }
  $("comment-hint").hidden = value > 2;
  $("submit").disabled = false;
}

async function submit(event, token) {
  event.preventDefault();
  if (level === null) return;
  $("submit").disabled = true;
  const body = { token, level };
  const comment = $("comment").value.trim();
  if (comment) body.comment = comment;
  try {
    const out = await api("POST", "/api/v1/rate", { body });
    $("rate-form").hidden = true;
    say(`您的评价：${out.label}。${out.message}`, "done");
  } catch (error) {
    if (error instanceof ApiError && error.status === 409) {
      $("rate-form").hidden = true;
      say(error.zh || "本次办事已评价，每次办事只评价一次", "error");
    } else {
      $("submit").disabled = false;
      say(error instanceof ApiError ? error.zh : "提交未成功，请稍后再试", "error");
    }
  }
}

async function main() {
  buildLevels();
  const token = takeToken();
  if (!token) {
    say("请扫描办事凭条上的二维码进行评价。", "error");
    return;
  }
  let visit;
  try {
    visit = await api("POST", "/api/v1/rate/visit", { body: { token } });
  } catch (error) {
    say(error instanceof ApiError ? error.zh : "暂时无法评价，请稍后再试", "error");
    return;
  }
  showVisit(visit);
  if (visit.rated) {
    say(`本次办事已评价（${visit.label}），每次办事只评价一次。感谢您的参与！`, "done");
    return;
  }
  if (!visit.finished) {
    say("该号尚未办结，办结后请再次扫码评价。");
    return;
  }
  say("");
  $("rate-form").hidden = false;
  $("rate-form").addEventListener("submit", (event) => submit(event, token));
}

main();
