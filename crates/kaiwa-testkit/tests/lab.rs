//! The network lab end to end: real namespaces, TUN devices and the router thread. Needs root (CI runs as
//! root). Every test is bounded by socket timeouts and takes about a second; tolerances are wide because
//! the router runs on real time on a shared machine.

use std::io::{Read, Write};
use std::net::{IpAddr, Ipv4Addr, SocketAddr, TcpListener, TcpStream, UdpSocket};
use std::sync::RwLock;
use std::thread;
use std::time::{Duration, Instant};

use kaiwa_testkit::lab::{Direction, Firewall, Home, Host, Lab, LinkProfile, Loss, Nat, Profile};

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

/// Held for writing while a test plants a stale namespace, which any `Lab::new` would remove.
static LAB_CREATION: RwLock<()> = RwLock::new(());

fn new_lab(seed: u64) -> Lab {
    let _creating = LAB_CREATION.read().unwrap_or_else(|e| e.into_inner());
    Lab::new(seed).expect("the network lab (needs root and /dev/net/tun)")
}

fn two_hosts(seed: u64) -> (Lab, Host, Host) {
    let lab = new_lab(seed);
    let a = lab.add_host("a").expect("host a");
    let b = lab.add_host("b").expect("host b");
    (lab, a, b)
}

/// A UDP socket bound in the host's namespace at its address.
fn udp(host: &Host, port: u16) -> UdpSocket {
    let socket = host.enter(|| UdpSocket::bind((host.addr, port))).expect("enter").expect("bind");
    socket.set_read_timeout(Some(Duration::from_secs(1))).expect("timeout");
    socket
}

/// `recv_from`, again after EINTR: a socket with a timeout is not restarted after a signal, nor after the
/// process was stopped and continued, even without a handler (signal(7)).
fn recv_from(socket: &UdpSocket, buf: &mut [u8]) -> std::io::Result<(usize, SocketAddr)> {
    loop {
        match socket.recv_from(buf) {
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            other => return other,
        }
    }
}

/// Echoes datagrams until nothing comes for a second.
fn echo(socket: UdpSocket) -> thread::JoinHandle<()> {
    thread::spawn(move || {
        let mut buf = [0u8; 2048];
        while let Ok((n, from)) = recv_from(&socket, &mut buf) {
            let _ = socket.send_to(&buf[..n], from);
        }
    })
}

/// Round-trip times of `count` datagrams sent one at a time to an echo server.
fn rtts(client: &UdpSocket, server: SocketAddr, count: usize) -> Vec<Duration> {
    let mut buf = [0u8; 2048];
    (0..count)
        .map(|i| {
            let start = Instant::now();
            client.send_to(&(i as u32).to_be_bytes(), server).expect("send");
            let (n, _) = recv_from(client, &mut buf).expect("echo within a second");
            assert_eq!(&buf[..n], &(i as u32).to_be_bytes());
            start.elapsed()
        })
        .collect()
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

#[test]
fn udp_echo_takes_the_configured_round_trip() {
    let (lab, a, b) = two_hosts(1);
    assert_eq!((a.addr, b.addr), (Ipv4Addr::new(198, 51, 100, 1), Ipv4Addr::new(198, 51, 100, 2)));
    let server = udp(&b, 7000);
    let _echo = echo(server);
    let client = udp(&a, 0);

    let fast = median(rtts(&client, (b.addr, 7000).into(), 10));
    lab.set_link(&b, Direction::Up, LinkProfile::delayed(ms(20))).unwrap();
    lab.set_link(&b, Direction::Down, LinkProfile::delayed(ms(20))).unwrap();
    let samples = rtts(&client, (b.addr, 7000).into(), 20);
    let slow = median(samples.clone());
    eprintln!("RTT without delay {fast:?}, with 20 ms each way: median {slow:?}, all {samples:?}");
    assert!(fast < ms(10), "{fast:?}");
    assert!((ms(38)..ms(60)).contains(&slow), "{slow:?}");
    assert!(samples.iter().all(|rtt| *rtt >= ms(40)), "{samples:?}");
    let down = lab.counters(&b, Direction::Down).unwrap();
    assert_eq!(down.packets_in, 30);
    assert_eq!(down.delivered, 30);
}

#[test]
fn random_loss_drops_about_its_share() {
    let (lab, a, b) = two_hosts(2);
    lab.set_link(&b, Direction::Down, LinkProfile { loss: Loss::Random(0.1), ..LinkProfile::default() })
        .unwrap();
    let receiver = udp(&b, 7001);
    receiver.set_read_timeout(Some(ms(500))).unwrap();
    let counting = thread::spawn(move || {
        let mut buf = [0u8; 2048];
        let mut received = 0u64;
        while recv_from(&receiver, &mut buf).is_ok() {
            received += 1;
        }
        received
    });
    let sender = udp(&a, 0);
    for i in 0..2000u32 {
        sender.send_to(&i.to_be_bytes(), (b.addr, 7001)).unwrap();
        thread::sleep(Duration::from_micros(200));
    }
    let received = counting.join().unwrap();
    let down = lab.counters(&b, Direction::Down).unwrap();
    eprintln!("10 % loss: received {received} of 2000; link {down:?}");
    assert_eq!(down.packets_in, 2000);
    assert!((140..=260).contains(&down.dropped_loss), "{down:?}");
    assert!(received <= down.delivered && received + 20 >= down.delivered, "{received} vs {down:?}");
}

#[test]
fn a_rate_cap_limits_throughput_and_its_queue_drops_the_excess() {
    let (lab, a, b) = two_hosts(3);
    lab.set_link(&b, Direction::Down, LinkProfile::capped(1_000_000, ms(300))).unwrap();
    let receiver = udp(&b, 7002);
    let arrivals = thread::spawn(move || {
        let mut buf = [0u8; 2048];
        let mut times = Vec::new();
        while recv_from(&receiver, &mut buf).is_ok() {
            times.push(Instant::now());
        }
        times
    });
    // About 2 Mbit/s for a second: 1000-byte payloads (1028-byte IP packets) every 4 ms.
    let sender = udp(&a, 0);
    let start = Instant::now();
    for i in 0..250u32 {
        let due = start + ms(4) * i;
        thread::sleep(due.saturating_duration_since(Instant::now()));
        sender.send_to(&[0u8; 1000], (b.addr, 7002)).unwrap();
    }
    let times = arrivals.join().unwrap();
    let span = (*times.last().unwrap() - times[0]).as_secs_f64();
    let rate = (times.len() - 1) as f64 * 1028.0 * 8.0 / span;
    let down = lab.counters(&b, Direction::Down).unwrap();
    eprintln!(
        "1 Mbit/s cap: {} packets in {span:.3} s = {:.0} kbit/s; link {down:?}",
        times.len(),
        rate / 1e3
    );
    assert!((850_000.0..1_150_000.0).contains(&rate), "{rate}");
    assert!(down.dropped_queue > 50, "{down:?}");
    assert_eq!(down.dropped_queue + down.delivered, 250);
}

#[test]
fn tcp_works_through_the_lab() {
    let (lab, a, b) = two_hosts(4);
    lab.set_link(&a, Direction::Up, LinkProfile::delayed(ms(10))).unwrap();
    lab.set_link(&a, Direction::Down, LinkProfile::capped(5_000_000, ms(100))).unwrap();
    let listener = b.enter(|| TcpListener::bind((b.addr, 7003))).unwrap().unwrap();
    let server = thread::spawn(move || {
        let (mut stream, peer) = listener.accept().unwrap();
        stream.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        let mut data = Vec::new();
        stream.read_to_end(&mut data).unwrap();
        stream.write_all(&data).unwrap();
        peer
    });
    let payload: Vec<u8> = (0..300_000u32).map(|i| (i * 7 % 251) as u8).collect();
    let started = Instant::now();
    let mut stream = a
        .enter(|| TcpStream::connect_timeout(&(b.addr, 7003).into(), Duration::from_secs(5)))
        .unwrap()
        .unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    stream.write_all(&payload).unwrap();
    stream.shutdown(std::net::Shutdown::Write).unwrap();
    let mut back = Vec::new();
    stream.read_to_end(&mut back).unwrap();
    let peer = server.join().unwrap();
    eprintln!("TCP: 300 kB there and back (back at 5 Mbit/s) in {:?}", started.elapsed());
    assert_eq!(peer.ip(), a.addr);
    assert!(back == payload, "the echoed bytes differ");
}

#[test]
fn schedules_and_profiles_change_the_link() {
    let (lab, a, b) = two_hosts(5);
    let _echo = echo(udp(&b, 7004));
    let client = udp(&a, 0);
    let server: SocketAddr = (b.addr, 7004).into();
    lab.schedule(&b, Direction::Down, vec![(ms(300), LinkProfile::delayed(ms(30)))]).unwrap();
    let before = median(rtts(&client, server, 5));
    thread::sleep(ms(400).saturating_sub(before * 5));
    let after = median(rtts(&client, server, 5));
    eprintln!("scheduled +30 ms: RTT {before:?} before, {after:?} after");
    assert!(before < ms(10) && (ms(30)..ms(80)).contains(&after), "{before:?} {after:?}");

    // wifi-good on a: 20 ± 10 ms each way, 1 % loss (a lost echo would time out: use a seed that has none
    // in these 20 packets, which the seeded model makes repeatable).
    lab.set_link(&b, Direction::Down, LinkProfile::default()).unwrap();
    lab.apply(&a, &Profile::by_name("wifi-good").unwrap()).unwrap();
    let samples = rtts(&client, server, 20);
    eprintln!("wifi-good: RTTs {samples:?}");
    assert!(samples.iter().all(|rtt| (ms(20)..ms(90)).contains(rtt)), "{samples:?}");
}

#[test]
fn hosts_are_isolated_and_dropping_the_lab_removes_them() {
    let lab = new_lab(6);
    let h = lab.add_host("solo").unwrap();
    let out = |args: &[&str]| {
        let out = h.command("ip").args(args).output().unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8(out.stdout).unwrap()
    };
    let links = out(&["-o", "link"]);
    assert_eq!(links.lines().count(), 2, "{links}");
    assert!(links.contains("lab0") && links.contains("mtu 1500"), "{links}");
    assert!(out(&["-4", "-o", "addr"]).contains("198.51.100.1/24"));
    assert!(!out(&["route"]).contains("default"));

    // Nothing leaves the lab; unknown lab addresses reach the router and are dropped there.
    let socket = udp(&h, 0);
    let outside = socket.send_to(b"x", (Ipv4Addr::new(192, 0, 2, 1), 9));
    assert_eq!(outside.unwrap_err().raw_os_error(), Some(libc::ENETUNREACH));
    socket.send_to(b"x", (Ipv4Addr::new(198, 51, 100, 99), 9)).unwrap();
    let deadline = Instant::now() + Duration::from_secs(2);
    while lab.router_counters().unwrap().unknown_destination == 0 {
        assert!(Instant::now() < deadline, "{:?}", lab.router_counters());
        thread::sleep(ms(10));
    }

    let netns = h.netns.clone();
    let list = || {
        String::from_utf8(std::process::Command::new("ip").args(["netns", "list"]).output().unwrap().stdout)
    };
    assert!(list().unwrap().contains(&netns));
    drop(lab);
    assert!(!list().unwrap().contains(&netns));
}

#[test]
fn sockets_made_in_a_host_work_with_tokio() {
    let (_lab, a, b) = two_hosts(7);
    let _echo = echo(udp(&b, 7005));
    let std_socket = udp(&a, 0);
    std_socket.set_nonblocking(true).unwrap();
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    rt.block_on(async {
        let socket = tokio::net::UdpSocket::from_std(std_socket).unwrap();
        socket.send_to(b"hello", (b.addr, 7005)).await.unwrap();
        let mut buf = [0u8; 16];
        let n = tokio::time::timeout(Duration::from_secs(2), socket.recv(&mut buf)).await.unwrap().unwrap();
        assert_eq!(&buf[..n], b"hello");
    });
}

#[test]
fn a_new_lab_removes_namespaces_of_dead_processes() {
    // No process can have this pid (above any pid_max).
    let stale = "kl4294967295-0-stale";
    let _alone = LAB_CREATION.write().unwrap_or_else(|e| e.into_inner());
    let status = std::process::Command::new("ip").args(["netns", "add", stale]).status().unwrap();
    assert!(status.success());
    let _lab = Lab::new(8).unwrap();
    let list = std::process::Command::new("ip").args(["netns", "list"]).output().unwrap().stdout;
    assert!(!String::from_utf8_lossy(&list).contains(stale));
}

/// A lab with a server host and one home behind a gateway of the given kind.
fn server_and_home(seed: u64, nat: Nat, firewall: Firewall) -> (Lab, Host, Home) {
    let lab = new_lab(seed);
    let server = lab.add_host("srv").expect("server host");
    let home = lab.add_home("home", nat, firewall).expect("home behind a NAT (needs nftables)");
    assert_ne!(home.host.addr, home.gateway.addr);
    (lab, server, home)
}

/// The source address a datagram from `client` shows at each of `servers`.
fn seen_from(client: &UdpSocket, servers: &[&UdpSocket]) -> Vec<SocketAddr> {
    let mut buf = [0u8; 64];
    servers
        .iter()
        .map(|server| {
            client.send_to(b"hello", server.local_addr().unwrap()).expect("send");
            recv_from(server, &mut buf).expect("the datagram crossed the NAT").1
        })
        .collect()
}

#[test]
fn a_port_preserving_nat_keeps_one_mapping_for_every_destination() {
    let (lab, server, home) = server_and_home(11, Nat::PortPreserving, Firewall::Open);
    let (s1, s2) = (udp(&server, 7101), udp(&server, 7102));
    let client = udp(&home.host, 40_000);
    let seen = seen_from(&client, &[&s1, &s2]);
    assert_eq!(seen[0], SocketAddr::from((home.gateway.addr, 40_000)), "masquerade keeps a free port");
    assert_eq!(seen[0], seen[1], "one mapping for both destinations");
    // Answers come back through the mapping; a host the home never wrote to cannot use it.
    s1.send_to(b"back", seen[0]).unwrap();
    let mut buf = [0u8; 64];
    let (n, from) = recv_from(&client, &mut buf).expect("the answer crossed the NAT");
    assert_eq!((&buf[..n], from), (&b"back"[..], s1.local_addr().unwrap()));
    let stranger = lab.add_host("stranger").unwrap();
    udp(&stranger, 7103).send_to(b"unasked", seen[0]).unwrap();
    assert!(recv_from(&client, &mut buf).is_err(), "an unsolicited datagram got into the home");
    // The home's link is its gateway's.
    lab.set_link(&home.host, Direction::Up, LinkProfile::delayed(ms(40))).unwrap();
    let _echo = echo(s2);
    let rtt = median(rtts(&client, (server.addr, 7102).into(), 5));
    assert!(rtt >= ms(40) && rtt < ms(100), "{rtt:?}");
}

#[test]
fn a_symmetric_nat_maps_each_destination_to_another_port() {
    let (_lab, server, home) = server_and_home(12, Nat::Symmetric, Firewall::Open);
    let servers: Vec<UdpSocket> = (0..3).map(|i| udp(&server, 7111 + i)).collect();
    let client = udp(&home.host, 40_000);
    let seen = seen_from(&client, &servers.iter().collect::<Vec<_>>());
    assert!(seen.iter().all(|s| s.ip() == IpAddr::V4(home.gateway.addr)), "{seen:?}");
    // Random ports: three equal ones would be a 1 in 4·10⁹ chance.
    assert!(seen.windows(2).any(|w| w[0].port() != w[1].port()), "one mapping: {seen:?}");
}

#[test]
fn a_firewall_without_udp_lets_tcp_out() {
    let (_lab, server, home) = server_and_home(13, Nat::PortPreserving, Firewall::NoUdp);
    let s = udp(&server, 7121);
    udp(&home.host, 0).send_to(b"hello", s.local_addr().unwrap()).unwrap();
    assert!(recv_from(&s, &mut [0u8; 64]).is_err(), "UDP got out");
    assert!(tcp_connects(&home.host, &server, 3478), "TCP to 3478 was blocked");
}

#[test]
fn a_firewall_for_443_only_blocks_other_tcp_ports() {
    let (_lab, server, home) = server_and_home(14, Nat::PortPreserving, Firewall::Only443);
    assert!(tcp_connects(&home.host, &server, 443), "TCP to 443 was blocked");
    assert!(!tcp_connects(&home.host, &server, 3478), "TCP to 3478 got out");
    let s = udp(&server, 7131);
    udp(&home.host, 0).send_to(b"hello", s.local_addr().unwrap()).unwrap();
    assert!(recv_from(&s, &mut [0u8; 64]).is_err(), "UDP got out");
}

/// Whether a TCP connection from `from` to a listener on `server`'s `port` is accepted within a second.
fn tcp_connects(from: &Host, server: &Host, port: u16) -> bool {
    let _listener = server.enter(|| TcpListener::bind((server.addr, port))).unwrap().expect("listen");
    let to = SocketAddr::from((server.addr, port));
    from.enter(|| TcpStream::connect_timeout(&to, Duration::from_secs(1))).unwrap().is_ok()
}
