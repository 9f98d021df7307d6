//! TLS for the server: a certificate from files, or a self-signed one made for this machine so browsers
//! on the LAN get a secure context (camera access) after accepting it once.

use std::io;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use kaiwa_tls::Fingerprint;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

/// Lifetime of a self-signed certificate: under the 398 days browsers accept.
const SELF_SIGNED_VALIDITY: Duration = Duration::from_secs(397 * 24 * 3600);
/// A kept certificate closer than this to expiry is replaced.
const RENEW_BEFORE: Duration = Duration::from_secs(30 * 24 * 3600);

#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("{path}: {source}")]
    Io { path: PathBuf, source: io::Error },
    #[error("{path}: {what}")]
    Pem { path: PathBuf, what: String },
    #[error("cannot generate a certificate: {0}")]
    Generate(#[from] rcgen::Error),
    #[error("TLS configuration: {0}")]
    Rustls(#[from] rustls::Error),
}

/// A ready server configuration and what to tell users about it.
pub struct ServerTls {
    pub config: Arc<rustls::ServerConfig>,
    pub fingerprint: Fingerprint,
    /// Host names and addresses the certificate covers (self-signed only), best first.
    pub names: Vec<String>,
    /// True when a new self-signed certificate was made (its fingerprint is new).
    pub generated: bool,
}

fn server_config(
    chain: Vec<CertificateDer<'static>>,
    key: PrivateKeyDer<'static>,
) -> Result<Arc<rustls::ServerConfig>, TlsError> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_no_client_auth()
        .with_single_cert(chain, key)?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

fn read(path: &Path) -> Result<Vec<u8>, TlsError> {
    std::fs::read(path).map_err(|source| TlsError::Io { path: path.to_owned(), source })
}

/// Loads a PEM certificate chain and private key.
pub fn from_files(cert: &Path, key: &Path) -> Result<ServerTls, TlsError> {
    let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(&read(cert)?)
        .collect::<Result<_, _>>()
        .map_err(|e| TlsError::Pem { path: cert.to_owned(), what: e.to_string() })?;
    let first = chain
        .first()
        .ok_or_else(|| TlsError::Pem { path: cert.to_owned(), what: "no certificate".into() })?;
    let fingerprint = Fingerprint::of_der(first);
    let key = PrivateKeyDer::from_pem_slice(&read(key)?)
        .map_err(|e| TlsError::Pem { path: key.to_owned(), what: e.to_string() })?;
    Ok(ServerTls { config: server_config(chain, key)?, fingerprint, names: Vec::new(), generated: false })
}

/// This machine's names: its hostname (and `.local` mDNS name), `localhost`, and every interface address
/// (LAN first, loopback last).
pub fn machine_names() -> Vec<String> {
    let mut names = Vec::new();
    let host = gethostname::gethostname().to_string_lossy().trim().to_ascii_lowercase();
    if !host.is_empty() && host != "localhost" {
        if !host.contains('.') {
            names.push(format!("{host}.local"));
        }
        names.push(host);
    }
    let mut addrs: Vec<IpAddr> =
        if_addrs::get_if_addrs().unwrap_or_default().into_iter().map(|i| i.ip()).collect();
    // Link-local IPv6 addresses need a zone to be usable in a URL; leave them out.
    addrs.retain(|a| !matches!(a, IpAddr::V6(v6) if (v6.segments()[0] & 0xffc0) == 0xfe80));
    addrs.sort_by_key(|a| (a.is_loopback(), a.is_ipv6()));
    names.extend(addrs.iter().map(|a| a.to_string()));
    names.push("localhost".into());
    names.push("127.0.0.1".into());
    names.push("::1".into());
    let mut seen = std::collections::HashSet::new();
    names.retain(|n| seen.insert(n.clone()));
    names
}

fn unix_now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default().as_secs()
}

/// The self-signed certificate kept in `dir` if it still covers `names` and is not about to expire;
/// otherwise a new one, saved there for next time. With `dir: None` nothing is kept.
pub fn self_signed(dir: Option<&Path>, names: Vec<String>) -> Result<ServerTls, TlsError> {
    if let Some(dir) = dir
        && let Some(tls) = load_kept(dir, &names)?
    {
        return Ok(tls);
    }
    let key_pair = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256)?;
    let mut params = rcgen::CertificateParams::new(names.clone())?;
    params.distinguished_name.push(rcgen::DnType::CommonName, names.first().cloned().unwrap_or_default());
    params.distinguished_name.push(rcgen::DnType::OrganizationName, "Kaiwa (self-signed)");
    let now = time::OffsetDateTime::now_utc();
    params.not_before = now - time::Duration::days(1);
    params.not_after = now + SELF_SIGNED_VALIDITY;
    let cert = params.self_signed(&key_pair)?;
    let expires = unix_now() + SELF_SIGNED_VALIDITY.as_secs();
    if let Some(dir) = dir {
        save(dir, &cert.pem(), &key_pair.serialize_pem(), expires, &names)?;
    }
    let fingerprint = Fingerprint::of_der(cert.der());
    let key = PrivateKeyDer::try_from(key_pair.serialize_der())
        .map_err(|e| TlsError::Pem { path: PathBuf::from("<generated key>"), what: e.to_string() })?;
    Ok(ServerTls {
        config: server_config(vec![cert.der().clone()], key)?,
        fingerprint,
        names,
        generated: true,
    })
}

fn load_kept(dir: &Path, names: &[String]) -> Result<Option<ServerTls>, TlsError> {
    let Ok(meta) = std::fs::read_to_string(dir.join("names.txt")) else { return Ok(None) };
    let mut lines = meta.lines();
    let expires: u64 =
        lines.next().and_then(|l| l.strip_prefix("expires ")).and_then(|s| s.parse().ok()).unwrap_or(0);
    let kept: Vec<&str> = lines.collect();
    if expires < unix_now() + RENEW_BEFORE.as_secs() || !names.iter().all(|n| kept.contains(&n.as_str())) {
        return Ok(None);
    }
    match from_files(&dir.join("cert.pem"), &dir.join("key.pem")) {
        Ok(tls) => Ok(Some(ServerTls { names: kept.iter().map(|s| s.to_string()).collect(), ..tls })),
        // A damaged or half-written pair is replaced rather than fatal.
        Err(TlsError::Io { .. } | TlsError::Pem { .. } | TlsError::Rustls(_)) => Ok(None),
        Err(e) => Err(e),
    }
}

fn save(dir: &Path, cert_pem: &str, key_pem: &str, expires: u64, names: &[String]) -> Result<(), TlsError> {
    let io = |path: &Path| {
        let path = path.to_owned();
        move |source| TlsError::Io { path, source }
    };
    std::fs::create_dir_all(dir).map_err(io(dir))?;
    let key_path = dir.join("key.pem");
    write_private(&key_path, key_pem.as_bytes()).map_err(io(&key_path))?;
    let cert_path = dir.join("cert.pem");
    std::fs::write(&cert_path, cert_pem).map_err(io(&cert_path))?;
    let meta_path = dir.join("names.txt");
    let meta = format!("expires {expires}\n{}\n", names.join("\n"));
    std::fs::write(&meta_path, meta).map_err(io(&meta_path))
}

fn write_private(path: &Path, data: &[u8]) -> io::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(path)?.write_all(data)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn self_signed_is_kept_and_reused() {
        let dir = tempfile::tempdir().unwrap();
        let names = vec!["testhost.local".to_string(), "127.0.0.1".to_string()];
        let first = self_signed(Some(dir.path()), names.clone()).unwrap();
        assert!(first.generated);
        let again = self_signed(Some(dir.path()), names).unwrap();
        assert!(!again.generated);
        assert_eq!(first.fingerprint, again.fingerprint);
        // A new address the kept certificate does not cover gives a new certificate.
        let moved = self_signed(Some(dir.path()), vec!["10.9.8.7".into()]).unwrap();
        assert!(moved.generated);
        assert_ne!(moved.fingerprint, first.fingerprint);
    }

    #[test]
    fn machine_names_include_loopback() {
        let names = machine_names();
        assert!(names.contains(&"127.0.0.1".to_string()));
        assert!(names.contains(&"localhost".to_string()));
    }
}
