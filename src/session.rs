//! The call driver: feeds browser and server events to the room brain, runs its commands on the
//! edges, and publishes what the UI shows. It owns, for the length of a call, every peer
//! connection, the local tracks, the signaling socket and the tick timer; `leave` (or drop)
//! releases them all.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::rc::{Rc, Weak};

use futures::channel::mpsc;
use futures::StreamExt;
use gloo_timers::callback::Interval;
use leptos::prelude::*;
use meshcall_protocol::{ClientMessage, IceServer, ServerMessage};
use web_sys::{MediaStream, RtcConfiguration, RtcPeerConnection};

use crate::room::{Command, Event, PeerKey, PeerView, Room};
use crate::rtc::media::LocalMedia;
use crate::rtc::now_ms;
use crate::rtc::peer::{rtc_configuration, Op, PeerEdge};
use crate::signaling::{LinkEvent, LinkStatus, SignalingClient};

/// How often the brain's timers are checked.
const TICK_MS: u32 = 1_000;

/// One remote peer's tile: its stable key and its own signal, so it re-renders alone.
#[derive(Clone)]
pub struct Tile {
    pub key: PeerKey,
    pub view: ArcRwSignal<PeerView>,
}

/// Everything the call screen renders. Reference-counted signals: they outlive whichever
/// component happened to create the session.
#[derive(Clone)]
pub struct CallView {
    pub tiles: ArcRwSignal<Vec<Tile>>,
    pub link: ArcRwSignal<LinkStatus>,
    pub mic: ArcRwSignal<bool>,
    pub cam: ArcRwSignal<bool>,
}

pub struct CallSettings {
    pub name: String,
    pub mic: bool,
    pub cam: bool,
    pub ice_servers: Vec<IceServer>,
}

type Outbound = Rc<dyn Fn(ClientMessage)>;

struct Inner {
    room: RefCell<Room>,
    edges: RefCell<BTreeMap<PeerKey, PeerEdge>>,
    media: RefCell<Option<LocalMedia>>,
    config: RtcConfiguration,
    events: mpsc::UnboundedSender<Event>,
    outbound: RefCell<Option<Outbound>>,
    link: RefCell<Option<SignalingClient>>,
    ticker: RefCell<Option<Interval>>,
    view: CallView,
}

/// A call in one room. Cheap to clone; the last clone dropped releases everything.
#[derive(Clone)]
pub struct Session(Rc<Inner>);

impl Session {
    pub fn new(settings: CallSettings, media: LocalMedia) -> Session {
        media.set_enabled("audio", settings.mic);
        media.set_enabled("video", settings.cam);
        let (events, mut queue) = mpsc::unbounded::<Event>();
        let inner = Rc::new(Inner {
            room: RefCell::new(Room::new(settings.name, settings.mic, settings.cam)),
            edges: RefCell::default(),
            media: RefCell::new(Some(media)),
            config: rtc_configuration(&settings.ice_servers),
            events: events.clone(),
            outbound: RefCell::default(),
            link: RefCell::default(),
            ticker: RefCell::default(),
            view: CallView {
                tiles: ArcRwSignal::new(Vec::new()),
                link: ArcRwSignal::new(LinkStatus::Connecting),
                mic: ArcRwSignal::new(settings.mic),
                cam: ArcRwSignal::new(settings.cam),
            },
        });
        let ticks = events.clone();
        *inner.ticker.borrow_mut() = Some(Interval::new(TICK_MS, move || {
            let _ = ticks.unbounded_send(Event::Heartbeat);
            let _ = ticks.unbounded_send(Event::Tick);
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
        Session(inner)
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
        let mic = mic.unwrap_or_else(|| view.mic.get_untracked());
        let cam = cam.unwrap_or_else(|| view.cam.get_untracked());
        if let Some(media) = self.0.media.borrow().as_ref() {
            media.set_enabled("audio", mic);
            media.set_enabled("video", cam);
        }
        view.mic.set(mic);
        view.cam.set(cam);
        let _ = self.0.events.unbounded_send(Event::LocalMedia { mic, cam });
    }

    pub fn local_stream(&self) -> Option<MediaStream> {
        self.0
            .media
            .borrow()
            .as_ref()
            .map(|m| Clone::clone(m.stream()))
    }

    pub fn has_local(&self, kind: &str) -> bool {
        self.0.media.borrow().as_ref().is_some_and(|m| m.has(kind))
    }

    pub fn remote_stream(&self, key: PeerKey) -> Option<MediaStream> {
        self.0
            .edges
            .borrow()
            .get(&key)
            .map(|e| Clone::clone(e.remote_stream()))
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
        self.0.edges.borrow_mut().clear();
        self.0.link.borrow_mut().take();
        self.0.outbound.borrow_mut().take();
        self.0.ticker.borrow_mut().take();
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

impl Inner {
    fn handle(&self, event: Event) {
        let commands = self.room.borrow_mut().step(now_ms(), event);
        for c in commands {
            self.execute(c);
        }
    }

    fn edge_op(&self, key: PeerKey, op: Op) {
        if let Some(edge) = self.edges.borrow().get(&key) {
            edge.run(op);
        }
    }

    fn execute(&self, command: Command) {
        match command {
            Command::CreatePeer { key, offerer } => {
                let media = self.media.borrow();
                let local = media.as_ref().map(LocalMedia::stream);
                match PeerEdge::new(key, &self.config, local, offerer, self.events.clone()) {
                    Ok(edge) => {
                        self.edges.borrow_mut().insert(key, edge);
                    }
                    Err(err) => {
                        let _ = self.events.unbounded_send(Event::NegotiationFailed {
                            key,
                            error: err.to_string(),
                        });
                    }
                }
            }
            Command::MakeOffer { key, ice_restart } => {
                self.edge_op(key, Op::MakeOffer { ice_restart })
            }
            Command::AcceptOffer { key, sdp } => self.edge_op(key, Op::AcceptOffer(sdp)),
            Command::AcceptAnswer { key, sdp } => self.edge_op(key, Op::AcceptAnswer(sdp)),
            Command::AddCandidate { key, candidate } => {
                self.edge_op(key, Op::AddCandidate(candidate))
            }
            Command::SendSignal { to, signal } => {
                let send = self.outbound.borrow().clone();
                if let Some(send) = send {
                    send(ClientMessage::Signal {
                        receiver: to,
                        data: signal.to_value(),
                    });
                }
            }
            Command::SendToPeer { key, message } => {
                if let (Some(edge), Ok(text)) = (
                    self.edges.borrow().get(&key),
                    serde_json::to_string(&message),
                ) {
                    edge.send(&text);
                }
            }
            Command::ClosePeer { key } => {
                let edge = self.edges.borrow_mut().remove(&key);
                drop(edge);
            }
            Command::PeerUpdated { key } => {
                let Some(view) = self.room.borrow().peer(key).map(|p| p.view()) else {
                    return;
                };
                let existing = self
                    .view
                    .tiles
                    .with_untracked(|t| t.iter().find(|t| t.key == key).map(|t| t.view.clone()));
                match existing {
                    Some(signal) => {
                        if signal.with_untracked(|v| *v != view) {
                            signal.set(view);
                        }
                    }
                    None => self.view.tiles.update(|t| {
                        t.push(Tile {
                            key,
                            view: ArcRwSignal::new(view),
                        })
                    }),
                }
            }
            Command::PeerRemoved { key } => self.view.tiles.update(|t| t.retain(|t| t.key != key)),
        }
    }
}
