//! Counters exported at `/metrics` in the Prometheus text exposition format
//! (<https://prometheus.io/docs/instrumenting/exposition_formats/>). Plain atomics: a handful of numbers
//! needs no metrics framework.

use std::fmt::Write;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

use kaiwa_protocol::ErrorCode;

#[derive(Debug, Default)]
pub struct Metrics {
    pub connections: AtomicU64,
    pub connections_total: AtomicU64,
    pub participants: AtomicU64,
    pub rooms: AtomicU64,
    pub joins_total: AtomicU64,
    pub messages_received_total: AtomicU64,
    pub messages_relayed_total: AtomicU64,
    errors: [AtomicU64; ErrorCode::ALL.len()],
}

impl Metrics {
    pub fn count_error(&self, code: ErrorCode) {
        if let Some(i) = ErrorCode::ALL.iter().position(|c| *c == code) {
            self.errors[i].fetch_add(1, Relaxed);
        }
    }

    pub fn render(&self) -> String {
        let mut out = String::with_capacity(2048);
        let mut one = |name: &str, kind: &str, help: &str, value: &AtomicU64| {
            let _ =
                writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}\n{name} {}", value.load(Relaxed));
        };
        one("kaiwa_connections", "gauge", "Open WebSocket connections.", &self.connections);
        one("kaiwa_connections_total", "counter", "WebSocket connections accepted.", &self.connections_total);
        one("kaiwa_participants", "gauge", "Participants in rooms.", &self.participants);
        one("kaiwa_rooms", "gauge", "Rooms with at least one participant.", &self.rooms);
        one("kaiwa_joins_total", "counter", "Successful joins.", &self.joins_total);
        one(
            "kaiwa_messages_received_total",
            "counter",
            "Messages received from clients.",
            &self.messages_received_total,
        );
        one(
            "kaiwa_messages_relayed_total",
            "counter",
            "Signal messages relayed to a peer.",
            &self.messages_relayed_total,
        );
        let _ = writeln!(out, "# HELP kaiwa_errors_total Error messages sent to clients, by code.");
        let _ = writeln!(out, "# TYPE kaiwa_errors_total counter");
        for (code, n) in ErrorCode::ALL.iter().zip(&self.errors) {
            let _ = writeln!(out, "kaiwa_errors_total{{code=\"{}\"}} {}", code.as_str(), n.load(Relaxed));
        }
        out
    }
}
