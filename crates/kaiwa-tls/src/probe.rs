//! Learning which certificate a server presents, before deciding whether to trust it: a verifier that
//! notes the leaf certificate's fingerprint and whether a normal (certificate-authority) verifier accepts
//! it, then ends the handshake. Nothing is sent to the server after its certificate.

use std::sync::{Arc, Mutex};

use rustls::DigitallySignedStruct;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};

use crate::Fingerprint;

/// The certificate a server presented.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PresentedCert {
    pub fingerprint: Fingerprint,
    /// Whether the authority verifier accepted it for the name we asked for.
    pub authority_valid: bool,
}

/// Records the presented certificate and always fails the handshake (the probe's connection is dropped).
#[derive(Debug)]
pub struct ProbeVerifier {
    authority: Arc<dyn ServerCertVerifier>,
    seen: Mutex<Option<PresentedCert>>,
}

/// The error a probe handshake ends with once the certificate is recorded.
pub const PROBE_DONE: &str = "kaiwa certificate probe: certificate recorded";

impl ProbeVerifier {
    /// `authority` decides `authority_valid` (e.g. rustls's Web PKI verifier with Mozilla's roots).
    pub fn new(authority: Arc<dyn ServerCertVerifier>) -> ProbeVerifier {
        ProbeVerifier { authority, seen: Mutex::new(None) }
    }

    /// What the last handshake presented, if it got that far.
    pub fn presented(&self) -> Option<PresentedCert> {
        self.seen.lock().map(|s| *s).unwrap_or(None)
    }
}

impl ServerCertVerifier for ProbeVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let authority_valid = self
            .authority
            .verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now)
            .is_ok();
        let cert = PresentedCert { fingerprint: Fingerprint::of_der(end_entity.as_ref()), authority_valid };
        if let Ok(mut seen) = self.seen.lock() {
            *seen = Some(cert);
        }
        Err(rustls::Error::General(PROBE_DONE.into()))
    }

    fn verify_tls12_signature(
        &self,
        _message: &[u8],
        _cert: &CertificateDer<'_>,
        _dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        Err(rustls::Error::General(PROBE_DONE.into()))
    }

    fn verify_tls13_signature(
        &self,
        _message: &[u8],
        _cert: &CertificateDer<'_>,
        _dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        Err(rustls::Error::General(PROBE_DONE.into()))
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.authority.supported_verify_schemes()
    }
}

/// A client configuration (ring provider) whose handshakes only record the server's certificate.
pub fn probe_client_config(verifier: Arc<ProbeVerifier>) -> rustls::ClientConfig {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("the ring provider supports the default protocol versions")
        .dangerous()
        .with_custom_certificate_verifier(verifier)
        .with_no_client_auth()
}
