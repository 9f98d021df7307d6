//! The server under test, as a child process of this tool (so its memory and CPU are its own).

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};

use anyhow::{Context, bail};

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

pub fn start_server(args: &Args, flavor: Flavor) -> anyhow::Result<ServerProcess> {
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
