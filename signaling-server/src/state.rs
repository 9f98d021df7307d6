//! What every connection of the server shares: the configuration, the rooms, the metrics, the shutdown
//! signal and the tasks to wait for.

use std::sync::Arc;

use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::config::Config;
use crate::metrics::Metrics;
use crate::rooms::Rooms;

/// Everything a connection needs, shared.
pub struct State {
    pub config: Config,
    pub rooms: Rooms,
    pub metrics: Arc<Metrics>,
    pub shutdown: CancellationToken,
    /// Every connection task and WebSocket session, so shutdown can wait for their goodbyes.
    pub tasks: TaskTracker,
    /// TCP connections open now (the server's accept loop counts them).
    pub tcp_connections: std::sync::atomic::AtomicUsize,
}

impl State {
    pub fn new(config: Config, shutdown: CancellationToken) -> Arc<Self> {
        let metrics = Arc::new(Metrics::default());
        Arc::new(State {
            rooms: Rooms::new(config.max_room_size, metrics.clone()),
            config,
            metrics,
            shutdown,
            tasks: TaskTracker::new(),
            tcp_connections: Default::default(),
        })
    }
}
