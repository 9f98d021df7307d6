// The network check on the pre-join page, as the native app runs it (kaiwa_engine::net::check): does the
// server answer (GET /api/ice, which hands out the ICE servers a join would get), which public address
// STUN sees and whether it is the same for two destinations (the TURN server's STUN and the Kaiwa server's
// own port), and whether each TURN URL gives a relay address over UDP, TCP and TLS. Each finding is a
// message of i18n/*.ftl (`id`, `args`), translated where it is shown.

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

/** Runs the check; resolves to {verdict, via, findings: [{ok, id, args}]}. */
export async function checkNetwork() {
  const findings = [];
  const started = performance.now();
  let servers;
  let failed = null;
  try {
    const res = await fetch('/api/ice', { cache: 'no-store' });
    if (!res.ok) {
      failed = { ok: false, id: 'net-server-status', args: { status: String(res.status) } };
    } else {
      servers = (await res.json()).ice_servers || [];
    }
  } catch (e) {
    failed = { ok: false, id: 'net-server-down', args: { reason: e.message } };
  }
  if (failed) {
    return { verdict: 'server_unreachable', via: [], findings: [{ ok: false, id: 'net-no-server' }, failed] };
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
      direct_likely: { ok: true, id: 'net-direct-likely' },
      relay_needed: { ok: true, id: 'net-relay-needed', args: { via: via.map((t) => t.toUpperCase()).join(', ') } },
      no_path: { ok: false, id: 'net-no-path' },
      unchecked: { ok: true, id: 'net-unchecked' },
    }[verdict],
  );
  findings.push({ ok: true, id: 'net-server-ok', args: { ms: serverMs } });
  findings.push(
    srflx.length
      ? { ok: true, id: 'net-public-address', args: { address: srflx[0].address } }
      : { ok: false, id: 'net-no-public-address' },
  );
  if (symmetric) findings.push({ ok: false, id: 'net-symmetric' });
  if (!turns.length) findings.push({ ok: false, id: 'net-no-relay' });
  for (const r of relays) {
    const args = { transport: r.transport.toUpperCase() };
    findings.push(r.ok ? { ok: true, id: 'net-relay-works', args } : { ok: false, id: 'net-relay-silent', args });
  }
  return { verdict, via, findings };
}
