//! Whether to believe a peer that says, over our connection to it, that its signaling id is now another.
//!
//! After a signaling server restart everyone rejoins under new ids and announces the new one over the
//! connections that survived (`{"type":"id"}`), so they are kept rather than rebuilt. A participant could
//! claim someone else's id the same way and take their place. A claim therefore counts only when the id's
//! owner, as the server announced it, uses the very certificate that the claiming connection's peer
//! presented in its DTLS handshake: only the holder of that certificate's private key can make it
//! (docs/PROTOCOL.md, "Who is who").
// Receive path: input from other participants is indexed only with checks (`get`), never `[i]`.
#![warn(clippy::indexing_slicing)]

use kaiwa_protocol::PeerInfo;

use super::session::IdClaim;

/// What to do with a claim.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// File the connection under the new id.
    Accept,
    /// The server has not announced the new id to us yet: ask again when it does.
    Wait,
    /// Never: the reason, for the log.
    Refuse(&'static str),
}

/// Judges `claim`, made over a connection we have (`claimant_known`), given what the server announced for
/// the claimed id (`announced`), if anything yet.
pub fn judge(claim: &IdClaim, claimant_known: bool, announced: Option<&PeerInfo>) -> Verdict {
    if !claimant_known {
        return Verdict::Refuse("no connection under the old id");
    }
    if claim.old == claim.new {
        return Verdict::Refuse("the same id");
    }
    let Some(announced) = announced else { return Verdict::Wait };
    match (&announced.fingerprint, &claim.fingerprint) {
        (None, _) => Verdict::Refuse("the id's owner announced no certificate"),
        (_, None) => Verdict::Refuse("the connection has no handshake yet"),
        (Some(theirs), Some(presented)) if theirs == presented => Verdict::Accept,
        _ => Verdict::Refuse("the connection's certificate is not the id owner's"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fp(byte: u8) -> Option<String> {
        Some(kaiwa_protocol::Fingerprint::of_digest(&[byte; 32]))
    }

    fn claim(presented: Option<String>) -> IdClaim {
        IdClaim { old: "old".into(), new: "new".into(), fingerprint: presented }
    }

    fn owner(fingerprint: Option<String>) -> PeerInfo {
        PeerInfo { fingerprint, ..PeerInfo::new("new", "Bo") }
    }

    #[test]
    fn only_the_holder_of_the_announced_certificate_takes_the_id() {
        assert_eq!(judge(&claim(fp(1)), true, Some(&owner(fp(1)))), Verdict::Accept);
        // Mallory, over her own connection, claiming Bo's id: her certificate is not Bo's.
        assert!(matches!(judge(&claim(fp(2)), true, Some(&owner(fp(1)))), Verdict::Refuse(_)));
    }

    #[test]
    fn a_claim_waits_for_the_servers_announcement_and_needs_certificates_on_both_sides() {
        assert_eq!(judge(&claim(fp(1)), true, None), Verdict::Wait);
        assert!(matches!(judge(&claim(fp(1)), true, Some(&owner(None))), Verdict::Refuse(_)));
        assert!(matches!(judge(&claim(None), true, Some(&owner(fp(1)))), Verdict::Refuse(_)));
        assert!(matches!(judge(&claim(None), true, Some(&owner(None))), Verdict::Refuse(_)));
    }

    #[test]
    fn claims_over_unknown_connections_or_to_the_same_id_are_refused() {
        assert!(matches!(judge(&claim(fp(1)), false, Some(&owner(fp(1)))), Verdict::Refuse(_)));
        let same = IdClaim { old: "new".into(), ..claim(fp(1)) };
        assert!(matches!(judge(&same, true, Some(&owner(fp(1)))), Verdict::Refuse(_)));
    }
}
