// Room codes and invite links.
import { el } from '/ui.js';
import { app } from '/state.js';
import { localize, msg } from '/i18n.js';

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

/** Copies the invite link and says so on `button` for two seconds (then its message is back). */
export async function copyLink(button) {
  const link = inviteLink();
  const { l10nId, l10nArgs } = button.dataset;
  const old = l10nId ? msg(l10nId, l10nArgs ? JSON.parse(l10nArgs) : undefined) : button.textContent;
  try {
    await navigator.clipboard.writeText(link);
    localize(button, msg('link-copied'));
  } catch {
    // Clipboard API unavailable (insecure page, no permission): fall back to a selected text field.
    const t = el('textarea');
    t.value = link;
    document.body.append(t);
    t.select();
    const ok = document.execCommand && document.execCommand('copy');
    t.remove();
    localize(button, ok ? msg('link-copied') : link);
  }
  setTimeout(() => localize(button, old), 2000);
}
