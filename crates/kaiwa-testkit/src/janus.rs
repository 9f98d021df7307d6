//! Debian's Janus (`janus`) with only its VideoRoom plugin and its WebSocket API, for big-room tests; stopped
//! on drop. It runs inside a lab host ([`crate::lab::Host`]), gathering its ICE candidates on the host's
//! interface only (`ice_enforce_list`), so its media, like its WebSocket API on the host's address, stays
//! in the test's own namespace.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use crate::lab::Host;

/// Janus's plugins and transports, of which the tests load one each.
const PLUGINS: &str = "/usr/lib/x86_64-linux-gnu/janus/plugins";
const TRANSPORTS: &str = "/usr/lib/x86_64-linux-gnu/janus/transports";
const OTHER_PLUGINS: &str = "libjanus_audiobridge.so,libjanus_duktape.so,libjanus_echotest.so,libjanus_lua.so,\
libjanus_nosip.so,libjanus_recordplay.so,libjanus_sip.so,libjanus_streaming.so,libjanus_textroom.so,\
libjanus_videocall.so,libjanus_voicemail.so";
const OTHER_TRANSPORTS: &str =
    "libjanus_http.so,libjanus_mqtt.so,libjanus_nanomsg.so,libjanus_pfunix.so,libjanus_rabbitmq.so";

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
        let port = 8188;
        write(
            dir,
            "janus.jcfg",
            &format!(
                "general: {{\n  configs_folder = \"{dir}\"\n  plugins_folder = \"{PLUGINS}\"\n  transports_folder = \"{TRANSPORTS}\"\n  \
             debug_level = 4\n  protected_folders = []\n}}\n\
             media: {{\n  rtp_port_range = \"20000-29999\"\n}}\n\
             nat: {{\n  ice_enforce_list = \"{iface}\"\n}}\n\
             plugins: {{\n  disable = \"{OTHER_PLUGINS}\"\n}}\n\
             transports: {{\n  disable = \"{OTHER_TRANSPORTS}\"\n}}\n\
             events: {{\n  broadcast = false\n}}\n\
             loggers: {{\n  disable = \"libjanus_jsonlog.so\"\n}}\n",
                dir = dir.display(),
                iface = crate::lab::IFNAME,
            ),
        );
        write(
            dir,
            "janus.transport.websockets.jcfg",
            &format!(
                "general: {{\n  json = \"compact\"\n  ws = true\n  ws_port = {port}\n  ws_ip = \"{}\"\n  wss = false\n}}\n\
             admin: {{\n  admin_ws = false\n  admin_wss = false\n}}\n",
                host.addr
            ),
        );
        // No rooms of its own: the signaling server creates them.
        write(dir, "janus.plugin.videoroom.jcfg", "general: {\n}\n");
        let log = dir.join("janus.log");
        let out = std::fs::File::create(&log).expect("create the Janus log");
        let child = host
            .command("janus")
            .arg("--config")
            .arg(dir.join("janus.jcfg"))
            .arg("--configs-folder")
            .arg(dir)
            .stdout(out.try_clone().expect("log handle"))
            .stderr(out)
            .stdin(Stdio::null())
            .spawn()
            .expect("janus must be installed (the README's test command installs it)");
        let janus = Janus { child, url: format!("ws://{}:{port}", host.addr), log };
        let started = Instant::now();
        while !std::fs::read_to_string(&janus.log).unwrap_or_default().contains("WebSockets thread started") {
            assert!(started.elapsed() < Duration::from_secs(20), "Janus did not start: {:?}", janus.log);
            std::thread::sleep(Duration::from_millis(50));
        }
        janus
    }
}

fn write(dir: &Path, name: &str, text: &str) {
    let mut file = std::fs::File::create(dir.join(name)).expect("write a Janus setting");
    file.write_all(text.as_bytes()).expect("write a Janus setting");
}

impl Drop for Janus {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
