// The supervisor's live hall: alerts, windows, queues, longest waits and today's figures.
import { api, ApiError, Session } from "/web/api.js";
import { LiveEvents, debounce } from "/web/live.js";
import { WINDOW_STATUS, clockTime, el, fill, minutes, percent, toast } from "/web/format.js";

const session = new Session("hallq.supervisor");
const POLL_MS = 5000;
const REFRESH_MS = 20000;
const $ = (id) => document.getElementById(id);

let overview = null;
let figures = null;
let tab = "windows";
let live = null;
let pollTimer = null;
let refreshTimer = null;
let seenAlerts = null; // alert keys shown so far (null until the first load)
let skew = 0; // the center's clock minus this PC's: the page shows hall time

// --- rendering ----------------------------------------------------------------------------

function renderAlerts() {
  const alerts = overview.alerts;
  const fresh = new Set();
  if (seenAlerts !== null) {
    for (const a of alerts) if (!seenAlerts.has(a.key)) fresh.add(a.key);
  }
  seenAlerts = new Set(alerts.map((a) => a.key));
  const critical = alerts.filter((a) => a.severity === "critical").length;
  $("alert-count").textContent = alerts.length ? `${alerts.length}（严重 ${critical}）` : "0";
  $("alert-count").className = `badge ${critical ? "offline" : alerts.length ? "paused" : "live"}`;
  const items = alerts.map((a) => el("li", {
    class: `${a.severity}${fresh.has(a.key) ? " new" : ""}`,
    dataset: { key: a.key, kind: a.kind },
  },
  el("span", { class: "sev" }, a.severity === "critical" ? "严重" : "注意"),
  el("span", {}, el("span", { class: "title" }, a.title), el("br"), a.detail),
  el("span", { class: "when" }, a.since ? clockTime(a.since) : "")));
  if (!items.length) items.push(el("li", { class: "none" }, "目前没有预警"));
  fill($("alerts"), items);
}

function renderWindows() {
  const alerted = new Set(overview.alerts.filter((a) => a.window !== null).map((a) => a.window));
  const now = new Date(overview.status.at).getTime();
  const since = (iso) => (iso ? (now - new Date(iso).getTime()) / 1000 : null);
  const cards = overview.windows.map((w) => {
    const kind = w.status === "open" && w.current ? "serving" : w.status;
    let line;
    if (w.status === "paused") line = `暂停 ${minutes(since(w.since))}：${w.pause_reason || ""}`;
    else if (w.current) line = `办理 ${minutes(since(w.serving_since))}`;
    else if (w.status === "open") line = `空闲 ${minutes(since(w.since))}`;
    else line = "未登录";
    return el("div", {
      class: `window-card ${kind}${alerted.has(w.number) ? " alert" : ""}`,
      dataset: { window: String(w.number) },
    },
    el("div", { class: "head" }, el("span", {}, `${w.number}号`),
      el("span", { class: `badge ${kind}` }, kind === "serving" ? "办理中" : WINDOW_STATUS[w.status] || w.status)),
    el("div", { class: "name", title: w.name }, w.name),
    el("div", { class: "now" }, w.current || "—"),
    el("div", { class: "line" }, line),
    el("div", { class: "line muted" },
      w.staff ? `${w.staff_name || ""} ${w.staff}${w.covering_for ? `（替 ${w.covering_for}）` : ""}` : "",
      ` 已办 ${w.served_today}`));
  });
  const open = overview.windows.filter((w) => w.status !== "closed").length;
  $("window-count").textContent = `在岗 ${open}/${overview.windows.length}`;
  fill($("windows"), cards);
}

function renderQueues() {
  const longest = Object.fromEntries(overview.waits.map((w) => [w.code, w]));
  const services = overview.status.services
    .filter((s) => s.waiting || s.issued_today || s.open_windows)
    .sort((a, b) => b.waiting - a.waiting);
  const rows = services.map((s) => {
    const w = longest[s.code];
    return el("tr", { dataset: { service: s.code } },
      el("td", {}, s.name),
      el("td", { class: "num" }, String(s.waiting)),
      el("td", { class: "num" }, String(s.issued_today)),
      el("td", { class: "num" }, String(s.open_windows)),
      el("td", { class: "num" }, s.wait_seconds === null ? "无窗口" : minutes(s.wait_seconds)),
      el("td", { class: `num${w && w.over_threshold ? " long" : ""}` },
        w ? minutes(w.longest_wait_seconds) : "—"));
  });
  if (!rows.length) rows.push(el("tr", {}, el("td", { colspan: "6", class: "muted" }, "今日暂无取号")));
  fill($("queues"), rows);
}

function renderLongest() {
  const limit = overview.thresholds.wait_minutes * 60;
  const items = overview.longest.map((t) => el("li", {},
    el("span", { class: "number" }, t.number),
    `${t.service_name} `,
    el("span", { class: t.waited_seconds > limit ? "long" : "" }, `已等 ${minutes(t.waited_seconds)}`),
    t.target_window ? `（转 ${t.target_window}号窗口）` : ""));
  if (!items.length) items.push(el("li", { class: "muted" }, "无人等候"));
  fill($("longest"), items);
}

function renderOverview() {
  $("title").textContent = `${overview.hall} · 实时监控`;
  const notice = $("notice");
  notice.hidden = false;
  notice.textContent = overview.status.notice;
  notice.className = `badge ${overview.status.open_for_tickets ? "live" : "closed"}`;
  renderAlerts();
  renderWindows();
  renderQueues();
  renderLongest();
}

const HEADS = { windows: "窗口", staff: "人员", services: "业务" };

function renderFigures() {
  if (!figures) return;
  for (const b of document.querySelectorAll(".tabs button")) {
    b.setAttribute("aria-selected", String(b.dataset.tab === tab));
  }
  $("group-head").textContent = HEADS[tab];
  const t = figures.totals;
  $("totals").textContent = `全厅：取号 ${t.tickets_issued} · 办结 ${t.tickets_served} · 平均等候 ${minutes(t.mean_wait_seconds)} · 好评率 ${percent(t.good_rating_rate)}`;
  const groups = figures[tab].filter((g) => tab !== "services" || g.served || g.cases || g.invitations || g.no_show);
  const rows = groups.map((g) => el("tr", { dataset: { key: g.key } },
    el("td", {}, tab === "windows" ? `${g.key}号 ${g.name}` : tab === "staff" ? `${g.name} ${g.key}` : g.name),
    el("td", { class: "num" }, String(g.served)),
    el("td", { class: "num" }, String(g.no_show)),
    el("td", { class: "num" }, minutes(g.mean_wait_seconds)),
    el("td", { class: "num" }, minutes(g.mean_handling_seconds)),
    el("td", { class: "num" }, percent(g.immediate_rate)),
    el("td", { class: "num" }, percent(g.good_rate)),
    el("td", { class: "num" }, percent(g.not_rated_rate)),
    el("td", { class: `num${g.bad ? " long" : ""}` }, String(g.bad))));
  if (!rows.length) rows.push(el("tr", {}, el("td", { colspan: "9", class: "muted" }, "今日暂无数据")));
  fill($("figures"), rows);
}

// --- loading ------------------------------------------------------------------------------

function failed(error) {
  if (error instanceof ApiError && error.status !== 401) toast(error.zh || error.message, "error");
}

async function loadOverview() {
  try {
    overview = await api("GET", "/api/v1/supervisor/overview", { session });
    skew = new Date(overview.status.at).getTime() - Date.now();
    renderOverview();
  } catch (error) {
    failed(error);
  }
}

async function loadFigures() {
  try {
    figures = await api("GET", "/api/v1/supervisor/figures", { session });
    renderFigures();
  } catch (error) {
    failed(error);
  }
}

const overviewSoon = debounce(loadOverview, 250);
const figuresSoon = debounce(loadFigures, 1500);

function onEvent(event) {
  overviewSoon();
  if (/^(ticket\.(done|no_show|transferred)|evaluation\.|case\.)/.test(event.kind)) figuresSoon();
}

function startLive() {
  stopLive();
  live = new LiveEvents(() => session.token, {
    onEvent,
    onStatus: (on) => {
      const badge = $("live");
      badge.hidden = false;
      badge.className = `badge ${on ? "live" : "offline"}`;
      badge.textContent = on ? "实时" : "重连中";
      clearInterval(pollTimer);
      if (!on) pollTimer = setInterval(loadOverview, POLL_MS);
    },
    onResync: () => { overviewSoon(); figuresSoon(); },
  });
  live.start();
  refreshTimer = setInterval(() => { loadOverview(); loadFigures(); }, REFRESH_MS);
  pollTimer = setInterval(loadOverview, POLL_MS);
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
  $("hall-view").hidden = true;
  $("logout").hidden = true;
  $("who").textContent = "";
  $("login-view").hidden = false;
  $("login-error").textContent = message;
  $("login-pin").value = "";
  $("login-staff").focus();
}

async function showHall() {
  $("login-view").hidden = true;
  $("hall-view").hidden = false;
  $("logout").hidden = false;
  const d = session.data || {};
  $("who").textContent = d.name ? `${d.name} ${d.staff}` : "";
  await Promise.all([loadOverview(), loadFigures()]);
  startLive();
}

async function login(event) {
  event.preventDefault();
  $("login-error").textContent = "";
  try {
    const out = await api("POST", "/api/v1/staff/login", {
      body: { staff: $("login-staff").value.trim(), pin: $("login-pin").value },
    });
    if (out.role === "staff") {
      $("login-error").textContent = "此页面仅供督查人员使用";
      return;
    }
    session.save({ token: out.token, staff: out.staff, name: out.name });
    await showHall();
  } catch (error) {
    $("login-pin").value = "";
    if (error instanceof ApiError) {
      let text = error.status === 401 ? "工号或密码错误" : error.zh || error.message;
      if (error.status === 429 && error.retryAfter) text += `（请 ${error.retryAfter} 秒后再试）`;
      if (error.status === 422) text = "窗口人员请使用窗口工作台登录";
      $("login-error").textContent = text;
    } else {
      $("login-error").textContent = "登录失败";
    }
  }
}

async function logout() {
  try {
    await api("POST", "/api/v1/staff/logout", { session });
  } catch (error) {
    failed(error);
  }
  stopLive();
  session.clear();
  showLogin("已退出");
}

function main() {
  session.onExpired = () => { stopLive(); showLogin("登录已失效，请重新登录"); };
  $("login-form").addEventListener("submit", login);
  $("logout").addEventListener("click", logout);
  for (const b of document.querySelectorAll(".tabs button")) {
    b.addEventListener("click", () => { tab = b.dataset.tab; renderFigures(); });
  }
  document.addEventListener("keydown", (event) => {
    const tabs = { 1: "windows", 2: "staff", 3: "services" };
    if (event.altKey && tabs[event.key]) {
      event.preventDefault();
      tab = tabs[event.key];
      renderFigures();
    }
  });
  const tick = () => {
    $("clock").textContent = new Date(Date.now() + skew).toLocaleTimeString("zh-CN", { hour12: false });
  };
  tick();
  setInterval(tick, 1000);
  if (session.token) showHall();
  else showLogin();
}

main();
