//! Trust on first use, the way SSH does it: a `known_hosts` file of `HOST:PORT FINGERPRINT` lines. A server
//! seen for the first time is shown to the user with its fingerprint; once trusted it is remembered, and a
//! later certificate with another fingerprint is refused until the user forgets the old entry.
//!
//! ```text
//! # Kaiwa known hosts: HOST:PORT SHA-256-FINGERPRINT
//! kaiwa.local:8443 3A:5F:…:09
//! [fd00::5]:8443 77:C1:…:E2
//! ```
//!
//! Lines the parser does not understand (hand edits gone wrong) are kept as they are and never match.

use std::path::{Path, PathBuf};

use crate::Fingerprint;

#[derive(Debug, thiserror::Error)]
pub enum KnownHostsError {
    #[error("cannot read {path}: {source}")]
    Read { path: PathBuf, source: std::io::Error },
    #[error("cannot write {path}: {source}")]
    Write { path: PathBuf, source: std::io::Error },
}

/// What the file says about a certificate a server presented.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HostCheck {
    /// Trusted before with this very certificate.
    Known,
    /// Never seen: ask the user.
    Unknown,
    /// Trusted before with another certificate: refuse (it may be an impostor) and name both.
    Changed { known: Fingerprint },
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Line {
    Entry {
        host: String,
        fingerprint: Fingerprint,
    },
    /// Comments, blank lines and lines we cannot read, written back unchanged.
    Other(String),
}

/// The file's contents and where it lives. Every change is written back at once.
#[derive(Debug, Clone)]
pub struct KnownHosts {
    path: PathBuf,
    lines: Vec<Line>,
    /// 1-based numbers of lines that are neither comments nor entries.
    malformed: Vec<usize>,
}

/// `host:port` as the file keys it: lower-case host, IPv6 addresses in brackets.
pub fn host_key(host: &str, port: u16) -> String {
    let host = host.trim().trim_start_matches('[').trim_end_matches(']').to_ascii_lowercase();
    if host.contains(':') { format!("[{host}]:{port}") } else { format!("{host}:{port}") }
}

fn parse_line(text: &str) -> Option<Line> {
    let trimmed = text.trim();
    if trimmed.is_empty() || trimmed.starts_with('#') {
        return Some(Line::Other(text.to_owned()));
    }
    let mut words = trimmed.split_whitespace();
    let (host, fp) = (words.next()?, words.next()?);
    if words.next().is_some() {
        return None;
    }
    let (name, port) = host.rsplit_once(':')?;
    let port: u16 = port.parse().ok()?;
    if name.is_empty() {
        return None;
    }
    Some(Line::Entry { host: host_key(name, port), fingerprint: fp.parse().ok()? })
}

impl KnownHosts {
    /// An empty list that will be saved to `path`.
    pub fn empty(path: impl Into<PathBuf>) -> KnownHosts {
        KnownHosts { path: path.into(), lines: Vec::new(), malformed: Vec::new() }
    }

    /// Reads `path`; a missing file is an empty list.
    pub fn load(path: impl Into<PathBuf>) -> Result<KnownHosts, KnownHostsError> {
        let path = path.into();
        match std::fs::read_to_string(&path) {
            Ok(text) => Ok(KnownHosts::parse(path, &text)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(KnownHosts::empty(path)),
            Err(source) => Err(KnownHostsError::Read { path, source }),
        }
    }

    /// The list in `text`, to be saved to `path`.
    pub fn parse(path: impl Into<PathBuf>, text: &str) -> KnownHosts {
        let mut hosts = KnownHosts::empty(path);
        for (i, line) in text.lines().enumerate() {
            match parse_line(line) {
                Some(l) => hosts.lines.push(l),
                None => {
                    hosts.malformed.push(i + 1);
                    hosts.lines.push(Line::Other(line.to_owned()));
                }
            }
        }
        hosts
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Line numbers (from 1) that could not be read; they are kept but never match.
    pub fn malformed_lines(&self) -> &[usize] {
        &self.malformed
    }

    /// The fingerprint trusted for `host:port`, if any.
    pub fn get(&self, host: &str, port: u16) -> Option<Fingerprint> {
        let key = host_key(host, port);
        self.lines.iter().find_map(|l| match l {
            Line::Entry { host, fingerprint } if *host == key => Some(*fingerprint),
            _ => None,
        })
    }

    /// Compares the certificate `seen` on `host:port` with what was trusted before.
    pub fn check(&self, host: &str, port: u16, seen: Fingerprint) -> HostCheck {
        match self.get(host, port) {
            None => HostCheck::Unknown,
            Some(known) if known == seen => HostCheck::Known,
            Some(known) => HostCheck::Changed { known },
        }
    }

    /// Remembers `fingerprint` for `host:port` (replacing an older entry) and saves the file.
    pub fn trust(&mut self, host: &str, port: u16, fingerprint: Fingerprint) -> Result<(), KnownHostsError> {
        let key = host_key(host, port);
        self.lines.retain(|l| !matches!(l, Line::Entry { host, .. } if *host == key));
        self.lines.push(Line::Entry { host: key, fingerprint });
        self.save()
    }

    /// Forgets `host:port` (like `ssh-keygen -R`) and saves the file; false if it was not there.
    pub fn forget(&mut self, host: &str, port: u16) -> Result<bool, KnownHostsError> {
        let key = host_key(host, port);
        let before = self.lines.len();
        self.lines.retain(|l| !matches!(l, Line::Entry { host, .. } if *host == key));
        if self.lines.len() == before {
            return Ok(false);
        }
        self.save().map(|()| true)
    }

    /// The file's text.
    pub fn to_text(&self) -> String {
        let mut text = String::new();
        if !self.lines.iter().any(|l| matches!(l, Line::Other(o) if o.trim_start().starts_with('#'))) {
            text.push_str("# Kaiwa known hosts (trusted on first use): HOST:PORT SHA-256-FINGERPRINT\n");
        }
        for line in &self.lines {
            match line {
                Line::Entry { host, fingerprint } => text.push_str(&format!("{host} {fingerprint}\n")),
                Line::Other(o) => {
                    text.push_str(o);
                    text.push('\n');
                }
            }
        }
        text
    }

    /// Writes a temporary file beside the real one and renames it over, so a crash never leaves half a file.
    fn save(&self) -> Result<(), KnownHostsError> {
        let write_err = |source| KnownHostsError::Write { path: self.path.clone(), source };
        if let Some(dir) = self.path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(write_err)?;
        }
        let mut tmp = self.path.clone().into_os_string();
        tmp.push(".tmp");
        std::fs::write(&tmp, self.to_text()).map_err(write_err)?;
        std::fs::rename(&tmp, &self.path).map_err(write_err)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fp(byte: u8) -> Fingerprint {
        Fingerprint([byte; 32])
    }

    #[test]
    fn keys_are_normalised() {
        assert_eq!(host_key("Kaiwa.LOCAL", 8443), "kaiwa.local:8443");
        assert_eq!(host_key("::1", 443), "[::1]:443");
        assert_eq!(host_key("[fd00::5]", 8443), "[fd00::5]:8443");
    }

    #[test]
    fn parse_check_and_keep_what_it_cannot_read() {
        let text = format!(
            "# mine\n\nkaiwa.local:8443 {}\n[::1]:9443 {}\nbroken line here\nnoport {}\nx:1 zz\n",
            fp(1),
            fp(2),
            fp(3)
        );
        let hosts = KnownHosts::parse("/nonexistent/known_hosts", &text);
        assert_eq!(hosts.get("KAIWA.local", 8443), Some(fp(1)));
        assert_eq!(hosts.get("::1", 9443), Some(fp(2)));
        assert_eq!(hosts.get("kaiwa.local", 8444), None);
        assert_eq!(hosts.check("kaiwa.local", 8443, fp(1)), HostCheck::Known);
        assert_eq!(hosts.check("kaiwa.local", 8443, fp(9)), HostCheck::Changed { known: fp(1) });
        assert_eq!(hosts.check("other", 8443, fp(1)), HostCheck::Unknown);
        assert_eq!(hosts.malformed_lines(), &[5, 6, 7]);
        // Written back as it was (no header added: it has a comment already).
        assert_eq!(hosts.to_text(), text);
    }

    #[test]
    fn trust_forget_and_reload() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub").join("known_hosts");
        let mut hosts = KnownHosts::load(&path).unwrap();
        assert_eq!(hosts.get("a", 1), None);
        hosts.trust("a", 1, fp(1)).unwrap();
        hosts.trust("b", 2, fp(2)).unwrap();
        hosts.trust("A", 1, fp(3)).unwrap(); // replaces
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.starts_with("# Kaiwa known hosts"), "{text}");
        assert!(text.contains(&format!("a:1 {}\n", fp(3))), "{text}");
        assert_eq!(text.matches("a:1 ").count(), 1, "{text}");
        let reloaded = KnownHosts::load(&path).unwrap();
        assert_eq!(reloaded.get("a", 1), Some(fp(3)));
        assert_eq!(reloaded.get("b", 2), Some(fp(2)));
        let mut hosts = reloaded;
        assert!(hosts.forget("a", 1).unwrap());
        assert!(!hosts.forget("a", 1).unwrap());
        let reloaded = KnownHosts::load(&path).unwrap();
        assert_eq!(reloaded.get("a", 1), None);
        assert_eq!(reloaded.get("b", 2), Some(fp(2)));
    }

    #[test]
    fn unreadable_file_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        // A directory where the file should be.
        let err = KnownHosts::load(dir.path()).unwrap_err();
        assert!(matches!(err, KnownHostsError::Read { .. }), "{err}");
    }
}
