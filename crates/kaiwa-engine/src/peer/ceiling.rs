//! A ceiling on a connection's bandwidth estimate that its owner moves while the call runs, under the
//! fixed `max_bitrate_bps` the estimator was built with. The SFU's sending connection needs one: it
//! carries our small camera picture alone most of the time, and a shared screen beside it now and then.

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering::Relaxed};

/// Shared between the connection's owner, which sets it, and the estimator inside webrtc-rs's interceptor
/// chain, which reads it on every feedback.
#[derive(Clone, Debug)]
pub struct Ceiling(Arc<AtomicU32>);

impl Ceiling {
    pub fn new(bps: u32) -> Self {
        Ceiling(Arc::new(AtomicU32::new(bps)))
    }

    pub fn set(&self, bps: u32) {
        self.0.store(bps, Relaxed);
    }

    pub fn bps(&self) -> f64 {
        f64::from(self.0.load(Relaxed))
    }
}
