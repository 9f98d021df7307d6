//! What every connection of the server shares: the configuration, the rooms, the metrics, the shutdown
//! signal and the tasks to wait for.

use std::sync::Arc;

use kaiwa_protocol::{ErrorCode, RoomCode};

use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::cluster::Cluster;
use crate::config::Config;
use crate::metrics::Metrics;
use crate::rooms::Rooms;
use crate::sfu::Sfu;

/// Where the rooms live: in this process (the default), or in Redis shared with other servers.
pub enum Directory {
    Local(Rooms),
    Cluster(Arc<Cluster>),
}

/// Everything a connection needs, shared.
pub struct State {
    pub config: Config,
    pub rooms: Directory,
    /// Big rooms' SFU, when the server has one (`--janus`).
    pub sfu: Option<Arc<Sfu>>,
    pub metrics: Arc<Metrics>,
    pub shutdown: CancellationToken,
    /// Every connection task and WebSocket session, so shutdown can wait for their goodbyes.
    pub tasks: TaskTracker,
    /// TCP connections open now (the server's accept loop counts them).
    pub tcp_connections: std::sync::atomic::AtomicUsize,
}

impl State {
    /// The state of a server with its rooms in this process.
    pub fn new(config: Config, shutdown: CancellationToken) -> Arc<Self> {
        let metrics = Arc::new(Metrics::default());
        let sfu_above = config.janus.as_ref().map(|_| config.sfu_above);
        let rooms = Rooms::new(config.max_room_size, sfu_above, metrics.clone());
        let sfu = Sfu::for_config(&config);
        Self::with(Directory::Local(rooms), sfu, metrics, config, shutdown)
    }

    pub fn with(
        rooms: Directory,
        sfu: Option<Arc<Sfu>>,
        metrics: Arc<Metrics>,
        config: Config,
        shutdown: CancellationToken,
    ) -> Arc<Self> {
        Arc::new(State {
            rooms,
            sfu,
            config,
            metrics,
            shutdown,
            tasks: TaskTracker::new(),
            tcp_connections: Default::default(),
        })
    }
}

impl Directory {
    /// The room's code as its creator typed it (`code` itself for a room nobody is in), and how many are in it.
    pub async fn room_status(&self, code: RoomCode) -> Result<(RoomCode, usize), ErrorCode> {
        match self {
            Directory::Local(rooms) => {
                let participants = rooms.participants(&code);
                Ok((rooms.shown(code), participants))
            }
            Directory::Cluster(cluster) => cluster.room_status(&code).await,
        }
    }
}
