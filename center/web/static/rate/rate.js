// The ticket's QR page: /rate/#t=<token>. The token is read from the fragment (never sent in a
// URL), kept in this tab's sessionStorage, and removed from the address bar at once. Until the
// visit is finished the page shows where the ticket is (people ahead, the window it was called
// to) and asks again every POLL_MS; once finished, the rating form (一次一评).
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
const POLL_MS = 15000;
const STATUS = {
  waiting: "排队等候",
  called: "已叫号",
  done: "已办结",
  no_show: "已过号",
  cancelled: "已取消",
};
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
    el("div", {}, `办理日期：${dateText(v.hall_day)}`),
    el("div", { class: "status" }, `当前状态：${STATUS[v.status] || "—"}`));
  box.hidden = false;
}

function windowText(v) {
  if (!v.window) return v.window_name || "窗口";
  const numbered = `${v.window}号窗口`;
  if (!v.window_name || v.window_name.startsWith(numbered)) return v.window_name || numbered;
  return `${numbered}（${v.window_name}）`;
}

function statusText(v) {
  switch (v.status) {
    case "waiting":
      if (v.ahead === null || v.ahead === undefined) return "排队等候中，请留意叫号。";
      if (v.ahead === 0) return "排队等候中，下一位就是您，请留意叫号。办结后可在本页评价。";
      return `排队等候中，您前面还有 ${v.ahead} 人，请留意叫号。办结后可在本页评价。`;
    case "called":
      return `请到${windowText(v)}办理。办结后可在本页评价。`;
    case "no_show":
      return "该号已过号，如需办理请重新取号。";
    case "cancelled":
      return "该号已取消。";
    default:
      return "该号尚未办结，办结后请再次扫码评价。";
  }
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

async function load(token, first) {
  let visit;
  try {
    visit = await api("POST", "/api/v1/rate/visit", { body: { token } });
  } catch (error) {
    if (first || !(error instanceof ApiError)) {
      if (first) say(error instanceof ApiError ? error.zh : "暂时无法查询，请稍后再试", "error");
      if (!(error instanceof ApiError)) setTimeout(() => load(token, first), POLL_MS);
    } else {
      say(error.zh, "error");
    }
    return;
  }
  showVisit(visit);
  if (visit.rated) {
    say(`本次办事已评价（${visit.label}），每次办事只评价一次。感谢您的参与！`, "done");
    return;
  }
  if (!visit.finished) {
    say(statusText(visit));
    if (visit.status === "waiting" || visit.status === "called") {
      setTimeout(() => load(token, false), POLL_MS);
    }
    return;
  }
  say("");
  $("rate-form").hidden = false;
}

function main() {
  buildLevels();
  const token = takeToken();
  if (!token) {
    say("请扫描办事凭条上的二维码进行评价。", "error");
    return;
  }
  $("rate-form").addEventListener("submit", (event) => submit(event, token));
  load(token, true);
}

main();
