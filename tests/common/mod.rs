//! Shared by the browser suites: an in-memory signaling server (the matchbox protocol, without a
//! socket), two people in a call through it, and a bounded wait for something a person would
//! observe.

#![allow(dead_code)]

use std::cell::RefCell;
use std::rc::{Rc, Weak};

use gloo_timers::future::TimeoutFuture;
use leptos::prelude::WithUntracked;
use meshcall::room::{PeerState, PeerView};
use meshcall::rtc::media::{acquire, LocalMedia, MediaKind};
use meshcall::session::{CallSettings, CallView, Session};
use meshcall::trust::RoomKey;
use meshcall_protocol::{ClientMessage, PeerSignal, ServerMessage};
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use web_sys::HtmlVideoElement;

#[derive(Default)]
struct HubInner {
    next: u32,
    members: Vec<(String, Session)>,
    /// Every relayed `Signal`, in order: (sender, receiver, "Offer" | "Answer" | "IceCandidate" |
    /// "Rebind" | "other").
    relayed: Vec<(String, String, &'static str)>,
    /// Every relayed ICE candidate: (sender, its `RTCIceCandidateInit` JSON).
    candidates: Vec<(String, String)>,
}

/// Relays like a signaling server: ids, `NewPeer` to those already in, `Signal` stamped with the
/// sender, `PeerLeft`.
#[derive(Clone, Default)]
pub struct Hub(Rc<RefCell<HubInner>>);

impl Hub {
    pub fn join(&self, session: &Session) -> String {
        let id = {
            let mut inner = self.0.borrow_mut();
            inner.next += 1;
            format!("peer-{}", inner.next)
        };
        let hub: Weak<RefCell<HubInner>> = Rc::downgrade(&self.0);
        let from = id.clone();
        session.set_outbound(move |msg| {
            let Some(hub) = hub.upgrade() else { return };
            if let ClientMessage::Signal { receiver, data } = msg {
                let kind = match PeerSignal::from_value(data.clone()) {
                    Ok(PeerSignal::Offer(_)) => "Offer",
                    Ok(PeerSignal::Answer(_)) => "Answer",
                    Ok(PeerSignal::IceCandidate(c)) => {
                        hub.borrow_mut().candidates.push((from.clone(), c));
                        "IceCandidate"
                    }
                    Ok(PeerSignal::Rebind(_)) => "Rebind",
                    Ok(PeerSignal::Probe) => "Probe",
                    Ok(PeerSignal::Here) => "Here",
                    Err(_) => "other",
                };
                hub.borrow_mut()
                    .relayed
                    .push((from.clone(), receiver.clone(), kind));
                let target = hub
                    .borrow()
                    .members
                    .iter()
                    .find(|(id, _)| *id == receiver)
                    .map(|(_, s)| s.clone());
                if let Some(target) = target {
                    target.deliver(ServerMessage::Signal {
                        sender: from.clone(),
                        data,
                    });
                }
            }
        });
        session.deliver(ServerMessage::IdAssigned(id.clone()));
        for (_, other) in self.0.borrow().members.iter() {
            other.deliver(ServerMessage::NewPeer(id.clone()));
        }
        self.0
            .borrow_mut()
            .members
            .push((id.clone(), session.clone()));
        id
    }

    /// `session`'s socket dropped and reconnected: the room hears `PeerLeft(old)`, then the
    /// session gets a new id and the room a `NewPeer` for it, as a real server does.
    pub fn reconnect(&self, old: &str, session: &Session) -> String {
        self.leave(old);
        self.join(session)
    }

    /// How many signals of `kind` ("Offer", "Answer", "IceCandidate") the hub relayed so far.
    pub fn relayed(&self, kind: &str) -> usize {
        self.0
            .borrow()
            .relayed
            .iter()
            .filter(|(_, _, k)| *k == kind)
            .count()
    }

    /// The media sections (`sdpMid`) of the candidates `sender` sent so far, each once: one per
    /// transport the browser gathered for.
    pub fn candidate_mids(&self, sender: &str) -> Vec<String> {
        let mut mids: Vec<String> = self
            .0
            .borrow()
            .candidates
            .iter()
            .filter(|(from, _)| from == sender)
            .filter_map(|(_, json)| serde_json::from_str::<serde_json::Value>(json).ok())
            .map(|c| c["sdpMid"].as_str().unwrap_or("?").to_owned())
            .collect();
        mids.sort();
        mids.dedup();
        mids
    }

    /// How many relayed candidates contain `text`.
    pub fn candidates_with(&self, text: &str) -> usize {
        let inner = self.0.borrow();
        inner
            .candidates
            .iter()
            .filter(|(_, c)| c.contains(text))
            .count()
    }

    /// Offers plus answers relayed so far: a renegotiation adds to it, a `replaceTrack` does not.
    pub fn descriptions(&self) -> usize {
        self.relayed("Offer") + self.relayed("Answer")
    }

    pub fn leave(&self, id: &str) {
        self.0.borrow_mut().members.retain(|(m, _)| m != id);
        for (_, other) in self.0.borrow().members.iter() {
            other.deliver(ServerMessage::PeerLeft(id.to_owned()));
        }
    }
}

/// A session with the fake camera and microphone Chromium provides under the test flags.
pub async fn session(name: &str) -> Session {
    keyed_session(name, None).await
}

/// [`session`] in a room whose link carried `key` (`None`: an open room).
pub async fn keyed_session(name: &str, key: Option<&str>) -> Session {
    let got = acquire(None, None).await;
    assert!(
        got.problems.is_empty(),
        "fake devices should be available: {:?}",
        got.problems
    );
    assert!(got.media.has(MediaKind::Audio) && got.media.has(MediaKind::Video));
    Session::new(
        CallSettings {
            name: name.into(),
            mic: true,
            cam: true,
            ice_servers: vec![],
            relay_only: false,
            upload_kbps: None,
            max_file_mb: None,
            key: key.map(|k| RoomKey::from_fragment(k).expect("a key").expect("a key")),
        },
        got.media,
        CallView::blank(),
    )
}

pub fn no_media_session(name: &str) -> Session {
    let media = LocalMedia::none().expect("an empty MediaStream");
    Session::new(
        CallSettings {
            name: name.into(),
            mic: false,
            cam: false,
            ice_servers: vec![],
            relay_only: false,
            upload_kbps: None,
            max_file_mb: None,
            key: None,
        },
        media,
        CallView::blank(),
    )
}

/// `s`'s one remote tile (its key and view); `None` unless there is exactly one.
pub fn only_tile(s: &Session) -> Option<(u32, PeerView)> {
    s.view().tiles.with_untracked(|t| match t.as_slice() {
        [t] => Some((t.key, t.view.with_untracked(Clone::clone))),
        _ => None,
    })
}

/// `first`, then `second`, join `hub`; returns once each shows the other connected, with
/// (second's key at first, first's key at second).
pub async fn call(hub: &Hub, first: &Session, second: &Session) -> (u32, u32) {
    hub.join(first);
    hub.join(second);
    until("both tiles connected", 15_000, || {
        [first, second]
            .iter()
            .all(|s| matches!(only_tile(s), Some((_, v)) if v.state == PeerState::Connected))
    })
    .await;
    let key = |s: &Session| only_tile(s).expect("one connected tile").0;
    (key(first), key(second))
}

/// Ada and Bob (fake camera and mic each) in a call through a new hub, both tiles connected. Keep
/// the hub alive for the length of the test: it is the signaling server.
pub async fn ada_and_bob() -> (Hub, Session, Session) {
    let hub = Hub::default();
    let ada = session("Ada").await;
    let bob = session("Bob").await;
    call(&hub, &ada, &bob).await;
    (hub, ada, bob)
}

/// Waits until `cond` holds, checking every 50 ms, failing after `ms` with `what`.
pub async fn until(what: &str, ms: u32, mut cond: impl FnMut() -> bool) {
    let mut waited = 0;
    while !cond() {
        assert!(waited < ms, "timed out after {ms} ms waiting for: {what}");
        TimeoutFuture::new(50).await;
        waited += 50;
    }
}

/// Plays `s`'s stream from `key` in a muted video element until a decoded frame has a size.
pub async fn frames_arrive(s: &Session, key: u32) {
    let stream = s.remote_stream(key).expect("remote stream");
    let doc = web_sys::window().unwrap().document().unwrap();
    let video: HtmlVideoElement = doc.create_element("video").unwrap().unchecked_into();
    video.set_muted(true);
    video.set_src_object(Some(&stream));
    doc.body().unwrap().append_child(&video).unwrap();
    let _ = JsFuture::from(video.play().unwrap()).await;
    until("a decoded remote video frame", 10_000, || {
        video.video_width() > 0
    })
    .await;
    video.set_src_object(None);
    video.remove();
}
