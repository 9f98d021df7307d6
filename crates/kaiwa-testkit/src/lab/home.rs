//! Homes behind NAT routers and firewalls, for the NAT and TURN tests: a [`Home`] is a private network
//! namespace (`10.N.0.2`) whose only way out is a gateway, which is an ordinary lab [`Host`] (so its
//! access link takes [`LinkProfile`]s) with the home on a veth pair behind it and nftables rules:
//!
//! - [`Nat::PortPreserving`]: `masquerade`, which keeps the home's source port when it is free and uses
//!   one mapping for every destination, like most home routers (endpoint-independent mapping,
//!   [RFC 4787 §4.1](https://www.rfc-editor.org/rfc/rfc4787#section-4.1)): direct calls work;
//! - [`Nat::Symmetric`]: `masquerade fully-random`, a new random port for every destination (what
//!   carrier-grade NATs and some office routers do): the address STUN sees is useless to a peer, calls
//!   need a relay;
//! - [`Firewall::NoUdp`] drops every UDP packet the home sends out; [`Firewall::Only443`] lets out only
//!   TCP to port 443.
//!
//! Like a home router's firewall, a gateway drops new connections to itself from outside. Without that, a
//! peer's connectivity check that arrives before the home's own first packet to that peer leaves a
//! connection-tracking entry, masquerade then gives the home's packet to the peer another port, and hole
//! punching fails (measured: two port-preserving homes never connected directly).
//!
//! The gateway has no default route, so nothing from a home leaves the lab either.

use std::io::{self, Write};
use std::net::Ipv4Addr;
use std::process::{Command, Stdio};

use super::Host;

/// How the gateway translates the home's addresses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Nat {
    /// `masquerade`: one mapping for all destinations, the source port kept when free.
    PortPreserving,
    /// `masquerade fully-random`: a random port per destination.
    Symmetric,
}

/// What the gateway lets out of the home.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Firewall {
    #[default]
    Open,
    /// No UDP at all (an office firewall): only TCP and ICMP leave.
    NoUdp,
    /// Only TCP to port 443 (a strict office proxy's firewall).
    Only443,
}

/// A home: the private host and the gateway it sits behind.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Home {
    /// The machine in the home, at `10.N.0.2`. Its `command` and `enter` work like any host's; lab link
    /// calls made with it act on the gateway's access link.
    pub host: Host,
    /// The gateway, a lab host at a public lab address.
    pub gateway: Host,
    pub nat: Nat,
    pub firewall: Firewall,
}

impl Home {
    /// Resets the home's TCP connections to `port`, as a flaky middlebox does: the gateway answers their
    /// next packet with a TCP reset, and refuses new connections for `hold`; then lets them through again.
    /// Blocks for `hold`.
    pub fn reset_tcp(&self, port: u16, hold: std::time::Duration) -> io::Result<()> {
        nft(&self.gateway.netns, &reset_ruleset(port))?;
        std::thread::sleep(hold);
        nft(&self.gateway.netns, &format!("delete table ip {RESET_TABLE}\n"))
    }
}

/// The table [`Home::reset_tcp`] adds for a while.
const RESET_TABLE: &str = "kaiwa_lab_reset";

/// Rules that reset every TCP packet from the home to `port`.
fn reset_ruleset(port: u16) -> String {
    format!(
        "table ip {RESET_TABLE} {{\n\
         \x20   chain forward {{\n\
         \x20       type filter hook forward priority filter - 10; policy accept;\n\
         \x20       iifname \"{LAN_IF}\" tcp dport {port} reject with tcp reset\n\
         \x20   }}\n\
         }}\n"
    )
}

/// The veth end inside the gateway.
pub(super) const LAN_IF: &str = "lan0";
/// The veth end inside the home.
pub(super) const HOME_IF: &str = "eth0";

/// The nftables ruleset of a gateway whose public interface is `wan`.
pub(super) fn ruleset(wan: &str, nat: Nat, firewall: Firewall) -> String {
    let masquerade = match nat {
        Nat::PortPreserving => "masquerade",
        Nat::Symmetric => "masquerade fully-random",
    };
    let filter = match firewall {
        Firewall::Open => String::new(),
        Firewall::NoUdp => format!("        iifname \"{LAN_IF}\" meta l4proto udp drop\n"),
        Firewall::Only443 => {
            format!("        iifname \"{LAN_IF}\" tcp dport 443 accept\n        iifname \"{LAN_IF}\" drop\n")
        }
    };
    format!(
        "table ip kaiwa_lab {{\n\
         \x20   chain input {{\n\
         \x20       type filter hook input priority filter; policy accept;\n\
         \x20       iifname \"{wan}\" ct state new drop\n\
         \x20   }}\n\
         \x20   chain forward {{\n\
         \x20       type filter hook forward priority filter; policy accept;\n\
         {filter}\
         \x20   }}\n\
         \x20   chain postrouting {{\n\
         \x20       type nat hook postrouting priority srcnat; policy accept;\n\
         \x20       oifname \"{wan}\" {masquerade}\n\
         \x20   }}\n\
         }}\n"
    )
}

/// Loads `rules` with `nft -f -` inside namespace `netns`.
pub(super) fn nft(netns: &str, rules: &str) -> io::Result<()> {
    let mut child = Command::new("ip")
        .args(["netns", "exec", netns, "nft", "-f", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| io::Error::new(e.kind(), format!("cannot run `ip netns exec … nft`: {e}")))?;
    child.stdin.take().expect("piped stdin").write_all(rules.as_bytes())?;
    let out = child.wait_with_output()?;
    if out.status.success() {
        return Ok(());
    }
    Err(io::Error::other(format!(
        "nft in {netns} failed (nftables is needed for the lab's NATs): {}",
        String::from_utf8_lossy(&out.stderr).trim()
    )))
}

/// Turns on IPv4 forwarding in namespace `netns` (each namespace has its own `/proc/sys/net`, as seen
/// by the thread that opens it).
pub(super) fn forward(netns: &str) -> io::Result<()> {
    super::netns::enter(netns, || std::fs::write("/proc/sys/net/ipv4/ip_forward", "1"))?
        .map_err(|e| io::Error::new(e.kind(), format!("enabling forwarding in {netns}: {e}")))
}

/// The private subnet's addresses of home number `n`: (gateway side, home side).
pub(super) fn lan_addrs(n: u8) -> (Ipv4Addr, Ipv4Addr) {
    (Ipv4Addr::new(10, n, 0, 1), Ipv4Addr::new(10, n, 0, 2))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rulesets_say_what_each_kind_does() {
        let open = ruleset("lab0", Nat::PortPreserving, Firewall::Open);
        assert!(open.contains("oifname \"lab0\" masquerade\n"), "{open}");
        assert!(!open.contains("iifname \"lan0\""), "an open home is not filtered: {open}");
        assert!(
            open.contains("iifname \"lab0\" ct state new drop"),
            "nothing unasked gets to the gateway: {open}"
        );
        let symmetric = ruleset("lab0", Nat::Symmetric, Firewall::NoUdp);
        assert!(symmetric.contains("masquerade fully-random"), "{symmetric}");
        assert!(symmetric.contains("iifname \"lan0\" meta l4proto udp drop"), "{symmetric}");
        let strict = ruleset("lab0", Nat::PortPreserving, Firewall::Only443);
        let accept = strict.find("tcp dport 443 accept").expect("443 allowed");
        let drop = strict.find("iifname \"lan0\" drop").expect("the rest dropped");
        assert!(accept < drop, "{strict}");
    }
}
