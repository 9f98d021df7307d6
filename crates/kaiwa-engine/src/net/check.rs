//! The network check before joining: what was measured ([`CheckReport`], filled in by
//! [`super::check_run::run`]) and what it means for a call ([`CheckReport::verdict`], [`CheckReport::findings`]),
//! in plain words. Pure: no I/O here, so every verdict has a test beside it.
//!
//! - Does the signaling server answer (`GET /api/ice`, which also hands out the ICE servers)?
//! - Which public address do STUN servers see ([RFC 8489](https://www.rfc-editor.org/rfc/rfc8489)), and is it
//!   the same for two destinations? One mapping for every destination (RFC 4787 "endpoint-independent") lets
//!   two homes reach each other directly; a mapping per destination (a symmetric NAT) needs a relay.
//! - Does each TURN server hand out a relay address with the credentials the server minted, over UDP, TCP
//!   and TLS?

use std::net::SocketAddr;
use std::time::Duration;

use serde::Serialize;

/// One STUN server asked for our public address from the check's one socket.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StunProbe {
    /// `host:port`.
    pub server: String,
    /// The address the server saw, or why there is none.
    pub mapped: Result<SocketAddr, String>,
}

/// One TURN URL asked for a relay address.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TurnProbe {
    pub url: String,
    /// `udp`, `tcp` or `tls`.
    pub transport: String,
    /// The relay address, or why there is none.
    pub relay: Result<SocketAddr, String>,
}

/// Everything the check measured.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CheckReport {
    /// How long the signaling server took to answer, or why it did not.
    pub server: Result<Duration, String>,
    pub stun: Vec<StunProbe>,
    pub turn: Vec<TurnProbe>,
}

/// How the NAT in front of us maps one socket to public addresses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Mapping {
    /// The same public address for every destination (or no NAT at all).
    OneForAll,
    /// A different public address per destination: a symmetric NAT.
    PerDestination,
    /// Fewer than two STUN servers answered.
    Unknown,
}

/// What the measurements mean for a call.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "verdict")]
pub enum Verdict {
    /// The signaling server did not answer: no call can start.
    ServerUnreachable,
    /// Direct calls are likely to work.
    DirectLikely,
    /// Direct calls are unlikely; the relay works over these transports (`udp`, `tcp`, `tls`).
    RelayNeeded { via: Vec<String> },
    /// Direct calls are unlikely and no relay answered: calls will probably fail.
    NoPath,
    /// Nothing to check with: the server offers no STUN or TURN and does not answer STUN itself. Calls
    /// within the same network work; beyond it, nobody can tell.
    Unchecked,
}

/// One line of the check's result, with its figures: `Display` says it in English (`kaiwa doctor`); a
/// client with words of its own says it in its language.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Finding {
    NoCalls,
    DirectLikely,
    RelayNeeded { via: String },
    Unchecked,
    NoPath,
    ServerAnswers { ms: u64 },
    ServerSilent { error: String },
    PublicAddress { ip: String },
    NoStunServer,
    StunSilent,
    RouterOneForAll,
    RouterPerDestination,
    NoRelay,
    RelayWorks { transport: String },
    RelaySilent { transport: String, error: String },
}

impl Finding {
    /// Good news, or a problem.
    pub fn ok(&self) -> bool {
        use Finding as F;
        matches!(
            self,
            F::DirectLikely
                | F::RelayNeeded { .. }
                | F::Unchecked
                | F::ServerAnswers { .. }
                | F::PublicAddress { .. }
                | F::RouterOneForAll
                | F::RelayWorks { .. }
        )
    }
}

impl std::fmt::Display for Finding {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Finding::NoCalls => f.write_str("No calls possible: the server does not answer."),
            Finding::DirectLikely => f.write_str("Direct calls likely: your network lets calls through."),
            Finding::RelayNeeded { via } => write!(
                f,
                "Calls will need the relay: your network blocks direct calls, but the relay works (over {via})."
            ),
            Finding::Unchecked => f.write_str(
                "Calls within your network will work; the server offers nothing (STUN, TURN) to check beyond it.",
            ),
            Finding::NoPath => f.write_str(
                "Calls will probably fail: your network blocks direct calls and no relay (TURN) server answered. \
                 Ask the server's admin for a TURN server on TCP or TLS port 443.",
            ),
            Finding::ServerAnswers { ms } => write!(f, "Server: answers ({ms} ms)."),
            Finding::ServerSilent { error } => write!(f, "Server: does not answer ({error})."),
            Finding::PublicAddress { ip } => write!(f, "Public address: {ip} (as the internet sees you)."),
            Finding::NoStunServer => f.write_str("Public address: unknown (the server names no STUN server)."),
            Finding::StunSilent => f.write_str(
                "Public address: unknown, no STUN server answered (UDP seems blocked: direct calls will not work).",
            ),
            Finding::RouterOneForAll => f.write_str(
                "Router: keeps one address for everyone you talk to, so others can reach you directly.",
            ),
            Finding::RouterPerDestination => f.write_str(
                "Router: uses a new address for everyone you talk to (a symmetric NAT): direct calls will not work.",
            ),
            Finding::NoRelay => f.write_str("Relay: the server offers none (calls from blocked networks will fail)."),
            Finding::RelayWorks { transport } => write!(f, "Relay over {transport}: works."),
            Finding::RelaySilent { transport, error } => {
                write!(f, "Relay over {transport}: does not answer ({error}).")
            }
        }
    }
}

impl CheckReport {
    /// Whether STUN servers saw one public address or several (only servers that answered count).
    pub fn mapping(&self) -> Mapping {
        let mut seen = self.stun.iter().filter_map(|p| p.mapped.as_ref().ok());
        let Some(first) = seen.next() else { return Mapping::Unknown };
        let mut answered = 1;
        for other in seen {
            answered += 1;
            if other != first {
                return Mapping::PerDestination;
            }
        }
        if answered >= 2 { Mapping::OneForAll } else { Mapping::Unknown }
    }

    /// The transports over which a relay answered, in the order tried, without repeats.
    pub fn relay_transports(&self) -> Vec<String> {
        let mut via: Vec<String> = Vec::new();
        for probe in self.turn.iter().filter(|p| p.relay.is_ok()) {
            if !via.contains(&probe.transport) {
                via.push(probe.transport.clone());
            }
        }
        via
    }

    pub fn verdict(&self) -> Verdict {
        if self.server.is_err() {
            return Verdict::ServerUnreachable;
        }
        // One STUN answer with nothing to compare it to still shows UDP gets out and back: most home
        // routers keep one mapping, so direct is the likely case.
        let direct = match self.mapping() {
            Mapping::OneForAll => true,
            Mapping::PerDestination => false,
            Mapping::Unknown => self.stun.iter().any(|p| p.mapped.is_ok()),
        };
        let via = self.relay_transports();
        if !direct
            && self.turn.is_empty()
            && self.stun.iter().all(|p| p.mapped.is_err())
            && self.stun.len() <= 1
        {
            return Verdict::Unchecked;
        }
        match (direct, via.is_empty()) {
            (true, _) => Verdict::DirectLikely,
            (false, false) => Verdict::RelayNeeded { via },
            (false, true) => Verdict::NoPath,
        }
    }

    /// The result in plain words: the verdict first, then each measurement and what it means.
    pub fn findings(&self) -> Vec<Finding> {
        let mut out = vec![match self.verdict() {
            Verdict::ServerUnreachable => Finding::NoCalls,
            Verdict::DirectLikely => Finding::DirectLikely,
            Verdict::RelayNeeded { via } => Finding::RelayNeeded {
                via: via.iter().map(|t| t.to_uppercase()).collect::<Vec<_>>().join(", "),
            },
            Verdict::Unchecked => Finding::Unchecked,
            Verdict::NoPath => Finding::NoPath,
        }];
        out.push(match &self.server {
            Ok(took) => Finding::ServerAnswers { ms: took.as_millis() as u64 },
            Err(e) => Finding::ServerSilent { error: e.to_string() },
        });
        if self.server.is_err() {
            return out;
        }
        out.push(match self.stun.iter().find_map(|p| p.mapped.as_ref().ok()) {
            Some(addr) => Finding::PublicAddress { ip: addr.ip().to_string() },
            None if self.stun.is_empty() => Finding::NoStunServer,
            None => Finding::StunSilent,
        });
        match self.mapping() {
            Mapping::OneForAll => out.push(Finding::RouterOneForAll),
            Mapping::PerDestination => out.push(Finding::RouterPerDestination),
            Mapping::Unknown => {}
        }
        if self.turn.is_empty() {
            out.push(Finding::NoRelay);
        }
        for probe in &self.turn {
            let transport = probe.transport.to_uppercase();
            out.push(match &probe.relay {
                Ok(_) => Finding::RelayWorks { transport },
                Err(e) => Finding::RelaySilent { transport, error: e.to_string() },
            });
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn addr(text: &str) -> SocketAddr {
        text.parse().unwrap()
    }

    fn stun(mapped: &[Option<&str>]) -> Vec<StunProbe> {
        mapped
            .iter()
            .enumerate()
            .map(|(i, m)| StunProbe {
                server: format!("stun{i}.example:3478"),
                mapped: m.map(addr).ok_or_else(|| "no answer within 2 s".to_owned()),
            })
            .collect()
    }

    fn turn(results: &[(&str, bool)]) -> Vec<TurnProbe> {
        results
            .iter()
            .map(|(transport, ok)| TurnProbe {
                url: format!("turn:t.example:3478?transport={transport}"),
                transport: transport.to_string(),
                relay: if *ok { Ok(addr("203.0.113.9:50000")) } else { Err("no relay within 5 s".into()) },
            })
            .collect()
    }

    fn report(stun: Vec<StunProbe>, turn: Vec<TurnProbe>) -> CheckReport {
        CheckReport { server: Ok(Duration::from_millis(12)), stun, turn }
    }

    #[test]
    fn one_mapping_for_two_destinations_means_direct() {
        let r = report(stun(&[Some("198.51.100.7:4000"), Some("198.51.100.7:4000")]), vec![]);
        assert_eq!(r.mapping(), Mapping::OneForAll);
        assert_eq!(r.verdict(), Verdict::DirectLikely);
        let text = r.findings();
        assert!(text[0].ok() && text[0].to_string().starts_with("Direct calls likely"), "{text:?}");
        assert!(text.iter().any(|f| f.to_string().contains("198.51.100.7")), "{text:?}");
    }

    #[test]
    fn a_mapping_per_destination_needs_the_relay() {
        let r = report(
            stun(&[Some("198.51.100.7:4000"), Some("198.51.100.7:61234")]),
            turn(&[("udp", true), ("tcp", true), ("tls", true)]),
        );
        assert_eq!(r.mapping(), Mapping::PerDestination);
        assert_eq!(r.verdict(), Verdict::RelayNeeded { via: vec!["udp".into(), "tcp".into(), "tls".into()] });
        assert!(r.findings()[0].to_string().contains("over UDP, TCP, TLS"), "{:?}", r.findings());
    }

    #[test]
    fn no_udp_needs_a_relay_over_tcp_or_tls() {
        let r = report(stun(&[None, None]), turn(&[("udp", false), ("tcp", true), ("tls", true)]));
        assert_eq!(r.mapping(), Mapping::Unknown);
        assert_eq!(r.verdict(), Verdict::RelayNeeded { via: vec!["tcp".into(), "tls".into()] });
        let only_tls = report(stun(&[None]), turn(&[("udp", false), ("tcp", false), ("tls", true)]));
        assert_eq!(only_tls.verdict(), Verdict::RelayNeeded { via: vec!["tls".into()] });
        let text = only_tls.findings();
        assert!(text.iter().any(|f| !f.ok() && f.to_string().contains("UDP seems blocked")), "{text:?}");
    }

    #[test]
    fn nothing_through_is_no_path_and_no_server_is_said_first() {
        let r = report(stun(&[None]), turn(&[("udp", false)]));
        assert_eq!(r.verdict(), Verdict::NoPath);
        assert!(!r.findings()[0].ok());
        let down = CheckReport { server: Err("connection refused".into()), stun: vec![], turn: vec![] };
        assert_eq!(down.verdict(), Verdict::ServerUnreachable);
        assert_eq!(down.findings().len(), 2, "nothing else was measured");
    }

    #[test]
    fn a_server_with_nothing_to_check_with_is_not_a_failure() {
        // Only the server's own port was tried, and it does not answer STUN (an older server).
        let r = report(stun(&[None]), vec![]);
        assert_eq!(r.verdict(), Verdict::Unchecked);
        assert!(r.findings()[0].ok());
        // With a STUN server of its own that does not answer either, UDP is blocked.
        assert_eq!(report(stun(&[None, None]), vec![]).verdict(), Verdict::NoPath);
    }

    #[test]
    fn a_single_stun_answer_still_counts_as_direct() {
        let r = report(stun(&[Some("198.51.100.7:4000"), None]), vec![]);
        assert_eq!(r.mapping(), Mapping::Unknown);
        assert_eq!(r.verdict(), Verdict::DirectLikely);
    }
}
