// The call's chat: lines from peers and ours, drawn into the log (text only, never HTML).
import { $, el, formatTime } from '/ui.js';
import { app } from '/state.js';

export function onChat(peer, msg) {
  const entry = {
    from: peer.name,
    peerId: peer.id,
    text: msg.text.slice(0, 10000),
    ts: Number.isFinite(msg.ts) ? msg.ts : Date.now(),
    self: false,
  };
  app.chat.push(entry);
  renderChat(entry);
  if ($('view-call').classList.contains('chat-hidden')) $('toggle-chat').classList.add('unread');
}

function renderChat(entry) {
  const li = el('li', entry.self ? 'me' : '');
  const meta = el('div', 'meta');
  meta.append(el('span', 'who', entry.self ? 'You' : entry.from), el('span', 'when', formatTime(entry.ts)));
  li.append(meta, el('div', 'text', entry.text));
  const log = $('chat-log');
  log.append(li);
  log.scrollTop = log.scrollHeight;
}

export function sendChat(text) {
  const msg = { type: 'chat', from: app.name, text, ts: Date.now() };
  for (const p of app.peers.values()) p.send(msg);
  const entry = { from: app.name, peerId: app.myId, text, ts: msg.ts, self: true };
  app.chat.push(entry);
  renderChat(entry);
}
