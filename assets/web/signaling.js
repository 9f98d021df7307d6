// The WebSocket to the signaling server (docs/PROTOCOL.md): join, relay, reconnect with backoff.

export class Signaling {
  /**
   * @param {{room: string, name: string, onMessage: (msg: object) => void, onStatus: (s: string) => void}} opts
   */
  constructor({ room, name, onMessage, onStatus }) {
    this.room = room;
    this.name = name;
    this.onMessage = onMessage;
    this.onStatus = onStatus;
    this.url = `${location.protocol === 'https:' ? 'wss:' : 'ws:'}//${location.host}/ws`;
    this.ws = null;
    this.attempt = 0;
    this.timer = 0;
    this.stopped = false;
    this.status = 'idle';
  }

  start() {
    this.stopped = false;
    this.#connect();
  }

  #setStatus(s) {
    this.status = s;
    this.onStatus(s);
  }

  #connect() {
    this.#setStatus(this.attempt === 0 ? 'connecting' : 'reconnecting');
    const ws = new WebSocket(this.url);
    this.ws = ws;
    ws.onopen = () => {
      if (this.ws !== ws) return;
      // `sfu`: this page can take part in big rooms through the SFU (sfu.js).
      ws.send(JSON.stringify({ type: 'join', room: this.room, name: this.name, version: 1, sfu: true }));
    };
    ws.onmessage = (e) => {
      if (this.ws !== ws || typeof e.data !== 'string') return;
      let msg;
      try {
        msg = JSON.parse(e.data);
      } catch {
        return;
      }
      if (msg && msg.type === 'joined') {
        this.attempt = 0;
        this.#setStatus('joined');
      }
      this.onMessage(msg);
    };
    ws.onclose = () => {
      if (this.ws !== ws) return;
      this.ws = null;
      if (this.stopped) return;
      this.#schedule();
    };
    ws.onerror = () => {}; // onclose follows
  }

  #schedule() {
    // 0.5 s, 1 s, 2 s, ... up to 10 s, with jitter so a restarted server is not hit all at once.
    const base = Math.min(10000, 500 * 2 ** this.attempt);
    const delay = Math.round(base * (0.75 + Math.random() * 0.5));
    this.attempt++;
    this.#setStatus('reconnecting');
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      if (!this.stopped) this.#connect();
    }, delay);
  }

  send(msg) {
    if (this.ws && this.ws.readyState === WebSocket.OPEN) {
      this.ws.send(JSON.stringify(msg));
      return true;
    }
    return false;
  }

  signal(to, data) {
    return this.send({ type: 'signal', to, data });
  }

  /** Leaves the room and stops reconnecting. */
  stop() {
    this.stopped = true;
    clearTimeout(this.timer);
    const ws = this.ws;
    this.ws = null;
    if (ws) {
      try {
        if (ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify({ type: 'leave' }));
        ws.close(1000);
      } catch {
        // closing anyway
      }
    }
    this.#setStatus('stopped');
  }
}
