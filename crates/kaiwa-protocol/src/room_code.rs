//! Room codes: `abc-defg-hij` when the server makes one up, or any `[a-z0-9-]{3,64}` a user picks.
//! Codes are case-insensitive and their dashes optional, so `ABC-DEFG-HIJ`, `abcdefghij` and
//! `abc-defghij` all name one room.

use std::fmt;

/// Letters used in generated codes: lower case only, no digits, so a code reads aloud easily.
const ALPHABET: &[u8; 26] = b"abcdefghijklmnopqrstuvwxyz";
/// Letters in a generated code: 26^10 ≈ 2^47, comfortably above the 40 bits of entropy asked for.
const GENERATED_LEN: usize = 10;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RoomCodeError {
    #[error("a room code has 3 to 64 characters")]
    Length,
    #[error("a room code may only contain letters a-z, digits and dashes")]
    Characters,
}

/// A validated room code. Equality and hashing use the canonical key (lower case, no dashes).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RoomCode {
    key: String,
}

impl RoomCode {
    /// Validates and normalises what a user typed (surrounding whitespace is ignored).
    pub fn parse(input: &str) -> Result<Self, RoomCodeError> {
        let trimmed = input.trim();
        let len = trimmed.chars().count();
        if !(3..=64).contains(&len) {
            return Err(RoomCodeError::Length);
        }
        let lower = trimmed.to_ascii_lowercase();
        if !lower.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-') {
            return Err(RoomCodeError::Characters);
        }
        let key: String = lower.chars().filter(|&c| c != '-').collect();
        if key.len() < 3 {
            return Err(RoomCodeError::Length);
        }
        Ok(RoomCode { key })
    }

    /// A fresh random code of the `abc-defg-hij` shape.
    pub fn generate<R: rand::Rng + ?Sized>(rng: &mut R) -> Self {
        let key = (0..GENERATED_LEN).map(|_| ALPHABET[rng.random_range(0..ALPHABET.len())] as char).collect();
        RoomCode { key }
    }

    /// The canonical key: lower case, no dashes. Two codes name the same room iff their keys are equal.
    pub fn key(&self) -> &str {
        &self.key
    }
}

/// The form shown to people and sent in `joined.room`: generated-shape codes get their dashes back
/// (`abc-defg-hij`); other codes are shown as their key.
impl fmt::Display for RoomCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let k = &self.key;
        match (
            k.len() == GENERATED_LEN && k.bytes().all(|b| b.is_ascii_lowercase()),
            k.get(..3),
            k.get(3..7),
            k.get(7..),
        ) {
            (true, Some(a), Some(b), Some(c)) => write!(f, "{a}-{b}-{c}"),
            _ => f.write_str(k),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalisation() {
        let a = RoomCode::parse("ABC-DEFG-HIJ").unwrap();
        assert_eq!(a, RoomCode::parse("abcdefghij").unwrap());
        assert_eq!(a, RoomCode::parse(" abc-defghij ").unwrap());
        assert_eq!(a.to_string(), "abc-defg-hij");
        assert_eq!(RoomCode::parse("Team-Standup-2").unwrap().to_string(), "teamstandup2");
        assert_eq!(RoomCode::parse("abc").unwrap().key(), "abc");
    }

    #[test]
    fn validation() {
        assert_eq!(RoomCode::parse("ab"), Err(RoomCodeError::Length));
        assert_eq!(RoomCode::parse(&"a".repeat(65)), Err(RoomCodeError::Length));
        assert!(RoomCode::parse(&"a".repeat(64)).is_ok());
        assert_eq!(RoomCode::parse("a-b"), Err(RoomCodeError::Length));
        assert_eq!(RoomCode::parse("abc def"), Err(RoomCodeError::Characters));
        assert_eq!(RoomCode::parse("abc_def"), Err(RoomCodeError::Characters));
        assert_eq!(RoomCode::parse("äbcdef"), Err(RoomCodeError::Characters));
        assert_eq!(RoomCode::parse("<script>"), Err(RoomCodeError::Characters));
    }

    #[test]
    fn generated_codes_have_the_readable_shape() {
        let mut rng = rand::rng();
        for _ in 0..100 {
            let code = RoomCode::generate(&mut rng);
            let shown = code.to_string();
            assert_eq!(shown.len(), 12);
            assert_eq!(shown.get(3..4), Some("-"));
            assert_eq!(shown.get(8..9), Some("-"));
            assert_eq!(RoomCode::parse(&shown).unwrap(), code);
        }
    }
}
