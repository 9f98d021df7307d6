//! The link model on synthetic time: each test runs in microseconds.

use super::*;

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

/// Sends `count` packets of `size` bytes, one every `gap`, and returns each one's fate.
fn run(link: &mut Link, count: usize, size: usize, gap: Duration) -> Vec<Option<Delivery>> {
    let start = Instant::now();
    (0..count).map(|i| link.send(size, start + gap * i as u32)).collect()
}

#[test]
fn a_perfect_link_delivers_at_once() {
    let mut link = Link::new(LinkProfile::default(), 1);
    let now = Instant::now();
    assert_eq!(link.send(100, now), Some(Delivery { at: now, duplicate: None }));
}

#[test]
fn the_rate_cap_gives_its_throughput_and_drops_the_excess() {
    // 1 Mbit/s offered 2 Mbit/s (1000-byte packets every 4 ms) for 10 s.
    let mut link = Link::new(LinkProfile::capped(1_000_000, ms(300)), 1);
    let fates = run(&mut link, 2500, 1000, ms(4));
    let times: Vec<Instant> = fates.iter().flatten().map(|d| d.at).collect();
    let span = (*times.last().unwrap() - times[0]).as_secs_f64();
    let bits = (times.len() - 1) as f64 * 8000.0;
    let rate = bits / span;
    assert!((rate - 1_000_000.0).abs() < 1_000.0, "throughput {rate}");
    let c = link.counters();
    assert_eq!(c.packets_in, 2500);
    assert_eq!(c.dropped_queue + c.delivered, 2500);
    // Roughly half is dropped: 10.3 s of capacity for 20 s worth of packets.
    assert!((1200..1300).contains(&c.dropped_queue), "{c:?}");
}

#[test]
fn the_queue_drops_tail_beyond_its_depth() {
    // A burst of 100 packets of 1000 bytes at 1 Mbit/s: 8 ms each; the 300 ms queue takes those that find
    // at most 300 ms waiting: packets 0..=37 (37 × 8 = 296 ms).
    let mut link = Link::new(LinkProfile::capped(1_000_000, ms(300)), 1);
    let now = Instant::now();
    let fates: Vec<_> = (0..100).map(|_| link.send(1000, now)).collect();
    assert!(fates[..38].iter().all(Option::is_some));
    assert!(fates[38..].iter().all(Option::is_none));
    assert_eq!(fates[37].unwrap().at - now, ms(304));
    assert_eq!(link.counters().dropped_queue, 62);
    // Once the queue has drained, packets pass again.
    assert!(link.send(1000, now + ms(305)).is_some());
}

#[test]
fn delay_and_jitter_stay_in_their_bounds() {
    let profile = LinkProfile { delay: ms(50), jitter: ms(10), ..LinkProfile::default() };
    let mut link = Link::new(profile, 7);
    let start = Instant::now();
    let delays: Vec<Duration> = (0..2000u32)
        .map(|i| {
            let now = start + ms(100) * i;
            link.send(200, now).unwrap().at - now
        })
        .collect();
    assert!(delays.iter().all(|d| (ms(40)..=ms(60)).contains(d)));
    assert!(delays.iter().any(|d| *d < ms(42)) && delays.iter().any(|d| *d > ms(58)));
    let mean = delays.iter().sum::<Duration>().as_secs_f64() / delays.len() as f64;
    assert!((mean - 0.050).abs() < 0.001, "mean {mean}");
}

#[test]
fn jitter_larger_than_the_delay_never_delivers_before_sending() {
    let profile = LinkProfile { delay: ms(5), jitter: ms(20), ..LinkProfile::default() };
    let mut link = Link::new(profile, 3);
    let start = Instant::now();
    for i in 0..1000u32 {
        let now = start + ms(100) * i;
        let d = link.send(200, now).unwrap().at - now;
        assert!(d <= ms(25));
    }
}

#[test]
fn no_reordering_by_default_but_on_request() {
    let profile = LinkProfile { delay: ms(50), jitter: ms(40), ..LinkProfile::default() };
    let mut link = Link::new(profile.clone(), 5);
    let times: Vec<Instant> = run(&mut link, 5000, 200, ms(1)).into_iter().map(|d| d.unwrap().at).collect();
    assert!(times.windows(2).all(|w| w[0] <= w[1]));

    let mut link = Link::new(LinkProfile { reorder: 0.3, ..profile }, 5);
    let times: Vec<Instant> = run(&mut link, 5000, 200, ms(1)).into_iter().map(|d| d.unwrap().at).collect();
    let overtaken = times.windows(2).filter(|w| w[1] < w[0]).count();
    assert!(overtaken > 100, "{overtaken}");
}

#[test]
fn random_loss_drops_its_fraction() {
    let mut link = Link::new(LinkProfile { loss: Loss::Random(0.1), ..LinkProfile::default() }, 11);
    let fates = run(&mut link, 100_000, 100, ms(1));
    let lost = fates.iter().filter(|f| f.is_none()).count() as f64 / 100_000.0;
    assert!((lost - 0.1).abs() < 0.005, "{lost}");
    assert_eq!(link.counters().dropped_loss as usize, fates.iter().filter(|f| f.is_none()).count());
}

#[test]
fn gilbert_elliott_bursts_have_their_mean_length() {
    let loss = Loss::Bursty { rate: 0.05, mean_burst: 4.0 };
    let mut link = Link::new(LinkProfile { loss, ..LinkProfile::default() }, 13);
    let fates = run(&mut link, 400_000, 100, ms(1));
    let lost = fates.iter().filter(|f| f.is_none()).count();
    let rate = lost as f64 / fates.len() as f64;
    assert!((rate - 0.05).abs() < 0.005, "loss rate {rate}");
    let bursts = fates.windows(2).filter(|w| w[0].is_some() && w[1].is_none()).count()
        + usize::from(fates[0].is_none());
    let mean_burst = lost as f64 / bursts as f64;
    assert!((mean_burst - 4.0).abs() < 0.3, "mean burst {mean_burst}");
}

#[test]
fn duplicates_come_at_their_rate() {
    let mut link = Link::new(LinkProfile { duplicate: 0.05, ..LinkProfile::default() }, 17);
    let fates = run(&mut link, 100_000, 100, ms(1));
    let dups = fates.iter().flatten().filter(|d| d.duplicate.is_some()).count() as f64 / 100_000.0;
    assert!((dups - 0.05).abs() < 0.005, "{dups}");
    let c = link.counters();
    assert_eq!(c.delivered, 100_000 + c.duplicated);
}

#[test]
fn the_same_seed_makes_the_same_decisions() {
    let profile = LinkProfile {
        rate_bps: Some(500_000),
        delay: ms(20),
        jitter: ms(15),
        reorder: 0.1,
        loss: Loss::Bursty { rate: 0.1, mean_burst: 3.0 },
        duplicate: 0.02,
        ..LinkProfile::default()
    };
    let start = Instant::now();
    let fates = |seed| {
        let mut link = Link::new(profile.clone(), seed);
        (0..3000u32)
            .map(|i| link.send(300 + (i as usize * 37) % 1000, start + Duration::from_micros(2500) * i))
            .map(|d| d.map(|d| (d.at - start, d.duplicate.map(|t| t - start))))
            .collect::<Vec<_>>()
    };
    assert_eq!(fates(42), fates(42));
    assert_ne!(fates(42), fates(43));
}

#[test]
fn link_seeds_differ_per_host_and_direction() {
    let seeds = [
        link_seed(1, 0, Direction::Up),
        link_seed(1, 0, Direction::Down),
        link_seed(1, 1, Direction::Up),
        link_seed(2, 0, Direction::Up),
    ];
    for (i, a) in seeds.iter().enumerate() {
        assert!(seeds[i + 1..].iter().all(|b| a != b));
    }
}

#[test]
fn odd_settings_never_panic() {
    let profile = LinkProfile {
        rate_bps: Some(0),
        queue: Duration::ZERO,
        reorder: f64::NAN,
        loss: Loss::Bursty { rate: 2.0, mean_burst: -1.0 },
        duplicate: 7.0,
        ..LinkProfile::default()
    };
    let mut link = Link::new(profile, 0);
    run(&mut link, 100, 65_535, Duration::ZERO);
    link.set_profile(LinkProfile {
        rate_bps: Some(1),
        loss: Loss::Random(f64::NAN),
        ..LinkProfile::default()
    });
    run(&mut link, 100, 65_535, Duration::ZERO);
    link.set_profile(LinkProfile { delay: Duration::MAX, jitter: Duration::MAX, ..LinkProfile::default() });
    run(&mut link, 10, 100, Duration::ZERO);
}
