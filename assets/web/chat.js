// The call's chat: lines from peers and ours, drawn into the log (text only, never HTML), each with its
// time in the page's language.
import { $, el } from '/ui.js';
import { formatTime, localize, msg } from '/i18n.js';
import { app } from '/state.js';

export function onChat(peer, line) {
  const entry = {
    from: peer.name,
    peerId: peer.id,
    text: line.text.slice(0, 10000),
    ts: Number.isFinite(line.ts) ? line.ts : Date.now(),
    self: false,
  };
  app.chat.push(entry);
  renderChat(entry);
  if ($('view-call').classList.contains('chat-hidden')) $('toggle-chat').classList.add('unread');
}

function renderChat(entry) {
  const li = el('li', entry.self ? 'me' : '');
  const meta = el('div', 'meta');
  const who = el('span', 'who');
  localize(who, entry.self ? msg('chat-you') : entry.from);
  // Re-formatted on a change of language (i18n.js).
  const when = el('time', 'when', formatTime(entry.ts));
  when.dataset.ts = String(entry.ts);
  const date = new Date(entry.ts);
  if (Number.isFinite(date.getTime())) when.dateTime = date.toISOString();
  meta.append(who, when);
  li.append(meta, el('div', 'text', entry.text));
  const log = $('chat-log');
  log.append(li);
  log.scrollTop = log.scrollHeight;
}

export function sendChat(text) {
  const line = { type: 'chat', from: app.name, text, ts: Date.now() };
  for (const p of app.peers.values()) p.send(line);
  const entry = { from: app.name, peerId: app.myId, text, ts: line.ts, self: true };
  app.chat.push(entry);
  renderChat(entry);
}
