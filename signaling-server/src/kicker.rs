//! Ends a connection from anywhere (its room, its own tasks, the server's shutdown), keeping why.

use std::sync::{Arc, OnceLock};

use kaiwa_protocol::ErrorCode;
use tokio_util::sync::CancellationToken;
use tracing::debug;

/// Ends a session from anywhere: the reason is kept (first one wins) and both tasks stop.
#[derive(Clone)]
pub struct Kicker(Arc<KickState>);

struct KickState {
    token: CancellationToken,
    reason: OnceLock<(ErrorCode, &'static str)>,
}

impl Kicker {
    pub(crate) fn new(parent: &CancellationToken) -> Self {
        Kicker(Arc::new(KickState { token: parent.child_token(), reason: OnceLock::new() }))
    }

    pub fn kick(&self, code: ErrorCode, why: &'static str) {
        if self.0.reason.set((code, why)).is_ok() {
            debug!(%code, why, "closing connection");
        }
        self.0.token.cancel();
    }

    pub(crate) fn stop(&self) {
        self.0.token.cancel();
    }

    pub(crate) fn token(&self) -> &CancellationToken {
        &self.0.token
    }

    pub(crate) fn reason(&self) -> Option<(ErrorCode, &'static str)> {
        self.0.reason.get().copied()
    }
}
