//! User-space network impairment: these machines have no `netem` qdisc, so packet loss is injected where
//! webrtc-rs sends datagrams, by wrapping its UDP sockets through its `Runtime` abstraction. For tests,
//! benchmarks and `kaiwa call --simulate-loss`; never on by default.

use std::future::Future;
use std::io::{self, IoSliceMut};
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::task::{Context, Poll};
use std::time::Duration;

use webrtc::runtime::{
    AsyncInterval, AsyncTcpListener, AsyncTcpStream, AsyncUdpSocket, JoinHandle, RecvMeta, Runtime,
    TokioRuntime, Transmit,
};

/// What to do to outgoing datagrams.
#[derive(Debug)]
pub struct Impairment {
    /// Probability of dropping each outgoing datagram, in parts per million.
    loss_ppm: u32,
    seed: u64,
    sockets: AtomicU64,
    pub sent: AtomicU64,
    pub dropped: AtomicU64,
}

impl Impairment {
    /// Drops `loss_percent` % of outgoing datagrams, pseudo-randomly from `seed` (each socket gets its own
    /// reproducible sequence).
    pub fn loss(loss_percent: f64, seed: u64) -> Arc<Impairment> {
        Arc::new(Impairment {
            loss_ppm: (loss_percent.clamp(0.0, 100.0) * 10_000.0) as u32,
            seed,
            sockets: AtomicU64::new(0),
            sent: AtomicU64::new(0),
            dropped: AtomicU64::new(0),
        })
    }
}

/// The tokio runtime, with impaired UDP sockets.
#[derive(Debug)]
pub struct ImpairedRuntime {
    inner: TokioRuntime,
    impairment: Arc<Impairment>,
}

impl ImpairedRuntime {
    pub fn shared(impairment: Arc<Impairment>) -> Arc<dyn Runtime> {
        Arc::new(ImpairedRuntime { inner: TokioRuntime, impairment })
    }
}

#[derive(Debug)]
struct ImpairedSocket {
    inner: Arc<dyn AsyncUdpSocket>,
    impairment: Arc<Impairment>,
    /// xorshift64 state: cheap, and reproducible for a given seed.
    rng: AtomicU64,
}

impl ImpairedSocket {
    fn drop_this_one(&self) -> bool {
        let mut x = self.rng.load(Relaxed);
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.rng.store(x, Relaxed);
        (x % 1_000_000) < u64::from(self.impairment.loss_ppm)
    }
}

impl AsyncUdpSocket for ImpairedSocket {
    fn local_addr(&self) -> io::Result<SocketAddr> {
        self.inner.local_addr()
    }

    fn poll_send(&self, cx: &mut Context<'_>, transmit: &Transmit<'_>) -> Poll<io::Result<usize>> {
        self.impairment.sent.fetch_add(1, Relaxed);
        if self.drop_this_one() {
            self.impairment.dropped.fetch_add(1, Relaxed);
            return Poll::Ready(Ok(transmit.contents.len()));
        }
        self.inner.poll_send(cx, transmit)
    }

    fn poll_recv(
        &self,
        cx: &mut Context<'_>,
        bufs: &mut [IoSliceMut<'_>],
        meta: &mut [RecvMeta],
    ) -> Poll<io::Result<usize>> {
        self.inner.poll_recv(cx, bufs, meta)
    }
    // One datagram per transmit (no GSO), so one drop is one packet.
}

impl Runtime for ImpairedRuntime {
    fn spawn(&self, future: Pin<Box<dyn Future<Output = ()> + Send>>) -> Box<dyn JoinHandle> {
        self.inner.spawn(future)
    }

    fn wrap_udp_socket(&self, socket: std::net::UdpSocket) -> io::Result<Arc<dyn AsyncUdpSocket>> {
        let n = self.impairment.sockets.fetch_add(1, Relaxed);
        let seed = (self.impairment.seed ^ n.wrapping_mul(0x9E37_79B9_7F4A_7C15)) | 1;
        Ok(Arc::new(ImpairedSocket {
            inner: self.inner.wrap_udp_socket(socket)?,
            impairment: self.impairment.clone(),
            rng: AtomicU64::new(seed),
        }))
    }

    fn wrap_tcp_listener(&self, listener: std::net::TcpListener) -> io::Result<Arc<dyn AsyncTcpListener>> {
        self.inner.wrap_tcp_listener(listener)
    }

    fn connect_tcp<'a>(
        &'a self,
        addr: SocketAddr,
    ) -> Pin<Box<dyn Future<Output = io::Result<Arc<dyn AsyncTcpStream>>> + Send + 'a>> {
        self.inner.connect_tcp(addr)
    }

    fn resolve_host<'a>(
        &'a self,
        host: &'a str,
    ) -> Pin<Box<dyn Future<Output = io::Result<Vec<SocketAddr>>> + Send + 'a>> {
        self.inner.resolve_host(host)
    }

    fn sleep(&self, duration: Duration) -> Pin<Box<dyn Future<Output = ()> + Send + 'static>> {
        self.inner.sleep(duration)
    }

    fn interval(&self, period: Duration) -> Box<dyn AsyncInterval> {
        self.inner.interval(period)
    }

    fn block_on(&self, future: Pin<Box<dyn Future<Output = ()> + '_>>) {
        self.inner.block_on(future)
    }

    fn name(&self) -> &'static str {
        "tokio-impaired"
    }
}
