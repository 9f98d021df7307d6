//! Calls across NATs and firewalls, in the network lab (`kaiwa_testkit::lab`): two callers, each in a home
//! behind its own gateway (two `kaiwa call` processes, or headless Chromium and `kaiwa call`); on one public
//! lab host the signaling server (in-process, TLS on 443 with a self-signed certificate), on another a real
//! coturn that shares that certificate for TURN over TLS on 443 (and UDP/TCP on 3478).
//! Each case asserts media both ways and the path ICE chose, from each caller's stats, and the verdict of
//! the network check that ran in the home before the call (`kaiwa doctor`, or the pre-join page's). The
//! signaling server answers STUN on its own port too, the check's second destination.
//!
//! Needs root (network namespaces, /dev/net/tun, nftables), as CI has. One call at a time.

use std::net::SocketAddr;
use std::path::Path;
use std::process::Output;
use std::time::Duration;

use kaiwa_browser_tests::{Browser, LaunchOptions};
use kaiwa_signaling::{Config, TurnAuth};
use kaiwa_testkit::lab::{Firewall, Home, Host, Lab, Nat};
use kaiwa_testkit::{Coturn, CoturnOptions};
use serde_json::Value;
use tokio_util::sync::CancellationToken;

/// One lab call at a time: each runs two encoders on the machine's two cores.
static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

const SECRET: &str = "nat-test-secret";
const SECONDS: u32 = 10;

/// One home: how its gateway translates and what it lets out.
#[derive(Clone, Copy)]
struct Place {
    nat: Nat,
    firewall: Firewall,
}

const HOME_ROUTER: Place = Place { nat: Nat::PortPreserving, firewall: Firewall::Open };
const SYMMETRIC: Place = Place { nat: Nat::Symmetric, firewall: Firewall::Open };
const NO_UDP: Place = Place { nat: Nat::PortPreserving, firewall: Firewall::NoUdp };
const ONLY_443: Place = Place { nat: Nat::PortPreserving, firewall: Firewall::Only443 };

/// The signaling server, in-process, listening with TLS on port 443 inside `host`'s namespace.
async fn server_in(
    host: &Host,
    config: Config,
    tls: &kaiwa_signaling::tls::ServerTls,
) -> (SocketAddr, CancellationToken) {
    let listener = host.tcp_listener(443).expect("bind the signaling server in the lab");
    let addr = listener.local_addr().unwrap();
    let stop = CancellationToken::new();
    tokio::spawn(kaiwa_signaling::serve(listener, config, Some(tls.config.clone()), stop.clone()));
    let stun = host.udp_socket(addr.port()).expect("bind the server's STUN port in the lab");
    tokio::spawn(kaiwa_signaling::stun::serve(stun, stop.clone()));
    (addr, stop)
}

/// `kaiwa call` on `host` for `seconds`, its final stats written to `stats.json` and every second's to
/// `stats.jsonl`.
async fn call(
    host: &Host,
    server: SocketAddr,
    fingerprint: &str,
    name: &str,
    seconds: u32,
    stats: &Path,
    extra: &[&str],
) -> Output {
    let mut cmd = host.command(env!("CARGO_BIN_EXE_kaiwa"));
    cmd.args(["call", "--server", &format!("wss://{server}/ws"), "--trust-fingerprint", fingerprint])
        .args(["--room", "nat-test", "--name", name, "--size", "320x240", "--quiet"])
        .args(["--bind", &format!("{}:0", host.addr), "--duration", &seconds.to_string()])
        .arg("--stats-json")
        .arg(stats.with_extension("json"))
        .arg("--stats-log")
        .arg(stats.with_extension("jsonl"))
        .args(extra);
    tokio::task::spawn_blocking(move || cmd.output().expect("run kaiwa call")).await.unwrap()
}

/// `kaiwa doctor` in `home`: its JSON report.
async fn doctor(home: &Home, server: SocketAddr, fingerprint: &str, json: &Path) -> Value {
    let mut cmd = home.host.command(env!("CARGO_BIN_EXE_kaiwa"));
    cmd.args(["doctor", "--server", &format!("wss://{server}/ws"), "--trust-fingerprint", fingerprint])
        .args(["--bind", &home.host.addr.to_string(), "--json"])
        .arg(json);
    let out = tokio::task::spawn_blocking(move || cmd.output().expect("run kaiwa doctor")).await.unwrap();
    eprintln!("{}: {}", home.host.name, text(&out));
    serde_json::from_str(&std::fs::read_to_string(json).expect("the doctor's JSON")).unwrap()
}

fn text(o: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr))
}

/// What one caller saw: the network check's verdict before the call, and the stats of the call (at the
/// end, and each second: `(seconds, frames decoded)`).
struct Caller {
    name: String,
    verdict: Value,
    peer: Value,
    frames: Vec<(f64, u64)>,
}

/// Which TURN URLs the server hands out (besides STUN).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Turn {
    None,
    /// UDP and TCP on 3478: where TCP is the only way, it is the one used (a TLS relay would rank alike,
    /// see ARCHITECTURE.md).
    UdpTcp,
    /// UDP, TCP, and TLS on 443.
    All,
}

/// One case's lab: a web host with the signaling server (TLS on 443, STUN on its own port), a TURN host
/// with coturn sharing the server's self-signed certificate, and two homes like `a` and `b`.
struct World {
    // Dropped in this order: the server and coturn before the namespaces they live in.
    _stop: CancellationToken,
    coturn: Coturn,
    server: SocketAddr,
    fingerprint: String,
    homes: [Home; 2],
    dir: tempfile::TempDir,
    lab: Lab,
}

impl World {
    /// The server hands out STUN and `turn`.
    async fn new(seed: u64, a: Place, b: Place, turn: Turn) -> World {
        let lab = Lab::new(seed).expect("the network lab needs root and /dev/net/tun");
        let web = lab.add_host("web").unwrap();
        let turn_host = lab.add_host("turn").unwrap();
        let homes = [
            lab.add_home("home-a", a.nat, a.firewall).unwrap(),
            lab.add_home("home-b", b.nat, b.firewall).unwrap(),
        ];
        let dir = tempfile::tempdir().unwrap();
        let names = vec![web.addr.to_string(), turn_host.addr.to_string()];
        let tls = kaiwa_signaling::tls::self_signed(Some(dir.path()), names).unwrap();
        let (cert, key) = (dir.path().join("cert.pem"), dir.path().join("key.pem"));
        let coturn = Coturn::start_with(
            dir.path(),
            SECRET,
            CoturnOptions { host: Some(&turn_host), tls: Some((&cert, &key)) },
        );
        let config = Config {
            stun: vec![coturn.stun_url()],
            turn: match turn {
                Turn::None => Vec::new(),
                Turn::UdpTcp => vec![coturn.url(), coturn.tcp_url()],
                Turn::All => vec![coturn.url(), coturn.tcp_url(), coturn.tls_url().unwrap()],
            },
            turn_auth: (turn != Turn::None)
                .then(|| TurnAuth::Secret { secret: SECRET.into(), ttl: Duration::from_secs(600) }),
            ..Config::default()
        };
        let (server, stop) = server_in(&web, config, &tls).await;
        let fingerprint = tls.fingerprint.to_string();
        World { _stop: stop, coturn, server, fingerprint, homes, dir, lab }
    }
}

/// A call between a home like `a` and a home like `b`; the server hands out STUN and `turn`. Each home
/// runs the network check first.
async fn lab_call(seed: u64, a: Place, b: Place, turn: Turn) -> Vec<Caller> {
    lab_call_with(seed, a, b, turn, SECONDS, None).await
}

/// [`lab_call`], `seconds` long; when `reset_at` is given, home `a`'s TCP connections to the TURN
/// server's port 3478 are reset that long after the call started (and refused for a second).
async fn lab_call_with(
    seed: u64,
    a: Place,
    b: Place,
    turn: Turn,
    seconds: u32,
    reset_at: Option<Duration>,
) -> Vec<Caller> {
    let _one = ONE_AT_A_TIME.lock().await;
    let World { homes, server, fingerprint, dir, coturn, .. } = &World::new(seed, a, b, turn).await;
    let (server, fingerprint) = (*server, fingerprint.as_str());
    let checks = [dir.path().join("ann-doctor.json"), dir.path().join("bo-doctor.json")];
    let verdicts = [
        doctor(&homes[0], server, fingerprint, &checks[0]).await,
        doctor(&homes[1], server, fingerprint, &checks[1]).await,
    ];
    let stats = [dir.path().join("ann"), dir.path().join("bo")];
    let ann = call(&homes[0].host, server, fingerprint, "Ann", seconds, &stats[0], &[]);
    let bo = async {
        tokio::time::sleep(Duration::from_millis(300)).await;
        call(&homes[1].host, server, fingerprint, "Bo", seconds, &stats[1], &[]).await
    };
    let reset = async {
        if let Some(at) = reset_at {
            tokio::time::sleep(at).await;
            let home = &homes[0];
            tokio::task::block_in_place(|| home.reset_tcp(3478, Duration::from_secs(1)))
                .expect("reset the TURN connection");
            eprintln!("reset {}'s TCP connections to port 3478 at {at:?}", home.host.name);
        }
    };
    let (ann, bo, ()) = tokio::join!(ann, bo, reset);
    let log = || std::fs::read_to_string(&coturn.log).unwrap_or_default();
    assert!(ann.status.success(), "Ann: {}\ncoturn: {}", text(&ann), log());
    assert!(bo.status.success(), "Bo: {}\ncoturn: {}", text(&bo), log());
    ["Ann", "Bo"]
        .iter()
        .zip(&stats)
        .zip(verdicts)
        .map(|((who, path), doctor)| {
            let json: Value =
                serde_json::from_str(&std::fs::read_to_string(path.with_extension("json")).unwrap()).unwrap();
            let peer = json[0].clone();

            eprintln!("{who}: {peer}");
            assert!(
                peer["video_in"]["frames_decoded"].as_u64().unwrap_or(0) > 60,
                "{who}: too little video: {peer}"
            );
            assert!(
                peer["audio_in"]["packets"].as_u64().unwrap_or(0) > 100,
                "{who}: too little audio: {peer}"
            );
            let log = std::fs::read_to_string(path.with_extension("jsonl")).unwrap();
            let frames = log
                .lines()
                .filter_map(|l| serde_json::from_str::<Value>(l).ok())
                .filter_map(|l| {
                    Some((l["t"].as_f64()?, l["peers"][0]["video_in"]["frames_decoded"].as_u64()?))
                })
                .collect();
            Caller { name: who.to_string(), verdict: doctor["verdict"].clone(), peer, frames }
        })
        .collect()
}

/// What a Chromium caller saw: its pre-join network check (`{verdict, via}`) and its stats of the other.
struct PageCaller {
    check: Value,
    peer: Value,
}

/// How long the page may take to load, check the network or join.
const PAGE_WAIT: Duration = Duration::from_secs(30);

/// A call between Chromium in a home like `a`, who opens the room's pre-join page, lets its network check
/// finish and joins, and `kaiwa call` in a home like `b`; the server hands out STUN and `turn`.
async fn chromium_call(seed: u64, a: Place, b: Place, turn: Turn) -> (PageCaller, Value) {
    let _one = ONE_AT_A_TIME.lock().await;
    let world = World::new(seed, a, b, turn).await;
    chromium_meets(&world, &world.homes[1].host, &[]).await
}

/// Chromium in `world`'s first home, joining from the pre-join page after its network check, and
/// `kaiwa call` with `extra` arguments on `native`: what Chromium saw, and the native side's stats.
async fn chromium_meets(world: &World, native: &Host, extra: &[&str]) -> (PageCaller, Value) {
    let World { homes, server, fingerprint, dir, coturn, .. } = world;
    let opts = LaunchOptions {
        ignore_certificate_errors: true,
        extra_args: vec!["--no-proxy-server".into()],
        ..Default::default()
    }
    .in_lab(&homes[0].host);
    let browser = Browser::launch(opts).await.expect("start Chromium in its home");
    // (On 443: a URL keeps no default port, so the page's address is written without it.)
    assert_eq!(server.port(), 443);
    let page =
        browser.new_page("Ann", &format!("https://{}/r/nat-test?name=Ann", server.ip())).await.unwrap();
    let check = page
        .wait_for("window.kaiwaNetCheck && window.kaiwaNetCheck.verdict && window.kaiwaNetCheck", PAGE_WAIT)
        .await
        .expect("the pre-join page's network check");
    eprintln!("Chromium's network check: {check}");
    page.click("#join-button").await.unwrap();
    page.wait_for("kaiwa.state().view === 'call' && kaiwa.state().myId", PAGE_WAIT)
        .await
        .expect("Chromium joins");
    let stats = dir.path().join("bo");
    let bo = call(native, *server, fingerprint, "Bo", SECONDS, &stats, extra);
    let seen = page.wait_for(
        "kaiwa.stats().then(s => { const p = s.peers.find(p => p.name === 'Bo'); \
         return p && p.video && p.video.framesDecoded > 60 && p.audio && p.audio.packetsReceived > 100 ? p : null; })",
        Duration::from_secs(u64::from(SECONDS) + 10),
    );
    let (bo, seen) = tokio::join!(bo, seen);
    let log = || std::fs::read_to_string(&coturn.log).unwrap_or_default();
    assert!(bo.status.success(), "Bo: {}\ncoturn: {}", text(&bo), log());
    let seen =
        seen.unwrap_or_else(|e| panic!("Chromium: too little media from Bo: {e:#}\nBo: {}", text(&bo)));
    eprintln!("Ann (Chromium): {seen}");
    let json: Value =
        serde_json::from_str(&std::fs::read_to_string(stats.with_extension("json")).unwrap()).unwrap();
    let peer = json[0].clone();
    eprintln!("Bo: {peer}");
    assert!(peer["video_in"]["frames_decoded"].as_u64().unwrap_or(0) > 60, "Bo: too little video: {peer}");
    assert!(peer["audio_in"]["packets"].as_u64().unwrap_or(0) > 100, "Bo: too little audio: {peer}");
    let check = serde_json::json!({ "verdict": check["verdict"], "via": check["via"] });
    (PageCaller { check, peer: seen }, peer)
}

/// The page's selected pair: (local candidate type, remote candidate type, how its own relay is reached).
fn page_path(seen: &Value) -> (&str, &str, &str) {
    let pair = &seen["candidatePair"];
    let s = |key: &str| pair[key].as_str().unwrap_or("-");
    (s("local"), s("remote"), s("relayProtocol"))
}

fn direct() -> Value {
    serde_json::json!({ "verdict": "direct_likely" })
}

fn relay_via(via: &[&str]) -> Value {
    serde_json::json!({ "verdict": "relay_needed", "via": via })
}

fn path(peer: &Value) -> (&str, &str) {
    (peer["local_candidate"].as_str().unwrap_or("-"), peer["relay_transport"].as_str().unwrap_or("-"))
}

/// A native's selected pair: (local candidate type, remote candidate type).
fn ends(peer: &Value) -> (&str, &str) {
    (path(peer).0, peer["remote_candidate"].as_str().unwrap_or("-"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_home_routers_call_directly_with_stun_alone() {
    // Direct: no relay, and the far end is reached at its NAT's address (the other's server-reflexive or
    // peer-reflexive candidate; the near end's srflx candidate is pruned into its host base, RFC 8445 §6.1.2.4).
    for c in lab_call(1, HOME_ROUTER, HOME_ROUTER, Turn::None).await {
        assert_eq!(c.verdict, direct(), "{}'s network check", c.name);
        let (local, remote) = ends(&c.peer);
        assert!(
            local != "relay" && matches!(remote, "srflx" | "prflx"),
            "{}: not a direct path through the NATs: {}",
            c.name,
            c.peer
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_symmetric_nat_is_relayed() {
    let calls = lab_call(2, SYMMETRIC, HOME_ROUTER, Turn::All).await;
    assert_eq!(calls[0].verdict, relay_via(&["udp", "tcp", "tls"]), "the symmetric NAT's network check");
    assert_eq!(calls[1].verdict, direct(), "the home router's network check");
    // Either side's relay will do (TURN permissions are per address, so the symmetric side's new port
    // reaches the other's relay as well), over any transport: webrtc-rs gives every relay candidate the same
    // priority, so one over TCP or TLS is sometimes chosen although UDP works (see ARCHITECTURE.md).
    assert!(
        relayed(ends(&calls[0].peer), ends(&calls[1].peer)),
        "no relay on the path: {} / {}",
        calls[0].peer,
        calls[1].peer
    );
}

/// Whether a call's selected pair, seen from its two ends as (local, remote) candidate types, goes through a
/// relay: one end sends from its relay candidate and the other sees that address as a relay candidate, or as
/// a peer-reflexive one when the relay's connectivity checks arrived before the candidate itself did
/// (RFC 8445 §7.3.1.3).
fn relayed(a: (&str, &str), b: (&str, &str)) -> bool {
    let sees_relay = |remote: &str| matches!(remote, "relay" | "prflx");
    (a.0 == "relay" && sees_relay(b.1)) || (b.0 == "relay" && sees_relay(a.1))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_home_without_udp_is_relayed_over_tcp() {
    let calls = lab_call(3, NO_UDP, HOME_ROUTER, Turn::UdpTcp).await;
    assert_eq!(calls[0].verdict, relay_via(&["tcp"]), "the network check without UDP");
    assert_eq!(path(&calls[0].peer), ("relay", "tcp"), "{}", calls[0].peer);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_home_allowing_only_443_is_relayed_over_tls() {
    let calls = lab_call(4, ONLY_443, HOME_ROUTER, Turn::All).await;
    assert_eq!(calls[0].verdict, relay_via(&["tls"]), "the network check with only 443 open");
    assert_eq!(path(&calls[0].peer), ("relay", "tls"), "{}", calls[0].peer);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reset_turn_connection_recovers_by_an_ice_restart_within_10_s() {
    let reset_at = Duration::from_secs(6);
    let calls = lab_call_with(5, NO_UDP, HOME_ROUTER, Turn::UdpTcp, 24, Some(reset_at)).await;
    let reset = reset_at.as_secs_f64();
    for c in &calls {
        // Video stops when the relay goes; it must flow again within 10 s of the reset and keep flowing.
        let stall = c.frames.windows(2).position(|w| w[0].0 >= reset && w[1].1 == w[0].1);
        let back = stall
            .and_then(|i| c.frames[i + 1..].windows(2).find(|w| w[1].1 > w[0].1).map(|w| w[0].0 - reset));
        eprintln!("{}: video back {back:?} s after the reset: {:?}", c.name, c.frames);
        assert!(stall.is_some(), "{}: the reset did not stop the video: {:?}", c.name, c.frames);
        assert!(
            back.is_some_and(|b| b <= 10.0),
            "{}: no video within 10 s of the reset: {:?}",
            c.name,
            c.frames
        );
        let (last_t, last_f) = *c.frames.last().unwrap();
        let tail = c.frames.iter().find(|(t, _)| *t >= last_t - 3.0).unwrap();
        assert!(last_f > tail.1 + 30, "{}: video stopped again: {:?}", c.name, c.frames);
    }
    let offers = calls.iter().filter_map(|c| c.peer["negotiation"]["offers"].as_u64()).max();
    assert!(offers >= Some(2), "no ICE restart (offers: {offers:?})");
    assert_eq!(path(&calls[0].peer), ("relay", "tcp"), "still relayed over TCP: {}", calls[0].peer);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chromium_behind_a_home_router_calls_directly_with_stun_alone() {
    let (ann, bo) = chromium_call(11, HOME_ROUTER, HOME_ROUTER, Turn::None).await;
    assert_eq!(
        ann.check,
        serde_json::json!({ "verdict": "direct_likely", "via": [] }),
        "Chromium's network check"
    );
    let (local, remote, _) = page_path(&ann.peer);
    assert!(local != "relay" && matches!(remote, "srflx" | "prflx"), "Chromium: not direct: {}", ann.peer);
    let (local, remote) = ends(&bo);
    assert!(local != "relay" && matches!(remote, "srflx" | "prflx"), "Bo: not direct: {bo}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chromium_behind_a_symmetric_nat_is_relayed() {
    let (ann, bo) = chromium_call(12, SYMMETRIC, HOME_ROUTER, Turn::All).await;
    assert_eq!(ann.check, relay_via(&["udp", "tcp", "tls"]), "Chromium's network check");
    let (local, remote, _) = page_path(&ann.peer);
    assert!(relayed((local, remote), ends(&bo)), "no relay on the path: {} / {bo}", ann.peer);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chromium_without_udp_is_relayed_over_tcp() {
    let (ann, bo) = chromium_call(13, NO_UDP, HOME_ROUTER, Turn::UdpTcp).await;
    assert_eq!(ann.check, relay_via(&["tcp"]), "Chromium's network check");
    assert_eq!(page_path(&ann.peer), ("relay", page_path(&ann.peer).1, "tcp"), "Chromium: {}", ann.peer);
    assert_eq!(bo["remote_candidate"], "relay", "Bo: {bo}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chromium_allowing_only_443_is_relayed_over_tls() {
    let (ann, bo) = chromium_call(14, ONLY_443, HOME_ROUTER, Turn::All).await;
    assert_eq!(ann.check, relay_via(&["tls"]), "Chromium's network check");
    assert_eq!(page_path(&ann.peer), ("relay", page_path(&ann.peer).1, "tls"), "Chromium: {}", ann.peer);
    assert_eq!(bo["remote_candidate"], "relay", "Bo: {bo}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chromium_without_udp_reaches_a_hosting_desktop_over_ice_tcp() {
    // The desktop that hosts takes ICE over TCP (`--ice-tcp` does the same for `kaiwa call`): a browser
    // whose UDP is blocked and who has no relay still reaches it directly, from its own address.
    let _one = ONE_AT_A_TIME.lock().await;
    let world = World::new(15, NO_UDP, HOME_ROUTER, Turn::None).await;
    let desk = world.lab.add_host("desk").unwrap();
    let (ann, bo) = chromium_meets(&world, &desk, &["--ice-tcp"]).await;
    // (Chromium's side is peer-reflexive: its TCP connection leaves through its home's NAT.)
    let pair = &ann.peer["candidatePair"];
    assert_eq!(
        (&pair["protocol"], &pair["remote"]),
        (&"tcp".into(), &"host".into()),
        "Chromium: {}",
        ann.peer
    );
    assert_ne!(pair["local"], "relay", "Chromium: {}", ann.peer);
    assert_eq!(ann.peer["label"], "connected via direct (TCP)", "Chromium: {}", ann.peer);
    assert_eq!(bo["pair_protocol"], "tcp", "Bo: {bo}");
    assert_ne!(bo["local_candidate"], "relay", "Bo: {bo}");
}
