use std::fmt;
use std::str::FromStr;

use sha2::{Digest, Sha256};

/// The SHA-256 digest of a certificate's DER encoding, shown as `AB:CD:…` like browsers show it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Fingerprint(pub [u8; 32]);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a SHA-256 fingerprint is 64 hex digits, optionally separated by colons")]
pub struct FingerprintError;

impl Fingerprint {
    pub fn of_der(der: &[u8]) -> Self {
        Fingerprint(Sha256::digest(der).into())
    }
}

impl fmt::Display for Fingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, b) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(":")?;
            }
            write!(f, "{b:02X}")?;
        }
        Ok(())
    }
}

/// Accepts upper or lower case hex, with or without `:` separators (and surrounding whitespace).
impl FromStr for Fingerprint {
    type Err = FingerprintError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let digits: Vec<u8> = s.trim().bytes().filter(|&b| b != b':').collect();
        if digits.len() != 64 {
            return Err(FingerprintError);
        }
        let mut out = [0u8; 32];
        for (slot, pair) in out.iter_mut().zip(digits.chunks_exact(2)) {
            let text = std::str::from_utf8(pair).map_err(|_| FingerprintError)?;
            *slot = u8::from_str_radix(text, 16).map_err(|_| FingerprintError)?;
        }
        Ok(Fingerprint(out))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_and_parse_round_trip() {
        // SHA-256 of the empty string, a well-known vector.
        let fp = Fingerprint::of_der(b"");
        let shown = fp.to_string();
        assert!(shown.starts_with("E3:B0:C4:42:98:FC:1C:14"));
        assert_eq!(shown.parse::<Fingerprint>().unwrap(), fp);
        let plain = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
        assert_eq!(plain.parse::<Fingerprint>().unwrap(), fp);
        assert!("e3b0".parse::<Fingerprint>().is_err());
        assert!("zz".repeat(32).parse::<Fingerprint>().is_err());
        assert!("é".repeat(32).parse::<Fingerprint>().is_err());
    }
}
