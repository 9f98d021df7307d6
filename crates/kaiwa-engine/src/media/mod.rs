//! Media pipelines on dedicated threads: capture + encode for what we send, decode (+ jitter buffer and
//! mixing for audio) for what we receive. They talk to the async side through bounded channels only.

pub mod adaptation;
pub mod audio_playout;
pub mod audio_send;
pub mod far_end;
pub mod repair_wait;
pub mod video_reception;
pub mod video_recv;
pub mod video_send;
