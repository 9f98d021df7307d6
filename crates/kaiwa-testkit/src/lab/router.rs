//! The lab's router: one thread that reads IPv4 packets from every host's TUN device, passes each through
//! the sender's uplink and the receiver's downlink ([`Link`]) and writes it to the receiver's TUN device at
//! the time they say. It waits in `ppoll` on the TUN descriptors and an eventfd (commands from the [`Lab`]
//! handle), with a timeout until the next due event of a timer heap.
//!
//! A packet takes two events: entering the receiver's downlink when the uplink lets it go, then delivery.
//! So the downlink sees packets at the times they really reach it, in time order, from every sender.
//! Nothing from the OS is unwrapped here: errors are logged and the loop goes on.
//!
//! [`Lab`]: super::Lab

use std::cmp::Ordering;
use std::collections::{BinaryHeap, HashMap};
use std::io;
use std::net::Ipv4Addr;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::sync::Arc;
use std::sync::mpsc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use super::link::{Direction, Link, LinkCounters, LinkProfile, link_seed};
use super::tun;

/// What the router saw, over all hosts.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RouterCounters {
    /// Packets read from hosts.
    pub packets_in: u64,
    /// Dropped because they were not IPv4 (e.g. IPv6 router solicitations).
    pub not_ipv4: u64,
    /// Dropped because no host has the destination address.
    pub unknown_destination: u64,
    /// Packets written to hosts.
    pub delivered: u64,
    /// Packets the kernel would not take from us.
    pub write_errors: u64,
}

pub(super) enum Command {
    AddHost {
        addr: Ipv4Addr,
        tun: OwnedFd,
    },
    /// Applies a profile at `at` (or at once, if that has passed).
    SetLink {
        host: usize,
        direction: Direction,
        profile: LinkProfile,
        at: Instant,
    },
    Counters {
        host: usize,
        direction: Direction,
        reply: mpsc::Sender<Option<LinkCounters>>,
    },
    RouterCounters {
        reply: mpsc::Sender<RouterCounters>,
    },
    Stop,
}

/// The lab's end of the router thread.
pub(super) struct RouterHandle {
    commands: mpsc::Sender<Command>,
    wake: Arc<OwnedFd>,
    thread: Option<JoinHandle<()>>,
}

impl RouterHandle {
    pub fn start(seed: u64) -> io::Result<RouterHandle> {
        // SAFETY: eventfd returns a new descriptor or -1.
        let fd = unsafe { libc::eventfd(0, libc::EFD_NONBLOCK | libc::EFD_CLOEXEC) };
        if fd < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: `fd` is a fresh descriptor nobody else owns.
        let wake = Arc::new(unsafe { OwnedFd::from_raw_fd(fd) });
        let (commands, rx) = mpsc::channel();
        let router = Router {
            seed,
            hosts: Vec::new(),
            routes: HashMap::new(),
            heap: BinaryHeap::new(),
            seq: 0,
            counters: RouterCounters::default(),
            commands: rx,
            wake: wake.clone(),
        };
        let thread =
            std::thread::Builder::new().name("kaiwa-lab-router".into()).spawn(move || router.run())?;
        Ok(RouterHandle { commands, wake, thread: Some(thread) })
    }

    pub fn send(&self, command: Command) -> io::Result<()> {
        self.commands.send(command).map_err(|_| io::Error::other("the lab's router thread has stopped"))?;
        let one = 1u64.to_ne_bytes();
        // SAFETY: writes 8 bytes from `one` to our eventfd.
        if unsafe { libc::write(self.wake.as_raw_fd(), one.as_ptr().cast(), 8) } < 0 {
            let e = io::Error::last_os_error();
            // A full counter (EAGAIN) still wakes the router.
            if e.kind() != io::ErrorKind::WouldBlock {
                return Err(e);
            }
        }
        Ok(())
    }

    /// Sends a command that carries a reply channel, and waits for the answer.
    pub fn ask<T>(&self, command: impl FnOnce(mpsc::Sender<T>) -> Command) -> io::Result<T> {
        let (tx, rx) = mpsc::channel();
        self.send(command(tx))?;
        rx.recv_timeout(Duration::from_secs(5))
            .map_err(|_| io::Error::new(io::ErrorKind::TimedOut, "the lab's router did not answer"))
    }

    /// Stops the thread and waits for it; its TUN descriptors (and so the devices) close with it.
    pub fn stop(&mut self) {
        let _ = self.send(Command::Stop);
        if let Some(thread) = self.thread.take()
            && thread.join().is_err()
        {
            eprintln!("kaiwa-lab: the router thread panicked");
        }
    }
}

struct HostPort {
    tun: OwnedFd,
    /// `[up, down]`.
    links: [Link; 2],
    /// Set after a poll error on the descriptor: no more reads from it.
    dead: bool,
}

enum Action {
    /// The packet has left the sender's uplink and reaches the receiver's downlink.
    Downlink {
        to: usize,
        packet: Vec<u8>,
    },
    Deliver {
        to: usize,
        packet: Vec<u8>,
    },
    SetLink {
        host: usize,
        direction: Direction,
        profile: LinkProfile,
    },
}

struct Event {
    at: Instant,
    /// Keeps events of the same time in the order they were made.
    seq: u64,
    action: Action,
}

impl PartialEq for Event {
    fn eq(&self, other: &Self) -> bool {
        (self.at, self.seq) == (other.at, other.seq)
    }
}
impl Eq for Event {}
impl PartialOrd for Event {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Event {
    /// Reversed: `BinaryHeap` is a max-heap and we want the earliest event on top.
    fn cmp(&self, other: &Self) -> Ordering {
        (other.at, other.seq).cmp(&(self.at, self.seq))
    }
}

struct Router {
    seed: u64,
    hosts: Vec<HostPort>,
    routes: HashMap<Ipv4Addr, usize>,
    heap: BinaryHeap<Event>,
    seq: u64,
    counters: RouterCounters,
    commands: mpsc::Receiver<Command>,
    wake: Arc<OwnedFd>,
}

/// Packets read from one host before looking at the others (fairness under a flood).
const READ_BATCH: usize = 64;

fn index(direction: Direction) -> usize {
    match direction {
        Direction::Up => 0,
        Direction::Down => 1,
    }
}

/// The destination of an IPv4 packet, `None` for anything else.
fn ipv4_destination(packet: &[u8]) -> Option<Ipv4Addr> {
    if packet.len() < 20 || packet[0] >> 4 != 4 {
        return None;
    }
    Some(Ipv4Addr::new(packet[16], packet[17], packet[18], packet[19]))
}

impl Router {
    fn run(mut self) {
        let mut buf = vec![0u8; 65_536];
        loop {
            self.run_due_events();
            let timeout = self.heap.peek().map(|e| e.at.saturating_duration_since(Instant::now()));
            let mut fds = Vec::with_capacity(self.hosts.len() + 1);
            fds.push(libc::pollfd { fd: self.wake.as_raw_fd(), events: libc::POLLIN, revents: 0 });
            for host in &self.hosts {
                let fd = if host.dead { -1 } else { host.tun.as_raw_fd() };
                fds.push(libc::pollfd { fd, events: libc::POLLIN, revents: 0 });
            }
            let ts = timeout.map(|t| libc::timespec {
                tv_sec: t.as_secs().min(i32::MAX as u64) as libc::time_t,
                tv_nsec: libc::c_long::from(t.subsec_nanos() as i32),
            });
            let ts_ptr = ts.as_ref().map_or(std::ptr::null(), |t| t as *const libc::timespec);
            // SAFETY: `fds` holds `fds.len()` pollfds; `ts_ptr` is null or points at `ts`.
            let n =
                unsafe { libc::ppoll(fds.as_mut_ptr(), fds.len() as libc::nfds_t, ts_ptr, std::ptr::null()) };
            if n < 0 {
                let e = io::Error::last_os_error();
                if e.kind() != io::ErrorKind::Interrupted {
                    eprintln!("kaiwa-lab: router poll: {e}");
                    std::thread::sleep(Duration::from_millis(10));
                }
                continue;
            }
            if fds[0].revents != 0 && !self.handle_commands() {
                return;
            }
            for (i, pfd) in fds[1..].iter().enumerate() {
                if pfd.revents & libc::POLLIN != 0 {
                    self.read_from(i, &mut buf);
                } else if pfd.revents & (libc::POLLERR | libc::POLLHUP | libc::POLLNVAL) != 0 {
                    eprintln!("kaiwa-lab: host {i}'s TUN device failed (poll events {:#x})", pfd.revents);
                    self.hosts[i].dead = true;
                }
            }
        }
    }

    /// Drains the eventfd and the command queue; false once told to stop (or the lab is gone).
    fn handle_commands(&mut self) -> bool {
        let mut count = [0u8; 8];
        // SAFETY: reads at most 8 bytes into `count`.
        unsafe { libc::read(self.wake.as_raw_fd(), count.as_mut_ptr().cast(), 8) };
        loop {
            let command = match self.commands.try_recv() {
                Ok(command) => command,
                Err(mpsc::TryRecvError::Empty) => return true,
                Err(mpsc::TryRecvError::Disconnected) => return false,
            };
            match command {
                Command::Stop => return false,
                Command::AddHost { addr, tun } => {
                    let host = self.hosts.len();
                    let link = |d| Link::new(LinkProfile::default(), link_seed(self.seed, host, d));
                    let links = [link(Direction::Up), link(Direction::Down)];
                    self.routes.insert(addr, host);
                    self.hosts.push(HostPort { tun, links, dead: false });
                }
                Command::SetLink { host, direction, profile, at } => {
                    if at <= Instant::now() {
                        self.set_link(host, direction, profile);
                    } else {
                        self.push(at, Action::SetLink { host, direction, profile });
                    }
                }
                Command::Counters { host, direction, reply } => {
                    let counters = self.hosts.get(host).map(|h| h.links[index(direction)].counters());
                    let _ = reply.send(counters);
                }
                Command::RouterCounters { reply } => {
                    let _ = reply.send(self.counters);
                }
            }
        }
    }

    fn set_link(&mut self, host: usize, direction: Direction, profile: LinkProfile) {
        match self.hosts.get_mut(host) {
            Some(h) => h.links[index(direction)].set_profile(profile),
            None => eprintln!("kaiwa-lab: no host {host} to set a link on"),
        }
    }

    fn read_from(&mut self, host: usize, buf: &mut [u8]) {
        for _ in 0..READ_BATCH {
            match tun::read(&self.hosts[host].tun, buf) {
                Ok(Some(n)) => self.route(host, &buf[..n]),
                Ok(None) => return,
                Err(e) => {
                    eprintln!("kaiwa-lab: reading host {host}'s TUN device: {e}");
                    return;
                }
            }
        }
    }

    /// A packet from `from`: through its uplink, towards the destination's downlink.
    fn route(&mut self, from: usize, packet: &[u8]) {
        self.counters.packets_in += 1;
        let Some(dst) = ipv4_destination(packet) else {
            self.counters.not_ipv4 += 1;
            return;
        };
        let Some(&to) = self.routes.get(&dst) else {
            self.counters.unknown_destination += 1;
            return;
        };
        let Some(out) = self.hosts[from].links[0].send(packet.len(), Instant::now()) else { return };
        if let Some(at) = out.duplicate {
            self.push(at, Action::Downlink { to, packet: packet.to_vec() });
        }
        self.push(out.at, Action::Downlink { to, packet: packet.to_vec() });
    }

    fn push(&mut self, at: Instant, action: Action) {
        self.seq += 1;
        self.heap.push(Event { at, seq: self.seq, action });
    }

    fn run_due_events(&mut self) {
        let now = Instant::now();
        while self.heap.peek().is_some_and(|e| e.at <= now) {
            let Some(event) = self.heap.pop() else { return };
            match event.action {
                Action::SetLink { host, direction, profile } => self.set_link(host, direction, profile),
                Action::Downlink { to, packet } => {
                    // The event's own time, not `now`: the downlink sees the packet when it really got there.
                    let Some(out) = self.hosts[to].links[1].send(packet.len(), event.at) else { continue };
                    if let Some(at) = out.duplicate {
                        self.push(at, Action::Deliver { to, packet: packet.clone() });
                    }
                    self.push(out.at, Action::Deliver { to, packet });
                }
                Action::Deliver { to, packet } => match tun::write(&self.hosts[to].tun, &packet) {
                    Ok(()) => self.counters.delivered += 1,
                    Err(e) => {
                        self.counters.write_errors += 1;
                        if self.counters.write_errors <= 10 {
                            eprintln!("kaiwa-lab: writing to host {to}'s TUN device: {e}");
                        }
                    }
                },
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_ipv4_packets_have_a_destination() {
        let mut v4 = [0u8; 20];
        v4[0] = 0x45;
        v4[16..20].copy_from_slice(&[198, 51, 100, 2]);
        assert_eq!(ipv4_destination(&v4), Some(Ipv4Addr::new(198, 51, 100, 2)));
        assert_eq!(ipv4_destination(&v4[..19]), None);
        v4[0] = 0x60;
        assert_eq!(ipv4_destination(&v4), None);
        assert_eq!(ipv4_destination(&[]), None);
    }

    #[test]
    fn the_earliest_event_comes_first() {
        let now = Instant::now();
        let mut heap = BinaryHeap::new();
        for (seq, ms) in [(1, 30), (2, 10), (3, 20), (4, 10)] {
            let action = Action::Deliver { to: 0, packet: Vec::new() };
            heap.push(Event { at: now + Duration::from_millis(ms), seq, action });
        }
        let order: Vec<u64> = std::iter::from_fn(|| heap.pop().map(|e| e.seq)).collect();
        assert_eq!(order, [2, 4, 3, 1]);
    }
}
