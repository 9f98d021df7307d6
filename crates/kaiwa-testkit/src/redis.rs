//! Debian's `redis-server` on a free loopback port, without persistence (a restart starts empty, as a lost
//! Redis would), stopped on drop; on this machine's loopback, or on a lab host's ([`RedisServer::start_in`]).

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::lab::Host;

pub struct RedisServer {
    child: Option<Child>,
    pub port: u16,
    dir: PathBuf,
    /// The lab host whose namespace it runs in (its loopback), if any.
    host: Option<Host>,
}

impl RedisServer {
    /// Starts Redis with its working files in `dir`; returns once it answers `PING`.
    pub fn start(dir: &Path) -> RedisServer {
        let mut redis =
            RedisServer { child: None, port: crate::free_tcp_port(), dir: dir.to_owned(), host: None };
        redis.spawn();
        redis
    }

    /// [`RedisServer::start`] inside `host`'s namespace, for servers running there ([`Self::url`] is
    /// its loopback).
    pub fn start_in(dir: &Path, host: &Host) -> RedisServer {
        // Nothing else listens in a fresh namespace: any port is free.
        let port = crate::free_tcp_port();
        let mut redis = RedisServer { child: None, port, dir: dir.to_owned(), host: Some(host.clone()) };
        redis.spawn();
        redis
    }

    /// `redis://127.0.0.1:PORT/`.
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/", self.port)
    }

    fn spawn(&mut self) {
        let mut command = match &self.host {
            Some(host) => host.command("redis-server"),
            None => Command::new("redis-server"),
        };
        let child = command
            .args([
                "--bind",
                "127.0.0.1",
                "--port",
                &self.port.to_string(),
                "--save",
                "",
                "--appendonly",
                "no",
            ])
            .arg("--dir")
            .arg(&self.dir)
            .arg("--logfile")
            .arg(self.dir.join("redis.log"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("redis-server must be installed (the README's test command installs it)");
        self.child = Some(child);
        let started = Instant::now();
        while !self.answers_ping() {
            assert!(
                started.elapsed() < Duration::from_secs(15),
                "redis-server did not start: {:?}",
                self.dir
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn answers_ping(&self) -> bool {
        let port = self.port;
        let ping = move || {
            let Ok(mut tcp) = TcpStream::connect(("127.0.0.1", port)) else { return false };
            let _ = tcp.set_read_timeout(Some(Duration::from_secs(2)));
            let mut reply = [0u8; 7];
            tcp.write_all(b"PING\r\n").is_ok() && tcp.read_exact(&mut reply).is_ok() && &reply == b"+PONG\r\n"
        };
        match &self.host {
            Some(host) => host.enter(ping).unwrap_or(false),
            None => ping(),
        }
    }

    /// The process id of the running Redis.
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// Kills Redis at once (`SIGKILL`): every connection drops and, with no persistence, every key is gone.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts Redis again on the same port, empty.
    pub fn restart(&mut self) {
        self.kill();
        self.spawn();
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        self.kill();
    }
}
