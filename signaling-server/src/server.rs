//! The accept loop: one port for HTTP(S) and WebSocket, optional TLS, connection limits and graceful
//! shutdown.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::Ordering::Relaxed;
use std::time::Duration;

use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tracing::{debug, info};

use crate::cluster::Cluster;
use crate::config::Config;
use crate::metrics::Metrics;
use crate::sfu::Sfu;
use crate::state::{Directory, State};

/// Connections beyond the WebSocket limit still accepted so HTTP requests and a `server_full` answer get
/// through; past this the socket is closed at once.
const ACCEPT_SLACK: usize = 256;
/// How long shutdown waits for connections to say goodbye.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

/// Serves until `shutdown` is cancelled, then closes every connection (WebSocket clients get a close frame
/// with code 1001) and returns once they are gone or after a short grace period.
pub async fn serve(
    listener: TcpListener,
    config: Config,
    tls: Option<Arc<rustls::ServerConfig>>,
    shutdown: CancellationToken,
) -> std::io::Result<()> {
    let (state, cluster) = match config.redis.clone() {
        None => (State::new(config, shutdown.clone()), None),
        Some(url) => {
            let metrics = Arc::new(Metrics::default());
            let idle = config.limits.idle_timeout;
            let sfu = Sfu::for_config(&config);
            let moves = sfu.clone().map(|sfu| (sfu, config.sfu_above));
            let cluster = Cluster::new(&url, config.max_room_size, idle, metrics.clone(), moves)
                .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidInput, e))?;
            let stop = CancellationToken::new();
            let task = tokio::spawn(cluster.clone().run(stop.clone()));
            let state = State::with(Directory::Cluster(cluster), sfu, metrics, config, shutdown.clone());
            (state, Some((task, stop)))
        }
    };
    let tls = tls.map(tokio_rustls::TlsAcceptor::from);
    let tracker = state.tasks.clone();
    loop {
        let (tcp, remote) = tokio::select! {
            _ = shutdown.cancelled() => break,
            accepted = listener.accept() => match accepted {
                Ok(pair) => pair,
                Err(e) => {
                    // Out of file descriptors and the like: back off instead of spinning.
                    debug!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        let open = state.tcp_connections.fetch_add(1, Relaxed);
        if open >= state.config.limits.max_connections + ACCEPT_SLACK {
            state.tcp_connections.fetch_sub(1, Relaxed);
            drop(tcp);
            continue;
        }
        let _ = tcp.set_nodelay(true);
        let state = state.clone();
        let tls = tls.clone();
        tracker.spawn(async move {
            match tls {
                None => serve_http(tcp, remote, &state).await,
                Some(acceptor) => {
                    let handshake = state.config.limits.handshake_timeout;
                    match tokio::time::timeout(handshake, acceptor.accept(tcp)).await {
                        Ok(Ok(stream)) => serve_http(stream, remote, &state).await,
                        Ok(Err(e)) => debug!(%remote, error = %e, "TLS handshake failed"),
                        Err(_) => debug!(%remote, "TLS handshake timed out"),
                    }
                }
            }
            state.tcp_connections.fetch_sub(1, Relaxed);
        });
    }
    info!("shutting down");
    drop(listener);
    tracker.close();
    if tokio::time::timeout(SHUTDOWN_GRACE, tracker.wait()).await.is_err() {
        info!(left = tracker.len(), "connections still open after the grace period");
    }
    if let Some((task, stop)) = cluster {
        // After the sessions' own goodbyes: the node then takes out whoever is left and gives up its lease.
        stop.cancel();
        let _ = task.await;
    }
    Ok(())
}

async fn serve_http<I>(io: I, remote: SocketAddr, state: &Arc<State>)
where
    I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let service_state = state.clone();
    let service = hyper::service::service_fn(move |req| {
        let state = service_state.clone();
        async move { Ok::<_, std::convert::Infallible>(crate::http::route(req, &state).await) }
    });
    let conn = http1::Builder::new()
        .timer(TokioTimer::new())
        .header_read_timeout(state.config.limits.handshake_timeout)
        .max_buf_size(16 * 1024)
        .serve_connection(TokioIo::new(io), service)
        .with_upgrades();
    tokio::pin!(conn);
    tokio::select! {
        res = conn.as_mut() => if let Err(e) = res { debug!(%remote, error = %e, "HTTP connection error") },
        _ = state.shutdown.cancelled() => {
            conn.as_mut().graceful_shutdown();
            let _ = tokio::time::timeout(SHUTDOWN_GRACE, conn).await;
        }
    }
}
