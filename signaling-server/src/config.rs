//! Server settings: command-line flags and the TOML file share one [`Settings`] shape; flags override the
//! file, then defaults fill the rest and give the resolved [`Config`].

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use serde::Deserialize;

/// Every setting, each optional so a flag, a file entry or a default can supply it.
#[derive(Debug, Clone, Default, clap::Args, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Settings {
    /// Address and port to listen on [default: 0.0.0.0:8080]
    #[arg(long, value_name = "ADDR:PORT")]
    pub listen: Option<SocketAddr>,

    /// Most participants in one room [default: 6]
    #[arg(long, value_name = "N")]
    pub max_room_size: Option<usize>,

    /// A STUN server handed to clients, e.g. stun:stun.example.org:3478 (repeatable)
    #[arg(long = "stun", value_name = "URL")]
    #[serde(default)]
    pub stun: Vec<String>,

    /// A TURN server handed to clients, e.g. turn:turn.example.org:3478?transport=udp (repeatable)
    #[arg(long = "turn", value_name = "URL")]
    #[serde(default)]
    pub turn: Vec<String>,

    /// Shared secret of a TURN server running coturn's `use-auth-secret`: the server mints short-lived
    /// credentials per join and never sends the secret itself
    #[arg(long, value_name = "SECRET", env = "KAIWA_TURN_SECRET", hide_env_values = true)]
    pub turn_secret: Option<String>,

    /// Lifetime of minted TURN credentials: seconds (`3600`, as coturn users write it) or with a unit
    /// (`1h`) [default: 12h]
    #[arg(long, value_name = "DURATION", value_parser = parse_ttl)]
    #[serde(default, deserialize_with = "ttl_from_file")]
    pub turn_ttl: Option<Duration>,

    /// Static TURN username (alternative to --turn-secret)
    #[arg(long, value_name = "USER")]
    pub turn_user: Option<String>,

    /// Static TURN password (with --turn-user)
    #[arg(long, value_name = "PASSWORD", env = "KAIWA_TURN_PASSWORD", hide_env_values = true)]
    pub turn_password: Option<String>,

    /// PEM certificate chain for HTTPS/WSS (with --tls-key)
    #[arg(long, value_name = "FILE")]
    pub tls_cert: Option<PathBuf>,

    /// PEM private key for HTTPS/WSS (with --tls-cert)
    #[arg(long, value_name = "FILE")]
    pub tls_key: Option<PathBuf>,

    /// Serve HTTPS/WSS with a self-signed certificate for this machine's hostname and LAN addresses,
    /// generated once and kept in --tls-dir; prints the URL and the certificate's SHA-256 fingerprint
    #[arg(long, num_args = 0..=1, require_equals = true, default_missing_value = "true", value_name = "BOOL")]
    pub tls_self_signed: Option<bool>,

    /// Where the self-signed certificate is kept [default: $XDG_DATA_HOME/kaiwa/tls]
    #[arg(long, value_name = "DIR")]
    pub tls_dir: Option<PathBuf>,

    /// Most simultaneous WebSocket connections; more get `server_full` [default: 10000]
    #[arg(long, value_name = "N")]
    pub max_connections: Option<usize>,

    /// Largest WebSocket message or frame accepted, in bytes; larger gets `too_large` [default: 65536]
    #[arg(long, value_name = "BYTES")]
    pub max_message_size: Option<usize>,

    /// Messages queued to one client before it counts as too slow and is dropped [default: 256]
    #[arg(long, value_name = "N")]
    pub send_queue: Option<usize>,

    /// Sustained messages per second a client may send [default: 50]
    #[arg(long, value_name = "N")]
    pub rate_limit: Option<u32>,

    /// Burst of messages a client may send above the rate [default: 200]
    #[arg(long, value_name = "N")]
    pub rate_burst: Option<u32>,

    /// Time allowed for the TLS and HTTP/WebSocket handshake [default: 10s]
    #[arg(long, value_name = "DURATION", value_parser = humantime::parse_duration)]
    #[serde(default, with = "humantime_serde")]
    pub handshake_timeout: Option<Duration>,

    /// Time allowed between connecting and `join` [default: 30s]
    #[arg(long, value_name = "DURATION", value_parser = humantime::parse_duration)]
    #[serde(default, with = "humantime_serde")]
    pub join_timeout: Option<Duration>,

    /// How often the server pings each client [default: 2s]
    #[arg(long, value_name = "DURATION", value_parser = humantime::parse_duration)]
    #[serde(default, with = "humantime_serde")]
    pub ping_interval: Option<Duration>,

    /// Silence (no frame, not even a pong) after which a client counts as gone [default: 6s]
    #[arg(long, value_name = "DURATION", value_parser = humantime::parse_duration)]
    #[serde(default, with = "humantime_serde")]
    pub idle_timeout: Option<Duration>,

    /// Only accept WebSocket connections whose Origin header is one of these, e.g.
    /// https://calls.example.org (repeatable; clients sending no Origin, like native apps, are accepted)
    #[arg(long = "allowed-origin", value_name = "ORIGIN")]
    #[serde(default)]
    pub allowed_origins: Vec<String>,

    /// Cluster mode: share rooms with the other servers using this Redis, e.g. redis://127.0.0.1:6379/
    /// (off by default: one server keeps its rooms in memory)
    #[arg(long, value_name = "URL", env = "KAIWA_REDIS_URL", hide_env_values = true)]
    pub redis: Option<String>,

    /// Big rooms through this Janus (its WebSocket API, e.g. ws://127.0.0.1:8188): rooms past
    /// --sfu-above participants move to its VideoRoom plugin
    #[arg(long, value_name = "URL")]
    pub janus: Option<String>,

    /// With --janus: rooms of more than N go through Janus; 0 sends every room there [default: 6]
    #[arg(long, value_name = "N")]
    pub sfu_above: Option<usize>,
}

/// A mistake in the settings, reported before the server starts.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read config file {path}: {source}")]
    Read { path: PathBuf, source: std::io::Error },
    #[error("config file {path}: {source}")]
    Parse { path: PathBuf, source: Box<toml::de::Error> },
    #[error("{0}")]
    Invalid(&'static str),
}

impl Settings {
    /// Reads a TOML file with the same keys as the flags (kebab-case, e.g. `max-room-size = 4`).
    pub fn from_file(path: &std::path::Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path)
            .map_err(|source| ConfigError::Read { path: path.to_owned(), source })?;
        toml::from_str(&text)
            .map_err(|source| ConfigError::Parse { path: path.to_owned(), source: Box::new(source) })
    }

    /// `self` (flags) wins over `file`; lists given as flags replace the file's lists.
    pub fn or(self, file: Settings) -> Settings {
        fn list(flags: Vec<String>, file: Vec<String>) -> Vec<String> {
            if flags.is_empty() { file } else { flags }
        }
        Settings {
            listen: self.listen.or(file.listen),
            max_room_size: self.max_room_size.or(file.max_room_size),
            stun: list(self.stun, file.stun),
            turn: list(self.turn, file.turn),
            turn_secret: self.turn_secret.or(file.turn_secret),
            turn_ttl: self.turn_ttl.or(file.turn_ttl),
            turn_user: self.turn_user.or(file.turn_user),
            turn_password: self.turn_password.or(file.turn_password),
            tls_cert: self.tls_cert.or(file.tls_cert),
            tls_key: self.tls_key.or(file.tls_key),
            tls_self_signed: self.tls_self_signed.or(file.tls_self_signed),
            tls_dir: self.tls_dir.or(file.tls_dir),
            max_connections: self.max_connections.or(file.max_connections),
            max_message_size: self.max_message_size.or(file.max_message_size),
            send_queue: self.send_queue.or(file.send_queue),
            rate_limit: self.rate_limit.or(file.rate_limit),
            rate_burst: self.rate_burst.or(file.rate_burst),
            handshake_timeout: self.handshake_timeout.or(file.handshake_timeout),
            join_timeout: self.join_timeout.or(file.join_timeout),
            ping_interval: self.ping_interval.or(file.ping_interval),
            idle_timeout: self.idle_timeout.or(file.idle_timeout),
            allowed_origins: list(self.allowed_origins, file.allowed_origins),
            redis: self.redis.or(file.redis),
            janus: self.janus.or(file.janus),
            sfu_above: self.sfu_above.or(file.sfu_above),
        }
    }

    /// Applies defaults and checks the combination.
    pub fn resolve(self) -> Result<Config, ConfigError> {
        let defaults = Config::default();
        let turn_auth = match (self.turn_secret, self.turn_user, self.turn_password) {
            (Some(_), Some(_), _) | (Some(_), _, Some(_)) => {
                return Err(ConfigError::Invalid("use either --turn-secret or --turn-user/--turn-password"));
            }
            (Some(secret), None, None) => Some(TurnAuth::Secret {
                secret,
                ttl: self.turn_ttl.unwrap_or(Duration::from_secs(12 * 3600)),
            }),
            (None, Some(username), Some(password)) => Some(TurnAuth::Static { username, password }),
            (None, Some(_), None) | (None, None, Some(_)) => {
                return Err(ConfigError::Invalid("--turn-user and --turn-password go together"));
            }
            (None, None, None) => None,
        };
        if turn_auth.is_some() && self.turn.is_empty() {
            return Err(ConfigError::Invalid("TURN credentials given but no --turn URL"));
        }
        let tls = match (self.tls_cert, self.tls_key, self.tls_self_signed.unwrap_or(false)) {
            (Some(_), _, true) | (_, Some(_), true) => {
                return Err(ConfigError::Invalid("use either --tls-cert/--tls-key or --tls-self-signed"));
            }
            (Some(cert), Some(key), false) => TlsMode::Files { cert, key },
            (Some(_), None, _) | (None, Some(_), _) => {
                return Err(ConfigError::Invalid("--tls-cert and --tls-key go together"));
            }
            (None, None, true) => TlsMode::SelfSigned { dir: self.tls_dir.or_else(default_tls_dir) },
            (None, None, false) => TlsMode::Off,
        };
        let limits = Limits {
            max_connections: self.max_connections.unwrap_or(defaults.limits.max_connections),
            max_message_size: self.max_message_size.unwrap_or(defaults.limits.max_message_size),
            send_queue: self.send_queue.unwrap_or(defaults.limits.send_queue),
            rate_per_sec: self.rate_limit.unwrap_or(defaults.limits.rate_per_sec),
            rate_burst: self.rate_burst.unwrap_or(defaults.limits.rate_burst),
            handshake_timeout: self.handshake_timeout.unwrap_or(defaults.limits.handshake_timeout),
            join_timeout: self.join_timeout.unwrap_or(defaults.limits.join_timeout),
            ping_interval: self.ping_interval.unwrap_or(defaults.limits.ping_interval),
            idle_timeout: self.idle_timeout.unwrap_or(defaults.limits.idle_timeout),
        };
        if limits.max_message_size < 1024 {
            return Err(ConfigError::Invalid("--max-message-size must be at least 1024 bytes"));
        }
        if limits.send_queue == 0 || limits.rate_per_sec == 0 || limits.rate_burst == 0 {
            return Err(ConfigError::Invalid("--send-queue, --rate-limit and --rate-burst must be above 0"));
        }
        if limits.ping_interval.is_zero() || limits.idle_timeout <= limits.ping_interval {
            return Err(ConfigError::Invalid("--idle-timeout must be longer than --ping-interval (> 0)"));
        }
        let max_room_size = self.max_room_size.unwrap_or(defaults.max_room_size);
        if max_room_size < 2 {
            return Err(ConfigError::Invalid("--max-room-size must be at least 2"));
        }
        if self.redis.as_deref().is_some_and(|url| redis::Client::open(url).is_err()) {
            return Err(ConfigError::Invalid("--redis takes a Redis URL such as redis://127.0.0.1:6379/"));
        }
        if self.janus.as_deref().is_some_and(|url| !url.starts_with("ws://")) {
            return Err(ConfigError::Invalid(
                "--janus takes Janus's WebSocket address, e.g. ws://127.0.0.1:8188",
            ));
        }
        let sfu_above = self.sfu_above.unwrap_or(defaults.sfu_above);
        Ok(Config {
            listen: self.listen.unwrap_or(defaults.listen),
            max_room_size,
            stun: self.stun,
            turn: self.turn,
            turn_auth,
            tls,
            limits,
            allowed_origins: self.allowed_origins,
            redis: self.redis,
            janus: self.janus,
            sfu_above,
        })
    }
}

/// A TURN credential lifetime: plain seconds, as coturn's own settings and most TURN guides write it
/// (`3600`), or a duration with a unit (`1h`, `90m`).
pub fn parse_ttl(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    match text.parse::<u64>() {
        Ok(seconds) => Ok(Duration::from_secs(seconds)),
        Err(_) => humantime::parse_duration(text).map_err(|e| format!("{e} (e.g. 3600 or 1h)")),
    }
}

/// `turn-ttl` in the TOML file: `3600` or `"1h"` (or `"3600"`).
fn ttl_from_file<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Duration>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Ttl {
        Seconds(u64),
        Text(String),
    }
    match Option::<Ttl>::deserialize(d)? {
        None => Ok(None),
        Some(Ttl::Seconds(s)) => Ok(Some(Duration::from_secs(s))),
        Some(Ttl::Text(t)) => parse_ttl(&t).map(Some).map_err(serde::de::Error::custom),
    }
}

fn default_tls_dir() -> Option<PathBuf> {
    dirs::data_dir().map(|d| d.join("kaiwa").join("tls"))
}

/// How clients authenticate to the TURN servers listed in `turn`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TurnAuth {
    /// coturn `use-auth-secret` (TURN REST API): credentials minted per join.
    Secret { secret: String, ttl: Duration },
    /// One fixed username/password for everyone.
    Static { username: String, password: String },
}

#[derive(Debug, Clone)]
pub enum TlsMode {
    Off,
    Files {
        cert: PathBuf,
        key: PathBuf,
    },
    /// `dir: None` when no data directory is known: the certificate is then generated anew each start.
    SelfSigned {
        dir: Option<PathBuf>,
    },
}

/// Per-connection safety limits.
#[derive(Debug, Clone)]
pub struct Limits {
    pub max_connections: usize,
    pub max_message_size: usize,
    pub send_queue: usize,
    pub rate_per_sec: u32,
    pub rate_burst: u32,
    pub handshake_timeout: Duration,
    pub join_timeout: Duration,
    pub ping_interval: Duration,
    pub idle_timeout: Duration,
}

/// The resolved configuration the server runs with.
#[derive(Debug, Clone)]
pub struct Config {
    pub listen: SocketAddr,
    pub max_room_size: usize,
    pub stun: Vec<String>,
    pub turn: Vec<String>,
    pub turn_auth: Option<TurnAuth>,
    pub tls: TlsMode,
    pub limits: Limits,
    pub allowed_origins: Vec<String>,
    /// Cluster mode's Redis URL.
    pub redis: Option<String>,
    /// Janus's WebSocket API, for big rooms.
    pub janus: Option<String>,
    /// With Janus: rooms of more than this many go through it.
    pub sfu_above: usize,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            listen: SocketAddr::from(([0, 0, 0, 0], 8080)),
            max_room_size: 6,
            stun: Vec::new(),
            turn: Vec::new(),
            turn_auth: None,
            tls: TlsMode::Off,
            limits: Limits {
                max_connections: 10_000,
                max_message_size: 64 * 1024,
                send_queue: 256,
                rate_per_sec: 50,
                rate_burst: 200,
                handshake_timeout: Duration::from_secs(10),
                join_timeout: Duration::from_secs(30),
                ping_interval: Duration::from_secs(2),
                idle_timeout: Duration::from_secs(6),
            },
            allowed_origins: Vec::new(),
            redis: None,
            janus: None,
            sfu_above: 6,
        }
    }
}

#[cfg(test)]
#[path = "config_tests.rs"]
mod tests;
