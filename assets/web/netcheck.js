// The network check on the pre-join page, as the native app runs it (kaiwa_engine::net::check): does the
// server answer (GET /api/ice, which hands out the ICE servers a join would get), which public address
// STUN sees and whether it is the same for two destinations (the TURN server's STUN and the Kaiwa server's
// own port), and whether each TURN URL gives a relay address over UDP, TCP and TLS.

const STUN_MS = 3000;
const TURN_MS = 6000;

/** Candidates a peer connection gathers with `config` within `ms` (or until gathering completes). */
async function gather(config, ms, stopEarly = () => false) {
  const pc = new RTCPeerConnection(config);
  const found = [];
  try {
    pc.createDataChannel('check');
    const done = new Promise((resolve) => {
      const timer = setTimeout(resolve, ms);
      pc.onicecandidate = (e) => {
        if (!e.candidate) {
          clearTimeout(timer);
          resolve();
          return;
        }
        found.push(e.candidate);
        if (stopEarly(e.candidate)) {
          clearTimeout(timer);
          resolve();
        }
      };
    });
    await pc.setLocalDescription(await pc.createOffer());
    await done;
  } finally {
    pc.close();
  }
  return found;
}

function transportOf(url) {
  if (url.startsWith('turns:')) return 'tls';
  return /transport=tcp/i.test(url) ? 'tcp' : 'udp';
}

/** Runs the check; resolves to {verdict, via, findings: [{ok, text}]}. */
export async function checkNetwork() {
  const findings = [];
  const started = performance.now();
  let servers;
  try {
    const res = await fetch('/api/ice', { cache: 'no-store' });
    if (!res.ok) throw new Error(`the server said ${res.status}`);
    servers = (await res.json()).ice_servers || [];
  } catch (e) {
    return {
      verdict: 'server_unreachable',
      via: [],
      findings: [
        { ok: false, text: 'No calls possible: the server does not answer.' },
        { ok: false, text: `Server: does not answer (${e.message}).` },
      ],
    };
  }
  const serverMs = Math.round(performance.now() - started);
  const urls = servers.flatMap((s) => (Array.isArray(s.urls) ? s.urls : [s.urls]).map((url) => ({ url, s })));
  const stunUrls = urls.filter(({ url }) => url.startsWith('stun:')).map(({ url }) => url);
  const port = location.port || (location.protocol === 'https:' ? '443' : '80');
  stunUrls.push(`stun:${location.hostname}:${port}`);
  const turns = urls.filter(({ url }) => /^turns?:/.test(url));

  const [srflx, relays] = await Promise.all([
    gather({ iceServers: [{ urls: stunUrls }] }, STUN_MS).then((c) => c.filter((x) => x.type === 'srflx')),
    Promise.all(
      turns.map(({ url, s }) =>
        gather(
          { iceServers: [{ urls: url, username: s.username, credential: s.credential }], iceTransportPolicy: 'relay' },
          TURN_MS,
          (c) => c.type === 'relay',
        ).then((c) => ({ url, transport: transportOf(url), ok: c.some((x) => x.type === 'relay') })),
      ),
    ),
  ]);
  // Chromium keeps one server-reflexive candidate per distinct mapping: two for one local socket mean the
  // NAT mapped the two destinations apart (a symmetric NAT).
  const mappings = new Set(srflx.map((c) => `${c.address}:${c.port}`));
  const symmetric = new Set(srflx.map((c) => c.address)).size < mappings.size;
  const via = [...new Set(relays.filter((r) => r.ok).map((r) => r.transport))];
  let verdict;
  if (srflx.length > 0 && !symmetric) verdict = 'direct_likely';
  else if (srflx.length === 0 && turns.length === 0 && stunUrls.length <= 1) verdict = 'unchecked';
  else verdict = via.length ? 'relay_needed' : 'no_path';

  findings.push(
    {
      direct_likely: { ok: true, text: 'Direct calls likely: your network lets calls through.' },
      relay_needed: {
        ok: true,
        text: `Calls will need the relay: your network blocks direct calls, but the relay works (over ${via
          .map((t) => t.toUpperCase())
          .join(', ')}).`,
      },
      no_path: {
        ok: false,
        text: 'Calls will probably fail: your network blocks direct calls and no relay (TURN) server answered.',
      },
      unchecked: {
        ok: true,
        text: 'Calls within your network will work; the server offers nothing (STUN, TURN) to check beyond it.',
      },
    }[verdict],
  );
  findings.push({ ok: true, text: `Server: answers (${serverMs} ms).` });
  findings.push(
    srflx.length
      ? { ok: true, text: `Public address: ${srflx[0].address} (as the internet sees you).` }
      : { ok: false, text: 'Public address: unknown, no STUN server answered (UDP seems blocked).' },
  );
  if (symmetric) {
    findings.push({
      ok: false,
      text: 'Router: uses a new address for everyone you talk to (a symmetric NAT): direct calls will not work.',
    });
  }
  if (!turns.length) findings.push({ ok: false, text: 'Relay: the server offers none.' });
  for (const r of relays) {
    findings.push({ ok: r.ok, text: `Relay over ${r.transport.toUpperCase()}: ${r.ok ? 'works' : 'does not answer'}.` });
  }
  return { verdict, via, findings };
}
