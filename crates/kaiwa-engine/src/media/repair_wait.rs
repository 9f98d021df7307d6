//! How long packets behind a missing one wait for its retransmission before it counts as lost (and the
//! picture waits for a keyframe instead). Pure: the durations are passed in.
//!
//! A fixed wait fits one round trip only. 250 ms was enough for loopback and LAN calls, but on the lab's
//! `mobile` profile (150 ms base round trip, up to 500 ms with a queue) repairs took longer, every one
//! that did became a keyframe request, and each keyframe froze the picture for 0.3–1.2 s (11–14 a call).
//! So the wait follows the repairs seen: [`MARGIN`] × the longest of the last [`REMEMBERED`] plus
//! [`SLACK`], within [`MIN`]..=[`MAX`]. A wait that runs out counts as a repair that took the whole wait,
//! so after a sudden longer round trip the wait grows until repairs fit again.

use std::collections::VecDeque;
use std::time::Duration;

/// Never shorter: the NACK generator's own schedule (two NACKs, see `peer/factory.rs`) on a LAN.
pub const MIN: Duration = Duration::from_millis(250);
/// Never longer: beyond this a keyframe is the quicker way back.
pub const MAX: Duration = Duration::from_millis(1000);
pub const MARGIN: f64 = 1.5;
pub const SLACK: Duration = Duration::from_millis(50);
/// How many repairs the wait is taken from.
pub const REMEMBERED: usize = 16;

#[derive(Debug, Clone, Default)]
pub struct RepairWait {
    recent: VecDeque<Duration>,
}

impl RepairWait {
    /// A missing packet arrived `took` after it was first missed.
    pub fn repaired(&mut self, took: Duration) {
        if self.recent.len() == REMEMBERED {
            self.recent.pop_front();
        }
        self.recent.push_back(took.min(MAX));
    }

    /// The wait ran out: the packet is given up on.
    pub fn gave_up(&mut self) {
        self.repaired(self.wait());
    }

    /// How long to wait for a missing packet now.
    pub fn wait(&self) -> Duration {
        let longest = self.recent.iter().max().copied().unwrap_or_default();
        (longest.mul_f64(MARGIN) + SLACK).clamp(MIN, MAX)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    #[test]
    fn quick_repairs_keep_the_shortest_wait() {
        let mut w = RepairWait::default();
        assert_eq!(w.wait(), MIN);
        for _ in 0..20 {
            w.repaired(ms(30));
        }
        assert_eq!(w.wait(), MIN);
    }

    #[test]
    fn the_wait_follows_a_long_round_trip_and_comes_back() {
        let mut w = RepairWait::default();
        w.repaired(ms(200));
        w.repaired(ms(180));
        assert_eq!(w.wait(), ms(350));
        // Once the slow repairs are out of memory, the wait is short again.
        for _ in 0..REMEMBERED {
            w.repaired(ms(40));
        }
        assert_eq!(w.wait(), MIN);
    }

    #[test]
    fn waits_that_run_out_grow_the_wait_up_to_the_most() {
        let mut w = RepairWait::default();
        w.gave_up();
        assert_eq!(w.wait(), ms(425));
        w.gave_up();
        assert_eq!(w.wait(), ms(687) + Duration::from_micros(500));
        for _ in 0..5 {
            w.gave_up();
        }
        assert_eq!(w.wait(), MAX);
        w.repaired(Duration::MAX);
        assert_eq!(w.wait(), MAX);
    }
}
