//! Where the app keeps its files (settings, trusted servers, the hosting certificate).

use std::path::PathBuf;

/// `$KAIWA_CONFIG_DIR`, else the platform's configuration directory's `kaiwa` (`~/.config/kaiwa`).
pub fn config_dir() -> Option<PathBuf> {
    match std::env::var_os("KAIWA_CONFIG_DIR") {
        Some(dir) => Some(PathBuf::from(dir)),
        None => dirs::config_dir().map(|d| d.join("kaiwa")),
    }
}
