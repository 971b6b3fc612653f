// The staff console: one window's work, every action on a function key (docs/web.md).
import { api, ApiError, Session } from "/web/api.js";
import { LiveEvents, debounce } from "/web/live.js";
import {
  LANES, OUTCOMES, WINDOW_STATUS, dateText, el, fill, minutes, percent, toast,
} from "/web/format.js";

const session = new Session("hallq.staff");
const PAUSE_PRESETS = ["临时离岗", "业务咨询", "会议", "培训", "系统故障"];
const LONG_WAIT_SECONDS = 30 * 60;
const POLL_MS = 5000;
const REFRESH_MS = 30000;

const $ = (id) => document.getElementById(id);
let state = null;
let live = null;
let busy = false;
let pollTimer = null;
let refreshTimer = null;
let skew = 0; // the center's clock minus this PC's: the page shows hall time
const notices = new Map(); // case_no -> notice titles issued at registration

// --- actions ------------------------------------------------------------------------------

const ACTIONS = {
  next: { key: "F1", run: callNext },
  recall: { key: "F2", run: () => post("/api/v1/staff/recall").then((c) => toast(`已重呼 ${c.number}号`, "ok")) },
  skip: { key: "F3", run: skip },
  finish: { key: "F4", run: finish },
  pause: { key: "F5", run: pauseOrResume },
  transfer: { key: "F6", run: openTransfer },
  call: { key: "F7", run: openCall },
  invite: { key: "F8", run: invite },
  case: { key: "F9", run: openCase },
  logout: { key: "F10", run: logout },
};
const BY_KEY = Object.fromEntries(Object.entries(ACTIONS).map(([name, a]) => [a.key, name]));

/** Why `action` cannot be done now (shown instead of doing it), or null. */
function blocked(action) {
  if (!state) return "正在加载…";
  const status = state.window.status;
  const serving = state.current !== null;
  switch (action) {
    case "next":
    case "call":
      if (status === "paused") return "窗口暂停中，请先恢复服务（F5）";
      if (serving) return `${state.current.number}号尚未办结：请办结（F4）、过号（F3）或转移（F6）`;
      return null;
    case "recall":
    case "skip":
    case "finish":
    case "transfer":
    case "invite":
    case "case":
      return serving ? null : "当前没有正在办理的号";
    case "pause":
      return serving && status !== "paused" ? "请先办结当前号再暂停" : null;
    default:
      return null;
  }
}

async function run(action) {
  if (busy) return;
  const why = blocked(action);
  if (why) {
    toast(why, "error");
    return;
  }
  busy = true;
  try {
    await ACTIONS[action].run();
  } catch (error) {
    report(error);
  } finally {
    busy = false;
    if (session.token) refresh();
  }
}

function report(error) {
  if (error instanceof ApiError) {
    toast(error.zh || error.message, "error");
  } else {
    toast("操作未成功", "error");
    console.error(error);
  }
}

function post(path, body) {
  return api("POST", path, { session, body, idempotent: true });
}

async function callNext() {
  const out = await post("/api/v1/staff/call-next");
  if (out.called) toast(`请 ${out.called.number}号 到本窗口办理`, "ok");
  else toast("当前没有等候的号");
}

async function skip() {
  const out = await post("/api/v1/staff/skip");
  toast(`${out.number}号 已过号`, "ok");
}

async function finish() {
  const number = state.current.number;
  await post("/api/v1/staff/finish");
  toast(`${number}号 已办结，请群众评价`, "ok");
}

async function invite() {
  await post("/api/v1/staff/invite-evaluation");
  toast("已邀请群众评价", "ok");
}

async function pauseOrResume() {
  if (state.window.status === "paused") {
    await post("/api/v1/staff/resume");
    toast("已恢复服务", "ok");
    return;
  }
  const reason = await ask("pause-dialog", () => {
    const input = $("pause-reason");
    input.value = "";
    return input;
  }, () => $("pause-reason").value.trim());
  if (!reason) return;
  await post("/api/v1/staff/pause", { reason });
  toast(`已暂停：${reason}`, "ok");
}

async function openTransfer() {
  const result = await ask("transfer-dialog", () => {
    $("transfer-service").value = "";
    $("transfer-window").value = "";
    return $("transfer-service");
  }, () => ({ service: $("transfer-service").value, window: $("transfer-window").value }));
  if (!result) return;
  if (!result.service === !result.window) {
    toast("请选择一项：转到业务，或转到窗口", "error");
    return;
  }
  const number = state.current.number;
  const body = result.service ? { to_service: result.service } : { to_window: Number(result.window) };
  await post("/api/v1/staff/transfer", body);
  const where = result.service
    ? state.transfer_services.find((s) => s.code === result.service).name
    : `${result.window}号窗口`;
  toast(`${number}号 已转到 ${where}`, "ok");
}

async function openCall() {
  const number = await ask("call-dialog", () => {
    $("call-number").value = "";
    return $("call-number");
  }, () => $("call-number").value.trim().toUpperCase());
  if (!number) return;
  const out = await post("/api/v1/staff/call-number", { number });
  toast(`请 ${out.number}号 到本窗口办理`, "ok");
}

async function logout() {
  await post("/api/v1/staff/logout");
  stopLive();
  session.clear();
  state = null;
  showLogin("已退出登录");
}

// --- dialogs ------------------------------------------------------------------------------

/**
 * Show a dialog; resolves with collect() when submitted, null when cancelled.
 * prepare() resets it and returns the element to focus.
 */
function ask(id, prepare, collect) {
  const dialog = $(id);
  const form = dialog.querySelector("form");
  return new Promise((resolve) => {
    let done = false;
    const finishWith = (value) => {
      if (done) return;
      done = true;
      form.removeEventListener("submit", onSubmit);
      dialog.removeEventListener("close", onClose);
      if (dialog.open) dialog.close();
      resolve(value);
    };
    const onSubmit = (event) => {
      event.preventDefault();
      if (!form.reportValidity()) return;
      finishWith(collect());
    };
    const onClose = () => finishWith(null);
    form.addEventListener("submit", onSubmit);
    dialog.addEventListener("close", onClose);
    const focus = prepare();
    dialog.showModal();
    if (focus) focus.focus();
  });
}

function setupDialogs() {
  for (const button of document.querySelectorAll("dialog [data-close]")) {
    button.addEventListener("click", () => button.closest("dialog").close());
  }
  const presets = $("pause-presets");
  PAUSE_PRESETS.forEach((reason, i) => {
    presets.append(el("button", {
      type: "button",
      onclick: () => { $("pause-reason").value = reason; $("pause-reason").focus(); },
    }, el("span", { class: "kbd" }, `Alt+${i + 1}`), ` ${reason}`));
  });
  $("pause-dialog").addEventListener("keydown", (event) => {
    const n = Number(event.key);
    if (event.altKey && n >= 1 && n <= PAUSE_PRESETS.length) {
      event.preventDefault();
      $("pause-reason").value = PAUSE_PRESETS[n - 1];
    }
  });
  $("transfer-service").addEventListener("change", () => {
    if ($("transfer-service").value) $("transfer-window").value = "";
  });
  $("transfer-window").addEventListener("change", () => {
    if ($("transfer-window").value) $("transfer-service").value = "";
  });
  // Ctrl+Enter submits any dialog, textareas included; Enter also on a drop-down list.
  for (const dialog of document.querySelectorAll("dialog")) {
    dialog.addEventListener("keydown", (event) => {
      const onSelect = event.target instanceof HTMLSelectElement;
      if (event.key === "Enter" && (event.ctrlKey || event.metaKey || onSelect)) {
        event.preventDefault();
        dialog.querySelector("form").requestSubmit();
      }
    });
  }
  const previewSoon = debounce(previewCase, 250);
  for (const id of ["case-kind", "case-days", "case-pending"]) {
    $(id).addEventListener("input", () => { caseFields(); previewSoon(); });
  }
}

// --- cases --------------------------------------------------------------------------------

function lines(id) {
  return $(id).value.split("\n").map((s) => s.trim()).filter(Boolean);
}

const KIND_BEHAVIOUR = { immediate: "immediate", returned: "returned", awaiting_documents: "awaiting" };

function caseFields() {
  const behaviour = KIND_BEHAVIOUR[$("case-kind").value] || "promised";
  $("case-days-row").hidden = behaviour !== "promised";
  $("case-reason-row").hidden = behaviour !== "returned";
  $("case-pending-row").hidden = !(behaviour === "promised" || behaviour === "awaiting");
  $("case-reason").required = behaviour === "returned";
  $("case-pending").required = behaviour === "awaiting";
}

let previewSeq = 0;

async function previewCase() {
  const kind = $("case-kind").value;
  if (!kind) return;
  const params = new URLSearchParams({ kind });
  const days = $("case-days").value.trim();
  if (days !== "" && !$("case-days-row").hidden) params.set("working_days", days);
  if (lines("case-pending").length) params.set("pending_documents", "true");
  const seq = ++previewSeq;
  const box = $("case-preview");
  try {
    const p = await api("GET", `/api/v1/staff/case-preview?${params}`, { session });
    if (seq !== previewSeq) return;
    const parts = [];
    if (p.due) {
      const span = p.working_days === 0 ? "当日办结" : `${p.working_days}个工作日，受理当日不计`;
      parts.push(el("div", {}, "办结期限：", el("span", { class: "due", id: "case-due" }, dateText(p.due)),
        `（${span}${p.due_provisional ? "，节假日安排未公布，期限为暂定" : ""}）`));
    } else if (p.behaviour === "awaiting") {
      parts.push(el("div", {}, "材料补齐后开始计时（一次性告知需补正的材料）"));
    } else if (p.behaviour === "returned") {
      parts.push(el("div", {}, "当场退回，不计时"));
    }
    parts.push(el("div", {}, "将出具：", el("strong", { id: "case-notices" }, p.notices.join("、"))));
    fill(box, parts);
  } catch (error) {
    if (seq !== previewSeq) return;
    fill(box, el("div", { class: "muted" }, error instanceof ApiError ? error.zh : "无法计算期限"));
  }
}

async function openCase() {
  const current = state.current;
  const service = state.services.find((s) => s.code === current.service);
  const allowed = service ? service.case_kinds : state.case_kinds.map((k) => k.code);
  const body = await ask("case-dialog", () => {
    const select = $("case-kind");
    fill(select, state.case_kinds.filter((k) => allowed.includes(k.code))
      .map((k) => el("option", { value: k.code }, k.name)));
    select.value = allowed.includes("promised") ? "promised" : allowed[0];
    $("case-item").value = "";
    $("case-item").placeholder = current.service_name;
    $("case-days").value = service && service.promised_days !== null ? service.promised_days : "";
    for (const id of ["case-pending", "case-reason", "case-materials"]) $(id).value = "";
    caseFields();
    fill($("case-preview"));
    previewCase();
    return select;
  }, () => {
    const kind = $("case-kind").value;
    const out = { kind, materials: lines("case-materials") };
    const item = $("case-item").value.trim();
    if (item) out.item = item;
    if (!$("case-days-row").hidden && $("case-days").value.trim() !== "") {
      out.working_days = Number($("case-days").value);
    }
    if (!$("case-pending-row").hidden) out.pending_documents = lines("case-pending");
    if (!$("case-reason-row").hidden) out.reason = $("case-reason").value.trim();
    return out;
  });
  if (!body) return;
  const info = await post("/api/v1/staff/cases", body);
  let issued = [];
  try {
    const list = await api("GET", `/api/v1/staff/cases/${encodeURIComponent(info.case_no)}/notices`, { session });
    issued = list.map((n) => n.title);
  } catch {
    issued = [];
  }
  notices.set(info.case_no, issued);
  const due = info.due ? `，办结期限 ${dateText(info.due)}` : "";
  toast(`已登记办件 ${info.case_no}${due}`, "ok");
}

// --- rendering ----------------------------------------------------------------------------

function render() {
  const s = state;
  const w = s.window;
  $("title").textContent = `${w.number}号窗口 · ${w.name}`;
  $("who").textContent = w.staff ? `${w.staff_name || ""} 工号${w.staff}${w.covering_for ? `（替岗 ${w.covering_for}）` : ""}` : "";
  const badge = $("state");
  badge.hidden = false;
  const serving = s.current !== null;
  const kind = w.status === "open" && serving ? "serving" : w.status;
  badge.className = `badge ${kind}`;
  badge.textContent = w.status === "paused"
    ? `暂停：${w.pause_reason || ""}`
    : serving ? "办理中" : WINDOW_STATUS[w.status] || w.status;
  $("pause-label").textContent = w.status === "paused" ? "恢复服务" : "暂停";

  for (const button of document.querySelectorAll("#actions button")) {
    const why = blocked(button.dataset.action);
    button.disabled = why !== null;
    button.title = why || "";
  }
  renderCurrent();
  renderRating();
  renderQueue();
  renderFigures();
  renderRecent();
  fillSelects();
}

function renderCurrent() {
  const box = $("current");
  const c = state.current;
  if (!c) {
    if (state.window.status === "paused") {
      fill(box, el("div", { class: "paused" }, `暂停服务中：${state.window.pause_reason || ""}（F5 恢复）`));
    } else {
      fill(box, el("div", { class: "idle" }, "空闲，按 F1 叫下一位"));
    }
    return;
  }
  const tags = [LANES[c.lane], c.priority_name].filter(Boolean).join(" · ");
  const rows = [
    el("div", { class: "number", id: "current-number" }, c.number),
    el("div", { class: "service" }, c.service_name, tags ? el("span", { class: "badge paused" }, tags) : null),
    el("div", {}, `等候 ${minutes(c.waited_seconds)} · 已办理 ${minutes(c.serving_seconds)}`,
      c.recalls ? ` · 重呼 ${c.recalls} 次` : "", c.transfers ? ` · 转移 ${c.transfers} 次` : ""),
    el("div", {}, c.person ? `办事人：${c.person}` : el("span", { class: "muted" }, "未登记办事人")),
  ];
  if (c.case) {
    const issued = notices.get(c.case.case_no);
    rows.push(el("div", { class: "case", id: "current-case" },
      `办件 ${c.case.case_no} ${c.case.kind_name}`,
      c.case.due ? ` · 办结期限 ${dateText(c.case.due)}` : "",
      issued && issued.length ? ` · 已出具：${issued.join("、")}` : ""));
  }
  fill(box, rows);
}

function renderRating() {
  const box = $("rating");
  const c = state.current;
  const ev = (c && c.evaluation) || state.last_rating;
  if (!ev) {
    fill(box);
    return;
  }
  let text;
  if (ev.status === "rated") {
    text = [`${ev.number}号 评价结果：`,
      el("span", { class: `level ${ev.bad ? "bad" : "good"}`, id: "rating-label" }, ev.label),
      ev.channel === "qr" ? "（扫码评价）" : ""];
  } else if (ev.status === "invited") {
    text = [`${ev.number}号 `, el("span", { class: "level", id: "rating-label" }, "等待评价…"),
      "（请群众在评价器上评价）"];
  } else {
    text = [`${ev.number}号 `, el("span", { class: "level", id: "rating-label" }, "未评价"),
      "（已转扫码/短信回访）"];
  }
  fill(box, text);
}

function renderQueue() {
  $("queue-count").textContent = `${state.queue_total}人`;
  const items = state.queue.map((q) => el("li", {},
    el("span", { class: "number" }, q.number),
    el("span", {}, q.service_name,
      LANES[q.lane] ? el("span", { class: "tag" }, LANES[q.lane]) : null,
      q.priority_name ? el("span", { class: "tag" }, q.priority_name) : null),
    el("span", { class: q.waited_seconds > LONG_WAIT_SECONDS ? "waited long" : "waited" },
      `已等 ${minutes(q.waited_seconds)}`)));
  if (!items.length) items.push(el("li", { class: "muted" }, "暂无等候"));
  if (state.queue_total > state.queue.length) {
    items.push(el("li", { class: "muted" }, `……共 ${state.queue_total} 人`));
  }
  fill($("queue"), items);
}

function figureBlock(title, f) {
  const cell = (label, value) => el("div", { class: "figure" },
    el("div", { class: "value" }, value), el("div", { class: "label" }, label));
  return [
    el("h3", {}, title),
    el("div", { class: "figure-grid" },
      cell("办件量", String(f.served)),
      cell("平均等候", minutes(f.mean_wait_seconds)),
      cell("平均办理", minutes(f.mean_handling_seconds)),
      cell("即办件比率", percent(f.immediate_rate)),
      cell("好评率", percent(f.good_rate)),
      cell("未评价率", percent(f.not_rated_rate))),
  ];
}

function renderFigures() {
  const f = state.figures;
  fill($("figures"), [
    ...figureBlock("本窗口", f.window),
    ...(f.staff ? figureBlock("本人", f.staff) : []),
  ]);
}

function renderRecent() {
  const rows = state.recent.map((r) => el("tr", {},
    el("td", {}, r.number),
    el("td", {}, r.service_name),
    el("td", {}, OUTCOMES[r.outcome] || r.outcome || ""),
    el("td", { class: "num" }, r.handling_seconds === null ? "—" : minutes(r.handling_seconds)),
    el("td", {}, r.label || "")));
  if (!rows.length) rows.push(el("tr", {}, el("td", { colspan: "5", class: "muted" }, "今天还没有办结的号")));
  fill($("recent"), rows);
}

function fillSelects() {
  const services = $("transfer-service");
  if (services.options.length <= 1) {
    services.append(...state.transfer_services.map((s) => el("option", { value: s.code }, s.name)));
  }
  const windows = $("transfer-window");
  if (windows.options.length <= 1) {
    windows.append(...state.transfer_windows.map((w) => el("option", { value: String(w.number) }, `${w.number}号 ${w.name}`)));
  }
}

// --- loading and live updates -------------------------------------------------------------

let loading = null;

async function refresh() {
  if (loading) return loading;
  loading = (async () => {
    try {
      state = await api("GET", "/api/v1/staff/console", { session });
      skew = new Date(state.at).getTime() - Date.now();
      render();
    } catch (error) {
      if (error instanceof ApiError && error.status !== 401) report(error);
    } finally {
      loading = null;
    }
  })();
  return loading;
}

const refreshSoon = debounce(refresh, 120);

/** Does `event` change what this console shows (its window, or its services' queues)? */
function concerns(event) {
  if (!state) return true;
  const me = state.window.number;
  const d = event.data || {};
  if (event.window === me || d.to_window === me) return true;
  if (!event.kind.startsWith("ticket.")) return false;
  const codes = new Set(state.services.map((s) => s.code));
  return [d.service, d.from_service, d.to_service].some((code) => codes.has(code));
}

function onEvent(event) {
  if (event.kind === "evaluation.rated" && state && event.window === state.window.number) {
    const d = event.data || {};
    toast(`${d.number || ""}号 评价结果：${d.label || ""}`, d.bad ? "error" : "ok");
  }
  if (concerns(event)) refreshSoon();
}

function startLive() {
  stopLive();
  live = new LiveEvents(() => session.token, {
    kinds: ["ticket.", "window.", "evaluation.", "case."],
    onEvent,
    onStatus: (on) => {
      const badge = $("live");
      badge.hidden = false;
      badge.className = `badge ${on ? "live" : "offline"}`;
      badge.textContent = on ? "实时" : "重连中";
      clearInterval(pollTimer);
      if (!on) pollTimer = setInterval(refresh, POLL_MS);
    },
    onResync: refreshSoon,
  });
  live.start();
  clearInterval(refreshTimer);
  refreshTimer = setInterval(refresh, REFRESH_MS);
  pollTimer = setInterval(refresh, POLL_MS); // until the stream says hello
}

function stopLive() {
  if (live) live.stop();
  live = null;
  clearInterval(pollTimer);
  clearInterval(refreshTimer);
  $("live").hidden = true;
}

// --- log-in -------------------------------------------------------------------------------

function showLogin(message = "") {
  $("console-view").hidden = true;
  $("logout").hidden = true;
  $("state").hidden = true;
  $("who").textContent = "";
  $("title").textContent = "窗口工作台";
  $("login-view").hidden = false;
  $("login-error").textContent = message;
  $("login-pin").value = "";
  const remembered = localStorage.getItem("hallq.window");
  if (remembered && !$("login-window").value) $("login-window").value = remembered;
  ($("login-window").value ? $("login-staff") : $("login-window")).focus();
}

async function showConsole() {
  $("login-view").hidden = true;
  $("console-view").hidden = false;
  $("logout").hidden = false;
  await refresh();
  startLive();
}

async function login(event) {
  event.preventDefault();
  const window = Number($("login-window").value);
  const body = {
    staff: $("login-staff").value.trim(),
    pin: $("login-pin").value,
    window,
  };
  if ($("login-takeover").checked) body.takeover = true;
  $("login-error").textContent = "";
  try {
    const out = await api("POST", "/api/v1/staff/login", { body });
    session.save({ token: out.token, staff: out.staff, name: out.name, window: out.window });
    localStorage.setItem("hallq.window", String(window));
    $("login-takeover").checked = false;
    $("takeover-row").hidden = true;
    await showConsole();
  } catch (error) {
    $("login-pin").value = "";
    if (error instanceof ApiError) {
      let text = error.zh || error.message;
      if (error.status === 429 && error.retryAfter) text += `（请 ${error.retryAfter} 秒后再试）`;
      if (error.status === 401) text = "工号或密码错误";
      if (error.status === 409 && /换岗|接管/.test(error.zh || "")) {
        $("takeover-row").hidden = false;
        text += "。如需替岗，请勾选“接管本窗口”后再登录";
      }
      $("login-error").textContent = text;
    } else {
      $("login-error").textContent = "登录失败";
    }
    $("login-pin").focus();
  }
}

// --- keyboard -----------------------------------------------------------------------------

function onKey(event) {
  const action = BY_KEY[event.key];
  if (!action) return;
  // Function keys never reach the browser's own uses (help, reload, find…) while logged in.
  event.preventDefault();
  if (!session.token || $("console-view").hidden) return;
  if (document.querySelector("dialog[open]")) return;
  run(action);
}

function tick() {
  $("clock").textContent = new Date(Date.now() + skew).toLocaleTimeString("zh-CN", { hour12: false });
}

function main() {
  setupDialogs();
  session.onExpired = () => {
    stopLive();
    state = null;
    showLogin("登录已失效（可能已在其他地方登录或被接管），请重新登录");
  };
  $("login-form").addEventListener("submit", login);
  $("logout").addEventListener("click", () => run("logout"));
  for (const button of document.querySelectorAll("#actions button")) {
    button.addEventListener("click", () => run(button.dataset.action));
  }
  document.addEventListener("keydown", onKey);
  tick();
  setInterval(tick, 1000);
  if (session.token) showConsole();
  else showLogin();
}

main();
