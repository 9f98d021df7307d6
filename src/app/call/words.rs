//! The words and colours a peer's figures turn into: the quality dot and the stats popover's text.

use eframe::egui::Color32;
use kaiwa_engine::PeerState;
use kaiwa_engine::stats::PeerStats;
use kaiwa_media::video::VideoCodec;

use super::state::PeerView;
use crate::app::i18n::t;
use crate::app::theme;

/// Good / fair / poor from round-trip time, loss and freezes.
pub fn quality(p: &PeerView) -> (Color32, String) {
    let Some(s) = &p.stats else { return (theme::MUTED_TEXT, t!("quality-measuring")) };
    let lost = s.video_in.packets_lost.max(0) as f64;
    let loss = lost / (s.video_in.packets as f64 + lost).max(1.0);
    let rtt = s.rtt_ms.unwrap_or(0.0);
    if p.state != PeerState::Connected {
        (theme::WARN, t!("quality-connecting"))
    } else if rtt > 400.0 || loss > 0.08 {
        (theme::DANGER, t!("quality-poor"))
    } else if rtt > 150.0 || loss > 0.02 {
        (theme::WARN, t!("quality-fair"))
    } else {
        (theme::GOOD, t!("quality-good"))
    }
}

pub fn stats_text(p: &PeerView) -> String {
    let Some(s) = &p.stats else { return t!("stats-none") };
    let lost = s.video_in.packets_lost.max(0) as f64;
    let loss = 100.0 * lost / (s.video_in.packets as f64 + lost).max(1.0);
    let path = match (s.local_candidate.as_deref(), s.relay_transport.as_deref()) {
        (Some("relay"), Some(transport)) => {
            t!("stats-path-relayed-over", transport = transport.to_uppercase())
        }
        (Some("relay"), None) => t!("stats-path-relayed"),
        (Some(_), _) if s.pair_protocol.as_deref() == Some("tcp") => t!("stats-path-direct-tcp"),
        (Some(_), _) => t!("stats-path-direct"),
        (None, _) => "—".to_owned(),
    };
    let rtt = s.rtt_ms.map(|r| format!("{r:.0} ms")).unwrap_or("—".into());
    let codecs = codecs_text(s.video_in.codec.as_deref(), s.out.video_codec.as_deref());
    let lines = [
        t!("stats-round-trip", value = rtt),
        t!("stats-loss", value = format!("{loss:.1} %")),
        t!("stats-receiving", value = format!("{:.0} kbit/s", p.kbps)),
        t!("stats-video", value = format!("{}×{} {:.0} fps", s.video_in.width, s.video_in.height, p.fps)),
        t!("stats-codec", value = codecs),
        t!("stats-freezes", value = s.video_in.freezes),
        t!("stats-connection", value = path),
    ];
    let mut text = lines.join("\n") + &their_formats(s);
    if let Some(code) = &s.verification_code {
        text += &format!("\n{}", t!("stats-verification", code = code.clone()));
    }
    text
}

/// With no common video format: the formats the peer offered, so someone can tell what it lacks.
fn their_formats(s: &PeerStats) -> String {
    if !s.video_formats.unavailable() {
        return String::new();
    }
    let theirs = match s.video_formats.peer_codecs.as_slice() {
        [] => t!("stats-formats-unknown"),
        theirs => theirs.join(", "),
    };
    format!("\n{}", t!("stats-their-formats", formats = theirs))
}

/// "VP8", or "H.264 in, VP8 out" when the two directions differ.
fn codecs_text(received: Option<&str>, sent: Option<&str>) -> String {
    let name = |m: Option<&str>| m.and_then(VideoCodec::from_mime_type).map(|c| c.to_string());
    match (name(received), name(sent)) {
        (Some(r), Some(s)) if r == s => r,
        (Some(r), Some(s)) => t!("stats-codec-in-out", received = r, sent = s),
        (Some(r), None) => t!("stats-codec-in", received = r),
        (None, Some(s)) => t!("stats-codec-out", sent = s),
        (None, None) => "—".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::codecs_text;

    #[test]
    fn codecs_are_named_once_when_both_directions_agree() {
        crate::app::i18n::set_thread_language(Some(crate::app::i18n::Language::En));
        assert_eq!(codecs_text(Some("video/VP8"), Some("video/VP8")), "VP8");
        assert_eq!(codecs_text(Some("video/H264"), Some("video/VP8")), "H.264 in, VP8 out");
        assert_eq!(codecs_text(None, Some("video/VP8")), "VP8 out");
        assert_eq!(codecs_text(Some("video/unknown"), None), "—");
    }
}
