//! The test desktop's portal backend: `org.freedesktop.impl.portal.ScreenCast` (what the real frontend
//! calls on behalf of the app), choosing the one screen at once, and the `Session` objects it creates.
//!
//! <https://flatpak.github.io/xdg-desktop-portal/docs/doc-org.freedesktop.impl.portal.ScreenCast.html>

use std::collections::HashMap;
use std::time::{Duration, Instant};

use zbus::object_server::ObjectServer;
use zbus::zvariant::{ObjectPath, OwnedObjectPath, OwnedValue, Value};

/// `AvailableSourceTypes`: monitors only.
const MONITOR: u32 = 1;
/// `AvailableCursorModes`: hidden and embedded.
const CURSOR_MODES: u32 = 1 | 2;

/// The backend, served on the bus until dropped.
pub(super) struct Backend {
    _connection: zbus::Connection,
}

impl Backend {
    pub fn start(bus: &str, name: &str, node_id: u32, size: (u32, u32)) -> Result<Backend, String> {
        let screen_cast = ScreenCast { node_id, size };
        let connection = futures_lite::future::block_on(async {
            zbus::connection::Builder::address(bus)?
                .name(name)?
                .serve_at("/org/freedesktop/portal/desktop", screen_cast)?
                .build()
                .await
        })
        .map_err(|e| format!("the test portal backend: {e}"))?;
        Ok(Backend { _connection: connection })
    }
}

/// Waits until `name` has an owner on `bus`.
pub(super) fn wait_for_name(bus: &str, name: &str, limit: Duration) -> Result<(), String> {
    futures_lite::future::block_on(async {
        let connection = zbus::connection::Builder::address(bus).map_err(|e| e.to_string())?.build().await;
        let connection = connection.map_err(|e| e.to_string())?;
        let dbus = zbus::fdo::DBusProxy::new(&connection).await.map_err(|e| e.to_string())?;
        let name = zbus::names::BusName::try_from(name).map_err(|e| e.to_string())?;
        let deadline = Instant::now() + limit;
        while !dbus.name_has_owner(name.clone()).await.unwrap_or(false) {
            if Instant::now() > deadline {
                return Err(format!("{name} never appeared on the test bus"));
            }
            async_sleep(Duration::from_millis(50)).await;
        }
        Ok(())
    })
}

async fn async_sleep(d: Duration) {
    // zbus's own executor drives the connection; a plain thread sleep is fine between polls.
    std::thread::sleep(d);
}

type Results = HashMap<String, OwnedValue>;

struct ScreenCast {
    node_id: u32,
    size: (u32, u32),
}

#[zbus::interface(name = "org.freedesktop.impl.portal.ScreenCast")]
impl ScreenCast {
    #[zbus(out_args("response", "results"))]
    async fn create_session(
        &self,
        _handle: ObjectPath<'_>,
        session_handle: ObjectPath<'_>,
        _app_id: &str,
        _options: HashMap<String, OwnedValue>,
        #[zbus(object_server)] server: &ObjectServer,
    ) -> (u32, Results) {
        let path = OwnedObjectPath::from(session_handle);
        if let Err(e) = server.at(path, Session).await {
            tracing::warn!(error = %e, "test portal: cannot serve the session");
            return (2, Results::new());
        }
        (0, Results::new())
    }

    #[zbus(out_args("response", "results"))]
    async fn select_sources(
        &self,
        _handle: ObjectPath<'_>,
        _session_handle: ObjectPath<'_>,
        _app_id: &str,
        _options: HashMap<String, OwnedValue>,
    ) -> (u32, Results) {
        (0, Results::new())
    }

    #[zbus(out_args("response", "results"))]
    async fn start(
        &self,
        _handle: ObjectPath<'_>,
        _session_handle: ObjectPath<'_>,
        _app_id: &str,
        _parent_window: &str,
        _options: HashMap<String, OwnedValue>,
    ) -> (u32, Results) {
        let (width, height) = self.size;
        let mut properties: HashMap<&str, Value<'_>> = HashMap::new();
        properties.insert("size", Value::from((width as i32, height as i32)));
        properties.insert("position", Value::from((0i32, 0i32)));
        properties.insert("source_type", Value::from(MONITOR));
        let streams = Value::from(vec![(self.node_id, properties)]);
        let mut results = Results::new();
        match OwnedValue::try_from(streams) {
            Ok(streams) => {
                results.insert("streams".into(), streams);
                (0, results)
            }
            Err(e) => {
                tracing::warn!(error = %e, "test portal: the streams");
                (2, results)
            }
        }
    }

    #[zbus(property)]
    fn available_source_types(&self) -> u32 {
        MONITOR
    }

    #[zbus(property)]
    fn available_cursor_modes(&self) -> u32 {
        CURSOR_MODES
    }

    #[zbus(property, name = "version")]
    fn version(&self) -> u32 {
        4
    }
}

/// `org.freedesktop.impl.portal.Session`: the frontend closes it when the app does.
struct Session;

#[zbus::interface(name = "org.freedesktop.impl.portal.Session")]
impl Session {
    async fn close(
        &self,
        #[zbus(object_server)] server: &ObjectServer,
        #[zbus(header)] header: zbus::message::Header<'_>,
    ) {
        if let Some(path) = header.path() {
            let _ = server.remove::<Session, _>(path).await;
        }
    }

    #[zbus(property, name = "version")]
    fn version(&self) -> u32 {
        1
    }
}
