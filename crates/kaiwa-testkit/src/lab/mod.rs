//! A small internet for tests and benchmarks: each [`Host`] is a Linux network namespace whose only
//! interface (besides `lo`) is a TUN device, and a user-space router thread in this process forwards IPv4
//! between them, through each host's access link: a bandwidth cap with a queue, delay, jitter, loss,
//! duplication ([`LinkProfile`], per host and [`Direction`]). Hosts reach each other at `198.51.100.N`
//! (TEST-NET-2); there is no default route, so nothing leaves the lab.
//!
//! Why user space and not qdiscs: these machines have no `netem`, so delay, jitter and loss cannot be had
//! from the kernel at all, and a `tbf` on a host's interface would only shape what that host sends. A
//! router that sees every packet can impair both directions of every host's link with one model, which is
//! pure ([`link`]) and seeded from the lab's seed, so a run's decisions are reproducible.
//!
//! Homes behind NAT routers and firewalls ([`Lab::add_home`], see [`home`]) sit behind a host that is their
//! gateway.
//!
//! Needs root and `/dev/net/tun`, iproute2's `ip` (and nftables' `nft` for homes). Namespaces are named `kl<pid>-<lab>-<host>`: a lab
//! deletes its own on drop and, when created, those of processes that are gone.

pub mod home;
pub mod link;
mod netns;
pub mod profiles;
mod router;
mod tun;

use std::ffi::OsStr;
use std::io;
use std::net::Ipv4Addr;
use std::path::Path;
use std::process::Command;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

pub use home::{Firewall, Home, Nat};
pub use link::{Direction, LinkCounters, LinkProfile, Loss};
pub use profiles::Profile;
pub use router::RouterCounters;

use router::{Command as RouterCommand, RouterHandle};

/// Labs made by this process so far (part of namespace names, so labs of parallel tests do not collide).
static LABS: AtomicU32 = AtomicU32::new(0);

/// The TUN device's name inside every host's namespace.
pub(crate) const IFNAME: &str = "lab0";

/// One host of a [`Lab`]: a network namespace with address `addr`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Host {
    pub name: String,
    /// The namespace's name (for `ip netns exec`).
    pub netns: String,
    pub addr: Ipv4Addr,
    index: usize,
}

impl Host {
    /// `ip netns exec NETNS program`: a process in the host's namespace.
    pub fn command(&self, program: impl AsRef<OsStr>) -> Command {
        let mut command = Command::new("ip");
        command.args(["netns", "exec", &self.netns]).arg(program);
        command
    }

    /// Runs `f` on a fresh thread inside the host's namespace and returns its result: sockets bound or
    /// connected there stay in the namespace (hand them to tokio with `from_std` after
    /// `set_nonblocking(true)`). A panic in `f` is passed on.
    pub fn enter<T: Send, F: FnOnce() -> T + Send>(&self, f: F) -> io::Result<T> {
        netns::enter(&self.netns, f)
    }

    /// A TCP listener on the host's address and `port` (0: any free one), made inside its namespace, for
    /// tokio (call it within a runtime).
    pub fn tcp_listener(&self, port: u16) -> io::Result<tokio::net::TcpListener> {
        let addr = self.addr;
        let listener = self.enter(move || {
            let l = std::net::TcpListener::bind((addr, port))?;
            l.set_nonblocking(true)?;
            Ok::<_, io::Error>(l)
        })??;
        tokio::net::TcpListener::from_std(listener)
    }

    /// A UDP socket on the host's address and `port`, made inside its namespace, for tokio (within a
    /// runtime).
    pub fn udp_socket(&self, port: u16) -> io::Result<tokio::net::UdpSocket> {
        let addr = self.addr;
        let socket = self.enter(move || {
            let s = std::net::UdpSocket::bind((addr, port))?;
            s.set_nonblocking(true)?;
            Ok::<_, io::Error>(s)
        })??;
        tokio::net::UdpSocket::from_std(socket)
    }
}

/// The lab: its namespaces and router. Dropping it stops the router and deletes the namespaces.
pub struct Lab {
    seed: u64,
    /// `kl<pid>-<n>`: every namespace of this lab starts with it.
    prefix: String,
    hosts: Mutex<Vec<Host>>,
    homes: Mutex<Vec<Home>>,
    router: RouterHandle,
}

impl Lab {
    /// An empty lab whose impairment decisions all derive from `seed`. Fails if not root, without
    /// `/dev/net/tun`, or if the router thread cannot start.
    pub fn new(seed: u64) -> io::Result<Lab> {
        // SAFETY: geteuid has no preconditions.
        if unsafe { libc::geteuid() } != 0 {
            return Err(io::Error::new(
                io::ErrorKind::PermissionDenied,
                "the network lab needs root (it makes network namespaces and TUN devices)",
            ));
        }
        if !Path::new("/dev/net/tun").exists() {
            return Err(io::Error::new(
                io::ErrorKind::NotFound,
                "the network lab needs /dev/net/tun (TUN devices), which this machine does not have",
            ));
        }
        netns::ip(&["-V"])?;
        netns::remove_stale();
        let prefix = format!("kl{}-{}", std::process::id(), LABS.fetch_add(1, Ordering::Relaxed));
        Ok(Lab {
            seed,
            prefix,
            hosts: Mutex::new(Vec::new()),
            homes: Mutex::new(Vec::new()),
            router: RouterHandle::start(seed)?,
        })
    }

    pub fn seed(&self) -> u64 {
        self.seed
    }

    /// Adds a host named `name` (letters, digits, `-`, `_`; unique in the lab) at the next address,
    /// `198.51.100.1` first. Its links start perfect.
    pub fn add_host(&self, name: &str) -> io::Result<Host> {
        let valid = |c: char| c.is_ascii_alphanumeric() || c == '-' || c == '_';
        if name.is_empty() || name.len() > 32 || !name.chars().all(valid) {
            return Err(io::Error::new(io::ErrorKind::InvalidInput, format!("bad lab host name {name:?}")));
        }
        let mut hosts = self.hosts.lock().unwrap_or_else(|e| e.into_inner());
        if hosts.iter().any(|h| h.name == name) {
            return Err(io::Error::new(io::ErrorKind::AlreadyExists, format!("lab host {name} exists")));
        }
        let index = hosts.len();
        if index >= 254 {
            return Err(io::Error::other("a lab holds at most 254 hosts"));
        }
        let addr = Ipv4Addr::new(198, 51, 100, index as u8 + 1);
        let netns = format!("{}-{name}", self.prefix);
        netns::create(&netns)?;
        let setup = || -> io::Result<()> {
            let tun = netns::enter(&netns, || tun::create(IFNAME))??;
            netns::ip(&["-n", &netns, "addr", "add", &format!("{addr}/24"), "dev", IFNAME])?;
            netns::ip(&["-n", &netns, "link", "set", IFNAME, "mtu", "1500", "up"])?;
            self.router.send(RouterCommand::AddHost { addr, tun })
        };
        if let Err(e) = setup() {
            let _ = netns::delete(&netns);
            return Err(e);
        }
        let host = Host { name: name.to_owned(), netns, addr, index };
        hosts.push(host.clone());
        Ok(host)
    }

    /// Adds a home named `name` behind a gateway host `<name>-gw` (the next lab address) that translates
    /// its addresses with `nat` and filters what it sends with `firewall`. The home is at `10.N.0.2`
    /// (N counting homes from 1); it reaches every lab host through the gateway, and no lab host reaches
    /// it unless it answers what the home sent.
    pub fn add_home(&self, name: &str, nat: Nat, firewall: Firewall) -> io::Result<Home> {
        let gateway = self.add_host(&format!("{name}-gw"))?;
        let mut homes = self.homes.lock().unwrap_or_else(|e| e.into_inner());
        let n = u8::try_from(homes.len() + 1)
            .ok()
            .filter(|n| *n < 255)
            .ok_or_else(|| io::Error::other("a lab holds at most 254 homes"))?;
        let netns = format!("{}-{name}", self.prefix);
        netns::create(&netns)?;
        let (lan_gw, lan_home) = home::lan_addrs(n);
        let setup = || -> io::Result<()> {
            netns::ip(&[
                "-n",
                &gateway.netns,
                "link",
                "add",
                home::LAN_IF,
                "type",
                "veth",
                "peer",
                "name",
                home::HOME_IF,
                "netns",
                &netns,
            ])?;
            netns::ip(&["-n", &gateway.netns, "addr", "add", &format!("{lan_gw}/24"), "dev", home::LAN_IF])?;
            netns::ip(&["-n", &gateway.netns, "link", "set", home::LAN_IF, "up"])?;
            netns::ip(&["-n", &netns, "addr", "add", &format!("{lan_home}/24"), "dev", home::HOME_IF])?;
            netns::ip(&["-n", &netns, "link", "set", home::HOME_IF, "up"])?;
            netns::ip(&["-n", &netns, "route", "add", "default", "via", &lan_gw.to_string()])?;
            home::forward(&gateway.netns)?;
            home::nft(&gateway.netns, &home::ruleset(IFNAME, nat, firewall))
        };
        if let Err(e) = setup() {
            let _ = netns::delete(&netns);
            return Err(e);
        }
        let host = Host { name: name.to_owned(), netns, addr: lan_home, index: gateway.index };
        let home = Home { host, gateway, nat, firewall };
        homes.push(home.clone());
        Ok(home)
    }

    /// The hosts so far, in order of creation.
    pub fn hosts(&self) -> Vec<Host> {
        self.hosts.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Changes one direction of a host's link at once (packets already through it keep their times).
    pub fn set_link(&self, host: &Host, direction: Direction, profile: LinkProfile) -> io::Result<()> {
        self.schedule(host, direction, vec![(Duration::ZERO, profile)])
    }

    /// Changes one direction of a host's link at these times after now, in the router (no sleeping here).
    pub fn schedule(
        &self,
        host: &Host,
        direction: Direction,
        changes: Vec<(Duration, LinkProfile)>,
    ) -> io::Result<()> {
        let index = self.index_of(host)?;
        let now = Instant::now();
        for (after, profile) in changes {
            let at = now.checked_add(after).unwrap_or(now);
            self.router.send(RouterCommand::SetLink { host: index, direction, profile, at })?;
        }
        Ok(())
    }

    /// Puts a profile on a host's access link: `up` and `down` now, its changes (both directions) later.
    pub fn apply(&self, host: &Host, profile: &Profile) -> io::Result<()> {
        self.set_link(host, Direction::Up, profile.up.clone())?;
        self.set_link(host, Direction::Down, profile.down.clone())?;
        for direction in [Direction::Up, Direction::Down] {
            self.schedule(host, direction, profile.changes.clone())?;
        }
        Ok(())
    }

    /// What one direction of a host's link has done so far.
    pub fn counters(&self, host: &Host, direction: Direction) -> io::Result<LinkCounters> {
        let host = self.index_of(host)?;
        self.router
            .ask(|reply| RouterCommand::Counters { host, direction, reply })?
            .ok_or_else(|| io::Error::other("the router does not know the host"))
    }

    /// What the router has seen over all hosts.
    pub fn router_counters(&self) -> io::Result<RouterCounters> {
        self.router.ask(|reply| RouterCommand::RouterCounters { reply })
    }

    fn index_of(&self, host: &Host) -> io::Result<usize> {
        let hosts = self.hosts.lock().unwrap_or_else(|e| e.into_inner());
        let homes = self.homes.lock().unwrap_or_else(|e| e.into_inner());
        match hosts.get(host.index) {
            Some(h) if h == host => Ok(host.index),
            // A home's link is its gateway's.
            Some(_) if homes.iter().any(|home| home.host == *host) => Ok(host.index),
            _ => Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("{} is not a host of this lab", host.name),
            )),
        }
    }
}

impl Drop for Lab {
    fn drop(&mut self) {
        self.router.stop();
        for home in self.homes.get_mut().unwrap_or_else(|e| e.into_inner()).iter() {
            if let Err(e) = netns::delete(&home.host.netns) {
                eprintln!("kaiwa-lab: {e}");
            }
        }
        for host in self.hosts.get_mut().unwrap_or_else(|e| e.into_inner()).iter() {
            if let Err(e) = netns::delete(&host.netns) {
                eprintln!("kaiwa-lab: {e}");
            }
        }
    }
}
