//! Kaiwa's call engine. Joins a room on a Kaiwa signaling server and holds a WebRTC call with every other
//! participant. The desktop app and the headless `kaiwa call` CLI are views over it.

pub mod signaling;
