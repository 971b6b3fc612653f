// The live event stream (docs/events.md): WebSocket /api/v1/events/stream, first message
// {"token", "since", "kinds"}; events {"type": "event", "seq", "kind", "window", ...}.
// Reconnects with backoff and resumes from the last seq seen; while the stream is down the page
// is told so (onStatus) and should poll.

const PATH = "/api/v1/events/stream";

export class LiveEvents {
  /**
   * @param {() => string|null} token the current session token
   * @param {{kinds?: string[], onEvent: (e: object) => void, onStatus?: (live: boolean) => void,
   *          onResync?: () => void}} options
   */
  constructor(token, { kinds = [], onEvent, onStatus = () => {}, onResync = () => {} }) {
    this.token = token;
    this.kinds = kinds;
    this.onEvent = onEvent;
    this.onStatus = onStatus;
    this.onResync = onResync;
    this.since = null;
    this.socket = null;
    this.delay = 500;
    this.stopped = false;
    this.live = false;
    this.timer = null;
  }

  start() {
    this.stopped = false;
    this.connect();
  }

  stop() {
    this.stopped = true;
    clearTimeout(this.timer);
    if (this.socket) this.socket.close(1000, "page closed");
    this.socket = null;
    this.setLive(false);
  }

  setLive(live) {
    if (live !== this.live) {
      this.live = live;
      this.onStatus(live);
    }
  }

  connect() {
    const token = this.token();
    if (this.stopped || !token) return;
    const scheme = location.protocol === "https:" ? "wss:" : "ws:";
    let socket;
    try {
      socket = new WebSocket(`${scheme}//${location.host}${PATH}`);
    } catch {
      this.retry();
      return;
    }
    this.socket = socket;
    socket.addEventListener("open", () => {
      const hello = { token, since: this.since };
      if (this.kinds.length) hello.kinds = this.kinds;
      socket.send(JSON.stringify(hello));
    });
    socket.addEventListener("message", (message) => {
      let data;
      try {
        data = JSON.parse(message.data);
      } catch {
        return;
      }
      if (data.type === "hello") {
        this.delay = 500;
        if (this.since === null) this.since = data.head;
        this.setLive(true);
        this.onResync();
      } else if (data.type === "event") {
        this.since = data.seq;
        this.onEvent(data);
      } else if (data.type === "heartbeat" || data.type === "live") {
        if (typeof data.seq === "number" && (this.since === null || data.seq > this.since)) {
          this.since = data.seq;
        }
      }
    });
    socket.addEventListener("close", (event) => {
      if (this.socket !== socket) return;
      this.socket = null;
      this.setLive(false);
      if (event.code === 4401) return; // the session ended: the page logs out
      this.retry();
    });
  }

  retry() {
    if (this.stopped) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.connect(), this.delay);
    this.delay = Math.min(this.delay * 2, 15000);
  }
}

/** Call fn at most once per `wait` ms, at the end of a burst. */
export function debounce(fn, wait) {
  let timer = null;
  return (...args) => {
    clearTimeout(timer);
    timer = setTimeout(() => fn(...args), wait);
  };
}
