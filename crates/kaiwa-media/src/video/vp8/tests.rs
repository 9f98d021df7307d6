//! VP8 round trips through libvpx: pictures, bitrate changes, keyframes on request, sizes, loss.

use super::*;
use crate::video::{EncoderConfig, EncoderError, I420Frame, TestPattern, psnr};

fn pattern_frames(n: usize, w: u32, h: u32) -> Vec<I420Frame> {
    let pattern = TestPattern::new(w, h).unwrap();
    (0..n).map(|i| pattern.frame(i as u32, i as u64 * 33_333)).collect()
}

#[test]
fn encodes_and_decodes_a_call_picture() {
    let config = EncoderConfig { bitrate_bps: 800_000, ..EncoderConfig::call(640, 480) };
    let mut encoder = Vp8Encoder::new(config).unwrap();
    let mut decoder = Vp8Decoder::new().unwrap();
    let frames = pattern_frames(30, 640, 480);
    let mut decoded = 0;
    let mut quality = Vec::new();
    for (i, frame) in frames.iter().enumerate() {
        let Some(out) = encoder.encode(frame, false).unwrap() else { continue };
        assert_eq!(out.keyframe, i == 0, "frame {i}: only the first is a keyframe");
        assert_eq!(is_vp8_keyframe(&out.data), out.keyframe);
        let picture = decoder.decode(&out.data).unwrap().expect("a picture per frame");
        assert_eq!((picture.width(), picture.height()), (640, 480));
        quality.push(psnr(frame, &picture).unwrap());
        decoded += 1;
    }
    assert!(decoded >= 25, "only {decoded} of 30 frames came out");
    let mean = quality.iter().sum::<f64>() / quality.len() as f64;
    assert!(mean > 30.0, "PSNR {mean:.1} dB");
}

#[test]
fn keyframes_on_request_and_the_bitrate_follows_the_target() {
    let config = EncoderConfig { bitrate_bps: 1_500_000, ..EncoderConfig::call(320, 240) };
    let mut encoder = Vp8Encoder::new(config).unwrap();
    let frames = pattern_frames(120, 320, 240);
    let mut bytes = [0usize; 2];
    for (i, frame) in frames.iter().enumerate() {
        if i == 60 {
            encoder.set_bitrate(150_000).unwrap();
            encoder.request_keyframe();
        }
        if let Some(out) = encoder.encode(frame, false).unwrap() {
            if i == 60 {
                assert!(out.keyframe, "the requested keyframe");
            }
            // Skip each half's first second (the keyframe and the rate controller settling).
            if i % 60 >= 30 {
                bytes[i / 60] += out.data.len();
            }
        }
    }
    assert_eq!(encoder.bitrate(), 150_000);
    let kbps = bytes.map(|b| b * 8 / 1000);
    assert!(kbps[1] * 2 < kbps[0], "a tenth of the target should send far less: {kbps:?} kbit/s");
    assert!(kbps[1] < 250, "{kbps:?} kbit/s at a 150 kbit/s target");
}

#[test]
fn the_decoder_waits_for_a_keyframe_and_survives_garbage() {
    let mut encoder = Vp8Encoder::new(EncoderConfig::call(320, 240)).unwrap();
    let mut decoder = Vp8Decoder::new().unwrap();
    let frames = pattern_frames(3, 320, 240);
    let key = encoder.encode(&frames[0], false).unwrap().unwrap();
    let delta = encoder.encode(&frames[1], false).unwrap().unwrap();
    assert!(matches!(decoder.decode(&delta.data), Err(Vp8DecoderError::AwaitingKeyframe)));
    assert!(decoder.decode(&key.data).unwrap().is_some());
    for junk in [&[][..], &[0u8; 3][..], &[0x10, 0x02, 0x00, 0x9d, 0x01, 0x2a, 0xff, 0xff, 0xff, 0xff][..]] {
        let _ = decoder.decode(junk);
    }
    let mut truncated = key.data.clone();
    truncated.truncate(key.data.len() / 3);
    let _ = decoder.decode(&truncated);
    // A fresh keyframe brings it back.
    let again = encoder.encode(&frames[2], true).unwrap().unwrap();
    assert!(again.keyframe);
    decoder.mark_loss();
    assert!(decoder.decode(&again.data).unwrap().is_some());
    assert!(!decoder.needs_keyframe());
}

#[test]
fn bad_configs_are_refused() {
    assert!(Vp8Encoder::new(EncoderConfig::call(641, 480)).is_err());
    assert!(Vp8Encoder::new(EncoderConfig { bitrate_bps: 5, ..EncoderConfig::call(640, 480) }).is_err());
    let mut encoder = Vp8Encoder::new(EncoderConfig::call(320, 240)).unwrap();
    let other = pattern_frames(1, 640, 480);
    assert!(matches!(encoder.encode(&other[0], false), Err(EncoderError::SizeMismatch { .. })));
}
