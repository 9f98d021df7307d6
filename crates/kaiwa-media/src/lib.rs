//! Kaiwa's sans-IO media layer.
//!
//! Everything here is plain data in, plain data out: codec wrappers (H.264 via openh264, Opus via libopus),
//! our own RFC 6184 H.264 RTP depacketizer/packetizer, an adaptive audio jitter buffer, a mixer, and the
//! synthetic sources and file formats the tests and the `devices` layer use. There are no threads, sockets
//! or clocks in this crate: every time-dependent call takes `now: Instant` (or an RTP timestamp) from the
//! caller, so the engine can drive it from whichever thread it likes and tests are deterministic.
//!
//! Nothing in here may panic on any input from the network, a device or a file: errors are `thiserror`
//! enums, and a panic is a bug.
// What other participants send reaches this code: no slicing a string at a byte index (a multi-byte
// character there panics), and no `unwrap` outside tests (CODE_STYLE.md, "Remote input").
#![warn(clippy::string_slice)]
#![cfg_attr(not(test), warn(clippy::unwrap_used))]

pub mod audio;
pub mod stats;
pub mod video;

#[cfg(test)]
mod tests {
    /// The engine moves these onto its media threads.
    #[test]
    fn pipeline_types_are_send() {
        fn send<T: Send>() {}
        send::<crate::video::H264Encoder>();
        send::<crate::video::H264Decoder>();
        send::<crate::video::H264Depacketizer>();
        send::<crate::video::I420Frame>();
        send::<crate::audio::OpusEncoder>();
        send::<crate::audio::OpusDecoder>();
        send::<crate::audio::AudioReceiver>();
        send::<crate::audio::JitterBuffer>();
        send::<crate::audio::Mixer>();
    }
}
