//! Tests of the bandwidth estimate: the delivered cap, slow start, the loss half around queues, feedback that goes quiet.

use super::*;

fn report(departure: Instant, size: usize, arrived: bool) -> PacketReport {
    super::super::queue_delay::test_report(departure, size, arrived.then_some(Duration::ZERO))
}

/// `n` packets of `size` bytes spread evenly over `span` from `start`.
fn reports(start: Instant, span: Duration, n: u32, size: usize, arrived: bool) -> Vec<PacketReport> {
    (0..n).map(|i| report(start + span * i / n, size, arrived)).collect()
}

/// Feeds `seconds` of feedback, 10 batches a second, each of `bytes_per_batch` delivered in 10 packets.
fn deliver(e: &mut Estimator, from: Instant, seconds: u32, bytes_per_batch: usize) {
    for i in 0..seconds * 10 {
        let start = from + Duration::from_millis(100) * i;
        let batch = reports(start, Duration::from_millis(100), 10, bytes_per_batch / 10, true);
        e.on_reports(start + Duration::from_millis(100), &batch);
    }
}

#[test]
fn growth_is_capped_near_the_delivered_rate() {
    let t = Instant::now();
    let mut e = Estimator::new(300_000.0, 50_000.0, 2_500_000.0);
    assert_eq!(e.target_bitrate(), 300_000.0, "nothing known yet: the initial rate");
    // 250 kbit/s delivered (3125 bytes per 100 ms) with no queue: slow start would reach the ceiling
    // in 5 s, but the sender never proves more than 250 kbit/s.
    deliver(&mut e, t, 5, 3125);
    let delivered = e.delivered_bps().unwrap();
    assert!((delivered - 250_000.0).abs() < 10_000.0, "{delivered}");
    // (2 % for the slightly higher rate read over the first half second, which the cap never takes back.)
    assert!(e.target_bitrate() <= (delivered * HEADROOM + EXTRA_BPS) * 1.02, "{}", e.target_bitrate());
    assert!(e.target_bitrate() > 300_000.0, "it grew to the cap: {}", e.target_bitrate());
}

/// `batches` of 100 ms from `from` on a clean path, each carrying 85 % of the estimate at its start.
fn use_85_percent(e: &mut Estimator, from: Instant, batches: u32) {
    for i in 0..batches {
        let start = from + Duration::from_millis(100) * i;
        let bytes = (e.target_bitrate() * 0.85 / 8.0 / 10.0) as usize;
        e.on_reports(
            start + Duration::from_millis(100),
            &reports(start, Duration::from_millis(100), 10, bytes / 10, true),
        );
    }
}

#[test]
fn a_clean_path_is_found_at_slow_start_speed() {
    // A sender that uses 85 % of its estimate on a path with room and no loss: from 300 kbit/s, 50 % a
    // second reaches 2.5 Mbit/s in about 5 s. (A loss half that bound without loss held it to 8 %
    // a second: 1280×720 took 12 s to reach full size on loopback.)
    let mut e = Estimator::new(300_000.0, 50_000.0, 2_500_000.0);
    use_85_percent(&mut e, Instant::now(), 80);
    assert!(e.target_bitrate() >= 2_400_000.0, "{}", e.target_bitrate());
}

/// 100 ms of 1 Mbit/s from `start` (10 packets of 1250 bytes), each having waited `queue` on the path,
/// every third lost if `lossy`; departures are counted from `t0`.
fn queued(t0: Instant, start: Instant, queue: Duration, lossy: bool) -> Vec<PacketReport> {
    (0..10u32)
        .map(|i| {
            let departure = start + Duration::from_millis(10) * i;
            let lost = lossy && i % 3 == 0;
            super::super::queue_delay::test_report(departure, 1250, (!lost).then(|| departure - t0 + queue))
        })
        .collect()
}

#[test]
fn the_losses_of_a_queue_that_overflowed_do_not_bind_after_it_drains() {
    let t = Instant::now();
    let mut e = Estimator::new(1_000_000.0, 50_000.0, 2_500_000.0);
    // 3 s clean, 2 s of a 200 ms queue losing a third, then 0.5 s in which the drained queue's
    // losses are still being reported, then clean again.
    for i in 0..80u32 {
        let start = t + Duration::from_millis(100) * i;
        let (queue, lossy) = match i {
            30..50 => (Duration::from_millis(200), true),
            50..55 => (Duration::ZERO, true),
            _ => (Duration::ZERO, false),
        };
        e.on_reports(start + Duration::from_millis(100), &queued(t, start, queue, lossy));
        assert_eq!(e.stats().loss_based_bitrate, None, "at {i}");
    }
}

#[test]
fn the_overflows_losses_do_not_bind_however_late_they_are_reported() {
    // As above, but the feedback of the lossy second comes in 1.5 s late (a congested return path):
    // its losses arrive long after the queue was last seen, while clean feedback of later packets
    // says the queue is gone. They are the overflow's, by when they were sent.
    let t = Instant::now();
    let mut e = Estimator::new(1_000_000.0, 50_000.0, 2_500_000.0);
    let step = Duration::from_millis(100);
    for i in 0..30u32 {
        let start = t + step * i;
        e.on_reports(start + step, &queued(t, start, Duration::ZERO, false));
    }
    for i in 30..40u32 {
        let start = t + step * i;
        e.on_reports(start + step, &queued(t, start, Duration::from_millis(200), false));
    }
    for i in 40..80u32 {
        let start = t + step * i;
        let now = start + step;
        let mut reports = queued(t, start, Duration::ZERO, false);
        if (55..65).contains(&i) {
            // Late feedback of what was sent during the queue's last second.
            let sent = t + step * (i - 25);
            reports.extend(queued(t, sent, Duration::from_millis(200), true));
        }
        e.on_reports(now, &reports);
        assert_eq!(e.stats().loss_based_bitrate, None, "at {i}");
    }
}

#[test]
fn loss_without_a_queue_backs_off() {
    let t = Instant::now();
    let mut e = Estimator::new(1_000_000.0, 50_000.0, 2_500_000.0);
    for i in 0..50u32 {
        let start = t + Duration::from_millis(100) * i;
        e.on_reports(start + Duration::from_millis(100), &queued(t, start, Duration::ZERO, i >= 30));
    }
    assert!(e.stats().loss_based_bitrate.is_some(), "{:?}", e.stats());
    // Slow start reached the 2.5 Mbit/s ceiling; two seconds of 40 % loss took off a fifth twice.
    assert!(e.target_bitrate() < 2_500_000.0 * 0.8, "{}", e.target_bitrate());
}

#[test]
fn a_sender_that_goes_quiet_keeps_its_estimate() {
    let t = Instant::now();
    let mut e = Estimator::new(300_000.0, 50_000.0, 2_500_000.0);
    deliver(&mut e, t, 6, 12_500); // 1 Mbit/s delivered
    let before = e.target_bitrate();
    assert!(before > 1_000_000.0, "{before}");
    // Camera off: audio alone, ~50 kbit/s.
    deliver(&mut e, t + Duration::from_secs(6), 5, 625);
    assert!(e.target_bitrate() >= before, "{} after {before}", e.target_bitrate());
}

#[test]
fn lost_packets_do_not_count_and_old_ones_leave_the_window() {
    let t = Instant::now();
    let mut e = Estimator::new(2_000_000.0, 50_000.0, 2_500_000.0);
    e.on_reports(t + Duration::from_secs(1), &reports(t, Duration::from_secs(1), 100, 1000, false));
    assert_eq!(e.delivered_bps(), None);
    e.on_reports(t + Duration::from_secs(1), &reports(t, Duration::from_secs(1), 100, 1000, true));
    let first = e.delivered_bps().unwrap();
    let later = t + Duration::from_secs(5);
    e.on_reports(later + Duration::from_secs(1), &reports(later, Duration::from_secs(1), 10, 1000, true));
    let second = e.delivered_bps().unwrap();
    assert!(second < first / 5.0, "{first} then {second}");
}

#[test]
fn the_cap_never_raises_a_lower_target() {
    let t = Instant::now();
    let mut e = Estimator::new(100_000.0, 50_000.0, 2_500_000.0);
    // 800 kbit/s delivered (cap 1.25 Mbit/s); one decision of the delay half grows 100 k by 2 %.
    e.on_reports(t + Duration::from_secs(1), &reports(t, Duration::from_secs(1), 100, 1000, true));
    assert!(e.target_bitrate() < 110_000.0, "{}", e.target_bitrate());
}

/// 1 Mbit/s delivered cleanly for 3 s, then 400 ms of feedback showing a 300 ms standing queue (a link
/// that just fell); returns when the last of it came.
fn up_to_a_drop(e: &mut Estimator, t: Instant) -> Instant {
    let step = Duration::from_millis(100);
    for i in 0..30u32 {
        let start = t + step * i;
        e.on_reports(start + step, &queued(t, start, Duration::ZERO, false));
    }
    for i in 30..34u32 {
        let start = t + step * i;
        e.on_reports(start + step, &queued(t, start, Duration::from_millis(300), false));
    }
    t + step * 34
}

#[test]
fn feedback_that_stops_after_a_standing_queue_halves_the_estimate_per_silent_span() {
    let t = Instant::now();
    let mut e = Estimator::new(1_000_000.0, 50_000.0, 2_500_000.0);
    let last = up_to_a_drop(&mut e, t);
    let before = e.target_bitrate();
    assert_eq!(e.poll_timeout(), Some(last + FEEDBACK_SILENCE), "wants waking when the silence counts");
    e.handle_timeout(last + FEEDBACK_SILENCE - Duration::from_millis(1));
    assert_eq!(e.target_bitrate(), before, "a gap shorter than the span is ordinary");
    e.handle_timeout(last + FEEDBACK_SILENCE);
    assert_eq!(e.target_bitrate(), before / 2.0);
    assert_eq!(e.poll_timeout(), Some(last + FEEDBACK_SILENCE * 2));
    // A late wake-up catches up on the spans it missed, once, and no further than a quarter: the silence
    // that goes on is the return path's congestion, not ours.
    e.handle_timeout(last + FEEDBACK_SILENCE * 3 + Duration::from_millis(10));
    assert_eq!(e.target_bitrate(), before / 4.0);
    assert_eq!(e.poll_timeout(), None, "{MAX_SILENT_HALVINGS} halvings per silence");
    e.handle_timeout(last + FEEDBACK_SILENCE * 6);
    assert_eq!(e.target_bitrate(), before / 4.0);
    // Feedback comes back still showing the queue: the delay half was held down too, so it does not
    // bring back the rate from before the silence.
    let start = last + FEEDBACK_SILENCE * 6;
    e.on_reports(start + Duration::from_millis(100), &queued(t, start, Duration::from_millis(300), false));
    assert!(e.target_bitrate() <= before / 4.0, "{} after {}", e.target_bitrate(), before / 4.0);
}

#[test]
fn a_sender_that_goes_idle_keeps_its_estimate_through_the_silence() {
    // No queue at the last feedback: the silence is ours (nothing sent), not the path's.
    let t = Instant::now();
    let mut e = Estimator::new(1_000_000.0, 50_000.0, 2_500_000.0);
    deliver(&mut e, t, 3, 12_500);
    let before = e.target_bitrate();
    assert_eq!(e.poll_timeout(), None);
    e.handle_timeout(t + Duration::from_secs(10));
    assert_eq!(e.target_bitrate(), before);
}

#[test]
fn the_silence_never_takes_the_estimate_under_its_floor() {
    let t = Instant::now();
    let mut e = Estimator::new(1_000_000.0, 400_000.0, 2_500_000.0);
    let last = up_to_a_drop(&mut e, t);
    assert!(e.target_bitrate() < 1_600_000.0, "{}", e.target_bitrate());
    e.handle_timeout(last + Duration::from_secs(60));
    assert_eq!(e.target_bitrate(), 400_000.0);
    assert_eq!(e.poll_timeout(), None, "nothing more to do at the floor");
}

#[test]
fn after_a_blind_cut_the_estimate_climbs_back_at_slow_start_speed() {
    // The lab's drop: the silence cut the estimate to a quarter, the first feedback back still shows the
    // queue, then the link is clear again. From the cut, growth is as at a call's start (50 % a second),
    // not the 15 % that took 11–12 s to bring back 640×480.
    let t = Instant::now();
    let mut e = Estimator::new(1_000_000.0, 50_000.0, 2_500_000.0);
    let last = up_to_a_drop(&mut e, t);
    let before = e.target_bitrate();
    e.handle_timeout(last + FEEDBACK_SILENCE * 2);
    let start = last + FEEDBACK_SILENCE * 2;
    e.on_reports(start + Duration::from_millis(100), &queued(t, start, Duration::from_millis(300), false));
    let cut = e.target_bitrate();
    assert!(cut <= before / 4.0, "{cut} after {before}");
    use_85_percent(&mut e, start + Duration::from_millis(100), 50);
    let grown = e.target_bitrate() / cut;
    assert!(grown >= 5.0, "x{grown} in 5 s from {cut}");
}

#[test]
fn without_loss_packets_reported_missing_still_count_as_delivered() {
    // Janus's feedback: every other packet (our audio's share) listed as missing, though it arrived.
    let t = Instant::now();
    let half_missing = |e: &mut Estimator| {
        for i in 0..30u32 {
            let start = t + Duration::from_millis(100) * i;
            let batch: Vec<PacketReport> =
                (0..10u32).map(|p| report(start + Duration::from_millis(10) * p, 1250, p % 2 == 0)).collect();
            e.on_reports(start + Duration::from_millis(100), &batch);
        }
    };
    let mut lossy = Estimator::new(1_000_000.0, 50_000.0, 2_500_000.0);
    half_missing(&mut lossy);
    let mut janus = Estimator::new(1_000_000.0, 50_000.0, 2_500_000.0).without_loss();
    half_missing(&mut janus);
    let (lossy_bps, janus_bps) = (lossy.delivered_bps().unwrap(), janus.delivered_bps().unwrap());
    assert!((janus_bps - 1_000_000.0).abs() < 100_000.0, "{janus_bps}");
    assert!(lossy_bps < 600_000.0, "{lossy_bps}");
    // 50 % loss backs the other one off; this one keeps its estimate.
    assert!(janus.target_bitrate() >= 1_000_000.0, "{}", janus.target_bitrate());
    assert!(lossy.target_bitrate() < janus.target_bitrate(), "{}", lossy.target_bitrate());
}

#[test]
fn a_ceiling_holds_the_estimate_and_once_raised_is_climbed_to() {
    // The SFU's sending connection: the camera's 400 kbit/s, 1.6 Mbit/s while a screen is shared.
    let ceiling = Ceiling::new(400_000);
    let mut e = Estimator::new(400_000.0, 50_000.0, 1_600_000.0).under(ceiling.clone());
    let t = Instant::now();
    use_85_percent(&mut e, t, 50);
    assert_eq!(e.target_bitrate(), 400_000.0, "a clean path, held at the ceiling");
    // Sharing starts: the estimate climbs from where it was, not in one jump.
    ceiling.set(1_600_000);
    use_85_percent(&mut e, t + Duration::from_secs(5), 1);
    assert!(e.target_bitrate() < 600_000.0, "{}", e.target_bitrate());
    use_85_percent(&mut e, t + Duration::from_millis(5100), 60);
    assert!(e.target_bitrate() >= 1_500_000.0, "{}", e.target_bitrate());
    // Sharing ends: back under the camera's ceiling at the next feedback.
    ceiling.set(400_000);
    use_85_percent(&mut e, t + Duration::from_millis(11_100), 1);
    assert_eq!(e.target_bitrate(), 400_000.0);
}
