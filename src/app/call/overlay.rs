//! The line across a peer's tile, in the app's language.

use crate::app::i18n::t;

/// The line across a peer's tile: the connection's state, or why there is no picture.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Overlay {
    /// No video codec is shared with them.
    NoCommonVideo,
    Connecting,
    Reconnecting,
    Disconnected,
    WaitingForVideo,
}

impl Overlay {
    pub fn text(self) -> String {
        match self {
            Overlay::NoCommonVideo => t!("peer-no-common-video"),
            Overlay::Connecting => t!("peer-connecting"),
            Overlay::Reconnecting => t!("peer-reconnecting"),
            Overlay::Disconnected => t!("peer-disconnected"),
            Overlay::WaitingForVideo => t!("peer-waiting-for-video"),
        }
    }
}
