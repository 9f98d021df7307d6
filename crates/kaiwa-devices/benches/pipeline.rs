//! The video pipeline of one call direction, offline and single-threaded, for profiling: source (the test
//! pattern or a Y4M file, through the same `VideoSource`s `kaiwa call` uses) → H.264 encoder → RTP
//! packetizer → depacketizer → decoder → the CLI's stamp reader. Run with:
//!
//! ```sh
//! cargo bench -p kaiwa-devices --bench pipeline -- [--size 1280x720] [--frames 150] [--source pattern|y4m|FILE] [--psnr]
//! valgrind --tool=callgrind <the bench binary> --frames 60      # instruction counts, repeatable
//! ```
//!
//! `y4m` writes the test pattern to a temporary Y4M file first and reads it back. Sources are paced at
//! 30 fps, as in a call (under valgrind the pacer never has to wait). Prints milliseconds per frame per
//! stage, the bitrate and, with `--psnr`, the mean luma PSNR of decoded vs source (kept out
//! of the default run so that instruction counts are the pipeline's alone).

use std::time::{Duration, Instant};

use kaiwa_devices::{TestPatternSource, VideoSource, Y4mFileSource};
use kaiwa_media::video::{
    DepacketizerEvent, EncoderConfig, H264Decoder, H264Depacketizer, H264Encoder, H264Packetizer,
    TestPattern, Y4mHeader, Y4mWriter, psnr,
};

struct Args {
    width: u32,
    height: u32,
    frames: u32,
    source: String,
    psnr: bool,
}

fn parse_args() -> Args {
    let mut args = Args { width: 1280, height: 720, frames: 150, source: "pattern".into(), psnr: false };
    let mut it = std::env::args().skip(1);
    while let Some(a) = it.next() {
        match a.as_str() {
            "--size" => {
                let s = it.next().expect("--size WxH");
                let (w, h) = s.split_once('x').expect("--size WxH");
                args.width = w.parse().expect("width");
                args.height = h.parse().expect("height");
            }
            "--frames" => args.frames = it.next().expect("--frames N").parse().expect("frames"),
            "--source" => args.source = it.next().expect("--source pattern|y4m|FILE"),
            "--psnr" => args.psnr = true,
            _ => {} // cargo bench passes --bench
        }
    }
    args
}

fn write_y4m(dir: &std::path::Path, width: u32, height: u32, frames: u32) -> std::path::PathBuf {
    let path = dir.join("pattern.y4m");
    let file = std::io::BufWriter::new(std::fs::File::create(&path).expect("create y4m"));
    let header = Y4mHeader { width, height, fps_num: 30, fps_den: 1 };
    let mut w = Y4mWriter::new(file, header).expect("y4m header");
    let pattern = TestPattern::new(width, height).expect("pattern");
    for i in 0..frames {
        w.write_frame(&pattern.frame(i, u64::from(i) * 33_333)).expect("y4m frame");
    }
    w.finish().expect("y4m flush");
    path
}

#[derive(Default)]
struct Stages {
    source: Duration,
    encode: Duration,
    packetize: Duration,
    depacketize: Duration,
    decode: Duration,
    sink: Duration,
}

fn ms(d: Duration, n: u32) -> f64 {
    d.as_secs_f64() * 1000.0 / f64::from(n.max(1))
}

fn main() {
    let args = parse_args();
    let tmp = tempfile::tempdir().expect("tempdir");
    let mut source: Box<dyn VideoSource> = match args.source.as_str() {
        "pattern" => Box::new(TestPatternSource::new(args.width, args.height, 30).expect("pattern source")),
        "y4m" => {
            let path = write_y4m(tmp.path(), args.width, args.height, 60);
            Box::new(Y4mFileSource::open(&path).expect("y4m source"))
        }
        file => Box::new(Y4mFileSource::open(std::path::Path::new(file)).expect("y4m source")),
    };
    let (width, height) = source.size();
    let mut encoder = H264Encoder::new(EncoderConfig {
        content: Default::default(),
        width,
        height,
        max_fps: 30.0,
        bitrate_bps: 2_500_000,
        intra_period: 150,
    })
    .expect("encoder");
    let packetizer = H264Packetizer::default();
    let mut depacketizer = H264Depacketizer::default();
    let mut decoder = H264Decoder::new().expect("decoder");
    let pattern = TestPattern::new(width, height).ok();
    let mut t = Stages::default();
    let (mut decoded, mut stamps, mut bytes, mut seq) = (0u32, 0u32, 0usize, 0u16);
    let mut psnr_sum = 0.0;
    for i in 0..args.frames {
        let s = Instant::now();
        let Ok(Some(captured)) = source.next_frame() else { break };
        t.source += s.elapsed();
        let s = Instant::now();
        let Some(au) = encoder.encode(&captured.frame, false).expect("encode") else {
            source.recycle(captured.frame);
            continue;
        };
        t.encode += s.elapsed();
        bytes += au.annex_b.len();
        let s = Instant::now();
        let packets = packetizer.packetize(&au.annex_b);
        t.packetize += s.elapsed();
        for p in packets {
            let s = Instant::now();
            let ts = i.wrapping_mul(3000);
            depacketizer.push(seq, ts, p.marker, &p.payload).expect("depacketize");
            seq = seq.wrapping_add(1);
            let event = depacketizer.poll_event();
            t.depacketize += s.elapsed();
            let Some(DepacketizerEvent::Frame(au)) = event else { continue };
            assert!(depacketizer.poll_event().is_none(), "one access unit per marker");
            let s = Instant::now();
            let frame = decoder.decode(&au.data).expect("decode");
            t.decode += s.elapsed();
            if let Some(frame) = frame {
                decoded += 1;
                let s = Instant::now();
                if pattern.as_ref().and_then(|p| p.read_stamp(&frame)).is_some() {
                    stamps += 1;
                }
                t.sink += s.elapsed();
                if args.psnr {
                    psnr_sum += psnr(&captured.frame, &frame).unwrap_or(0.0).min(99.0);
                }
                decoder.recycle(frame); // as the engine does
            }
        }
        source.recycle(captured.frame);
    }
    let n = args.frames;
    println!(
        "{} {width}x{height}, {n} frames ({decoded} decoded, {stamps} stamps read, {:.0} kbit/s{}): \
         source {:.3}, encode {:.3}, packetize {:.3}, depacketize {:.3}, decode {:.3}, sink {:.3} ms/frame",
        source.describe(),
        bytes as f64 * 8.0 * 30.0 / 1000.0 / f64::from(n.max(1)),
        if args.psnr {
            format!(", luma PSNR {:.2} dB", psnr_sum / f64::from(decoded.max(1)))
        } else {
            String::new()
        },
        ms(t.source, n),
        ms(t.encode, n),
        ms(t.packetize, n),
        ms(t.depacketize, n),
        ms(t.decode, decoded),
        ms(t.sink, decoded),
    );
}
