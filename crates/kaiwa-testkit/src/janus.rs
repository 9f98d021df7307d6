//! Debian's Janus configured for Kaiwa's big rooms by `scripts/janus.sh` (VideoRoom and the WebSocket API
//! only), for tests; stopped on drop. It runs inside a lab host ([`crate::lab::Host`]), gathering its ICE
//! candidates on the host's interface only, so its media, like its WebSocket API on the host's address,
//! stays in the test's own namespace.

use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use crate::lab::Host;

/// The script that configures and runs Janus, as users run it.
const SCRIPT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../scripts/janus.sh");

pub struct Janus {
    child: Child,
    /// `ws://ADDR:PORT`: its WebSocket API (subprotocol `janus-protocol`).
    pub url: String,
    pub log: PathBuf,
}

impl Janus {
    /// Starts Janus in `host`'s namespace, its settings and log in `dir`; returns once its WebSocket API
    /// accepts connections.
    pub fn start(dir: &Path, host: &Host) -> Janus {
        let ws = format!("{}:8188", host.addr);
        let log = dir.join("janus.log");
        let out = std::fs::File::create(&log).expect("create the Janus log");
        let child = host
            .command("bash")
            .arg(SCRIPT)
            .args(["--ws", &ws, "--rtp-ports", "20000-29999", "--interface", crate::lab::IFNAME])
            .arg("--dir")
            .arg(dir)
            .stdout(out.try_clone().expect("log handle"))
            .stderr(out)
            .stdin(Stdio::null())
            .spawn()
            .expect("run scripts/janus.sh (janus must be installed: the README's test command installs it)");
        let janus = Janus { child, url: format!("ws://{ws}"), log };
        let started = Instant::now();
        while !std::fs::read_to_string(&janus.log).unwrap_or_default().contains("WebSockets thread started") {
            assert!(started.elapsed() < Duration::from_secs(20), "Janus did not start: {:?}", janus.log);
            std::thread::sleep(Duration::from_millis(50));
        }
        janus
    }
}

impl Drop for Janus {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
