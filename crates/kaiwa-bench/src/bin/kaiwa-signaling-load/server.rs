//! The server under test, as a child process of this tool (so its memory and CPU are its own).

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};

use anyhow::{Context, bail};

use kaiwa_bench::procstat::{cpu_seconds, rss_kib};
use kaiwa_testkit::redis::RedisServer;

use crate::args::Args;
use crate::flavor::Flavor;

pub struct ServerProcess {
    pub child: Child,
    pub addr: std::net::SocketAddr,
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// What one run measures: one server, or cluster nodes with the Redis they share.
pub struct Servers {
    pub nodes: Vec<ServerProcess>,
    redis: Option<(RedisServer, tempfile::TempDir)>,
}

impl Servers {
    /// `nodes`: `None` for one server on its own, `Some(n)` for n kaiwa-signaling nodes on a fresh Redis.
    pub fn start(args: &Args, flavor: Flavor, nodes: Option<usize>) -> anyhow::Result<Servers> {
        let Some(n) = nodes else {
            return Ok(Servers { nodes: vec![start_server(args, flavor, None)?], redis: None });
        };
        let dir = tempfile::tempdir()?;
        let redis = RedisServer::start(dir.path());
        let url = redis.url();
        let nodes =
            (0..n.max(1)).map(|_| start_server(args, flavor, Some(&url))).collect::<anyhow::Result<_>>()?;
        let servers = Servers { nodes, redis: Some((redis, dir)) };
        for node in &servers.nodes {
            wait_healthy(node.addr)?;
        }
        Ok(servers)
    }

    /// The node a client number `i` connects to.
    pub fn addr(&self, i: usize) -> std::net::SocketAddr {
        self.nodes[i % self.nodes.len()].addr
    }

    /// Resident memory of all nodes (not Redis).
    pub fn rss_kib(&self) -> u64 {
        self.nodes.iter().map(|n| rss_kib(n.child.id())).sum()
    }

    /// CPU time of all nodes (not Redis).
    pub fn cpu_seconds(&self) -> f64 {
        self.nodes.iter().map(|n| cpu_seconds(n.child.id())).sum()
    }

    /// Redis's resident memory and CPU time, when there is one.
    pub fn redis(&self) -> (u64, f64) {
        let pid = self.redis.as_ref().and_then(|(r, _)| r.pid());
        pid.map_or((0, 0.0), |pid| (rss_kib(pid), cpu_seconds(pid)))
    }
}

fn start_server(args: &Args, flavor: Flavor, redis: Option<&str>) -> anyhow::Result<ServerProcess> {
    use std::io::BufRead;
    let room_size = args.room_size.max(2).to_string();
    let (mut command, banner) = match flavor {
        Flavor::Kaiwa => {
            let bin = match &args.server_bin {
                Some(b) => b.clone(),
                None => std::env::current_exe()?.parent().context("no parent")?.join("kaiwa-signaling"),
            };
            if !bin.exists() {
                bail!(
                    "{} not found: build it first (cargo build --release -p kaiwa-signaling --bins)",
                    bin.display()
                );
            }
            let total = args.connections + 2 * args.pairs;
            let mut c = Command::new(&bin);
            c.args(["--listen", "127.0.0.1:0", "--max-room-size", &room_size])
                .args(["--max-connections", &(total + 100).to_string()])
                // The relay phases send far above a person's rate on purpose.
                .args(["--rate-limit", "1000000", "--rate-burst", "1000000", "--send-queue", "4096"])
                .args(["--join-timeout", "10m"])
                // Pings stay at the default; a load tool starved of CPU on a busy machine must not have
                // its connections timed out (Engine.IO waits 25 s + 20 s).
                .args(["--idle-timeout", "45s"])
                .args(redis.map(|url| ["--redis", url]).into_iter().flatten())
                .args(&args.kaiwa_arg)
                .env("RUST_LOG", "warn");
            (c, "kaiwa-signaling listening on ")
        }
        Flavor::SocketIo => {
            let dir = args.socketio_dir.clone().unwrap_or_else(|| {
                PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../bench/socketio-relay"))
            });
            if !dir.join("node_modules/socket.io").exists() {
                bail!("{}: socket.io is not installed there (run npm ci in it)", dir.display());
            }
            let mut c = Command::new(&args.node);
            c.current_dir(&dir).arg("server.js").args([
                "--host",
                "127.0.0.1",
                "--port",
                "0",
                "--max-room-size",
                &room_size,
            ]);
            (c, "socketio-relay listening on ")
        }
    };
    let mut child = command
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .with_context(|| format!("cannot start {}", flavor.name()))?;
    let stdout = child.stdout.take().context("no stdout")?;
    let mut lines = std::io::BufReader::new(stdout).lines();
    let first = lines.next().context("server printed nothing")??;
    let addr = first
        .strip_prefix(banner)
        .and_then(|r| r.split(' ').next())
        .with_context(|| format!("unexpected first line {first:?}"))?
        .parse()?;
    std::thread::Builder::new().name("server-stdout".into()).spawn(move || lines.for_each(drop))?;
    Ok(ServerProcess { child, addr })
}

/// Waits until `/healthz` answers 200 (a cluster node does once it is in the cluster).
fn wait_healthy(addr: std::net::SocketAddr) -> anyhow::Result<()> {
    let started = std::time::Instant::now();
    while !kaiwa_testkit::healthy(addr) {
        if started.elapsed() > std::time::Duration::from_secs(15) {
            bail!("the node on {addr} did not join the cluster");
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    Ok(())
}
