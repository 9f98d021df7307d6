//! HTTP routes: the embedded browser client, the room API, health and metrics, and the `/ws` upgrade.

use std::sync::Arc;
use std::sync::atomic::Ordering::Relaxed;

use bytes::Bytes;
use http::{HeaderValue, Method, Request, Response, StatusCode, header};
use http_body_util::Full;
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use kaiwa_protocol::{ErrorCode, RoomCode, WS_PATH};
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::handshake::derive_accept_key;
use tokio_tungstenite::tungstenite::protocol::{Role, WebSocketConfig};
use tracing::debug;

use crate::state::{Directory, State};

type Body = Full<Bytes>;

/// Read buffer per WebSocket. Signaling messages are small; tungstenite grows the buffer for a large
/// frame and the default (128 KiB) would cost that much per idle connection.
const WS_READ_BUFFER: usize = 512;
/// Frames are gathered up to this size before a write; the writer flushes whenever its queue runs dry,
/// so this batches under load without delaying a lone message.
const WS_WRITE_BATCH: usize = 8 * 1024;

pub async fn route(req: Request<Incoming>, state: &Arc<State>) -> Response<Body> {
    let path = req.uri().path().to_owned();
    match (req.method(), path.as_str()) {
        (_, WS_PATH) => websocket(req, state),
        (&Method::GET | &Method::HEAD, "/healthz") => health(state),
        (&Method::GET, "/metrics") => {
            text(StatusCode::OK, "text/plain; version=0.0.4; charset=utf-8", state.metrics.render())
        }
        (&Method::POST, "/api/rooms") => create_room(state).await,
        (&Method::GET, "/api/ice") => ice_servers(state),
        (&Method::GET, p) if let Some(code) = p.strip_prefix("/api/rooms/") => room_status(code, state).await,
        (_, "/api/rooms") => method_not_allowed("POST"),
        (_, p) if p.starts_with("/api/") => api_error(StatusCode::NOT_FOUND, "not_found", "no such API"),
        (&Method::GET | &Method::HEAD, p) => crate::assets::serve(p),
        _ => method_not_allowed("GET, HEAD"),
    }
}

fn text(status: StatusCode, content_type: &'static str, body: impl Into<Bytes>) -> Response<Body> {
    let mut res = Response::new(Full::new(body.into()));
    *res.status_mut() = status;
    res.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    res.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    res
}

fn json(status: StatusCode, value: serde_json::Value) -> Response<Body> {
    text(status, "application/json", value.to_string())
}

fn api_error(status: StatusCode, code: &str, message: &str) -> Response<Body> {
    json(status, serde_json::json!({ "error": code, "message": message }))
}

fn method_not_allowed(allow: &'static str) -> Response<Body> {
    let mut res = api_error(StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed", "method not allowed");
    res.headers_mut().insert(header::ALLOW, HeaderValue::from_static(allow));
    res
}

/// `GET /healthz`: 200 while the server can serve rooms; 503 while a cluster node is without Redis, so a
/// load balancer sends new clients elsewhere.
fn health(state: &State) -> Response<Body> {
    match &state.rooms {
        Directory::Cluster(cluster) if !cluster.ready() => {
            text(StatusCode::SERVICE_UNAVAILABLE, "text/plain", "no connection to Redis\n")
        }
        _ => text(StatusCode::OK, "text/plain", "ok\n"),
    }
}

fn unavailable() -> Response<Body> {
    api_error(
        StatusCode::SERVICE_UNAVAILABLE,
        ErrorCode::Unavailable.as_str(),
        "rooms are unavailable; try again",
    )
}

/// `POST /api/rooms`: a fresh code no current room uses.
async fn create_room(state: &State) -> Response<Body> {
    let code = loop {
        let code = RoomCode::generate(&mut rand::rng());
        match state.rooms.room_status(code.clone()).await {
            Ok((_, 0)) => break code,
            Ok(_) => {}
            Err(_) => return unavailable(),
        }
    };
    json(StatusCode::CREATED, serde_json::json!({ "room": code.to_string(), "url": format!("/r/{code}") }))
}

/// `GET /api/ice`: the ICE servers a participant gets on joining, TURN credentials minted for a one-off
/// id, so a client can check its network before it joins (anyone may join a room and get the same).
fn ice_servers(state: &State) -> Response<Body> {
    let id = format!("check-{:016x}", rand::random::<u64>());
    let servers = crate::turn::ice_servers_for(&state.config, &id, std::time::SystemTime::now());
    json(StatusCode::OK, serde_json::json!({ "ice_servers": servers }))
}

/// `GET /api/rooms/{code}`: how full a room is, so clients can say "room full" before opening devices.
async fn room_status(raw: &str, state: &State) -> Response<Body> {
    let code = match RoomCode::parse(raw) {
        Err(e) => return api_error(StatusCode::BAD_REQUEST, ErrorCode::BadRoomCode.as_str(), &e.to_string()),
        Ok(code) => code,
    };
    match state.rooms.room_status(code).await {
        Ok((shown, participants)) => json(
            StatusCode::OK,
            serde_json::json!({
                "room": shown.to_string(),
                "participants": participants,
                "capacity": state.config.max_room_size,
            }),
        ),
        Err(_) => unavailable(),
    }
}

fn header_has_token(req: &Request<Incoming>, name: header::HeaderName, token: &str) -> bool {
    req.headers()
        .get_all(name)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|t| t.trim().eq_ignore_ascii_case(token))
}

/// The WebSocket handshake ([RFC 6455 §4.2](https://www.rfc-editor.org/rfc/rfc6455#section-4.2)).
fn websocket(mut req: Request<Incoming>, state: &Arc<State>) -> Response<Body> {
    if req.method() != Method::GET
        || !header_has_token(&req, header::CONNECTION, "upgrade")
        || !header_has_token(&req, header::UPGRADE, "websocket")
    {
        let mut res =
            api_error(StatusCode::UPGRADE_REQUIRED, "upgrade_required", "this is a WebSocket endpoint");
        res.headers_mut().insert(header::UPGRADE, HeaderValue::from_static("websocket"));
        return res;
    }
    if req.headers().get(header::SEC_WEBSOCKET_VERSION).map(|v| v.as_bytes()) != Some(b"13") {
        return api_error(StatusCode::BAD_REQUEST, "bad_request", "Sec-WebSocket-Version must be 13");
    }
    let Some(key) = req.headers().get(header::SEC_WEBSOCKET_KEY) else {
        return api_error(StatusCode::BAD_REQUEST, "bad_request", "missing Sec-WebSocket-Key");
    };
    let accept = derive_accept_key(key.as_bytes());
    if let Some(origin) = req.headers().get(header::ORIGIN) {
        let allowed = &state.config.allowed_origins;
        if !allowed.is_empty() && !allowed.iter().any(|a| a.as_bytes() == origin.as_bytes()) {
            debug!(origin = ?origin, "origin not allowed");
            return api_error(StatusCode::FORBIDDEN, "origin_not_allowed", "this origin may not connect");
        }
    }
    let limits = &state.config.limits;
    let open = state.metrics.connections.fetch_add(1, Relaxed) as usize;
    let full = open >= limits.max_connections;
    state.metrics.connections_total.fetch_add(1, Relaxed);
    let ws_config = WebSocketConfig::default()
        .read_buffer_size(WS_READ_BUFFER)
        .write_buffer_size(WS_WRITE_BATCH)
        .max_write_buffer_size(WS_WRITE_BATCH + limits.max_message_size * 4)
        .max_message_size(Some(limits.max_message_size))
        .max_frame_size(Some(limits.max_message_size));
    let upgrade = hyper::upgrade::on(&mut req);
    let state = state.clone();
    state.tasks.clone().spawn(async move {
        match upgrade.await {
            Ok(upgraded) => {
                let ws =
                    WebSocketStream::from_raw_socket(TokioIo::new(upgraded), Role::Server, Some(ws_config))
                        .await;
                crate::session::run(ws, state.clone(), full).await;
            }
            Err(e) => debug!(error = %e, "upgrade failed"),
        }
        state.metrics.connections.fetch_sub(1, Relaxed);
    });
    let mut res = Response::new(Full::new(Bytes::new()));
    *res.status_mut() = StatusCode::SWITCHING_PROTOCOLS;
    let h = res.headers_mut();
    h.insert(header::CONNECTION, HeaderValue::from_static("Upgrade"));
    h.insert(header::UPGRADE, HeaderValue::from_static("websocket"));
    h.insert(header::SEC_WEBSOCKET_ACCEPT, HeaderValue::from_str(&accept).expect("base64 is a valid header"));
    res
}
