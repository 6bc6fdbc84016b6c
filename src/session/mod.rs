//! The call driver: feeds browser and server events to the room brain, runs its commands on the
//! edges, and publishes what the UI shows. It owns, for the length of a call, every peer
//! connection, the local tracks, the signaling socket and the tick timer; `leave` (or drop)
//! releases them all.

use std::cell::RefCell;
use std::rc::{Rc, Weak};

use futures::channel::mpsc;
use futures::StreamExt;
use gloo_timers::callback::Interval;
use leptos::prelude::*;
use litemap::LiteMap;
use meshcall_protocol::{ClientMessage, IceServer, ServerMessage};
use web_sys::{MediaStream, RtcConfiguration, RtcPeerConnection};

use crate::devices::{DeviceView, Devices};
use crate::room::{Event, PeerKey, Room, DEFAULT_MAX_FILE_MB, DEFAULT_UPLOAD_KBPS, TICK_MS};
use crate::rtc::files::FileEvent;
use crate::rtc::media::{acquire_track, DeviceTrouble, LocalMedia, MediaKind};
use crate::rtc::peer::{rtc_configuration, PeerEdge};
use crate::rtc::screen::Screen;
use crate::signaling::{LinkEvent, SignalingClient};
use crate::trust::RoomKey;

mod execute;
mod files;
mod links;
mod share;
mod view;

pub use view::{CallView, Notices, Tile};

pub struct CallSettings {
    pub name: String,
    /// Whether the person wants the mic and camera on; the others see them on only while a
    /// working track is sent.
    pub mic: bool,
    pub cam: bool,
    pub ice_servers: Vec<IceServer>,
    /// Every connection through TURN (the operator's `iceTransportPolicy: "relay"`).
    pub relay_only: bool,
    /// The total upload budget in kbit/s (`None`: the default).
    pub upload_kbps: Option<u32>,
    /// The largest file we accept, in MB (`None`: the default).
    pub max_file_mb: Option<u32>,
    /// The room key from the invite link: only peers that prove it get our media.
    pub key: Option<RoomKey>,
}

type Outbound = Rc<dyn Fn(ClientMessage)>;

struct Inner {
    room: RefCell<Room>,
    /// A handful of peers: a sorted Vec (litemap) is smaller in the wasm than a BTreeMap.
    edges: RefCell<LiteMap<PeerKey, PeerEdge>>,
    media: RefCell<Option<LocalMedia>>,
    /// Our screen share, while it runs.
    screen: RefCell<Option<Screen>>,
    config: RtcConfiguration,
    events: mpsc::UnboundedSender<Event>,
    outbound: RefCell<Option<Outbound>>,
    link: RefCell<Option<SignalingClient>>,
    ticker: RefCell<Option<Interval>>,
    /// Our camera and microphone as the call shows them.
    devices: Devices,
    /// Refreshes the device pickers when cameras or microphones come and go.
    device_watch: RefCell<Option<gloo_events::EventListener>>,
    /// The latest device pick per kind ([audio, video]); an older one still in flight is dropped.
    picks: RefCell<[u32; 2]>,
    /// Files on their way, and those received.
    files: RefCell<files::Files>,
    file_events: mpsc::UnboundedSender<FileEvent>,
    view: CallView,
}

/// A call in one room. Cheap to clone; the last clone dropped releases everything.
#[derive(Clone)]
pub struct Session(Rc<Inner>);

impl Session {
    /// A call with `media`, shown in `view` (a fresh [`CallView::blank`], which the call screen
    /// may already render: the room page builds it hidden in the lobby, so Join only connects).
    pub fn new(settings: CallSettings, mut media: LocalMedia, view: CallView) -> Session {
        media.set_enabled(MediaKind::Audio, settings.mic);
        media.set_enabled(MediaKind::Video, settings.cam);
        let mut devices = DeviceView::default();
        devices.use_media(&media);
        let (has_mic, has_cam) = (devices.has_mic, devices.has_cam);
        view.devices.set(devices);
        view.mic.set(settings.mic);
        view.cam.set(settings.cam);
        let devices = Devices {
            view: view.devices.clone(),
        };
        let (events, mut queue) = mpsc::unbounded::<Event>();
        // The uplink sizes a small camera's picture by its size.
        let _ = events.unbounded_send(Event::Camera {
            long_side: media.camera_long_side(),
        });
        let (file_events, mut file_queue) = mpsc::unbounded::<FileEvent>();
        let inner = Rc::new(Inner {
            room: RefCell::new(
                Room::new(
                    settings.name,
                    settings.mic && has_mic,
                    settings.cam && has_cam,
                )
                .with_key(settings.key)
                .relay_only(settings.relay_only)
                .upload_kbps(settings.upload_kbps.unwrap_or(DEFAULT_UPLOAD_KBPS)),
            ),
            edges: RefCell::default(),
            media: RefCell::default(),
            screen: RefCell::default(),
            config: rtc_configuration(&settings.ice_servers, settings.relay_only),
            events: events.clone(),
            outbound: RefCell::default(),
            link: RefCell::default(),
            ticker: RefCell::default(),
            device_watch: RefCell::default(),
            picks: RefCell::default(),
            files: RefCell::new(files::Files::new(
                settings.max_file_mb.unwrap_or(DEFAULT_MAX_FILE_MB),
                view.files.clone(),
                file_events.clone(),
            )),
            file_events: file_events.clone(),
            view,
            devices,
        });
        let weak = Rc::downgrade(&inner);
        media.on_ended(move |kind| {
            if let Some(inner) = weak.upgrade() {
                Session(inner).track_ended(kind);
            }
        });
        *inner.media.borrow_mut() = Some(media);
        *inner.device_watch.borrow_mut() = inner.devices.watch();
        let ticks = events.clone();
        *inner.ticker.borrow_mut() = Some(Interval::new(TICK_MS, move || {
            let _ = ticks.unbounded_send(Event::Heartbeat);
            let _ = ticks.unbounded_send(Event::Tick);
            let _ = file_events.unbounded_send(FileEvent::Tick);
        }));
        // The loop holds only a weak reference: it must not keep the session alive. It ends when
        // every sender (owned by the session and its edges) is gone.
        let weak: Weak<Inner> = Rc::downgrade(&inner);
        wasm_bindgen_futures::spawn_local(async move {
            while let Some(event) = queue.next().await {
                let Some(inner) = weak.upgrade() else { break };
                inner.handle(event);
            }
        });
        // Files have a loop of their own: a peer's pieces never wait behind the room's events.
        let weak: Weak<Inner> = Rc::downgrade(&inner);
        wasm_bindgen_futures::spawn_local(async move {
            while let Some(event) = file_queue.next().await {
                let Some(inner) = weak.upgrade() else { break };
                inner.on_file(event);
            }
        });
        links::watch(Rc::downgrade(&inner));
        let session = Session(inner);
        session.refresh_devices();
        session
    }

    pub fn view(&self) -> CallView {
        self.0.view.clone()
    }

    /// Connect to the signaling server at `url` (the room's full WebSocket URL).
    pub fn connect(&self, url: String) {
        // Replace (and so close) a previous socket first.
        self.0.link.borrow_mut().take();
        let events = self.0.events.clone();
        let status = self.0.view.link.clone();
        let client = SignalingClient::start(url, move |event| match event {
            LinkEvent::Message(msg) => {
                let _ = events.unbounded_send(server_event(msg));
            }
            LinkEvent::Lost => {
                let _ = events.unbounded_send(Event::SignalingLost);
            }
            LinkEvent::Status(s) => status.set(s),
        });
        *self.0.link.borrow_mut() = Some(client);
        let weak = Rc::downgrade(&self.0);
        self.set_outbound(move |msg| {
            if let Some(inner) = weak.upgrade() {
                if let Some(link) = inner.link.borrow().as_ref() {
                    link.send(msg);
                }
            }
        });
    }

    /// Where outgoing protocol messages go (the socket, or an in-memory pipe in tests).
    pub fn set_outbound(&self, send: impl Fn(ClientMessage) + 'static) {
        *self.0.outbound.borrow_mut() = Some(Rc::new(send));
    }

    /// A message from the signaling server (the socket, or an in-memory pipe in tests).
    pub fn deliver(&self, msg: ServerMessage) {
        let _ = self.0.events.unbounded_send(server_event(msg));
    }

    pub fn set_mic(&self, on: bool) {
        self.set_media(Some(on), None);
    }

    pub fn set_cam(&self, on: bool) {
        self.set_media(None, Some(on));
    }

    fn set_media(&self, mic: Option<bool>, cam: Option<bool>) {
        let view = &self.0.view;
        if let Some(mic) = mic {
            view.mic.set(mic);
        }
        if let Some(cam) = cam {
            view.cam.set(cam);
        }
        self.publish_media();
    }

    /// Enables the tracks as the person wants them, and tells the others what they get: on only
    /// where a working track is sent.
    fn publish_media(&self) {
        let view = &self.0.view;
        let (mic, cam) = (view.mic.get_untracked(), view.cam.get_untracked());
        if let Some(media) = self.0.media.borrow().as_ref() {
            media.set_enabled(MediaKind::Audio, mic);
            media.set_enabled(MediaKind::Video, cam);
        }
        let _ = self.0.events.unbounded_send(Event::LocalMedia {
            mic: mic && self.has_live(MediaKind::Audio),
            cam: cam && self.has_live(MediaKind::Video),
        });
    }

    /// Raises or lowers our hand, for everyone.
    pub fn raise_hand(&self, up: bool) {
        self.0
            .view
            .hand
            .set(up.then(|| crate::rtc::now_ms() as i64));
        let _ = self.0.events.unbounded_send(Event::RaiseHand(up));
    }

    /// Sends a chat line to everyone in the call.
    pub fn send_chat(&self, text: String) {
        let _ = self.0.events.unbounded_send(Event::SendChat(text));
    }

    /// Turns our camera or mic on or off. Turning on a kind without a working
    /// track (joined without it, or it was lost) also asks for a device.
    pub fn turn(&self, kind: MediaKind, on: bool) {
        match kind {
            MediaKind::Video => self.set_cam(on),
            MediaKind::Audio => self.set_mic(on),
        }
        if on && !self.has_live(kind) {
            let device = self.0.view.devices.with_untracked(|d| d.retry_choice(kind));
            self.switch_device(kind, device);
        }
    }

    /// Re-reads the cameras and microphones for the pickers.
    pub fn refresh_devices(&self) {
        self.0.devices.refresh();
    }

    /// A local track ended without us stopping it: say so, and tell the others it is off (what
    /// the person wants stays as it was).
    fn track_ended(&self, kind: MediaKind) {
        if self.has_live(kind) {
            return; // an old track's late event; its replacement is running
        }
        self.0.devices.stopped(kind);
        self.publish_media();
    }

    /// Switches `kind` to `device` (`None`: any), on every connection at
    /// once with `replaceTrack`, so no connection renegotiates. On failure the old track stays
    /// (if it still works) and the reason is shown.
    pub fn switch_device(&self, kind: MediaKind, device: Option<String>) {
        let slot = kind as usize;
        let pick = {
            let mut picks = self.0.picks.borrow_mut();
            picks[slot] = picks[slot].wrapping_add(1);
            picks[slot]
        };
        let weak = Rc::downgrade(&self.0);
        wasm_bindgen_futures::spawn_local(async move {
            let result = acquire_track(kind, device.as_deref()).await;
            let wanted = weak.upgrade().filter(|inner| {
                inner.picks.borrow()[slot] == pick && inner.media.borrow().is_some()
            });
            match wanted {
                Some(inner) => Session(inner).use_track(kind, result).await,
                // The session is gone or left, or a newer pick runs: nobody else will ever stop
                // this track.
                None => {
                    if let Ok(track) = result {
                        track.stop();
                    }
                }
            }
        });
    }

    async fn use_track(
        &self,
        kind: MediaKind,
        result: Result<web_sys::MediaStreamTrack, DeviceTrouble>,
    ) {
        let devices = self.0.view.devices.clone();
        let track = match result {
            Ok(track) => track,
            Err(trouble) => {
                // Keep a track that still works; only say what went wrong.
                let live = self.has_live(kind);
                devices.update(|d| d.set(kind, live, None, Some(trouble)));
                return;
            }
        };
        // On or off as the person wants it, whatever happened to the device before.
        let on = match kind {
            MediaKind::Video => self.0.view.cam.get_untracked(),
            MediaKind::Audio => self.0.view.mic.get_untracked(),
        };
        track.set_enabled(on);
        let (stream, device) = {
            let mut media = self.0.media.borrow_mut();
            let Some(media) = media.as_mut() else {
                track.stop();
                return;
            };
            media.replace(Clone::clone(&track));
            if kind == MediaKind::Video {
                let _ = self.0.events.unbounded_send(Event::Camera {
                    long_side: media.camera_long_side(),
                });
            }
            (Clone::clone(media.stream()), media.device_id(kind))
        };
        devices.update(|d| {
            d.set(kind, true, Some(device.unwrap_or_default()), None);
            d.swaps = d.swaps.wrapping_add(1);
        });
        self.publish_media();
        // Every connection at once; one that refuses is logged and keeps its old track.
        let swaps: Vec<_> = self
            .0
            .edges
            .borrow()
            .iter()
            .map(|(&key, edge)| {
                let pending = edge.use_track(&track, &stream);
                async move { (key, pending.await) }
            })
            .collect();
        for (key, result) in futures::future::join_all(swaps).await {
            if let Err(e) = result {
                crate::rtc::peer::log(&format!(
                    "peer {key}: could not switch the {}: {e}",
                    kind.as_str()
                ));
            }
        }
        self.refresh_devices();
    }

    fn has_live(&self, kind: MediaKind) -> bool {
        self.0
            .media
            .borrow()
            .as_ref()
            .is_some_and(|m| m.has_live(kind))
    }

    pub fn local_stream(&self) -> Option<MediaStream> {
        self.0
            .media
            .borrow()
            .as_ref()
            .map(|m| Clone::clone(m.stream()))
    }

    pub fn remote_stream(&self, key: PeerKey) -> Option<MediaStream> {
        self.0.edges.borrow().get(&key).map(|e| e.remote_stream())
    }

    /// The `<video>` of the peer's tile (None: the tile is gone), measured for the peer's uplink.
    pub fn show_in(&self, key: PeerKey, video: Option<web_sys::HtmlVideoElement>) {
        if let Some(edge) = self.0.edges.borrow().get(&key) {
            edge.show_in(video);
        }
    }

    /// The open peer connections (for tests and diagnostics).
    pub fn connections(&self) -> Vec<RtcPeerConnection> {
        self.0
            .edges
            .borrow()
            .values()
            .map(|e| e.connection().clone())
            .collect()
    }

    /// Leave the room: close every connection, stop every track, close the socket.
    pub fn leave(&self) {
        let commands = self.0.room.borrow_mut().close_all();
        for c in commands {
            self.0.execute(c);
        }
        self.0.files.borrow_mut().clear();
        self.0.edges.borrow_mut().clear();
        self.0.link.borrow_mut().take();
        self.0.outbound.borrow_mut().take();
        self.0.ticker.borrow_mut().take();
        self.0.device_watch.borrow_mut().take();
        self.0.screen.borrow_mut().take();
        self.0.media.borrow_mut().take();
    }
}

fn server_event(msg: ServerMessage) -> Event {
    match msg {
        ServerMessage::IdAssigned(id) => Event::IdAssigned(id),
        ServerMessage::NewPeer(id) => Event::PeerJoined(id),
        ServerMessage::PeerLeft(id) => Event::PeerLeft(id),
        ServerMessage::Signal { sender, data } => Event::Signal { from: sender, data },
    }
}
