//! A token bucket over what one peer sends, time passed in: chat lines (`chat.rs`) and remote offers
//! (`peer/session`), so a flood cannot bury the chat, grow the owner's history without end, or stall the
//! engine's other calls with renegotiations.

/// A token bucket over what one peer sends (time passed in): `burst` at once, `per_second` after that.
#[derive(Debug, Clone)]
pub struct RateLimit {
    burst: f64,
    per_second: f64,
    tokens: f64,
    last: Option<std::time::Instant>,
    /// Items dropped so far.
    pub dropped: u64,
}

impl RateLimit {
    pub fn new(burst: f64, per_second: f64) -> RateLimit {
        RateLimit { burst, per_second, tokens: burst, last: None, dropped: 0 }
    }

    /// Whether an item arriving at `now` may pass.
    pub fn allow(&mut self, now: std::time::Instant) -> bool {
        if let Some(last) = self.last {
            let refill = now.saturating_duration_since(last).as_secs_f64() * self.per_second;
            self.tokens = (self.tokens + refill).min(self.burst);
        }
        self.last = Some(now);
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            true
        } else {
            self.dropped += 1;
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chat::{CHAT_BURST, CHAT_PER_SECOND};

    #[test]
    fn a_chat_flood_is_cut_to_a_burst_then_a_steady_rate() {
        let start = std::time::Instant::now();
        let mut limit = RateLimit::new(CHAT_BURST, CHAT_PER_SECOND);
        let passed = (0..1000).filter(|_| limit.allow(start)).count();
        assert_eq!(passed, 20);
        assert_eq!(limit.dropped, 980);
        // Ten seconds later: 5 a second, capped at the burst.
        let later = start + std::time::Duration::from_secs(10);
        assert_eq!((0..1000).filter(|_| limit.allow(later)).count(), 20);
        let mut steady = RateLimit::new(CHAT_BURST, CHAT_PER_SECOND);
        let passed =
            (0..100).filter(|i| steady.allow(start + std::time::Duration::from_millis(i * 200))).count();
        assert_eq!(passed, 100, "a person typing fast is never cut");
    }
}
