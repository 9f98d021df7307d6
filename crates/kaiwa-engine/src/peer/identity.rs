//! Our DTLS identity: one certificate for every connection of an engine, announced by its fingerprint in
//! `join`, so the others can tell that a connection is really ours (docs/PROTOCOL.md, "Who is who"); and
//! the verification code two people read to each other to know no one sits between them.

use std::sync::Arc;

use kaiwa_protocol::Fingerprint;
use rtc::crypto::{self, SignatureScheme};
use rtc::peer_connection::certificate::{CertificateParams, RTCCertificate};
use sha2::{Digest, Sha256};
use webrtc::peer_connection::PeerConnection;

/// A certificate and its fingerprint in SDP form (`sha-256 AB:…`).
#[derive(Clone, Debug)]
pub struct Identity {
    certificate: RTCCertificate,
    fingerprint: String,
}

#[derive(Debug, thiserror::Error)]
#[error("cannot make a DTLS certificate: {0}")]
pub struct IdentityError(String);

impl Identity {
    /// A fresh ECDSA P-256 certificate (what browsers make by default).
    pub fn generate() -> Result<Identity, IdentityError> {
        let err = |e: &dyn std::fmt::Display| IdentityError(e.to_string());
        let provider = crypto::default_provider().map_err(|e| err(&e))?;
        let params = CertificateParams::new(vec!["kaiwa".to_owned()]).map_err(|e| err(&e))?;
        let certificate =
            RTCCertificate::generate(provider.crypto(), SignatureScheme::EcdsaP256Sha256, params)
                .map_err(|e| err(&e))?;
        let der = certificate.dtls_certificate.certificate.first().ok_or_else(|| err(&"empty chain"))?;
        let fingerprint = Fingerprint::of_digest(&kaiwa_tls::Fingerprint::of_der(der.as_ref()).0);
        Ok(Identity { certificate, fingerprint })
    }

    pub fn certificate(&self) -> &RTCCertificate {
        &self.certificate
    }

    pub fn fingerprint(&self) -> &str {
        &self.fingerprint
    }
}

/// The fingerprint of the certificate the peer presented in the DTLS handshake of `pc` (not what its SDP
/// claimed), once the handshake is done.
pub async fn remote_fingerprint(pc: &Arc<dyn PeerConnection>) -> Option<String> {
    let sctp = pc.sctp().await?;
    let chain = sctp.transport().get_remote_certificates().await.ok()?;
    let der = chain.first()?;
    Some(Fingerprint::of_digest(&kaiwa_tls::Fingerprint::of_der(der).0))
}

/// What the verification code's hash starts with (a version, so a later derivation cannot be confused).
const CODE_CONTEXT: &str = "kaiwa-verify-1";

/// The verification code of a connection whose two ends used the certificates with fingerprints `a` and
/// `b` (either order; SDP form): the first 4 bytes of SHA-256 over `kaiwa-verify-1`, the lower and the
/// higher fingerprint (byte order), each on its own line, as a big-endian number, modulo 1 000 000, shown
/// `123 456`. Both ends compute the same; a signaling server that swapped fingerprints to sit in between
/// holds other certificates, so the two ends show different codes. `None` for a malformed fingerprint.
pub fn verification_code(a: &str, b: &str) -> Option<String> {
    let (a, b) = (Fingerprint::normalize(a)?, Fingerprint::normalize(b)?);
    let (lower, higher) = if a <= b { (a, b) } else { (b, a) };
    let digest = Sha256::digest(format!("{CODE_CONTEXT}\n{lower}\n{higher}").as_bytes());
    let n = u32::from_be_bytes([digest[0], digest[1], digest[2], digest[3]]) % 1_000_000;
    Some(format!("{:03} {:03}", n / 1000, n % 1000))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fp(byte: &str) -> String {
        format!("sha-256 {}", vec![byte; 32].join(":"))
    }

    #[test]
    fn both_ends_get_the_same_code_and_the_browser_the_same_as_we() {
        // The same vector as assets/web/sdp.js `verificationCode` (checked in the browser tests).
        assert_eq!(verification_code(&fp("AB"), &fp("01")).as_deref(), Some("753 227"));
        assert_eq!(verification_code(&fp("01"), &fp("AB")).as_deref(), Some("753 227"));
        // Lower-case hex (as some browsers write it) is the same certificate.
        assert_eq!(verification_code(&fp("ab"), &fp("01")).as_deref(), Some("753 227"));
        assert_ne!(verification_code(&fp("AB"), &fp("02")), verification_code(&fp("AB"), &fp("01")));
        assert_eq!(verification_code("sha-256 AB", &fp("01")), None);
    }

    #[test]
    fn a_fresh_identity_has_a_canonical_fingerprint() {
        let id = Identity::generate().unwrap();
        assert_eq!(Fingerprint::normalize(id.fingerprint()).as_deref(), Some(id.fingerprint()));
        assert_ne!(Identity::generate().unwrap().fingerprint(), id.fingerprint());
    }
}
