//! The test desktop's screen as a PipeWire video source (a driver stream on a thread of its own,
//! `kaiwa-test-screen`), 15 pictures a second of whatever the test shows.

use std::path::Path;
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use pipewire as pw;
use pw::spa;
use pw::spa::pod::{Pod, Property, PropertyFlags, Value};

use super::Screen;

const FPS: u32 = 15;

pub(super) struct Source {
    pub node_id: u32,
    quit: pw::channel::Sender<()>,
    thread: Option<JoinHandle<()>>,
}

impl Source {
    /// Starts streaming `screen` to the PipeWire at `socket`; returns once the stream has its node id.
    pub fn start(socket: &Path, screen: Arc<Screen>) -> Result<Source, String> {
        let (quit, quit_rx) = pw::channel::channel();
        let (ready_tx, ready_rx) = std::sync::mpsc::sync_channel(1);
        let socket = socket.display().to_string();
        let thread = std::thread::Builder::new()
            .name("kaiwa-test-screen".into())
            .spawn(move || {
                if let Err(e) = run(&socket, screen, quit_rx, &ready_tx) {
                    let _ = ready_tx.send(Err(e.to_string()));
                }
            })
            .map_err(|e| e.to_string())?;
        let node_id = ready_rx
            .recv_timeout(Duration::from_secs(10))
            .map_err(|_| "the test screen's PipeWire stream never got a node".to_string())??;
        Ok(Source { node_id, quit, thread: Some(thread) })
    }
}

impl Drop for Source {
    fn drop(&mut self) {
        let _ = self.quit.send(());
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn run(
    socket: &str,
    screen: Arc<Screen>,
    quit: pw::channel::Receiver<()>,
    ready: &std::sync::mpsc::SyncSender<Result<u32, String>>,
) -> Result<(), pw::Error> {
    pw::init();
    let mainloop = pw::main_loop::MainLoopRc::new(None)?;
    let context = pw::context::ContextRc::new(&mainloop, None)?;
    let core = context.connect_rc(Some(pw::properties::properties! { *pw::keys::REMOTE_NAME => socket }))?;
    let props = pw::properties::properties! {
        *pw::keys::MEDIA_CLASS => "Video/Source",
        *pw::keys::NODE_NAME => "kaiwa-test-screen",
    };
    let stream = pw::stream::StreamBox::new(&core, "kaiwa-test-screen", props)?;
    let (width, height) = (screen.width, screen.height);
    let stride = width * 4;
    let ready = ready.clone();
    let _listener = stream
        .add_local_listener_with_user_data(false)
        .state_changed(move |stream, announced, _, new| {
            if matches!(new, pw::stream::StreamState::Paused | pw::stream::StreamState::Streaming)
                && !*announced
            {
                *announced = true;
                let _ = ready.send(Ok(stream.node_id()));
            }
        })
        .param_changed(move |stream, _, id, param| {
            if id != spa::param::ParamType::Format.as_raw() || param.is_none() {
                return;
            }
            let buffers = pod(
                spa::utils::SpaTypes::ObjectParamBuffers,
                spa::param::ParamType::Buffers,
                vec![
                    int(spa::sys::SPA_PARAM_BUFFERS_buffers, 4),
                    int(spa::sys::SPA_PARAM_BUFFERS_blocks, 1),
                    int(spa::sys::SPA_PARAM_BUFFERS_size, (stride * height) as i32),
                    int(spa::sys::SPA_PARAM_BUFFERS_stride, stride as i32),
                ],
            );
            if let Some(buffers) = Pod::from_bytes(&buffers) {
                let _ = stream.update_params(&mut [buffers]);
            }
        })
        .process(move |stream, _| {
            let Some(mut buffer) = stream.dequeue_buffer() else { return };
            let Some(data) = buffer.datas_mut().first_mut() else { return };
            let picture = screen.bgrx.lock().unwrap_or_else(|p| p.into_inner());
            let written = match data.data() {
                Some(out) if out.len() >= picture.len() => {
                    out[..picture.len()].copy_from_slice(&picture);
                    picture.len()
                }
                _ => 0,
            };
            let chunk = data.chunk_mut();
            *chunk.offset_mut() = 0;
            *chunk.stride_mut() = stride as i32;
            *chunk.size_mut() = written as u32;
        })
        .register()?;
    let format = format_pod(width, height);
    let mut params = [Pod::from_bytes(&format).ok_or(pw::Error::CreationFailed)?];
    let flags = pw::stream::StreamFlags::DRIVER | pw::stream::StreamFlags::MAP_BUFFERS;
    stream.connect(spa::utils::Direction::Output, None, flags, &mut params)?;
    // A driver decides when pictures happen: 15 times a second.
    let timer = mainloop.loop_().add_timer({
        let stream = stream.as_raw_ptr();
        move |_| {
            // SAFETY: the stream outlives the timer (both live until `run` returns; the timer is dropped
            // first), and both are used only on this thread.
            unsafe { pw::sys::pw_stream_trigger_process(stream) };
        }
    });
    let period = Duration::from_secs(1) / FPS;
    let _ = timer.update_timer(Some(period), Some(period));
    let _quit = quit.attach(mainloop.loop_(), {
        let mainloop = mainloop.downgrade();
        move |()| {
            if let Some(mainloop) = mainloop.upgrade() {
                mainloop.quit();
            }
        }
    });
    mainloop.run();
    drop(timer);
    Ok(())
}

fn int(key: u32, value: i32) -> Property {
    Property { key, flags: PropertyFlags::empty(), value: Value::Int(value) }
}

fn pod(type_: spa::utils::SpaTypes, id: spa::param::ParamType, properties: Vec<Property>) -> Vec<u8> {
    let object = spa::pod::Object { type_: type_.as_raw(), id: id.as_raw(), properties };
    spa::pod::serialize::PodSerializer::serialize(std::io::Cursor::new(Vec::new()), &Value::Object(object))
        .map(|(cursor, _)| cursor.into_inner())
        .unwrap_or_default()
}

/// BGRx at exactly the screen's size and 15 fps.
fn format_pod(width: u32, height: u32) -> Vec<u8> {
    use spa::param::format::{FormatProperties, MediaSubtype, MediaType};
    let object = spa::pod::object!(
        spa::utils::SpaTypes::ObjectParamFormat,
        spa::param::ParamType::EnumFormat,
        spa::pod::property!(FormatProperties::MediaType, Id, MediaType::Video),
        spa::pod::property!(FormatProperties::MediaSubtype, Id, MediaSubtype::Raw),
        spa::pod::property!(FormatProperties::VideoFormat, Id, spa::param::video::VideoFormat::BGRx),
        spa::pod::property!(FormatProperties::VideoSize, Rectangle, spa::utils::Rectangle { width, height }),
        spa::pod::property!(
            FormatProperties::VideoFramerate,
            Fraction,
            spa::utils::Fraction { num: FPS, denom: 1 }
        ),
    );
    spa::pod::serialize::PodSerializer::serialize(std::io::Cursor::new(Vec::new()), &Value::Object(object))
        .map(|(cursor, _)| cursor.into_inner())
        .unwrap_or_default()
}
