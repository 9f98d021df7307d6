//! Test support: a private PulseAudio daemon with two null sinks, for real audio tests on machines without
//! sound cards (CI, containers), used by this crate's tests and by the GUI's; and a virtual X display to
//! share ([`Xvfb`], `testing/xvfb.rs`).
//!
//! - [`PulseDaemon::start`] runs `pulseaudio` in a fresh temporary directory (its own `HOME`,
//!   `XDG_RUNTIME_DIR`, `PULSE_RUNTIME_PATH`, state and config, so it never touches or sees another
//!   daemon), with null sinks `spk` (default sink) and `mic` and `mic.monitor` as default source, and
//!   anonymous access on the socket `<dir>/native`. Dropping it kills the daemon (by pid) and removes the
//!   directory.
//! - Clients find it through one environment variable, `PULSE_SERVER=unix:<dir>/native` ([`PulseDaemon::env`]).
//!   ALSA's pulse plugin (`libasound2-plugins`) honours it, and Debian's ALSA configuration makes the
//!   `default` PCM go through PulseAudio when a server is reachable, so cpal's default devices become
//!   `spk` (playback) and `mic.monitor` (capture). `paplay`/`pacat`/`parec`/`pactl` honour it too.
//! - Because environment variables are process-wide (and ALSA reads its configuration once per process),
//!   in-process tests run their body in a child process of the test binary with that environment:
//!   [`run_with_pulse`]. Tests that start the app binary pass [`PulseDaemon::env`] to it instead.
//! - Simulating hardware events: `pactl unload-module <null-sink module>` removes a device (PulseAudio moves
//!   its streams to the new default); `pactl exit` stops the whole sound server.
//! - Idle null sinks render in 2 s blocks, which stalls new streams for up to 2 s; the daemon therefore
//!   keeps a silent 10 ms-latency `pacat` stream playing into each sink.

#[cfg(feature = "portal")]
mod portal;
mod xvfb;
#[cfg(feature = "portal")]
pub use portal::PortalDesktop;
pub use xvfb::{Xvfb, as_i420, luma, text_page};

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Environment variable that tells a re-executed test binary it is the child running the test body.
pub const CHILD_ENV: &str = "KAIWA_PULSE_TEST_CHILD";

const MISSING: &str = "PulseAudio is needed for the audio tests: run `scripts/setup.sh test` \
                       (installs pulseaudio, pulseaudio-utils, libasound2-plugins)";

/// A private PulseAudio daemon; killed on drop.
pub struct PulseDaemon {
    child: Child,
    keepalive: Vec<Child>,
    dir: PathBuf,
    server: String,
}

impl PulseDaemon {
    pub fn start() -> Result<Self, String> {
        for tool in ["pulseaudio", "pactl", "parec", "pacat"] {
            if !on_path(tool) {
                return Err(format!("`{tool}` not found. {MISSING}"));
            }
        }
        if !alsa_pulse_plugin_installed() {
            return Err(format!("ALSA's pulse plugin is missing. {MISSING}"));
        }
        let dir = unique_dir()?;
        for sub in ["run", "state", "config"] {
            std::fs::create_dir_all(dir.join(sub)).map_err(|e| format!("{}: {e}", dir.display()))?;
        }
        let socket = dir.join("native");
        let server = format!("unix:{}", socket.display());
        let log = std::fs::File::create(dir.join("pulseaudio.log")).map_err(|e| e.to_string())?;
        let child = Command::new("pulseaudio")
            .args([
                "-n",
                "--daemonize=no",
                "--system=false",
                "--exit-idle-time=-1",
                "--use-pid-file=false",
                "--disable-shm=true",
                "--log-target=stderr",
            ])
            .arg(format!("--load=module-native-protocol-unix auth-anonymous=1 socket={}", socket.display()))
            .arg("--load=module-null-sink sink_name=spk")
            .arg("--load=module-null-sink sink_name=mic")
            .env("HOME", &dir)
            .env("XDG_RUNTIME_DIR", &dir)
            .env("XDG_CONFIG_HOME", dir.join("config"))
            .env("PULSE_RUNTIME_PATH", dir.join("run"))
            .env("PULSE_STATE_PATH", dir.join("state"))
            .env_remove("PULSE_SERVER")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .map_err(|e| format!("cannot start pulseaudio: {e}. {MISSING}"))?;
        let mut daemon = PulseDaemon { child, keepalive: Vec::new(), dir, server };
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if let Ok(Some(status)) = daemon.child.try_wait() {
                return Err(format!("pulseaudio exited at start ({status}): {}", daemon.log()));
            }
            if daemon.pactl(&["info"]).is_ok() {
                break;
            }
            if Instant::now() > deadline {
                return Err(format!("pulseaudio did not come up within 10 s: {}", daemon.log()));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        daemon.pactl(&["set-default-sink", "spk"])?;
        daemon.pactl(&["set-default-source", "mic.monitor"])?;
        // An idle null sink renders in 2 s blocks, so a new stream can stall for up to 2 s before the first
        // block ends. A silent low-latency stream into each sink keeps them ticking every 10 ms (mixing in
        // zeros changes nothing that is measured).
        for sink in ["spk", "mic"] {
            let zeros = std::fs::File::open("/dev/zero").map_err(|e| format!("/dev/zero: {e}"))?;
            let child = daemon
                .command("pacat")
                .args([
                    "-d",
                    sink,
                    "--raw",
                    "--rate=48000",
                    "--channels=1",
                    "--format=s16le",
                    "--latency-msec=10",
                ])
                .stdin(zeros)
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .map_err(|e| format!("pacat: {e}"))?;
            daemon.keepalive.push(child);
        }
        let deadline = Instant::now() + Duration::from_secs(5);
        while daemon.pactl(&["list", "short", "sink-inputs"])?.lines().count() < 2 {
            if Instant::now() > deadline {
                return Err(format!("the keep-alive streams did not connect: {}", daemon.log()));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        // Let the sinks finish the 2 s block they were in when idle.
        let deadline = Instant::now() + Duration::from_secs(3);
        while Instant::now() < deadline {
            let sinks = daemon.pactl(&["list", "sinks"])?;
            let max = sinks
                .lines()
                .filter_map(|l| l.trim().strip_prefix("Latency: "))
                .filter_map(|l| l.split_whitespace().next()?.parse::<u64>().ok())
                .max()
                .unwrap_or(0);
            if max < 100_000 {
                break;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        Ok(daemon)
    }

    /// The server address, `unix:<dir>/native`.
    pub fn server(&self) -> &str {
        &self.server
    }

    /// The temporary directory (socket, log).
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// What a client process needs in its environment to use this daemon.
    pub fn env(&self) -> Vec<(String, String)> {
        vec![("PULSE_SERVER".into(), self.server.clone())]
    }

    /// A command with [`Self::env`] applied.
    pub fn command(&self, program: &str) -> Command {
        let mut c = Command::new(program);
        c.envs(self.env());
        c
    }

    /// Runs `pactl` against this daemon and returns its output.
    pub fn pactl(&self, args: &[&str]) -> Result<String, String> {
        let out = self
            .command("pactl")
            .args(args)
            .stdin(Stdio::null())
            .output()
            .map_err(|e| format!("pactl: {e}"))?;
        if out.status.success() {
            Ok(String::from_utf8_lossy(&out.stdout).into_owned())
        } else {
            Err(format!("pactl {args:?}: {}", String::from_utf8_lossy(&out.stderr).trim()))
        }
    }

    /// The daemon's log so far (for failure messages).
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("pulseaudio.log")).unwrap_or_default()
    }
}

impl Drop for PulseDaemon {
    fn drop(&mut self) {
        for c in &mut self.keepalive {
            let _ = c.kill();
            let _ = c.wait();
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Runs `body` against a private PulseAudio daemon. The calling test re-executes its own binary, filtered
/// to `test_name` (the test's full name as libtest prints it), with `PULSE_SERVER` set; in that child
/// `body` runs. The parent fails with the child's output if the child fails or takes longer than
/// `timeout`. Panics with a clear message (never skips) if PulseAudio is not installed.
pub fn run_with_pulse(test_name: &str, timeout: Duration, body: impl FnOnce()) {
    if std::env::var(CHILD_ENV).as_deref() == Ok(test_name) {
        body();
        return;
    }
    let daemon = PulseDaemon::start().unwrap_or_else(|e| panic!("{e}"));
    let exe = std::env::current_exe().expect("test binary path");
    let out_path = daemon.dir().join("child.out");
    let out = std::fs::File::create(&out_path).expect("child output file");
    let err = out.try_clone().expect("child output file");
    let mut child = daemon
        .command(exe.to_str().expect("utf-8 path"))
        .args([test_name, "--exact", "--nocapture", "--test-threads=1"])
        .env(CHILD_ENV, test_name)
        .stdin(Stdio::null())
        .stdout(out)
        .stderr(err)
        .spawn()
        .expect("re-execute the test binary");
    let deadline = Instant::now() + timeout;
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait for child") {
            break Some(status);
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let output = std::fs::read_to_string(&out_path).unwrap_or_default();
    print!("{output}");
    match status {
        Some(s) if s.success() && output.contains("1 passed") => {}
        Some(s) => panic!("{test_name} failed in its PulseAudio child ({s}); daemon log:\n{}", daemon.log()),
        None => panic!("{test_name} timed out after {timeout:?}; daemon log:\n{}", daemon.log()),
    }
}

fn alsa_pulse_plugin_installed() -> bool {
    let Ok(entries) = std::fs::read_dir("/usr/lib") else { return false };
    entries.flatten().any(|e| e.path().join("alsa-lib/libasound_module_pcm_pulse.so").is_file())
}

fn on_path(tool: &str) -> bool {
    std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).any(|d| d.join(tool).is_file()))
        .unwrap_or(false)
}

fn unique_dir() -> Result<PathBuf, String> {
    use std::sync::atomic::{AtomicU32, Ordering};
    static N: AtomicU32 = AtomicU32::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    // Short path: unix socket paths are limited to 108 bytes.
    let dir = std::env::temp_dir().join(format!(
        "kaiwa-pa-{}-{}-{nanos:x}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    ));
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    Ok(dir)
}
