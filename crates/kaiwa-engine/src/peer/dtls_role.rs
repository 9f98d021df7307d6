//! Which end of the DTLS handshake we take when we answer. RFC 5763 §5 lets the answerer of the first
//! exchange choose (`a=setup:active` or `passive`), and the roles then stay: an answer in a later exchange
//! must repeat the role the answerer has ([RFC 8842 §5.5]). webrtc-rs 0.21 answers with one configured
//! role every time (`active` by default) and refuses an answer whose SDP we changed. So after it offered
//! first and Chromium answered `active` (Chromium's answers always are), its `active` answer to Chromium's
//! later offer (a page sharing its screen) was refused by Chromium ("Failed to set SSL role for the
//! transport") and the shared screen never arrived. webrtc-rs itself ignores the role of later
//! descriptions, which is why calls between two native clients never showed it.
//!
//! The fix is the role each connection answers with, chosen when it is made: the side that offers first
//! will be the passive end once the other answers `active` (every browser and webrtc-rs does), so its later
//! answers say `passive`; the side that answers first takes `active` and keeps it.
//!
//! [RFC 8842 §5.5]: https://www.rfc-editor.org/rfc/rfc8842#section-5.5

use rtc::peer_connection::transport::RTCDtlsRole;

/// The DTLS role a connection answers with, all along: passive when we make its first offer, active when
/// we answer it.
pub fn answering_role(we_offer_first: bool) -> RTCDtlsRole {
    if we_offer_first { RTCDtlsRole::Server } else { RTCDtlsRole::Client }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_offerer_answers_as_the_passive_end_the_first_answerer_as_the_active_one() {
        assert_eq!(answering_role(true), RTCDtlsRole::Server);
        assert_eq!(answering_role(false), RTCDtlsRole::Client);
    }
}
