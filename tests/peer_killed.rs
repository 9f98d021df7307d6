//! A participant killed mid-call (SIGKILL: no goodbye of any kind): the others see it leave within 10 s
//! and their own call goes on.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

struct Cli {
    child: Child,
    lines: mpsc::Receiver<(Instant, String)>,
}

fn spawn(addr: std::net::SocketAddr, name: &str, seconds: &str) -> Cli {
    let mut child = Command::new(env!("CARGO_BIN_EXE_kaiwa"))
        .args(["call", "--server", &format!("ws://{addr}/ws"), "--room", "killed", "--name", name])
        .args(["--bind", "127.0.0.1:0", "--quiet", "--size", "320x240", "--duration", seconds])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let (tx, lines) = mpsc::channel();
    for stream in [
        Box::new(child.stderr.take().unwrap()) as Box<dyn std::io::Read + Send>,
        Box::new(child.stdout.take().unwrap()),
    ] {
        let tx = tx.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stream).lines().map_while(Result::ok) {
                let _ = tx.send((Instant::now(), line));
            }
        });
    }
    Cli { child, lines }
}

impl Cli {
    /// Waits for a line containing `needle`; returns when it was printed.
    fn wait_line(&self, needle: &str, within: Duration) -> Instant {
        let deadline = Instant::now() + within;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok((at, line)) if line.contains(needle) => return at,
                Ok(_) => continue,
                Err(_) => panic!("no line containing {needle:?} within {within:?}"),
            }
        }
    }

    fn rest(&self) -> String {
        self.lines.try_iter().map(|(_, l)| l + "\n").collect()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_peer_is_seen_leaving_and_the_call_goes_on() {
    let server = kaiwa_testkit::SignalingServer::start(Default::default()).await;
    let addr = server.addr;
    let result = tokio::task::spawn_blocking(move || {
        let mut a = spawn(addr, "Ann", "14");
        a.wait_line("joined room", Duration::from_secs(20));
        let mut b = spawn(addr, "Bo", "14");
        a.wait_line("Bo is here", Duration::from_secs(20));
        let mut c = spawn(addr, "Cy", "30");
        a.wait_line("Cy is here", Duration::from_secs(20));
        b.wait_line("Cy is here", Duration::from_secs(20));
        std::thread::sleep(Duration::from_secs(3));
        let killed_at = Instant::now();
        c.child.kill().unwrap();
        let _ = c.child.wait();
        let seen_a = a.wait_line("Cy left", Duration::from_secs(10)) - killed_at;
        let seen_b = b.wait_line("Cy left", Duration::from_secs(10)) - killed_at;
        let status_a = a.child.wait().unwrap();
        let status_b = b.child.wait().unwrap();
        (seen_a, seen_b, status_a, status_b, a.rest(), b.rest())
    })
    .await
    .unwrap();
    let (seen_a, seen_b, status_a, status_b, out_a, out_b) = result;
    println!("Ann saw Cy leave after {seen_a:?}, Bo after {seen_b:?}");
    assert!(seen_a < Duration::from_secs(10) && seen_b < Duration::from_secs(10));
    // The remaining two kept talking until the end: both exit 0 (media both ways with everyone).
    assert!(status_a.success(), "Ann:\n{out_a}");
    assert!(status_b.success(), "Bo:\n{out_b}");
    assert!(out_a.contains("Bo: media both ways"), "{out_a}");
    assert!(out_b.contains("Ann: media both ways"), "{out_b}");
}
