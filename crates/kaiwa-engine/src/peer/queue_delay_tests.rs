//! Tests of the queueing-delay controller against simulated bottleneck links.

use super::*;

/// A simulated bottleneck: packets of `size` bytes sent at `send_bps` through a link of `link_bps`
/// with an unbounded FIFO; returns the reports of one `span`, starting at `start` with `backlog_s`
/// of queue already there.
struct Link {
    link_bps: f64,
    /// When the link is free again, in seconds since `epoch`.
    free_at: f64,
    /// The share of a packet the last step was due to send but did not.
    carry: f64,
    epoch: Instant,
}

impl Link {
    fn new(link_bps: f64, epoch: Instant) -> Self {
        Link { link_bps, free_at: 0.0, carry: 0.0, epoch }
    }

    fn send(&mut self, start: Instant, span: Duration, send_bps: f64) -> Vec<PacketReport> {
        let size = 1200usize;
        let gap = size as f64 * 8.0 / send_bps;
        // (Whole packets: what a step cannot send, the next one does.)
        let due = span.as_secs_f64() / gap + self.carry;
        let n = due as u32;
        self.carry = due - f64::from(n);
        (0..n)
            .map(|i| {
                let departure = start + Duration::from_secs_f64(gap * f64::from(i));
                let sent = departure.duration_since(self.epoch).as_secs_f64();
                self.free_at = self.free_at.max(sent) + size as f64 * 8.0 / self.link_bps;
                // The receiver's clock is 1000 s ahead of ours: only differences matter.
                test_report(departure, size, Some(Duration::from_secs_f64(1000.0 + self.free_at + 0.02)))
            })
            .collect()
    }
}

/// Runs the controller against the link for `seconds`, sending at its target; returns the targets.
fn run(c: &mut QueueDelayController, link: &mut Link, from: Instant, seconds: u32) -> Vec<f64> {
    let step = Duration::from_millis(100);
    (0..seconds * 10)
        .map(|i| {
            let start = from + step * i;
            let reports = link.send(start, step, c.target());
            let delivered = Some(c.target().min(link.link_bps));
            c.update(start + step + Duration::from_millis(20), &reports, delivered)
        })
        .collect()
}

#[test]
fn a_standing_queue_brings_the_target_under_the_link_rate() {
    let t = Instant::now();
    let mut link = Link::new(500_000.0, t);
    let mut c = QueueDelayController::new(1_000_000.0, 50_000.0, 2_500_000.0);
    let targets = run(&mut c, &mut link, t, 20);
    let last = &targets[100..];
    // Settles around the link rate: never far above it, never collapsed.
    assert!(last.iter().all(|&b| b < 620_000.0), "{last:?}");
    let mean = last.iter().sum::<f64>() / last.len() as f64;
    assert!(mean > 350_000.0, "mean {mean}: {last:?}");
    assert!(c.queue_delay().unwrap() < Duration::from_millis(300));
}

#[test]
fn a_fast_path_is_found_in_seconds_then_growth_slows() {
    let t = Instant::now();
    let mut link = Link::new(100_000_000.0, t);
    let mut c = QueueDelayController::new(500_000.0, 50_000.0, 2_500_000.0);
    let targets = run(&mut c, &mut link, t, 5);
    assert_eq!(*targets.last().unwrap(), 2_500_000.0, "{targets:?}");
    // After a decrease, 15 % a second (100 kbit/s a second near the old ceiling first).
    let mut link = Link::new(400_000.0, t);
    let mut c = QueueDelayController::new(1_000_000.0, 50_000.0, 2_500_000.0);
    run(&mut c, &mut link, t, 5);
    link.link_bps = 100_000_000.0;
    let from = c.target();
    let targets = run(&mut c, &mut link, t + Duration::from_secs(5), 20);
    let grown = targets.last().unwrap() / from;
    assert!(grown > 1.8 && grown < 8.0, "x{grown} in 20 s: {targets:?}");
}

#[test]
fn after_a_drop_the_rate_comes_back() {
    let t = Instant::now();
    let mut link = Link::new(4_000_000.0, t);
    let mut c = QueueDelayController::new(1_000_000.0, 50_000.0, 2_500_000.0);
    run(&mut c, &mut link, t, 10);
    link.link_bps = 400_000.0;
    let during = run(&mut c, &mut link, t + Duration::from_secs(10), 20);
    assert!(during[100..].iter().all(|&b| b < 520_000.0), "{:?}", &during[100..]);
    link.link_bps = 4_000_000.0;
    let after = run(&mut c, &mut link, t + Duration::from_secs(30), 10);
    // 640x480 at full rate needs ~630 kbit/s of estimate: reached within 8 s.
    let reached = after.iter().position(|&b| b >= 630_000.0).expect("never recovered");
    assert!(reached <= 80, "recovered after {} ms: {after:?}", reached * 100);
}

#[test]
fn lost_feedback_does_not_deepen_a_back_off() {
    // The lab's drop, with the return path (as congested as the forward one) losing two of every three
    // feedback batches (one every 50 ms) while the link is thin: the target settles under the link's
    // rate, not far under. (Reading the rate as bytes reported over the window's length, it halved
    // at every decrease, down to 1/8 of the link.)
    let t = Instant::now();
    let mut link = Link::new(4_000_000.0, t);
    let mut c = QueueDelayController::new(1_500_000.0, 50_000.0, 2_500_000.0);
    run(&mut c, &mut link, t, 10);
    link.link_bps = 400_000.0;
    let step = Duration::from_millis(50);
    let from = t + Duration::from_secs(10);
    let during: Vec<f64> = (0..160)
        .map(|i| {
            let start = from + step * i;
            // An encoder overshooting its target by 30 % (keyframes after the drop's losses) keeps the
            // queue standing through more than one decrease.
            let reports = link.send(start, step, c.target() * 1.3);
            let delivered = None;
            if i % 3 == 0 { c.update(start + step, &reports, delivered) } else { c.target() }
        })
        .collect();
    assert!(during[60..].iter().all(|&b| (230_000.0..520_000.0).contains(&b)), "{during:?}");
}

#[test]
fn a_full_queue_that_does_not_grow_is_overuse_too() {
    let t = Instant::now();
    // 1200-byte packets at "400 kbit/s" are 4 per 100 ms step: 384 kbit/s, exactly the link's rate.
    let mut link = Link::new(384_000.0, t);
    let mut c = QueueDelayController::new(300_000.0, 50_000.0, 300_000.0);
    let step = Duration::from_millis(100);
    // Two seconds with an empty queue (the baseline), then 300 ms of backlog appears at once (another
    // sender's burst) and we keep sending at exactly the link's rate: the queue stays full.
    let run_at = |c: &mut QueueDelayController, link: &mut Link, from: u32, to: u32, bps: f64| {
        for i in from..to {
            let start = t + step * i;
            let reports = link.send(start, step, bps);
            c.update(start + step, &reports, Some(bps));
        }
    };
    run_at(&mut c, &mut link, 0, 20, 300_000.0);
    assert_eq!(c.target(), 300_000.0);
    c.max = 2_500_000.0;
    link.free_at = 2.0 + 0.3;
    run_at(&mut c, &mut link, 20, 25, 400_000.0);
    // The jump itself is growth: one decrease. The flat full queue after it must bring the target down
    // again (0.85 per decrease gap) instead of holding.
    let after_jump = c.target();
    run_at(&mut c, &mut link, 25, 45, 400_000.0);
    assert!(c.queue_delay().unwrap() > Duration::from_millis(200), "the queue should still be full");
    assert!(
        c.target() < after_jump * 0.9,
        "a standing queue kept the target at {} (was {after_jump})",
        c.target()
    );
}

#[test]
fn jitter_that_bunches_packets_is_not_a_queue() {
    // Like a Wi-Fi link (and the lab's `wifi-bad`): 40 ± 40 ms per packet, but no packet overtakes the
    // one before, so delays bunch towards the top within each frame's burst and relax between frames:
    // the minimum sits well above the quiet-time baseline and wobbles, with no queue growing.
    let t = Instant::now();
    let mut c = QueueDelayController::new(1_000_000.0, 50_000.0, 1_000_000.0);
    let mut last_arrival = 0.0f64;
    let mut draw: u64 = 12345;
    let mut jitter = || {
        draw = draw.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        (draw >> 33) as f64 / f64::from(1u32 << 31) * 0.08
    };
    for step in 0..300u32 {
        // 30 frames a second, five packets each, 1 ms apart; the first two seconds are quiet (one
        // packet a frame), as a call's start is.
        let frame = t + Duration::from_micros(33_333) * step;
        let packets = if step < 60 { 1 } else { 5 };
        let reports: Vec<_> = (0..packets)
            .map(|i| {
                let departure = frame + Duration::from_millis(i);
                let sent = departure.duration_since(t).as_secs_f64();
                last_arrival = last_arrival.max(sent + jitter());
                test_report(departure, 1200, Some(Duration::from_secs_f64(last_arrival)))
            })
            .collect();
        c.update(frame + Duration::from_millis(100), &reports, Some(1_000_000.0));
    }
    assert!(c.target() > 900_000.0, "bunched jitter lowered the target to {}", c.target());
}

#[test]
fn jitter_alone_is_not_a_queue() {
    let t = Instant::now();
    let mut c = QueueDelayController::new(500_000.0, 50_000.0, 2_500_000.0);
    // 40 ms of random-looking jitter on every packet, no standing queue.
    for step in 0..100u32 {
        let start = t + Duration::from_millis(100) * step;
        let reports: Vec<_> = (0..10u32)
            .map(|i| {
                let departure = start + Duration::from_millis(10) * i;
                let jitter = f64::from((step * 7 + i * 13) % 41) / 1000.0;
                let sent = departure.duration_since(t).as_secs_f64();
                test_report(departure, 1200, Some(Duration::from_secs_f64(sent + 0.03 + jitter)))
            })
            .collect();
        c.update(start + Duration::from_millis(120), &reports, Some(500_000.0));
    }
    assert!(c.target() > 500_000.0, "jitter lowered the target to {}", c.target());
}

#[test]
fn packets_reported_missing_count_towards_the_arrival_rate_when_told() {
    // Packets of 1200 bytes every 10 ms (960 kbit/s), every other one reported missing, in batches of 100 ms.
    let t = Instant::now();
    let batch = |b: u32| -> Vec<PacketReport> {
        (b * 10..b * 10 + 10)
            .map(|i| {
                let arrival = (i % 2 == 0).then(|| Duration::from_millis(1000 + 10 * u64::from(i)));
                test_report(t + Duration::from_millis(10) * i, 1200, arrival)
            })
            .collect()
    };
    let rate = |count: bool| {
        let mut c = QueueDelayController::new(1_000_000.0, 50_000.0, 2_500_000.0);
        if count {
            c.count_missing_as_arrived();
        }
        for b in 0..5 {
            c.update(t + Duration::from_millis(100 * u64::from(b) + 120), &batch(b), None);
        }
        c.arrival_rate().unwrap()
    };
    let (counted, not) = (rate(true), rate(false));
    assert!(counted > not * 1.7, "{counted} vs {not}");
}
