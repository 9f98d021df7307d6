//! Asking the desktop's screen-cast portal (`org.freedesktop.portal.ScreenCast`, through `ashpd`) for a
//! screen or window: the desktop shows its own chooser, and answers with a PipeWire stream and a
//! connection to PipeWire that can see only that stream.
//!
//! <https://flatpak.github.io/xdg-desktop-portal/docs/doc-org.freedesktop.portal.ScreenCast.html>

use std::os::fd::OwnedFd;

use ashpd::desktop::screencast::{CursorMode, Screencast, SelectSourcesOptions, SourceType};
use ashpd::desktop::{PersistMode, Session};

use crate::source::SourceError;

/// What the portal granted: one stream, and the session that keeps it alive.
pub(super) struct Grant {
    pub node_id: u32,
    /// The stream's size as the portal reports it (the stream's own format is what counts).
    pub size: Option<(u32, u32)>,
    /// A connection to PipeWire that sees only the granted stream.
    pub remote: OwnedFd,
    pub session: PortalSession,
}

/// The portal session: closing it (or dropping this) ends the share on the desktop's side too.
pub(super) struct PortalSession {
    proxy: Screencast,
    session: Session<Screencast>,
}

impl PortalSession {
    pub fn close(self) {
        let closed = futures_lite::future::block_on(self.session.close());
        if let Err(e) = closed {
            tracing::debug!(error = %e, "closing the screen-cast session");
        }
        drop(self.proxy);
    }
}

/// Asks for one screen or window, the cursor drawn in where the desktop can, on the session bus (or the
/// bus at `bus`). Blocks until the person has chosen in the desktop's dialog (or cancelled it).
pub(super) fn ask(bus: Option<&str>) -> Result<Grant, SourceError> {
    futures_lite::future::block_on(ask_async(bus)).map_err(explain)
}

async fn ask_async(bus: Option<&str>) -> ashpd::Result<Grant> {
    let proxy = match bus {
        None => Screencast::new().await?,
        Some(address) => {
            let connection = zbus::connection::Builder::address(address)?.build().await?;
            Screencast::with_connection(connection).await?
        }
    };
    let cursor = match proxy.available_cursor_modes().await {
        Ok(modes) if modes.contains(CursorMode::Embedded) => CursorMode::Embedded,
        _ => CursorMode::Hidden,
    };
    let sources = match proxy.available_source_types().await {
        Ok(types) if types.contains(SourceType::Window) => SourceType::Monitor | SourceType::Window,
        _ => SourceType::Monitor.into(),
    };
    let session = proxy.create_session(Default::default()).await?;
    let options = SelectSourcesOptions::default()
        .set_cursor_mode(cursor)
        .set_sources(sources)
        .set_multiple(false)
        .set_persist_mode(PersistMode::DoNot);
    proxy.select_sources(&session, options).await?;
    let streams = proxy.start(&session, None, Default::default()).await?.response()?;
    let stream = streams.streams().first().ok_or(ashpd::Error::NoResponse)?;
    let (node_id, size) = (stream.pipe_wire_node_id(), stream.size());
    let remote = proxy.open_pipe_wire_remote(&session, Default::default()).await?;
    let size = size.and_then(|(w, h)| Some((u32::try_from(w).ok()?, u32::try_from(h).ok()?)));
    Ok(Grant { node_id, size, remote, session: PortalSession { proxy, session } })
}

/// The portal's failures in words for the person sharing.
fn explain(e: ashpd::Error) -> SourceError {
    use ashpd::Error;
    SourceError::Device(match e {
        Error::Response(ashpd::desktop::ResponseError::Cancelled) => "Sharing was cancelled.".to_owned(),
        Error::Response(_) => {
            "The desktop did not start the screen share (its screen-cast portal refused).".to_owned()
        }
        Error::PortalNotFound(_) => {
            "This desktop has no screen-cast portal (xdg-desktop-portal with a backend for \
             this desktop, such as xdg-desktop-portal-gnome, -kde or -wlr), so the screen cannot be shared."
                .to_owned()
        }
        Error::NoResponse => "The desktop's screen-cast portal offered nothing to share.".to_owned(),
        other => format!("The desktop's screen-cast portal failed: {other}"),
    })
}
