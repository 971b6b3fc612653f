// Calls to the center's JSON API. The session token lives in this tab's sessionStorage only and
// travels as "Authorization: Bearer"; it never appears in a URL.

export class ApiError extends Error {
  constructor(status, body) {
    super((body && body.message) || `HTTP ${status}`);
    this.status = status;
    this.code = (body && body.error) || "error";
    this.zh = (body && body.zh) || zhFor(status);
    this.retryAfter = null;
  }
}

function zhFor(status) {
  if (status === 0) return "无法连接服务器，请检查网络";
  if (status === 401) return "登录已失效，请重新登录";
  if (status === 403) return "无权进行此操作";
  if (status === 404) return "未找到";
  if (status >= 500) return "系统暂不可用，请稍后再试";
  return "操作未成功";
}

/** A random key for Idempotency-Key (works outside secure contexts too). */
export function requestKey() {
  const bytes = new Uint8Array(16);
  crypto.getRandomValues(bytes);
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

export class Session {
  /** @param {string} name sessionStorage key of this page's session */
  constructor(name) {
    this.name = name;
    this.data = null;
    try {
      this.data = JSON.parse(sessionStorage.getItem(name) || "null");
    } catch {
      this.data = null;
    }
    this.onExpired = () => {};
  }

  get token() { return this.data ? this.data.token : null; }

  save(data) {
    this.data = data;
    sessionStorage.setItem(this.name, JSON.stringify(data));
  }

  clear() {
    this.data = null;
    sessionStorage.removeItem(this.name);
  }
}

/**
 * One JSON request. Throws ApiError (status 0 when the center cannot be reached).
 * @param {string} method
 * @param {string} path
 * @param {{session?: Session, body?: unknown, idempotent?: boolean}} options
 */
export async function api(method, path, { session = null, body = undefined, idempotent = false } = {}) {
  const headers = { Accept: "application/json" };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (session && session.token) headers.Authorization = `Bearer ${session.token}`;
  if (idempotent) headers["Idempotency-Key"] = requestKey();
  let response;
  try {
    response = await fetch(path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      cache: "no-store",
      credentials: "omit",
      referrerPolicy: "no-referrer",
    });
  } catch {
    throw new ApiError(0, null);
  }
  let data = null;
  const text = await response.text();
  if (text) {
    try {
      data = JSON.parse(text);
    } catch {
      data = null;
    }
  }
  if (!response.ok) {
    const error = new ApiError(response.status, data);
    error.retryAfter = response.headers.get("Retry-After");
    if (response.status === 401 && session && session.token) {
      session.clear();
      session.onExpired(error);
    }
    throw error;
  }
  return data;
}
