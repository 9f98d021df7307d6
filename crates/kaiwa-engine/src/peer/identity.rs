//! Our DTLS identity: one certificate for every connection of an engine, announced by its fingerprint in
//! `join`, so the others can tell that a connection is really ours (docs/PROTOCOL.md, "Who is who").

use std::sync::Arc;

use kaiwa_protocol::Fingerprint;
use rtc::crypto::{self, SignatureScheme};
use rtc::peer_connection::certificate::{CertificateParams, RTCCertificate};
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
