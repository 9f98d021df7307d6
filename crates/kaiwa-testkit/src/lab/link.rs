//! The impairment of one direction of one host's access link, as a pure state machine: a packet's size and
//! the time it reaches the link go in, the time it leaves (or that it is lost, or a duplicate) comes out.
//! No clock, no socket, no thread: the router feeds it real time, the unit tests synthetic time, and a
//! seeded RNG makes every decision reproducible from the seed.
//!
//! A packet goes through, in this order:
//! 1. **the bottleneck** (`rate_bps`): a drop-tail queue in front of a serialiser at the rate. A packet that
//!    finds more than `queue` worth of data waiting (at the rate) is dropped; otherwise it leaves the
//!    serialiser once everything before it and itself have been sent. This is what the kernel's `tbf` with
//!    `latency` does.
//! 2. **loss**: random or bursty (Gilbert–Elliott). Lost after the bottleneck, like a radio link: a lost
//!    packet still used its share of the rate.
//! 3. **delay and jitter**: `delay` plus a uniform offset in `-jitter..=+jitter` (clamped so a packet never
//!    leaves before it was sent). Unless the packet is picked for reordering (probability `reorder`), it
//!    is also held until the packet before it on this link has been delivered: no overtaking. So with
//!    packets closer together than the jitter's spread, delays bunch up towards `delay + jitter`.
//! 4. **duplication**: with probability `duplicate` the packet is delivered twice, at the same time.

use std::time::{Duration, Instant};

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

/// Which way along a host's access link.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Direction {
    /// From the host into the lab (the host's uplink).
    Up,
    /// From the lab to the host (the host's downlink).
    Down,
}

/// How packets are lost.
#[derive(Clone, Copy, Debug, PartialEq, Default)]
pub enum Loss {
    #[default]
    None,
    /// Each packet independently with this probability (0..=1).
    Random(f64),
    /// Gilbert–Elliott: a good state that loses nothing and a bad state that loses everything, switching per
    /// packet so that the long-run loss rate is `rate` and a run of consecutive losses is `mean_burst`
    /// packets long on average (geometric). `mean_burst` below 1 counts as 1. If the two cannot both hold
    /// (`rate` near 1 with short bursts) the loss rate wins over the burst length.
    Bursty { rate: f64, mean_burst: f64 },
}

/// One direction of a link. The default is a perfect link (no cap, no delay, no loss); `queue` defaults to
/// 300 ms, used only once there is a `rate_bps`.
#[derive(Clone, Debug, PartialEq)]
pub struct LinkProfile {
    /// Bandwidth cap in bits per second (IP packet bytes × 8).
    pub rate_bps: Option<u64>,
    /// Depth of the drop-tail queue before the cap, as time at the rate.
    pub queue: Duration,
    /// One-way base delay.
    pub delay: Duration,
    /// Each packet's delay is `delay` ± up to `jitter`, uniformly.
    pub jitter: Duration,
    /// Probability that a packet may overtake earlier ones (0 = never reorder).
    pub reorder: f64,
    pub loss: Loss,
    /// Probability that a packet is delivered twice.
    pub duplicate: f64,
}

impl Default for LinkProfile {
    fn default() -> Self {
        LinkProfile {
            rate_bps: None,
            queue: Duration::from_millis(300),
            delay: Duration::ZERO,
            jitter: Duration::ZERO,
            reorder: 0.0,
            loss: Loss::None,
            duplicate: 0.0,
        }
    }
}

impl LinkProfile {
    /// A bandwidth cap with a drop-tail queue of `queue`, nothing else.
    pub fn capped(rate_bps: u64, queue: Duration) -> Self {
        LinkProfile { rate_bps: Some(rate_bps), queue, ..Self::default() }
    }

    /// A fixed one-way delay, nothing else.
    pub fn delayed(delay: Duration) -> Self {
        LinkProfile { delay, ..Self::default() }
    }
}

/// What a link did, since it was made.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LinkCounters {
    pub packets_in: u64,
    pub bytes_in: u64,
    pub dropped_queue: u64,
    pub dropped_loss: u64,
    pub duplicated: u64,
    /// Packets handed on (duplicates count twice).
    pub delivered: u64,
    pub bytes_delivered: u64,
}

/// When a packet that was not dropped leaves the link.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Delivery {
    pub at: Instant,
    /// A second copy, if the packet was duplicated.
    pub duplicate: Option<Instant>,
}

/// The state of one link direction.
#[derive(Debug)]
pub struct Link {
    profile: LinkProfile,
    rng: StdRng,
    /// When the serialiser has sent everything it accepted so far.
    busy_until: Option<Instant>,
    /// The latest delivery time given to an in-order packet.
    last_delivery: Option<Instant>,
    /// Gilbert–Elliott state.
    bad: bool,
    counters: LinkCounters,
}

impl Link {
    pub fn new(profile: LinkProfile, seed: u64) -> Link {
        Link {
            profile,
            rng: StdRng::seed_from_u64(seed),
            busy_until: None,
            last_delivery: None,
            bad: false,
            counters: LinkCounters::default(),
        }
    }

    pub fn profile(&self) -> &LinkProfile {
        &self.profile
    }

    /// Changes the link from now on; packets already through keep their times, and the queue keeps what it
    /// holds.
    pub fn set_profile(&mut self, profile: LinkProfile) {
        self.profile = profile;
    }

    pub fn counters(&self) -> LinkCounters {
        self.counters
    }

    /// A packet of `size` bytes reaches the link at `now`: when does it leave, if at all? `now` must not go
    /// backwards between calls (the router's clock does not).
    pub fn send(&mut self, size: usize, now: Instant) -> Option<Delivery> {
        let size = size as u64;
        self.counters.packets_in += 1;
        self.counters.bytes_in += size;

        let mut sent = now;
        if let Some(rate) = self.profile.rate_bps.filter(|&r| r > 0) {
            let start = self.busy_until.map_or(now, |b| b.max(now));
            if start - now > self.profile.queue {
                self.counters.dropped_queue += 1;
                return None;
            }
            let nanos = u128::from(size) * 8 * 1_000_000_000 / u128::from(rate);
            sent = later(start, Duration::from_nanos(u64::try_from(nanos).unwrap_or(u64::MAX)));
            self.busy_until = Some(sent);
        }

        if self.lose() {
            self.counters.dropped_loss += 1;
            return None;
        }

        let mut at = later(sent, self.profile.delay);
        let jitter = u64::try_from(self.profile.jitter.as_nanos()).unwrap_or(u64::MAX).min(u64::MAX / 2);
        if jitter > 0 {
            let offset = self.rng.random_range(0..=2 * jitter);
            at = later(at, Duration::from_nanos(offset))
                .checked_sub(self.profile.jitter)
                .unwrap_or(sent)
                .max(sent);
        }
        let may_overtake = self.profile.reorder > 0.0 && self.rng.random::<f64>() < self.profile.reorder;
        if !may_overtake {
            if let Some(last) = self.last_delivery {
                at = at.max(last);
            }
            self.last_delivery = Some(at);
        }

        let duplicate =
            (self.profile.duplicate > 0.0 && self.rng.random::<f64>() < self.profile.duplicate).then_some(at);
        let copies = 1 + u64::from(duplicate.is_some());
        self.counters.duplicated += copies - 1;
        self.counters.delivered += copies;
        self.counters.bytes_delivered += copies * size;
        Some(Delivery { at, duplicate })
    }

    fn lose(&mut self) -> bool {
        match self.profile.loss {
            Loss::None => false,
            Loss::Random(p) => p > 0.0 && self.rng.random::<f64>() < p,
            Loss::Bursty { rate, mean_burst } => {
                if rate.is_nan() || rate <= 0.0 {
                    self.bad = false;
                    return false;
                }
                // P(bad → good) = 1 / mean burst; P(good → bad) chosen so the bad state's share is `rate`.
                let leave_bad = 1.0 / mean_burst.max(1.0);
                let enter_bad = if rate >= 1.0 { 1.0 } else { rate * leave_bad / (1.0 - rate) };
                let u = self.rng.random::<f64>();
                self.bad = if self.bad { u >= leave_bad } else { u < enter_bad };
                self.bad
            }
        }
    }
}

/// `t + d`, or `t` if that is past what an `Instant` can hold (absurd settings must not panic the router).
fn later(t: Instant, d: Duration) -> Instant {
    t.checked_add(d).unwrap_or(t)
}

/// The seed of one link's RNG, from the lab's seed, the host's index and the direction (splitmix64, so
/// neighbouring inputs give unrelated streams).
pub fn link_seed(lab_seed: u64, host_index: usize, direction: Direction) -> u64 {
    fn mix(mut z: u64) -> u64 {
        z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    let lane = (host_index as u64) * 2 + u64::from(direction == Direction::Down);
    mix(lab_seed ^ mix(lane))
}

#[cfg(test)]
#[path = "link_tests.rs"]
mod tests;
