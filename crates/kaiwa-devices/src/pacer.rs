use std::time::{Duration, Instant};

/// Hands out deadlines at a fixed rate from a start time, without drift: the n-th tick is due at
/// `start + n * period`. If the caller falls behind by more than a period, ticks are skipped rather than
/// bunched up.
#[derive(Debug, Clone)]
pub struct Pacer {
    start: Instant,
    period: Duration,
    next: u64,
}

impl Pacer {
    pub fn new(start: Instant, period: Duration) -> Self {
        Pacer { start, period, next: 0 }
    }

    /// The next deadline given the current time; advances past missed ones.
    pub fn next_deadline(&mut self, now: Instant) -> Instant {
        let due = self.start + self.period.mul_f64(self.next as f64);
        if now > due + self.period {
            let behind = (now - self.start).as_secs_f64() / self.period.as_secs_f64();
            self.next = behind.floor() as u64;
        }
        let due = self.start + self.period.mul_f64(self.next as f64);
        self.next += 1;
        due
    }

    /// Sleeps until the next deadline and returns it.
    pub fn wait(&mut self) -> Instant {
        let due = self.next_deadline(Instant::now());
        let now = Instant::now();
        if due > now {
            std::thread::sleep(due - now);
        }
        due
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_drift_and_skips_when_late() {
        let t0 = Instant::now();
        let mut p = Pacer::new(t0, Duration::from_millis(10));
        assert_eq!(p.next_deadline(t0), t0);
        assert_eq!(p.next_deadline(t0), t0 + Duration::from_millis(10));
        // Far behind: jump to the present instead of firing every missed tick.
        let late = t0 + Duration::from_millis(105);
        assert_eq!(p.next_deadline(late), t0 + Duration::from_millis(100));
        assert_eq!(p.next_deadline(late), t0 + Duration::from_millis(110));
    }
}
