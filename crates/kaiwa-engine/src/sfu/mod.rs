//! Big rooms through the SFU (docs/PROTOCOL.md "Big rooms"): the signaling server brokers Janus, and we
//! exchange SDPs with the server only. One connection sends our microphone, camera and any screen we
//! share once (`publish.rs`); one receives everyone else's, each m-section named by the server as
//! someone's (`receive.rs`). Both SDPs leave with all their candidates (the server passes no trickle), so
//! each waits for its gathering ([`Gather`]). One task owns both connections and does one step at a time;
//! the server never starts an exchange on a connection before the last one on it is done.

mod gather;
mod publish;
mod receive;
mod streams;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use kaiwa_protocol::{ClientMessage, IceServer, PeerId, PeerInfo, SfuStream};
use tokio::sync::{mpsc, oneshot};
use tokio_util::sync::CancellationToken;
use tracing::{debug, info, warn};

use crate::media::video_send::VideoFeed;
use crate::peer::PeerContext;
use crate::peer::handler::PcEvent;
use crate::stats::PeerStats;
use gather::Gather;
use publish::Publisher;
use receive::Receiver;

/// The most our camera is sent at through the SFU: a big room's tiles are small and everyone receives
/// everyone (the browser client sends the same).
pub const SFU_VIDEO_BPS: u32 = 300_000;

/// The most a shared screen is sent at through the SFU: its text must stay sharp (the browser client
/// sends the same).
pub const SFU_SCREEN_BPS: u32 = 1_200_000;

/// Longest wait for ICE candidates before an SDP leaves with those it has.
const GATHER_WAIT: Duration = Duration::from_secs(3);

/// How often arrivals are looked for.
const TICK: Duration = Duration::from_millis(250);

/// What the link tells the engine.
#[derive(Debug)]
pub enum SfuNote {
    /// Media from this participant arrives through the SFU: a mesh connection to them may close.
    Arrived(PeerId),
}

enum SfuInput {
    Publish,
    Answer(String),
    Offer {
        sdp: String,
        streams: Vec<SfuStream>,
        peers: Vec<PeerInfo>,
    },
    Left(PeerId),
    Pc(Side, PcEvent),
    /// [`GATHER_WAIT`] after the description of this round was set.
    GatherTimeout(Side, u64),
    KeyframeWanted,
    Screen(Option<VideoFeed>),
    Stats(oneshot::Sender<Vec<PeerStats>>),
    Target(oneshot::Sender<Option<f64>>),
    Close(oneshot::Sender<()>),
}

/// Which of the two connections.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Side {
    Send,
    Receive,
}

/// The engine's handle on the link.
pub struct SfuLink {
    inputs: mpsc::UnboundedSender<SfuInput>,
}

impl SfuLink {
    pub fn start(
        ctx: Arc<PeerContext>,
        ice_servers: Vec<IceServer>,
        notes: mpsc::UnboundedSender<SfuNote>,
    ) -> SfuLink {
        let (tx, rx) = mpsc::unbounded_channel();
        let task = Task {
            ctx,
            ice_servers,
            notes,
            inputs: tx.clone(),
            publisher: None,
            receiver: None,
            screen: None,
            stop: CancellationToken::new(),
        };
        tokio::spawn(tracing::Instrument::instrument(task.run(rx), tracing::info_span!("sfu")));
        SfuLink { inputs: tx }
    }

    /// The server asks for our media (`sfu_publish`).
    pub fn publish(&self) {
        let _ = self.inputs.send(SfuInput::Publish);
    }

    pub fn on_answer(&self, sdp: String) {
        let _ = self.inputs.send(SfuInput::Answer(sdp));
    }

    /// The others' media (`sfu_offer`); `peers`: who is in the room, for names.
    pub fn on_offer(&self, sdp: String, streams: Vec<SfuStream>, peers: Vec<PeerInfo>) {
        let _ = self.inputs.send(SfuInput::Offer { sdp, streams, peers });
    }

    /// The participant left the room: their media stops at once.
    pub fn left(&self, id: PeerId) {
        let _ = self.inputs.send(SfuInput::Left(id));
    }

    /// Our camera starts again on a keyframe (it was off).
    pub fn request_keyframe(&self) {
        let _ = self.inputs.send(SfuInput::KeyframeWanted);
    }

    /// The screen we share (or that we share none) goes to everyone through the SFU.
    pub fn share_screen(&self, feed: Option<VideoFeed>) {
        let _ = self.inputs.send(SfuInput::Screen(feed));
    }

    /// Statistics of everyone received through the SFU.
    pub async fn stats(&self) -> Vec<PeerStats> {
        let (tx, rx) = oneshot::channel();
        if self.inputs.send(SfuInput::Stats(tx)).is_err() {
            return Vec::new();
        }
        tokio::time::timeout(Duration::from_secs(2), rx).await.ok().and_then(Result::ok).unwrap_or_default()
    }

    /// What congestion control allows our sending connection now, once it has an estimate.
    pub async fn target_bitrate(&self) -> Option<f64> {
        let (tx, rx) = oneshot::channel();
        self.inputs.send(SfuInput::Target(tx)).ok()?;
        rx.await.ok().flatten()
    }

    /// Closes both connections and stops everyone's media.
    pub async fn close(self) {
        let (tx, rx) = oneshot::channel();
        if self.inputs.send(SfuInput::Close(tx)).is_ok() {
            let _ = tokio::time::timeout(Duration::from_secs(2), rx).await;
        }
    }
}

struct Task {
    ctx: Arc<PeerContext>,
    ice_servers: Vec<IceServer>,
    notes: mpsc::UnboundedSender<SfuNote>,
    inputs: mpsc::UnboundedSender<SfuInput>,
    publisher: Option<Publisher>,
    receiver: Option<Receiver>,
    /// The screen we share, for the sending connection (and any new one).
    screen: Option<VideoFeed>,
    stop: CancellationToken,
}

impl Task {
    async fn run(mut self, mut inputs: mpsc::UnboundedReceiver<SfuInput>) {
        let mut tick = tokio::time::interval(TICK);
        let done = loop {
            tokio::select! {
                input = inputs.recv() => match input {
                    None => break None,
                    Some(SfuInput::Close(done)) => break Some(done),
                    Some(input) => self.on_input(input).await,
                },
                _ = tick.tick() => self.on_tick().await,
            }
        };
        self.stop.cancel();
        if let Some(publisher) = self.publisher.take() {
            publisher.close().await;
        }
        if let Some(receiver) = self.receiver.take() {
            receiver.close().await;
        }
        if let Some(done) = done {
            let _ = done.send(());
        }
    }

    async fn on_input(&mut self, input: SfuInput) {
        match input {
            SfuInput::Publish => self.publish().await,
            SfuInput::Answer(sdp) => match &mut self.publisher {
                Some(publisher) => match publisher.on_answer(sdp).await {
                    Ok(true) => self.wait_for_candidates(Side::Send).await,
                    Ok(false) => {}
                    Err(e) => warn!(error = %e, "the SFU's answer is unusable"),
                },
                None => debug!("an SFU answer with no offer of ours"),
            },
            SfuInput::Screen(feed) => {
                self.screen = feed;
                let Some(publisher) = &mut self.publisher else { return };
                match publisher.set_screen(&self.ctx, self.screen.as_ref()).await {
                    Ok(true) => self.wait_for_candidates(Side::Send).await,
                    Ok(false) => {}
                    Err(e) => warn!(error = %e, "cannot change the shared screen sent to the SFU"),
                }
            }
            SfuInput::Offer { sdp, streams, peers } => self.on_offer(sdp, streams, peers).await,
            SfuInput::Left(id) => {
                if let Some(receiver) = &mut self.receiver {
                    receiver.remove(&id).await;
                }
            }
            SfuInput::Pc(side, event) => self.on_pc_event(side, event).await,
            SfuInput::GatherTimeout(side, round) => {
                if self.gather(side).is_some_and(|g| g.timed_out(round)) {
                    debug!(?side, "ICE gathering not done in time: the SDP leaves with what it has");
                    self.send_description(side).await;
                }
            }
            SfuInput::KeyframeWanted => {
                if let Some(publisher) = &self.publisher {
                    publisher.request_keyframe();
                }
            }
            SfuInput::Stats(reply) => {
                let stats = match (&self.receiver, &self.publisher) {
                    (Some(receiver), publisher) => receiver.stats(&self.ctx, publisher.as_ref()).await,
                    (None, _) => Vec::new(),
                };
                let _ = reply.send(stats);
            }
            SfuInput::Target(reply) => {
                let target = match &self.publisher {
                    Some(publisher) => publisher.target_bitrate().await,
                    None => None,
                };
                let _ = reply.send(target);
            }
            SfuInput::Close(_) => {}
        }
    }

    /// Every tick: who newly arrives through the SFU.
    async fn on_tick(&mut self) {
        if let Some(receiver) = &mut self.receiver {
            for id in receiver.arrivals(&self.ctx).await {
                let _ = self.notes.send(SfuNote::Arrived(id));
            }
        }
    }

    /// A forwarder for one connection's events into this task.
    fn forward(&self, side: Side) -> impl Fn(PcEvent) + Send + Sync + 'static {
        let inputs = self.inputs.clone();
        move |event| {
            let _ = inputs.send(SfuInput::Pc(side, event));
        }
    }

    async fn publish(&mut self) {
        if let Some(old) = self.publisher.take() {
            old.close().await;
        }
        let forward = self.forward(Side::Send);
        let screen = self.screen.as_ref();
        match Publisher::start(&self.ctx, &self.ice_servers, &self.stop, screen, forward).await {
            Ok(publisher) => {
                info!("publishing to the SFU");
                self.publisher = Some(publisher);
                self.wait_for_candidates(Side::Send).await;
            }
            Err(e) => warn!(error = %e, "cannot make the connection that sends to the SFU"),
        }
    }

    async fn on_offer(&mut self, sdp: String, streams: Vec<SfuStream>, peers: Vec<PeerInfo>) {
        if self.receiver.is_none() {
            let forward = self.forward(Side::Receive);
            match Receiver::start(&self.ctx, &self.ice_servers, &self.stop, forward).await {
                Ok(receiver) => self.receiver = Some(receiver),
                Err(e) => return warn!(error = %e, "cannot make the connection that receives from the SFU"),
            }
        }
        let Some(receiver) = &mut self.receiver else { return };
        let peers: HashMap<PeerId, PeerInfo> = peers.into_iter().map(|p| (p.id.clone(), p)).collect();
        match receiver.on_offer(sdp, &streams, &peers).await {
            Ok(()) => self.wait_for_candidates(Side::Receive).await,
            Err(e) => warn!(error = %e, "cannot answer the SFU's offer"),
        }
    }

    async fn on_pc_event(&mut self, side: Side, event: PcEvent) {
        match event {
            PcEvent::GatheringComplete => {
                if self.gather(side).is_some_and(Gather::completed) {
                    self.send_description(side).await;
                }
            }
            PcEvent::Track(track) if side == Side::Receive => {
                if let Some(receiver) = &mut self.receiver {
                    receiver.on_track(&self.ctx, track).await;
                }
            }
            PcEvent::State(state) => {
                debug!(?side, ?state, "SFU connection");
                if let (Side::Receive, Some(receiver)) = (side, &mut self.receiver) {
                    receiver.on_state(&self.ctx, state).await;
                }
            }
            // Candidates leave inside the SDP; neither side opens data channels or renegotiates by itself.
            PcEvent::LocalCandidate(_)
            | PcEvent::NegotiationNeeded
            | PcEvent::Track(_)
            | PcEvent::DataChannel(_) => {}
        }
    }

    fn gather(&mut self, side: Side) -> Option<&mut Gather> {
        match side {
            Side::Send => self.publisher.as_mut().map(|p| &mut p.gather),
            Side::Receive => self.receiver.as_mut().map(|r| &mut r.gather),
        }
    }

    /// A description was just set on `side`: it leaves once gathering is done, or after [`GATHER_WAIT`].
    async fn wait_for_candidates(&mut self, side: Side) {
        let Some(gather) = self.gather(side) else { return };
        match gather.described() {
            None => self.send_description(side).await,
            Some(round) => {
                let inputs = self.inputs.clone();
                let stop = self.stop.clone();
                tokio::spawn(async move {
                    tokio::select! {
                        _ = tokio::time::sleep(GATHER_WAIT) => {
                            let _ = inputs.send(SfuInput::GatherTimeout(side, round));
                        }
                        _ = stop.cancelled() => {}
                    }
                });
            }
        }
    }

    /// Sends the local description of `side` to the server, candidates and all.
    async fn send_description(&mut self, side: Side) {
        let message = match (side, &self.publisher, &self.receiver) {
            (Side::Send, Some(publisher), _) => {
                let Some(description) = publisher.pc.local_description().await else { return };
                ClientMessage::SfuOffer { sdp: description.sdp, screen: publisher.screen_mid().await }
            }
            (Side::Receive, _, Some(receiver)) => {
                let Some(description) = receiver.pc.local_description().await else { return };
                ClientMessage::SfuAnswer { sdp: description.sdp }
            }
            _ => return,
        };
        debug!(?side, ?message, "to the SFU");
        if !self.ctx.signaling.sfu(message) {
            warn!(?side, "signaling queue full or closed: SFU description not sent");
        }
    }
}
