//! Receiving the portal's PipeWire stream on a thread of its own (`kaiwa-pipewire`: PipeWire's objects
//! live and die on the thread that made them). Each picture is copied out of PipeWire's buffer into the
//! [`Latest`] slot, newest wins; converting it is the capture thread's work, not this loop's.

use std::os::fd::OwnedFd;
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;

use pipewire as pw;
use pw::spa;
use pw::spa::param::video::VideoFormat;
use pw::spa::pod::Pod;

/// How a picture's bytes are ordered (the formats we offer; every portal backend has one of them).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Order {
    Bgra,
    Rgba,
}

/// One picture as PipeWire delivered it.
#[derive(Debug, Default)]
pub(super) struct Picture {
    pub bytes: Vec<u8>,
    pub width: u32,
    pub height: u32,
    pub stride: u32,
    pub order: Option<Order>,
    /// Counts pictures, so the reader knows a new one from the one it has.
    pub seq: u64,
}

/// The newest picture, and why the stream ended once it has.
#[derive(Default)]
pub(super) struct Slot {
    pub picture: Picture,
    pub ended: Option<String>,
}

pub(super) type Latest = Arc<(Mutex<Slot>, Condvar)>;

/// The running stream: stopping it quits its loop and joins the thread.
pub(super) struct Receiver {
    quit: pw::channel::Sender<()>,
    thread: Option<JoinHandle<()>>,
}

impl Receiver {
    /// Connects to stream `node_id` through `remote` (the portal's PipeWire connection), asking for at most
    /// `fps` pictures a second.
    pub fn start(remote: OwnedFd, node_id: u32, fps: u32, latest: Latest) -> Result<Receiver, String> {
        let (quit, quit_rx) = pw::channel::channel();
        let (ready_tx, ready_rx) = std::sync::mpsc::sync_channel(1);
        let thread = std::thread::Builder::new()
            .name("kaiwa-pipewire".into())
            .spawn(move || {
                let failed = latest.clone();
                if let Err(e) = run(remote, node_id, fps, latest, quit_rx, &ready_tx) {
                    end(&failed, format!("PipeWire: {e}"));
                    let _ = ready_tx.send(Err(e.to_string()));
                }
            })
            .map_err(|e| format!("cannot start the PipeWire thread: {e}"))?;
        let receiver = Receiver { quit, thread: Some(thread) };
        match ready_rx.recv() {
            Ok(Ok(())) => Ok(receiver),
            Ok(Err(e)) => Err(e),
            Err(_) => Err("the PipeWire thread ended before connecting".into()),
        }
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        let _ = self.quit.send(());
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn end(latest: &Latest, why: String) {
    let (slot, wake) = &**latest;
    let mut slot = slot.lock().unwrap_or_else(|p| p.into_inner());
    slot.ended.get_or_insert(why);
    wake.notify_all();
}

/// What the stream's format said, kept between its callbacks.
#[derive(Default)]
struct Format {
    info: spa::param::video::VideoInfoRaw,
    order: Option<Order>,
}

fn run(
    remote: OwnedFd,
    node_id: u32,
    fps: u32,
    latest: Latest,
    quit: pw::channel::Receiver<()>,
    ready: &std::sync::mpsc::SyncSender<Result<(), String>>,
) -> Result<(), pw::Error> {
    pw::init();
    let mainloop = pw::main_loop::MainLoopRc::new(None)?;
    let context = pw::context::ContextRc::new(&mainloop, None)?;
    let core = context.connect_fd_rc(remote, None)?;
    let props = pw::properties::properties! {
        *pw::keys::MEDIA_TYPE => "Video",
        *pw::keys::MEDIA_CATEGORY => "Capture",
        *pw::keys::MEDIA_ROLE => "Screen",
    };
    let stream = pw::stream::StreamBox::new(&core, "kaiwa-screen", props)?;
    // The shared stream's node going away is the desktop ending the share (its own "Stop sharing", a
    // closed window): our stream only pauses then, so watch for it.
    let registry = core.get_registry()?;
    let on_remove = latest.clone();
    let _registry_listener = registry
        .add_listener_local()
        .global_remove(move |id| {
            if id == node_id {
                end(&on_remove, "the desktop ended the screen share".into());
            }
        })
        .register();
    let on_state = latest.clone();
    let on_picture = latest;
    let _listener = stream
        .add_local_listener_with_user_data(Format::default())
        .state_changed(move |_, _, old, new| {
            tracing::debug!(?old, ?new, "screen-cast stream");
            match new {
                pw::stream::StreamState::Error(e) => end(&on_state, format!("the screen-cast stream failed: {e}")),
                pw::stream::StreamState::Unconnected => end(&on_state, "the desktop ended the screen share".into()),
                _ => {}
            }
        })
        .param_changed(|_, format, id, param| {
            let Some(param) = param else { return };
            if id != spa::param::ParamType::Format.as_raw() || format.info.parse(param).is_err() {
                return;
            }
            format.order = match format.info.format() {
                VideoFormat::BGRx | VideoFormat::BGRA => Some(Order::Bgra),
                VideoFormat::RGBx | VideoFormat::RGBA => Some(Order::Rgba),
                _ => None,
            };
            let size = format.info.size();
            tracing::info!(format = ?format.info.format(), width = size.width, height = size.height, "screen-cast format");
        })
        .process(move |stream, format| {
            let Some(mut buffer) = stream.dequeue_buffer() else { return };
            let Some(order) = format.order else { return };
            let size = format.info.size();
            let Some(data) = buffer.datas_mut().first_mut() else { return };
            let chunk = data.chunk();
            let (offset, len, stride) = (chunk.offset() as usize, chunk.size() as usize, chunk.stride());
            let corrupted = chunk.flags().contains(spa::buffer::ChunkFlags::CORRUPTED);
            let stride = if stride > 0 { stride as u32 } else { size.width * 4 };
            let needed = stride as usize * size.height as usize;
            if corrupted || len < needed || stride < size.width * 4 {
                return; // an empty picture (a cursor-only update) or a broken one: keep the last
            }
            let Some(bytes) = data.data().and_then(|d| d.get(offset..offset + needed)) else { return };
            let (slot, wake) = &*on_picture;
            let mut slot = slot.lock().unwrap_or_else(|p| p.into_inner());
            let picture = &mut slot.picture;
            picture.bytes.clear();
            picture.bytes.extend_from_slice(bytes);
            (picture.width, picture.height, picture.stride) = (size.width, size.height, stride);
            picture.order = Some(order);
            picture.seq += 1;
            wake.notify_all();
        })
        .register()?;
    let params = formats(fps);
    let mut params = [Pod::from_bytes(&params).ok_or(pw::Error::CreationFailed)?];
    let flags = pw::stream::StreamFlags::AUTOCONNECT | pw::stream::StreamFlags::MAP_BUFFERS;
    stream.connect(spa::utils::Direction::Input, Some(node_id), flags, &mut params)?;
    let _quit = quit.attach(mainloop.loop_(), {
        let mainloop = mainloop.downgrade();
        move |()| {
            if let Some(mainloop) = mainloop.upgrade() {
                mainloop.quit();
            }
        }
    });
    let _ = ready.send(Ok(()));
    mainloop.run();
    let _ = stream.disconnect();
    Ok(())
}

/// The formats we take: 32-bit packed pixels in either byte order (memory, not DMA-BUF: we offer no
/// modifiers), any size, up to `fps`.
fn formats(fps: u32) -> Vec<u8> {
    use spa::param::format::{FormatProperties, MediaSubtype, MediaType};
    use spa::utils::{Fraction, Rectangle};
    let object = spa::pod::object!(
        spa::utils::SpaTypes::ObjectParamFormat,
        spa::param::ParamType::EnumFormat,
        spa::pod::property!(FormatProperties::MediaType, Id, MediaType::Video),
        spa::pod::property!(FormatProperties::MediaSubtype, Id, MediaSubtype::Raw),
        spa::pod::property!(
            FormatProperties::VideoFormat,
            Choice,
            Enum,
            Id,
            VideoFormat::BGRx,
            VideoFormat::BGRx,
            VideoFormat::BGRA,
            VideoFormat::RGBx,
            VideoFormat::RGBA
        ),
        spa::pod::property!(
            FormatProperties::VideoSize,
            Choice,
            Range,
            Rectangle,
            Rectangle { width: 1920, height: 1080 },
            Rectangle { width: 16, height: 16 },
            Rectangle { width: 8192, height: 8192 }
        ),
        spa::pod::property!(
            FormatProperties::VideoFramerate,
            Choice,
            Range,
            Fraction,
            Fraction { num: fps, denom: 1 },
            Fraction { num: 0, denom: 1 },
            Fraction { num: fps.max(1), denom: 1 }
        ),
    );
    spa::pod::serialize::PodSerializer::serialize(
        std::io::Cursor::new(Vec::new()),
        &spa::pod::Value::Object(object),
    )
    .map(|(cursor, _)| cursor.into_inner())
    .unwrap_or_default()
}
