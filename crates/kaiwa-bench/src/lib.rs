//! What the benchmark tools share: CPU and memory of process trees from `/proc`, and the statistics.
//! The tools are the binaries: `kaiwa-bench` (calls, native vs Chromium; `src/main.rs`) and
//! `kaiwa-signaling-load` (the signaling server under load, against a Socket.IO relay; `src/bin/`).

pub mod procstat;
pub mod stats;
