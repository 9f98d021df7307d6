//! `kaiwa call` end to end: two real CLI processes through the real signaling server, recordings and
//! stats written, and clear one-line errors.

use std::process::{Command, Output};
use std::time::Duration;

use tokio_util::sync::CancellationToken;

async fn server(config: kaiwa_signaling::Config) -> (std::net::SocketAddr, CancellationToken) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let stop = CancellationToken::new();
    tokio::spawn(kaiwa_signaling::serve(listener, config, None, stop.clone()));
    (addr, stop)
}

fn kaiwa_call(addr: std::net::SocketAddr, extra: &[&str]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_kaiwa"));
    cmd.args(["call", "--server", &format!("ws://{addr}/ws"), "--bind", "127.0.0.1:0", "--quiet"])
        .args(extra);
    cmd
}

async fn output(mut cmd: Command) -> Output {
    tokio::task::spawn_blocking(move || cmd.output().unwrap()).await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_clis_call_record_and_report() {
    let (addr, _stop) = server(Default::default()).await;
    let dir = tempfile::tempdir().unwrap();
    let rec = dir.path().join("rec");
    let stats = dir.path().join("a.json");
    let a = kaiwa_call(
        addr,
        &["--room", "cli", "--name", "Ann", "--duration", "6", "--size", "320x240", "--record"],
    )
    .arg(&rec)
    .arg("--stats-json")
    .arg(&stats)
    .spawn_output();
    tokio::time::sleep(Duration::from_millis(500)).await;
    let b = output(kaiwa_call(
        addr,
        &["--room", "cli", "--name", "Bo", "--duration", "4", "--size", "320x240", "--audio", "tone:660"],
    ))
    .await;
    let a = a.await.unwrap();
    let text =
        |o: &Output| format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr));
    assert!(b.status.success(), "Bo: {}", text(&b));
    assert!(a.status.success(), "Ann: {}", text(&a));
    assert!(text(&a).contains("Bo: media both ways"), "{}", text(&a));
    let json: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&stats).unwrap()).unwrap();
    assert_eq!(json[0]["name"], "Bo");
    assert!(json[0]["video_in"]["frames_decoded"].as_u64().unwrap() > 60, "{json}");
    let files: Vec<_> = std::fs::read_dir(&rec).unwrap().map(|e| e.unwrap().path()).collect();
    let y4m = files.iter().find(|p| p.extension().is_some_and(|e| e == "y4m")).expect("a .y4m recording");
    let wav = files.iter().find(|p| p.extension().is_some_and(|e| e == "wav")).expect("a .wav recording");
    // 320x240 I420 frames are 115200 bytes: at least 60 of them.
    assert!(std::fs::metadata(y4m).unwrap().len() > 60 * 115_200);
    assert!(std::fs::metadata(wav).unwrap().len() > 48_000 * 2 * 2);
}

trait SpawnOutput {
    fn spawn_output(self) -> tokio::task::JoinHandle<Output>;
}

impl SpawnOutput for &mut Command {
    fn spawn_output(self) -> tokio::task::JoinHandle<Output> {
        let child =
            self.stdout(std::process::Stdio::piped()).stderr(std::process::Stdio::piped()).spawn().unwrap();
        tokio::task::spawn_blocking(move || child.wait_with_output().unwrap())
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clear_one_line_errors() {
    let err = |o: Output| {
        assert!(!o.status.success());
        String::from_utf8_lossy(&o.stderr)
            .lines()
            .filter(|l| l.starts_with("kaiwa:"))
            .collect::<Vec<_>>()
            .join("\n")
    };
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
    let e = err(output(kaiwa_call(closed, &["--room", "x", "--duration", "2"])).await);
    assert!(e.contains("cannot reach the signaling server"), "{e}");

    let (addr, _stop) = server(kaiwa_signaling::Config { max_room_size: 2, ..Default::default() }).await;
    let e = err(output(kaiwa_call(addr, &["--room", "x", "--video", "/nonexistent/clip.y4m"])).await);
    assert!(e.contains("/nonexistent/clip.y4m"), "{e}");
    let e = err(output(kaiwa_call(addr, &["--room", "x", "--video", "camera"])).await);
    assert!(e.contains("no camera"), "{e}");

    // A full room.
    let a = kaiwa_call(addr, &["--room", "full", "--name", "A", "--duration", "8", "--video", "none"])
        .spawn_output();
    let b = kaiwa_call(addr, &["--room", "full", "--name", "B", "--duration", "8", "--video", "none"])
        .spawn_output();
    tokio::time::sleep(Duration::from_secs(2)).await;
    let e = err(output(kaiwa_call(addr, &["--room", "full", "--name", "C", "--duration", "2"])).await);
    assert!(e.contains("room full") && e.contains("is full"), "{e}");
    let _ = (a.await, b.await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wss_with_a_pinned_self_signed_certificate() {
    let tls = kaiwa_signaling::tls::self_signed(None, vec!["127.0.0.1".into()]).unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let stop = CancellationToken::new();
    tokio::spawn(kaiwa_signaling::serve(listener, Default::default(), Some(tls.config), stop.clone()));
    let fp = tls.fingerprint.to_string();
    let wss = |extra: &[&str]| {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_kaiwa"));
        cmd.args([
            "call",
            "--server",
            &format!("wss://127.0.0.1:{}/ws", addr.port()),
            "--bind",
            "127.0.0.1:0",
            "--quiet",
        ])
        .args(["--room", "secure", "--size", "320x240"])
        .args(extra);
        cmd
    };
    let a = wss(&["--name", "Ann", "--duration", "5", "--trust-fingerprint", &fp]).spawn_output();
    tokio::time::sleep(Duration::from_millis(500)).await;
    let b = output(wss(&["--name", "Bo", "--duration", "3", "--trust-fingerprint", &fp])).await;
    let a = a.await.unwrap();
    assert!(
        a.status.success() && b.status.success(),
        "{}\n{}",
        String::from_utf8_lossy(&a.stderr),
        String::from_utf8_lossy(&b.stderr)
    );
    // Another fingerprint is refused, as is an unpinned self-signed certificate.
    let wrong = "00".repeat(32);
    let e = output(wss(&["--name", "X", "--duration", "2", "--trust-fingerprint", &wrong])).await;
    assert!(!e.status.success());
    assert!(
        String::from_utf8_lossy(&e.stderr).contains("does not match the pinned"),
        "{}",
        String::from_utf8_lossy(&e.stderr)
    );
    let e = output(wss(&["--name", "Y", "--duration", "2"])).await;
    assert!(!e.status.success());
    assert!(String::from_utf8_lossy(&e.stderr).contains("TLS"), "{}", String::from_utf8_lossy(&e.stderr));
    stop.cancel();
}
