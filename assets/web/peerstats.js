// One peer connection's statistics as the page shows them and the tests read them: our camera's and
// screen's video apart in both directions, audio, the route and the verification code.

import { canonicalFingerprint, verificationCode } from '/sdp.js';

/** `peer`'s getStats boiled down to what the UI and the tests need (JSON-serialisable). */
export async function collectStats(peer) {
  const report = await peer.pc.getStats();
  const byId = new Map();
  report.forEach((s) => byId.set(s.id, s));
  const codec = (s) => byId.get(s.codecId)?.mimeType ?? null;
  const out = {
    video: null,
    audio: null,
    outVideo: null,
    outScreen: null,
    screen: null,
    outAudio: null,
    route: null,
    candidatePair: null,
    videoFormats: peer.videoFormats,
    verificationCode: null,
  };
  let pairId = null;
  const inboundVideo = [];
  const ourScreen = peer.screenSender?.track?.id ?? null;
  for (const s of byId.values()) {
    if (s.type === 'inbound-rtp' && s.kind === 'video') {
      inboundVideo.push({
        track: s.trackIdentifier ?? null,
        framesDecoded: s.framesDecoded ?? 0,
        frameWidth: s.frameWidth ?? 0,
        frameHeight: s.frameHeight ?? 0,
        framesPerSecond: s.framesPerSecond ?? 0,
        packetsReceived: s.packetsReceived ?? 0,
        codec: codec(s),
      });
    } else if (s.type === 'inbound-rtp' && s.kind === 'audio') {
      out.audio = { packetsReceived: s.packetsReceived ?? 0, bytesReceived: s.bytesReceived ?? 0, codec: codec(s) };
    } else if (s.type === 'outbound-rtp' && s.kind === 'video') {
      const screen = ourScreen && byId.get(s.mediaSourceId)?.trackIdentifier === ourScreen;
      out[screen ? 'outScreen' : 'outVideo'] = {
        framesEncoded: s.framesEncoded ?? 0,
        framesSent: s.framesSent ?? 0,
        frameWidth: s.frameWidth ?? 0,
        frameHeight: s.frameHeight ?? 0,
        codec: codec(s),
        encoder: s.encoderImplementation ?? null,
      };
    } else if (s.type === 'outbound-rtp' && s.kind === 'audio') {
      out.outAudio = { packetsSent: s.packetsSent ?? 0, bytesSent: s.bytesSent ?? 0, codec: codec(s) };
    } else if (s.type === 'transport' && s.selectedCandidatePairId) {
      pairId = s.selectedCandidatePairId;
      const cert = (id) => {
        const c = byId.get(id);
        return c ? canonicalFingerprint(c.fingerprintAlgorithm, c.fingerprint) : null;
      };
      out.verificationCode = await verificationCode(cert(s.localCertificateId), cert(s.remoteCertificateId));
    }
  }
  // Our camera's and screen's video apart (the most frames when the camera's track is not known yet).
  const cameraTrack = peer.stream.getVideoTracks()[0]?.id;
  const screenTrack = peer.screenStream?.getVideoTracks()[0]?.id;
  out.screen = inboundVideo.find((v) => screenTrack && v.track === screenTrack) ?? null;
  const others = inboundVideo.filter((v) => v !== out.screen);
  out.video =
    others.find((v) => v.track === cameraTrack) ??
    others.reduce((best, v) => (!best || v.framesDecoded > best.framesDecoded ? v : best), null);
  if (!pairId) {
    for (const s of byId.values()) {
      if (s.type === 'candidate-pair' && s.nominated && s.state === 'succeeded') pairId = s.id;
    }
  }
  const pair = pairId && byId.get(pairId);
  if (pair) {
    const l = byId.get(pair.localCandidateId);
    const r = byId.get(pair.remoteCandidateId);
    if (l && r) {
      out.route = l.candidateType === 'relay' || r.candidateType === 'relay' ? 'relay' : 'direct';
      out.candidatePair = {
        local: l.candidateType,
        remote: r.candidateType,
        protocol: l.protocol ?? null,
        // How our own relay is reached: udp, tcp or tls (only for a local relay candidate).
        relayProtocol: l.candidateType === 'relay' ? (l.relayProtocol ?? null) : null,
      };
      const via = out.candidatePair.relayProtocol;
      if (via && via !== 'udp') out.route = `relay (${via.toUpperCase()})`;
      else if (out.route === 'direct' && l.protocol === 'tcp') out.route = 'direct (TCP)';
    }
  }
  return out;
}
