//! Room codes: `abc-defg-hij` when the server makes one up, or any `[a-z0-9-]{3,64}` a user picks.
//! Codes are case-insensitive and their dashes optional, so `ABC-DEFG-HIJ`, `abcdefghij` and
//! `abc-defghij` all name one room; a room is shown as its creator typed it (`design-review`).

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

/// A validated room code: the canonical key (lower case, no dashes) for matching, and the form to show,
/// as its creator typed it in lower case (`Design-Review` shows as `design-review`; a generated-shape code
/// typed without its dashes gets them back). Equality, ordering and hashing use the key only.
#[derive(Debug, Clone)]
pub struct RoomCode {
    key: String,
    shown: String,
}

impl RoomCode {
    /// Validates what a user typed (surrounding whitespace is ignored) and keeps it for display.
    pub fn parse(input: &str) -> Result<Self, RoomCodeError> {
        let trimmed = input.trim();
        let len = trimmed.chars().count();
        if !(3..=64).contains(&len) {
            return Err(RoomCodeError::Length);
        }
        if !trimmed.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') {
            return Err(RoomCodeError::Characters);
        }
        let key: String = trimmed.chars().filter(|&c| c != '-').map(|c| c.to_ascii_lowercase()).collect();
        if key.len() < 3 {
            return Err(RoomCodeError::Length);
        }
        let shown = if trimmed.contains('-') { trimmed.to_ascii_lowercase() } else { generated_shape(&key) };
        Ok(RoomCode { key, shown })
    }

    /// A fresh random code of the `abc-defg-hij` shape.
    pub fn generate<R: rand::Rng + ?Sized>(rng: &mut R) -> Self {
        let key: String =
            (0..GENERATED_LEN).map(|_| ALPHABET[rng.random_range(0..ALPHABET.len())] as char).collect();
        let shown = generated_shape(&key);
        RoomCode { key, shown }
    }

    /// The canonical key: lower case, no dashes. Two codes name the same room iff their keys are equal.
    pub fn key(&self) -> &str {
        &self.key
    }
}

/// `key` with the 3-4-3 dashes of a generated code when it has that shape (ten letters), else as it is.
fn generated_shape(key: &str) -> String {
    let generated = key.len() == GENERATED_LEN && key.bytes().all(|b| b.is_ascii_lowercase());
    match (generated, key.get(..3), key.get(3..7), key.get(7..)) {
        (true, Some(a), Some(b), Some(c)) => format!("{a}-{b}-{c}"),
        _ => key.to_owned(),
    }
}

impl PartialEq for RoomCode {
    fn eq(&self, other: &Self) -> bool {
        self.key == other.key
    }
}

impl Eq for RoomCode {}

impl std::hash::Hash for RoomCode {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.key.hash(state);
    }
}

impl PartialOrd for RoomCode {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for RoomCode {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.key.cmp(&other.key)
    }
}

/// The form shown to people and sent in `joined.room`: as the room's creator typed it.
impl fmt::Display for RoomCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.shown)
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
        assert_eq!(a.to_string(), "abc-defg-hij", "shown as typed, in lower case");
        assert_eq!(RoomCode::parse("abcdefghij").unwrap().to_string(), "abc-defg-hij");
        assert_eq!(RoomCode::parse("design-review").unwrap().to_string(), "design-review");
        assert_eq!(RoomCode::parse("design-review").unwrap(), RoomCode::parse("DesignReview").unwrap());
        assert_eq!(RoomCode::parse("Team-Standup-2").unwrap().key(), "teamstandup2");
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
