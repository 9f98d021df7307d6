// Room codes and invite links.
import { el } from '/ui.js';
import { app } from '/state.js';

export function normalizeCode(input) {
  let s = String(input).trim();
  const m = s.match(/\/r\/([^/?#]+)/);
  if (m) s = decodeURIComponent(m[1]);
  s = s.toLowerCase().replace(/\s+/g, '');
  return /^[a-z0-9-]{3,64}$/.test(s) && /[a-z0-9].*[a-z0-9].*[a-z0-9]/.test(s) ? s : null;
}

export function inviteLink() {
  return `${location.origin}/r/${app.room}`;
}

export async function copyLink(button) {
  const link = inviteLink();
  const old = button.textContent;
  try {
    await navigator.clipboard.writeText(link);
    button.textContent = 'Link copied';
  } catch {
    // Clipboard API unavailable (insecure page, no permission): fall back to a selected text field.
    const t = el('textarea');
    t.value = link;
    document.body.append(t);
    t.select();
    const ok = document.execCommand && document.execCommand('copy');
    t.remove();
    button.textContent = ok ? 'Link copied' : link;
  }
  setTimeout(() => (button.textContent = old), 2000);
}
