//! One `RTCPeerConnection` with its negotiated data channel. The struct owns every closure it
//! registers; dropping it clears the handlers and closes the channel and the connection.
//! Operations run strictly in order on one task per peer (`ops.rs`).

use futures::channel::mpsc;
use js_sys::Array;
use meshcall_protocol::{IceServer, DATA_CHANNEL_ID, DATA_CHANNEL_LABEL};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use web_sys::{
    MediaStream, MediaStreamTrack, MessageEvent, RtcBundlePolicy, RtcConfiguration, RtcDataChannel,
    RtcDataChannelInit, RtcIceGatheringState, RtcIceServer, RtcIceTransportPolicy,
    RtcPeerConnection, RtcPeerConnectionIceErrorEvent, RtcPeerConnectionIceEvent,
    RtcPeerConnectionState, RtcRtpTransceiverDirection, RtcRtpTransceiverInit, RtcTrackEvent,
};

use super::media::MediaKind;
use super::ops::run_ops;
pub use super::ops::Op;
use super::remote::Received;
use super::JsError;
use crate::room::{ConnState, Event, PeerKey};

/// Data-channel messages longer than this (UTF-16 units) are not read: every message peers
/// exchange is a few hundred at most.
const MAX_MESSAGE_CHARS: u32 = 16 * 1024;

/// Where the edge reports what the browser did.
pub type EventSink = mpsc::UnboundedSender<Event>;

/// Builds the `RTCConfiguration` once per call from the configured ICE servers; `relay_only`:
/// the browser gathers only TURN relay candidates, so all media goes through the relay.
pub fn rtc_configuration(ice_servers: &[IceServer], relay_only: bool) -> RtcConfiguration {
    let config = RtcConfiguration::new();
    // One transport for audio, video and data from the start: the default ("balanced") gathers
    // for each section of an offer until the answer accepts the bundle, three times the
    // candidates to signal and add on two busy pages (docs/join-timeline.md). Every peer is
    // meshcall in a browser, and every browser bundles.
    config.set_bundle_policy(RtcBundlePolicy::MaxBundle);
    if relay_only {
        config.set_ice_transport_policy(RtcIceTransportPolicy::Relay);
    }
    let servers = Array::new();
    for s in ice_servers {
        let server = RtcIceServer::new();
        let urls: Array = s.urls.iter().map(|u| JsValue::from_str(u)).collect();
        server.set_urls(&urls);
        if let Some(user) = &s.username {
            server.set_username(user);
        }
        if let Some(credential) = &s.credential {
            server.set_credential(credential);
        }
        servers.push(&server);
    }
    config.set_ice_servers(&servers);
    config
}

type Handler<T> = Closure<dyn FnMut(T)>;

pub struct PeerEdge {
    key: PeerKey,
    pc: RtcPeerConnection,
    /// Our media is held back from this peer (a keyed room, before its proof checks): the
    /// senders exist, so nothing renegotiates later, but carry no track.
    held: std::cell::Cell<bool>,
    channel: RtcDataChannel,
    /// The peer's tracks, sorted into its camera and its screen.
    received: std::rc::Rc<std::cell::RefCell<Received>>,
    /// The senders of our screen share's tracks on this connection (none while not sharing).
    share_senders: std::cell::RefCell<Vec<web_sys::RtcRtpSender>>,
    /// The `<video>` of the peer's tile, measured so the peer can be told how large we show it.
    tile: std::cell::RefCell<Option<web_sys::HtmlVideoElement>>,
    ops: mpsc::UnboundedSender<Op>,
    _on_ice: Handler<RtcPeerConnectionIceEvent>,
    _on_track: Handler<RtcTrackEvent>,
    _on_negotiation: Handler<web_sys::Event>,
    _on_state: Handler<web_sys::Event>,
    _on_open: Handler<web_sys::Event>,
    _on_close: Handler<web_sys::Event>,
    _on_message: Handler<MessageEvent>,
    /// `icecandidateerror` and `icegatheringstatechange` (no `on…` setters in web-sys): why a
    /// relay is out of reach. Dropping the listeners removes them.
    _ice_trouble: [gloo_events::EventListener; 2],
    /// `datachannel`: each channel the peer opens (a file it sends), for the session.
    offers: std::cell::RefCell<Option<gloo_events::EventListener>>,
}

impl PeerEdge {
    /// A connection that sends `local`'s tracks. The offerer adds receive-only transceivers for
    /// the kinds it lacks, so a person without camera or mic still gets everyone else's media;
    /// the answerer's tracks then take those m-lines, so no renegotiation is needed.
    /// `hold`: send nothing until [`PeerEdge::release`] (the tracks are added, so the m-lines are
    /// negotiated as usual, and at once replaced by none). `screen`: our screen share, if on.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        key: PeerKey,
        config: &RtcConfiguration,
        local: Option<&MediaStream>,
        screen: Option<&MediaStream>,
        offerer: bool,
        hold: bool,
        events: EventSink,
    ) -> Result<Self, JsError> {
        // The global constructor, so pages (and tests) that wrap it see every connection.
        let pc = RtcPeerConnection::new_with_configuration(config)?;
        let init = RtcDataChannelInit::new();
        init.set_negotiated(true);
        init.set_id(DATA_CHANNEL_ID);
        let channel = pc.create_data_channel_with_data_channel_dict(DATA_CHANNEL_LABEL, &init);

        let mut kinds_sent = Vec::new();
        if let Some(stream) = local {
            for track in stream.get_tracks().iter() {
                let track: MediaStreamTrack = track.unchecked_into();
                kinds_sent.extend(MediaKind::of(&track));
                let sender = pc.add_track_0(&track, stream);
                if hold {
                    hold_back(key, &sender);
                }
            }
        }
        if offerer {
            for kind in MediaKind::ALL {
                if !kinds_sent.contains(&kind) {
                    let init = RtcRtpTransceiverInit::new();
                    init.set_direction(RtcRtpTransceiverDirection::Recvonly);
                    pc.add_transceiver_with_str_and_init(kind.as_str(), &init);
                }
            }
        }

        let received = std::rc::Rc::new(std::cell::RefCell::new(Received::new()?));
        let on_ice = {
            let events = events.clone();
            Closure::<dyn FnMut(RtcPeerConnectionIceEvent)>::new(
                move |e: RtcPeerConnectionIceEvent| {
                    // `null` marks the end of gathering: nothing to send.
                    let Some(candidate) = e.candidate() else {
                        return;
                    };
                    if candidate.candidate().is_empty() {
                        return;
                    }
                    let json = js_sys::JSON::stringify(&candidate.to_json())
                        .ok()
                        .and_then(|s| s.as_string());
                    if let Some(candidate) = json {
                        let _ = events.unbounded_send(Event::LocalCandidate { key, candidate });
                    }
                },
            )
        };
        pc.set_onicecandidate(Some(on_ice.as_ref().unchecked_ref()));

        let on_track = {
            let received = std::rc::Rc::clone(&received);
            Closure::<dyn FnMut(RtcTrackEvent)>::new(move |e: RtcTrackEvent| {
                let stream = e.streams().get(0).dyn_into::<MediaStream>().ok();
                let stream_id = stream.map(|s| s.id()).unwrap_or_default();
                received.borrow_mut().arrive(stream_id, e.track());
            })
        };
        pc.set_ontrack(Some(on_track.as_ref().unchecked_ref()));

        let on_negotiation = {
            let events = events.clone();
            Closure::<dyn FnMut(web_sys::Event)>::new(move |_| {
                let _ = events.unbounded_send(Event::NegotiationNeeded(key));
            })
        };
        pc.set_onnegotiationneeded(Some(on_negotiation.as_ref().unchecked_ref()));

        let on_state = {
            let events = events.clone();
            let pc = pc.clone();
            Closure::<dyn FnMut(web_sys::Event)>::new(move |_| {
                let state = match pc.connection_state() {
                    RtcPeerConnectionState::New => ConnState::New,
                    RtcPeerConnectionState::Connecting => ConnState::Connecting,
                    RtcPeerConnectionState::Connected => ConnState::Connected,
                    RtcPeerConnectionState::Disconnected => ConnState::Disconnected,
                    RtcPeerConnectionState::Failed => ConnState::Failed,
                    _ => ConnState::Closed,
                };
                let _ = events.unbounded_send(Event::ConnectionState { key, state });
            })
        };
        pc.set_onconnectionstatechange(Some(on_state.as_ref().unchecked_ref()));

        let on_open = {
            let events = events.clone();
            Closure::<dyn FnMut(web_sys::Event)>::new(move |_| {
                let _ = events.unbounded_send(Event::ChannelOpen(key));
            })
        };
        channel.set_onopen(Some(on_open.as_ref().unchecked_ref()));
        let on_close = {
            let events = events.clone();
            Closure::<dyn FnMut(web_sys::Event)>::new(move |_| {
                let _ = events.unbounded_send(Event::ChannelClosed(key));
            })
        };
        channel.set_onclose(Some(on_close.as_ref().unchecked_ref()));
        let on_message = {
            let events = events.clone();
            Closure::<dyn FnMut(MessageEvent)>::new(move |e: MessageEvent| {
                // Binary or over-long messages are not read, but reach the room as empty ones:
                // each still counts against what the peer may make us do (a flood of them too).
                let text = e
                    .data()
                    .dyn_ref::<js_sys::JsString>()
                    .filter(|s| s.length() <= MAX_MESSAGE_CHARS)
                    .map(String::from)
                    .unwrap_or_default();
                let _ = events.unbounded_send(Event::ChannelMessage { key, text });
            })
        };
        channel.set_onmessage(Some(on_message.as_ref().unchecked_ref()));

        let edge_senders = screen.map(|stream| {
            stream
                .get_tracks()
                .iter()
                .map(|t| {
                    let sender = pc.add_track_0(&t.unchecked_into(), stream);
                    if hold {
                        hold_back(key, &sender);
                    }
                    sender
                })
                .collect::<Vec<_>>()
        });
        let ice_trouble = {
            let errors = events.clone();
            let gathering = events.clone();
            let pc_gathering = pc.clone();
            [
                gloo_events::EventListener::new(&pc, "icecandidateerror", move |e| {
                    if let Some(e) = e.dyn_ref::<RtcPeerConnectionIceErrorEvent>() {
                        log(&format!(
                            "peer {key}: ICE server {} answered {} {}",
                            e.url(),
                            e.error_code(),
                            e.error_text()
                        ));
                        let code = e.error_code();
                        let _ = errors.unbounded_send(Event::IceServerError { key, code });
                    }
                }),
                gloo_events::EventListener::new(&pc, "icegatheringstatechange", move |_| {
                    if pc_gathering.ice_gathering_state() == RtcIceGatheringState::Complete {
                        let _ = gathering.unbounded_send(Event::GatheringDone(key));
                    }
                }),
            ]
        };

        let (ops, queue) = mpsc::unbounded();
        wasm_bindgen_futures::spawn_local(run_ops(key, pc.clone(), queue, events));

        Ok(PeerEdge {
            key,
            pc,
            held: std::cell::Cell::new(hold),
            channel,
            received,
            share_senders: std::cell::RefCell::new(edge_senders.unwrap_or_default()),
            tile: std::cell::RefCell::default(),
            ops,
            _on_ice: on_ice,
            _on_track: on_track,
            _on_negotiation: on_negotiation,
            _on_state: on_state,
            _on_open: on_open,
            _on_close: on_close,
            _on_message: on_message,
            _ice_trouble: ice_trouble,
            offers: Default::default(),
        })
    }

    pub fn run(&self, op: Op) {
        let _ = self.ops.unbounded_send(op);
    }

    /// Sends a text message if the channel is open; messages to a closing peer are moot.
    pub fn send(&self, text: &str) {
        if self.channel.ready_state() == web_sys::RtcDataChannelState::Open {
            let _ = self.channel.send_with_str(text);
        }
    }

    /// The peer's camera and microphone, filled as tracks arrive.
    pub fn remote_stream(&self) -> MediaStream {
        Clone::clone(self.received.borrow().camera())
    }

    /// The peer's screen share (empty while it shares none).
    pub fn share_stream(&self) -> MediaStream {
        Clone::clone(self.received.borrow().share())
    }

    /// The peer announced its screen share's stream id, or that it stopped.
    pub fn set_remote_share(&self, id: Option<String>) {
        self.received.borrow_mut().set_share(id);
    }

    /// Sends our screen share's tracks too (renegotiated through perfect negotiation); while our
    /// media is held back from this peer they wait on empty senders like the rest.
    pub fn add_share(&self, screen: &MediaStream) {
        let mut senders = self.share_senders.borrow_mut();
        for t in screen.get_tracks().iter() {
            let sender = self.pc.add_track_0(&t.unchecked_into(), screen);
            if self.held.get() {
                hold_back(self.key, &sender);
            }
            senders.push(sender);
        }
    }

    /// Stops sending our screen share (renegotiated; the connection stays).
    pub fn remove_share(&self) {
        for sender in self.share_senders.borrow_mut().drain(..) {
            self.pc.remove_track(&sender);
        }
    }

    /// Hands each channel the peer opens (a file it sends us) to `f`, which owns it from then.
    pub fn on_offer(&self, mut f: impl FnMut(RtcDataChannel) + 'static) {
        let listener = gloo_events::EventListener::new(&self.pc, "datachannel", move |e| {
            if let Some(e) = e.dyn_ref::<web_sys::RtcDataChannelEvent>() {
                f(e.channel());
            }
        });
        *self.offers.borrow_mut() = Some(listener);
    }

    pub fn connection(&self) -> &RtcPeerConnection {
        &self.pc
    }

    /// The `<video>` that shows the peer's camera (None once its tile is gone).
    pub fn show_in(&self, video: Option<web_sys::HtmlVideoElement>) {
        *self.tile.borrow_mut() = video;
    }

    /// The size of the peer's camera on screen, in device pixels (0 x 0 while hidden).
    pub fn shown(&self) -> Option<(u32, u32)> {
        let ratio = web_sys::window().map_or(1.0, |w| w.device_pixel_ratio());
        let px = |css: i32| (f64::from(css.max(0)) * ratio) as u32;
        self.tile
            .borrow()
            .as_ref()
            .map(|v| (px(v.client_width()), px(v.client_height())))
    }

    /// Puts the room's upload limit on this connection's video senders (`setParameters`).
    pub fn limit(
        &self,
        limit: crate::room::SendLimit,
    ) -> impl std::future::Future<Output = Result<(), JsError>> + 'static {
        super::uplink::limit_video(&self.pc, &self.share_senders.borrow(), limit)
    }

    /// Sends `track` in place of whatever this connection sent of its kind. Where it already
    /// had a sender for the kind (even one whose track ended) that is `replaceTrack`, which needs
    /// no renegotiation; only a kind never sent before is added, and that fires
    /// `negotiationneeded` (the room then offers as usual).
    /// The returned future holds no borrow of the edge, so many run at once. While our media is
    /// held back from this peer it does nothing: [`PeerEdge::release`] sends what is current then.
    pub fn use_track(
        &self,
        track: &MediaStreamTrack,
        stream: &MediaStream,
    ) -> impl std::future::Future<Output = Result<(), JsError>> + 'static {
        let kind = track.kind();
        if self.held.get() {
            return futures::future::Either::Left(futures::future::ready(Ok(())));
        }
        let shares = self.share_senders.borrow();
        let sender = self.pc.get_transceivers().iter().find_map(|t| {
            let t: web_sys::RtcRtpTransceiver = t.unchecked_into();
            if shares.contains(&t.sender()) {
                return None; // our screen's, never the camera's or the microphone's
            }
            let sending = t.sender().track().is_some()
                || matches!(
                    t.direction(),
                    RtcRtpTransceiverDirection::Sendrecv | RtcRtpTransceiverDirection::Sendonly
                );
            (t.receiver().track().kind() == kind && sending).then(|| t.sender())
        });
        let replaced = sender.map(|s| s.replace_track(Some(track)));
        if replaced.is_none() {
            self.pc.add_track_0(track, stream);
        }
        futures::future::Either::Right(async move {
            if let Some(promise) = replaced {
                JsFuture::from(promise).await?;
            }
            Ok(())
        })
    }

    /// The peer proved it belongs in the room: send it `local`'s tracks (and `screen`'s) on the
    /// senders made for them (`replaceTrack`, no renegotiation).
    pub fn release(
        &self,
        local: Option<&MediaStream>,
        screen: Option<&MediaStream>,
    ) -> impl std::future::Future<Output = Result<(), JsError>> + 'static {
        self.held.set(false);
        let screen_tracks = screen.map(|s| s.get_tracks()).unwrap_or_default();
        let shares: Vec<_> = self
            .share_senders
            .borrow()
            .iter()
            .zip(screen_tracks.iter())
            .map(|(sender, t)| JsFuture::from(sender.replace_track(Some(&t.unchecked_into()))))
            .collect();
        let sends: Vec<_> = local
            .map(|stream| {
                stream
                    .get_tracks()
                    .iter()
                    .map(|t| self.use_track(&t.unchecked_into(), stream))
                    .collect()
            })
            .unwrap_or_default();
        async move {
            for result in futures::future::join_all(sends).await {
                result?;
            }
            for result in futures::future::join_all(shares).await {
                result?;
            }
            Ok(())
        }
    }
}

impl Drop for PeerEdge {
    fn drop(&mut self) {
        self.pc.set_onicecandidate(None);
        self.pc.set_ontrack(None);
        self.pc.set_onnegotiationneeded(None);
        self.pc.set_onconnectionstatechange(None);
        self.channel.set_onopen(None);
        self.channel.set_onclose(None);
        self.channel.set_onmessage(None);
        self.channel.close();
        self.pc.close();
        // Remote tracks end with the connection; stop them so nothing keeps rendering them.
        self.received.borrow().stop();
        self.ops.close_channel();
    }
}

/// Empties `sender` (our media is held back from this peer). Chained on the connection's
/// operations before any offer or answer, and no media can flow before DTLS anyway: not one frame
/// leaves with the track.
fn hold_back(key: PeerKey, sender: &web_sys::RtcRtpSender) {
    let emptied = sender.replace_track(None);
    wasm_bindgen_futures::spawn_local(async move {
        if let Err(e) = JsFuture::from(emptied).await {
            log(&format!(
                "peer {key}: could not hold media back: {}",
                JsError::from(e)
            ));
        }
    });
}

pub(crate) fn log(text: &str) {
    web_sys::console::warn_1(&JsValue::from_str(text));
}
