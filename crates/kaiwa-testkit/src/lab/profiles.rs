//! Named network conditions, as data. A [`Profile`] is meant for one host's access link, both directions
//! ([`Lab::apply`](super::Lab::apply)): in a two-party call with the profile on one side, everything between
//! the two crosses that link once each way, so the whole A↔B path carries it. Delays and losses below are
//! per direction unless said otherwise; a round trip crosses the link twice.
//!
//! Jitter is `delay ± jitter` uniformly per packet, but a packet never overtakes the one before it, so on
//! a busy link delays bunch towards `delay + jitter` (see [`super::link`]).

use std::time::Duration;

use super::link::{LinkProfile, Loss};

/// A network condition for one host's access link.
#[derive(Clone, Debug, PartialEq)]
pub struct Profile {
    pub name: String,
    /// Host → lab.
    pub up: LinkProfile,
    /// Lab → host.
    pub down: LinkProfile,
    /// Later changes, each applied to both directions at this time after the profile is applied.
    pub changes: Vec<(Duration, LinkProfile)>,
}

const fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

/// The queue in front of every rate cap here: 300 ms, a typical home router's buffer.
pub const QUEUE: Duration = ms(300);

impl Profile {
    /// Every named profile, in the order of [`Profile::all`].
    pub const NAMES: &[&str] = &[
        "cap-2500k",
        "cap-1000k",
        "cap-500k",
        "cap-250k",
        "wifi-good",
        "wifi-bad",
        "mobile",
        "drop",
        "mesh-uplink-3m",
    ];

    pub fn by_name(name: &str) -> Option<Profile> {
        let symmetric = |link: LinkProfile| Profile::symmetric(name, link);
        Some(match name {
            "cap-2500k" => symmetric(LinkProfile::capped(2_500_000, QUEUE)),
            "cap-1000k" => symmetric(LinkProfile::capped(1_000_000, QUEUE)),
            "cap-500k" => symmetric(LinkProfile::capped(500_000, QUEUE)),
            "cap-250k" => symmetric(LinkProfile::capped(250_000, QUEUE)),
            // RTT 40 ms (20 + 20) base; each direction adds 0..10 ms more on average once busy, up to 20 ms
            // (±10 ms jitter, no reordering); 1 % of packets lost each way (~2 % of round trips).
            "wifi-good" => symmetric(LinkProfile {
                delay: ms(20),
                jitter: ms(10),
                loss: Loss::Random(0.01),
                ..LinkProfile::default()
            }),
            // RTT 80 ms (40 + 40) base, one-way 0..80 ms per packet (±40 ms jitter; busy links sit near 80),
            // 5 % lost each way in bursts of 3 packets on average.
            "wifi-bad" => symmetric(LinkProfile {
                delay: ms(40),
                jitter: ms(40),
                loss: Loss::Bursty { rate: 0.05, mean_burst: 3.0 },
                ..LinkProfile::default()
            }),
            // 750 kbit/s each way with a 300 ms queue (so up to 300 ms more per direction when saturated),
            // RTT 150 ms (75 + 75) base, 2 % random loss each way.
            "mobile" => symmetric(LinkProfile {
                rate_bps: Some(750_000),
                queue: QUEUE,
                delay: ms(75),
                loss: Loss::Random(0.02),
                ..LinkProfile::default()
            }),
            "drop" => {
                Profile::rate_drop(name, 4_000_000, 400_000, Duration::from_secs(10), Duration::from_secs(30))
            }
            // For every host of a 4-person mesh: each sends its media three times (one per peer) through
            // a 3 Mbit/s uplink, so about 1 Mbit/s per peer; downlinks unlimited, no delay.
            "mesh-uplink-3m" => Profile {
                name: name.to_owned(),
                up: LinkProfile::capped(3_000_000, QUEUE),
                down: LinkProfile::default(),
                changes: Vec::new(),
            },
            _ => return None,
        })
    }

    /// Every named profile.
    pub fn all() -> Vec<Profile> {
        Self::NAMES.iter().filter_map(|name| Self::by_name(name)).collect()
    }

    /// The same link both ways, no changes.
    pub fn symmetric(name: &str, link: LinkProfile) -> Profile {
        Profile { name: name.to_owned(), up: link.clone(), down: link, changes: Vec::new() }
    }

    /// `high` bit/s both ways (300 ms queue), `low` from `from` until `until` after applying, then `high`
    /// again. `drop` is 4 Mbit/s → 400 kbit/s from 10 s to 30 s.
    pub fn rate_drop(name: &str, high: u64, low: u64, from: Duration, until: Duration) -> Profile {
        let high = LinkProfile::capped(high, QUEUE);
        Profile {
            changes: vec![(from, LinkProfile::capped(low, QUEUE)), (until, high.clone())],
            ..Profile::symmetric(name, high)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_name_has_its_profile() {
        let all = Profile::all();
        assert_eq!(all.len(), Profile::NAMES.len());
        for (profile, name) in all.iter().zip(Profile::NAMES) {
            assert_eq!(profile.name, *name);
        }
        assert!(Profile::by_name("nope").is_none());
    }

    #[test]
    fn drop_falls_and_recovers() {
        let p = Profile::by_name("drop").unwrap();
        assert_eq!(p.up.rate_bps, Some(4_000_000));
        assert_eq!(p.changes[0], (Duration::from_secs(10), LinkProfile::capped(400_000, QUEUE)));
        assert_eq!(p.changes[1], (Duration::from_secs(30), LinkProfile::capped(4_000_000, QUEUE)));
    }
}
