//! Per-connection message rate limit: a token bucket, plus a second bucket of refused messages that
//! tells a client that is merely bursty from one that floods. Time is passed in; nothing here reads a clock.

use std::time::Instant;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Allow,
    /// Over the limit: drop the message and tell the client.
    Refuse,
    /// Refused messages keep coming far beyond the limit: close the connection.
    Abuse,
}

#[derive(Debug)]
pub struct RateLimiter {
    rate: f64,
    burst: f64,
    tokens: f64,
    refused: f64,
    last: Instant,
}

impl RateLimiter {
    pub fn new(rate_per_sec: u32, burst: u32, now: Instant) -> Self {
        RateLimiter {
            rate: rate_per_sec as f64,
            burst: burst as f64,
            tokens: burst as f64,
            refused: 0.0,
            last: now,
        }
    }

    pub fn check(&mut self, now: Instant) -> Verdict {
        let elapsed = now.saturating_duration_since(self.last).as_secs_f64();
        self.last = now;
        self.tokens = (self.tokens + elapsed * self.rate).min(self.burst);
        self.refused = (self.refused - elapsed * self.rate).max(0.0);
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            return Verdict::Allow;
        }
        self.refused += 1.0;
        if self.refused > self.burst { Verdict::Abuse } else { Verdict::Refuse }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn bursts_pass_floods_are_refused_then_closed() {
        let t0 = Instant::now();
        let mut rl = RateLimiter::new(10, 5, t0);
        for _ in 0..5 {
            assert_eq!(rl.check(t0), Verdict::Allow);
        }
        assert_eq!(rl.check(t0), Verdict::Refuse);
        // A tenth of a second later one token is back.
        assert_eq!(rl.check(t0 + Duration::from_millis(100)), Verdict::Allow);
        // A flood at one instant: refused until the refused bucket overflows.
        let t1 = t0 + Duration::from_millis(100);
        let verdicts: Vec<_> = (0..10).map(|_| rl.check(t1)).collect();
        assert!(verdicts[..5].iter().all(|v| *v == Verdict::Refuse), "{verdicts:?}");
        assert_eq!(verdicts.last(), Some(&Verdict::Abuse));
    }

    #[test]
    fn a_client_slightly_over_the_rate_is_never_closed() {
        let t0 = Instant::now();
        let mut rl = RateLimiter::new(10, 5, t0);
        // 12 messages per second for a minute.
        for i in 0..720u64 {
            let v = rl.check(t0 + Duration::from_micros(i * 1_000_000 / 12));
            assert_ne!(v, Verdict::Abuse, "at message {i}");
        }
    }
}
