//! Arbitrary bytes as Y4M, WAV, Annex-B and Opus input. Nothing may panic.
#![no_main]

use kaiwa_media::audio::{FRAME_SAMPLES, OpusDecoder, WavAudio};
use kaiwa_media::video::{H264Decoder, Y4mReader};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(mut reader) = Y4mReader::new(data) {
        for _ in 0..4 {
            if !matches!(reader.read_frame(), Ok(Some(_))) {
                break;
            }
        }
    }
    let _ = WavAudio::read(std::io::Cursor::new(data), 1 << 20);
    if let Ok(mut decoder) = H264Decoder::new() {
        decoder.mark_loss();
        let _ = decoder.decode(data);
    }
    if let Ok(mut opus) = OpusDecoder::new() {
        let mut out = [0i16; FRAME_SAMPLES];
        let _ = opus.decode(data, &mut out);
        let _ = opus.decode_fec(data, &mut out);
        let _ = opus.conceal(&mut out);
    }
});
