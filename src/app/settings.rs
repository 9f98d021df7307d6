//! Settings kept between runs, as TOML in the XDG config directory (`~/.config/kaiwa/settings.toml`;
//! `KAIWA_CONFIG_DIR` overrides the directory, which tests use).

use std::time::Duration;

use kaiwa_signaling::TurnAuth;
use serde::{Deserialize, Serialize};

use super::host::HostedIce;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum ServerMode {
    /// Run the signaling server inside the app (LAN calls, browsers join by link).
    #[default]
    Host,
    /// Use a server somebody else runs.
    Remote,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Settings {
    pub name: String,
    pub camera: Option<String>,
    pub microphone: Option<String>,
    pub speaker: Option<String>,
    pub server_mode: ServerMode,
    /// Remote signaling server, e.g. `wss://kaiwa.example.org/ws` or `ws://192.168.1.5:8080/ws`.
    pub server_url: String,
    /// SHA-256 fingerprint of a remote server's self-signed certificate (as it printed), if any.
    pub server_fingerprint: String,
    /// Where the hosted server listens.
    pub host_listen: String,
    pub stun: Vec<String>,
    pub turn: Vec<String>,
    pub turn_user: String,
    pub turn_password: String,
    /// The shared secret of a coturn with `use-auth-secret`: when hosting, the built-in server mints
    /// credentials from it per join (instead of the fixed user and password above).
    pub turn_secret: String,
    /// Local address for media sockets (`0.0.0.0:0`: every interface).
    pub media_bind: String,
    /// Camera (and test pattern) capture size and frame-rate cap.
    pub width: u32,
    pub height: u32,
    pub fps: u32,
    /// Echo cancellation, noise suppression and gain control of the microphone.
    pub audio_processing: bool,
    /// The app's language: the system's, or one chosen on the start screen.
    pub language: crate::app::i18n::LanguageChoice,
    /// The video codecs calls offer, in order (`--video-codec` narrows it for one run; not saved).
    #[serde(skip)]
    pub video_codecs: Vec<kaiwa_media::video::VideoCodec>,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            name: std::env::var("USER").unwrap_or_default(),
            camera: None,
            microphone: None,
            speaker: None,
            server_mode: ServerMode::Host,
            server_url: String::new(),
            server_fingerprint: String::new(),
            host_listen: "0.0.0.0:8443".into(),
            stun: Vec::new(),
            turn: Vec::new(),
            turn_user: String::new(),
            turn_password: String::new(),
            turn_secret: String::new(),
            media_bind: "0.0.0.0:0".into(),
            width: 640,
            height: 480,
            fps: 30,
            audio_processing: true,
            language: Default::default(),
            video_codecs: kaiwa_media::video::VideoCodec::ALL.to_vec(),
        }
    }
}

/// How long credentials minted from [`Settings::turn_secret`] last (the signaling server's default).
const MINTED_TURN_TTL: Duration = Duration::from_secs(12 * 3600);

impl Settings {
    /// What the built-in server hands out: the STUN and TURN servers set here, TURN with credentials
    /// minted from the secret, else the fixed user and password, else none.
    pub fn hosted_ice(&self) -> HostedIce {
        let turn_auth = if !self.turn_secret.is_empty() {
            Some(TurnAuth::Secret { secret: self.turn_secret.clone(), ttl: MINTED_TURN_TTL })
        } else if !self.turn_user.is_empty() && !self.turn_password.is_empty() {
            Some(TurnAuth::Static { username: self.turn_user.clone(), password: self.turn_password.clone() })
        } else {
            None
        };
        HostedIce { stun: self.stun.clone(), turn: self.turn.clone(), turn_auth }
    }
}

impl Settings {
    pub fn load() -> Settings {
        let Some(path) = super::paths::config_dir().map(|d| d.join("settings.toml")) else {
            return Settings::default();
        };
        match std::fs::read_to_string(&path) {
            Ok(text) => toml::from_str(&text).unwrap_or_else(|e| {
                tracing::warn!("ignoring {}: {e}", path.display());
                Settings::default()
            }),
            Err(_) => Settings::default(),
        }
    }

    /// Best effort: a read-only config directory must not stop a call.
    pub fn save(&self) {
        let Some(dir) = super::paths::config_dir() else { return };
        let result = std::fs::create_dir_all(&dir).and_then(|()| {
            let text = toml::to_string_pretty(self).map_err(std::io::Error::other)?;
            std::fs::write(dir.join("settings.toml"), text)
        });
        if let Err(e) = result {
            tracing::warn!("cannot save settings in {}: {e}", dir.display());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_round_trip_and_tolerate_missing_fields() {
        let s = Settings {
            name: "Ann".into(),
            server_mode: ServerMode::Remote,
            stun: vec!["stun:example.org:3478".into()],
            fps: 15,
            audio_processing: false,
            ..Settings::default()
        };
        let text = toml::to_string_pretty(&s).unwrap();
        assert_eq!(toml::from_str::<Settings>(&text).unwrap(), s);
        let partial: Settings = toml::from_str("name = \"Bo\"").unwrap();
        assert_eq!(partial.name, "Bo");
        assert_eq!(partial.fps, 30);
        assert_eq!(partial.server_mode, ServerMode::Host);
        assert!(partial.audio_processing, "echo cancellation is on unless switched off");
    }
}
