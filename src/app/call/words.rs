//! The words and colours a peer's figures turn into: the quality dot and the stats popover's text.

use eframe::egui::Color32;
use kaiwa_engine::PeerState;
use kaiwa_engine::stats::PeerStats;
use kaiwa_media::video::VideoCodec;

use super::state::PeerView;
use crate::app::theme;

/// Good / fair / poor from round-trip time, loss and freezes.
pub fn quality(p: &PeerView) -> (Color32, &'static str) {
    let Some(s) = &p.stats else { return (theme::MUTED_TEXT, "measuring") };
    let lost = s.video_in.packets_lost.max(0) as f64;
    let loss = lost / (s.video_in.packets as f64 + lost).max(1.0);
    let rtt = s.rtt_ms.unwrap_or(0.0);
    if p.state != PeerState::Connected {
        (theme::WARN, "connecting")
    } else if rtt > 400.0 || loss > 0.08 {
        (theme::DANGER, "poor")
    } else if rtt > 150.0 || loss > 0.02 {
        (theme::WARN, "fair")
    } else {
        (theme::GOOD, "good")
    }
}

pub fn stats_text(p: &PeerView) -> String {
    let Some(s) = &p.stats else { return "No figures yet".into() };
    let lost = s.video_in.packets_lost.max(0) as f64;
    let loss = 100.0 * lost / (s.video_in.packets as f64 + lost).max(1.0);
    let path = match (s.local_candidate.as_deref(), s.relay_transport.as_deref()) {
        (Some("relay"), Some(transport)) => format!("relayed (TURN over {})", transport.to_uppercase()),
        (Some("relay"), None) => "relayed (TURN)".to_owned(),
        (Some(_), _) if s.pair_protocol.as_deref() == Some("tcp") => "direct (over TCP)".to_owned(),
        (Some(_), _) => "direct".to_owned(),
        (None, _) => "—".to_owned(),
    };
    format!(
        "Round trip  {}\nLoss  {loss:.1} %\nReceiving  {:.0} kbit/s\nVideo  {}×{} at {:.0} fps\nCodec  {}\nFreezes  {}\nConnection  {path}",
        s.rtt_ms.map(|r| format!("{r:.0} ms")).unwrap_or("—".into()),
        p.kbps,
        s.video_in.width,
        s.video_in.height,
        p.fps,
        codecs_text(s.video_in.codec.as_deref(), s.out.video_codec.as_deref()),
        s.video_in.freezes,
    ) + &their_formats(s)
        + &s.verification_code
            .as_ref()
            .map(|code| {
                format!("\nVerification code  {code}\n(the same on their screen: no one is in between)")
            })
            .unwrap_or_default()
}

/// With no common video format: the formats the peer offered, so someone can tell what it lacks.
fn their_formats(s: &PeerStats) -> String {
    if !s.video_formats.unavailable() {
        return String::new();
    }
    match s.video_formats.peer_codecs.as_slice() {
        [] => "\nTheir video formats  unknown (none in common)".to_owned(),
        theirs => format!("\nTheir video formats  {} (none in common)", theirs.join(", ")),
    }
}

/// "VP8", or "H.264 in, VP8 out" when the two directions differ.
fn codecs_text(received: Option<&str>, sent: Option<&str>) -> String {
    let name = |m: Option<&str>| m.and_then(VideoCodec::from_mime_type).map(|c| c.to_string());
    match (name(received), name(sent)) {
        (Some(r), Some(s)) if r == s => r,
        (Some(r), Some(s)) => format!("{r} in, {s} out"),
        (Some(r), None) => format!("{r} in"),
        (None, Some(s)) => format!("{s} out"),
        (None, None) => "—".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::codecs_text;

    #[test]
    fn codecs_are_named_once_when_both_directions_agree() {
        assert_eq!(codecs_text(Some("video/VP8"), Some("video/VP8")), "VP8");
        assert_eq!(codecs_text(Some("video/H264"), Some("video/VP8")), "H.264 in, VP8 out");
        assert_eq!(codecs_text(None, Some("video/VP8")), "VP8 out");
        assert_eq!(codecs_text(Some("video/unknown"), None), "—");
    }
}
