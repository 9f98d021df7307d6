//! Jitter buffer behaviour: reordering, duplicates, wraparound, late packets and delay adaptation.

use std::time::{Duration, Instant};

use kaiwa_media::audio::jitter::Arrival;
use kaiwa_media::audio::{FRAME_TICKS, JitterBuffer, JitterConfig, JitterStats, Playout};

fn payload(seq: u16) -> Vec<u8> {
    seq.to_be_bytes().to_vec()
}

fn ms(t0: Instant, n: u64) -> Instant {
    t0 + Duration::from_millis(n)
}

/// Runs a receiver: `arrivals` are (arrival ms, seq), timestamps are seq × 960; pops at 20k + 10 ms until
/// `end_ms`. Returns every non-silence playout decision.
fn run(jb: &mut JitterBuffer, t0: Instant, arrivals: &[(u64, u16)], end_ms: u64) -> Vec<Playout> {
    let mut out = Vec::new();
    let mut next = 0;
    for t in 0..end_ms {
        while next < arrivals.len() && arrivals[next].0 <= t {
            let (at, seq) = arrivals[next];
            jb.push(seq, u32::from(seq).wrapping_mul(FRAME_TICKS), &payload(seq), ms(t0, at));
            next += 1;
        }
        if t % 20 == 10 {
            let p = jb.pop(ms(t0, t));
            if p != Playout::Silence {
                out.push(p);
            }
        }
    }
    out
}

fn played(decisions: &[Playout]) -> Vec<u16> {
    decisions
        .iter()
        .filter_map(|p| match p {
            Playout::Packet(p) => Some(u16::from_be_bytes([p[0], p[1]])),
            _ => None,
        })
        .collect()
}

#[test]
fn reordered_packets_play_in_order() {
    let t0 = Instant::now();
    let mut jb = JitterBuffer::default();
    // Every block of four arrives as a, a+2, a+1, a+3.
    let order: Vec<u16> = (0..40u16).map(|i| 100 + (i / 4) * 4 + [0, 2, 1, 3][usize::from(i % 4)]).collect();
    let arrivals: Vec<(u64, u16)> = order.iter().enumerate().map(|(k, &s)| (20 * k as u64, s)).collect();
    let decisions = run(&mut jb, t0, &arrivals, 1000);
    let played = played(&decisions);
    assert!(played.windows(2).all(|w| w[0] < w[1]), "in order: {played:?}");
    let s = jb.stats();
    // The very first reordering cannot be anticipated (no jitter measured yet); after that, none is lost.
    assert!(s.lost <= 1 && s.late <= 1, "{s:?}");
    assert!(played.len() >= 39, "{played:?}");
    assert!(played[played.len() - 30..].iter().copied().eq(110..140), "{played:?}");
    // a+2 arrives 20 ms early, a+1 20 ms late: 40 ms of jitter plus a frame.
    assert_eq!(s.target_delay_ms, 60, "{s:?}");
}

#[test]
fn duplicates_are_dropped() {
    let t0 = Instant::now();
    let mut jb = JitterBuffer::default();
    assert_eq!(jb.push(7, 7 * FRAME_TICKS, &payload(7), t0), Arrival::Accepted);
    assert_eq!(jb.push(7, 7 * FRAME_TICKS, &payload(7), t0), Arrival::Duplicate);
    let decisions = run(&mut jb, t0, &[(20, 8), (21, 8), (40, 9)], 200);
    assert_eq!(played(&decisions), vec![7, 8, 9]);
    assert_eq!(jb.stats().duplicates, 2);
    assert_eq!(jb.push(8, 8 * FRAME_TICKS, &payload(8), ms(t0, 200)), Arrival::Late, "its slot has passed");
    assert_eq!(jb.push(10, 0, &[], t0), Arrival::Invalid);
}

#[test]
fn sequence_and_timestamp_wraparound() {
    let t0 = Instant::now();
    let mut jb = JitterBuffer::default();
    let mut seq = 65_530u16;
    let mut ts = u32::MAX - 3 * FRAME_TICKS;
    let mut played = Vec::new();
    for i in 0..20u64 {
        jb.push(seq, ts, &payload(seq), ms(t0, 20 * i));
        seq = seq.wrapping_add(1);
        ts = ts.wrapping_add(FRAME_TICKS);
        if let Playout::Packet(p) = jb.pop(ms(t0, 20 * i + 10)) {
            played.push(u16::from_be_bytes([p[0], p[1]]));
        }
    }
    let expected: Vec<u16> = (0..played.len() as u16).map(|k| 65_530u16.wrapping_add(k)).collect();
    assert_eq!(played, expected);
    assert!(played.len() >= 18);
    let s = jb.stats();
    assert_eq!((s.lost, s.late, s.concealed), (0, 0, 0), "{s:?}");
    assert!(s.jitter_ms < 1.0 && s.target_delay_ms == 20, "{s:?}");
}

#[test]
fn loss_gives_fec_or_conceal_and_late_packet_is_dropped() {
    let t0 = Instant::now();
    let mut jb = JitterBuffer::default();
    let arrivals: Vec<(u64, u16)> = [1u16, 2, 4, 7, 8].iter().map(|&s| (20 * u64::from(s), s)).collect();
    let decisions = run(&mut jb, t0, &arrivals, 220);
    assert_eq!(played(&decisions), vec![1, 2, 4, 7, 8]);
    assert!(decisions.contains(&Playout::Fec(payload(4))), "3 lost, 4 carries its FEC: {decisions:?}");
    assert!(decisions.contains(&Playout::Fec(payload(7))), "6 lost, 7 carries its FEC: {decisions:?}");
    assert!(decisions.contains(&Playout::Conceal));
    let s = jb.stats();
    assert_eq!((s.lost, s.fec), (3, 2), "{s:?}");
    // 5 turns up now: its slot has passed.
    assert_eq!(jb.push(5, 5 * FRAME_TICKS, &payload(5), ms(t0, 220)), Arrival::Late);
    // Nothing more arrives: underruns conceal for a while, then playout stops.
    let decisions = run(&mut jb, t0, &[], 0);
    assert!(decisions.is_empty());
    let mut tail = Vec::new();
    for k in 0..20u64 {
        tail.push(jb.pop(ms(t0, 230 + 20 * k)));
    }
    assert_eq!(tail[0], Playout::Conceal);
    assert_eq!(*tail.last().unwrap(), Playout::Silence);
}

#[test]
fn sender_restart_with_lower_sequence_resynchronises() {
    let t0 = Instant::now();
    let mut jb = JitterBuffer::default();
    let arrivals: Vec<(u64, u16)> = (0..20u16).map(|i| (20 * u64::from(i), 40_000 + i)).collect();
    let first = run(&mut jb, t0, &arrivals, 400);
    assert!(played(&first).len() >= 18);
    // Restarted sender: lower sequence numbers, continuing timestamps.
    let mut played_after = 0;
    for i in 0..100u64 {
        let seq = 20_000 + i as u16;
        jb.push(seq, (20 + i as u32) * FRAME_TICKS, &payload(seq), ms(t0, 400 + 20 * i));
        if let Playout::Packet(_) = jb.pop(ms(t0, 410 + 20 * i)) {
            played_after += 1;
        }
    }
    assert!(played_after >= 50, "{played_after} {:?}", jb.stats());
}

/// Simulates a sender at 20 ms cadence over a network with per-packet delay `delay(i)` (ms), and a
/// receiver popping every 20 ms (at t = 20k + 10). Returns the stats after every pop and the played sequence.
fn simulate(jb: &mut JitterBuffer, count: u64, delay: impl Fn(u64) -> u64) -> (Vec<JitterStats>, Vec<u16>) {
    let t0 = Instant::now();
    let mut arrivals: Vec<(u64, u64)> = (0..count).map(|i| (i * 20 + delay(i), i)).collect();
    arrivals.sort();
    let mut next_arrival = 0;
    let mut trace = Vec::new();
    let mut played = Vec::new();
    for t in 0..count * 20 {
        while next_arrival < arrivals.len() && arrivals[next_arrival].0 <= t {
            let (at, i) = arrivals[next_arrival];
            let seq = i as u16;
            jb.push(seq, (i as u32).wrapping_mul(FRAME_TICKS), &payload(seq), ms(t0, at));
            next_arrival += 1;
        }
        if t % 20 == 10 {
            if let Playout::Packet(p) = jb.pop(ms(t0, t)) {
                played.push(u16::from_be_bytes([p[0], p[1]]));
            }
            trace.push(jb.stats());
        }
    }
    (trace, played)
}

#[test]
fn delay_adapts_up_under_jitter_and_back_down_when_it_stops() {
    let mut jb = JitterBuffer::new(JitterConfig::default());
    // 4 s steady (10 ms network delay), 6 s of jitter up to 80 ms (deterministic pseudo-random), 6 s steady.
    let delay = |i: u64| {
        if (200..500).contains(&i) { 10 + (i.wrapping_mul(2_654_435_761) >> 7) % 80 } else { 10 }
    };
    let (trace, played) = simulate(&mut jb, 800, delay);
    assert!(played.windows(2).all(|w| w[0] < w[1]), "playout order");

    let steady = &trace[190];
    assert_eq!(steady.target_delay_ms, 20, "no jitter: minimum target: {steady:?}");
    assert!(steady.current_delay_ms <= 40, "{steady:?}");

    let jittery = &trace[350];
    assert!((70..=110).contains(&jittery.target_delay_ms), "target under jitter: {jittery:?}");
    let avg_current: f64 = trace[400..500].iter().map(|s| f64::from(s.current_delay_ms)).sum::<f64>() / 100.0;
    assert!(avg_current >= 50.0, "buffer grew to {avg_current} ms");
    // Late packets and underruns happen while it adapts, then stop.
    assert_eq!(trace[499].late, trace[420].late, "no late packets once adapted: {:?}", trace[499]);

    let end = &trace[790];
    assert_eq!(end.target_delay_ms, 20, "target back to minimum: {end:?}");
    assert!(end.current_delay_ms <= 60, "buffer drained: {end:?}");
    assert!(end.dropped >= 1, "{end:?}");
    assert_eq!(end.late, trace[500].late, "no late packets once jitter stopped: {end:?}");
    assert_eq!(end.resyncs, 0, "{end:?}");
}
