//! Rooms through the server's small HTTP API (`POST /api/rooms`, `GET /api/rooms/{code}`; the requests
//! themselves are `kaiwa_engine::signaling::http`).

use crate::app::i18n::t;
use anyhow::Context;
use kaiwa_engine::signaling::Trust;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoomStatus {
    pub participants: usize,
    pub capacity: usize,
}

impl RoomStatus {
    pub fn describe(&self) -> String {
        match self.participants {
            0 => t!("room-empty", capacity = self.capacity),
            n if n >= self.capacity => t!("room-full", count = n, capacity = self.capacity),
            n => t!("room-count", count = n, capacity = self.capacity),
        }
    }
}

/// `base` is `http(s)://host:port`.
pub async fn room_status(base: &str, trust: &Trust, code: &str) -> anyhow::Result<RoomStatus> {
    let body = request(base, trust, "GET", &format!("/api/rooms/{code}")).await?;
    let v: serde_json::Value = serde_json::from_str(&body).context("bad answer from the server")?;
    Ok(RoomStatus {
        participants: v["participants"].as_u64().context("bad answer from the server")? as usize,
        capacity: v["capacity"].as_u64().context("bad answer from the server")? as usize,
    })
}

/// Asks the server for a fresh room code.
pub async fn create_room(base: &str, trust: &Trust) -> anyhow::Result<String> {
    let body = request(base, trust, "POST", "/api/rooms").await?;
    let v: serde_json::Value = serde_json::from_str(&body).context("bad answer from the server")?;
    Ok(v["room"].as_str().context("bad answer from the server")?.to_string())
}

async fn request(base: &str, trust: &Trust, method: &str, path: &str) -> anyhow::Result<String> {
    Ok(kaiwa_engine::signaling::http::request(base, *trust, method, path).await?)
}
