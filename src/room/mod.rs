//! The room brain: a pure state machine `step(now, event) -> commands` over the table of peers.
//! It decides who offers, resolves glare (perfect negotiation), queues early candidates, restarts
//! ICE and drops peers. It must never touch the browser: the edges in `rtc/` and `signaling/`
//! turn callbacks into [`Event`]s and run its [`Command`]s.

mod peer;
// proptest is a native-only dev-dependency: the wasm test build must not see this module.
#[cfg(all(test, not(target_arch = "wasm32")))]
mod proptests;
#[cfg(test)]
mod tests;

// The peer tables are sorted Vecs: a room holds a handful of peers, and BTreeMap's and HashMap's
// own code cost the app's wasm about 6 KB gzipped (README "Download size").
use litemap::LiteMap;

use meshcall_protocol::{PeerId, PeerMessage, PeerSignal};
use serde_json::Value;

use peer::sdp_session_id;
pub use peer::{ConnState, Peer, PeerKey, PeerState, PeerView, Signaling};

/// A failed tile stays this long so people see what happened, then goes.
pub const FAILED_TILE_MS: u64 = 4_000;
/// `disconnected` for this long counts as lost: restart ICE.
pub const DISCONNECTED_RESTART_MS: u64 = 3_000;
/// The polite side restarts ICE itself if the impolite side has not within this long.
pub const POLITE_RESTART_MS: u64 = 6_000;
/// Minimum gap between two ICE restarts of one peer.
pub const RESTART_GAP_MS: u64 = 5_000;
/// A connection that went bad, from a peer we have heard nothing from since (no answer to our ICE
/// restart, no restart of its own) while our own signaling was up this long, has vanished: a
/// frozen or cut-off machine whose socket the server has not noticed yet. Its tile goes.
pub const SILENT_PEER_MS: u64 = 5_000;
/// A connection that stays lost this long cannot be restored: drop the peer.
pub const GIVE_UP_MS: u64 = 25_000;
/// A first negotiation that has not connected by then will not.
pub const CONNECT_TIMEOUT_MS: u64 = 30_000;
/// A connected peer whose socket left gets this long to come back with `Rebind`.
pub const REBIND_GRACE_MS: u64 = 15_000;
/// ... provided it answers our ping within this long: a closed tab does not, and its tile must go
/// well before ICE would notice.
pub const PONG_TIMEOUT_MS: u64 = 2_000;
/// After a signaling reconnect a `NewPeer` may be someone we are still connected to, back under a
/// new id, whose `Rebind` is on its way over the data channel: wait this long for it before
/// building a second connection to that id.
pub const REBIND_WAIT_MS: u64 = 3_000;
/// A connected peer that has shown it heartbeats (sent us a `Ping`) and then goes this long without
/// a word on its data channel has lost its path, whatever ICE says yet: Chromium takes close to
/// 10 s to call a frozen or cut-off peer `disconnected`, and a vanished tile must go within 10 s.
pub const CHANNEL_SILENCE_MS: u64 = 3_000;
/// Displayed names are cut to this many characters.
pub const MAX_NAME_CHARS: usize = 40;
/// Candidates kept per peer (or per unknown sender) before a description arrives.
const MAX_QUEUED_CANDIDATES: usize = 256;
/// Unknown senders whose early candidates we keep.
const MAX_ORPHAN_SENDERS: usize = 32;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SdpKind {
    Offer,
    Answer,
}

/// Everything that happens to a room, from the server, the browser or the person.
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    /// The server gave our socket an id (again, after a reconnect).
    IdAssigned(PeerId),
    /// The signaling socket dropped; peer connections stay up.
    SignalingLost,
    /// `NewPeer`: someone joined after us; we call them.
    PeerJoined(PeerId),
    PeerLeft(PeerId),
    Signal {
        from: PeerId,
        data: Value,
    },
    NegotiationNeeded(PeerKey),
    /// The edge set a local description; it goes to the peer.
    LocalDescription {
        key: PeerKey,
        kind: SdpKind,
        sdp: String,
    },
    /// A trickled local candidate (`RTCIceCandidateInit` as JSON).
    LocalCandidate {
        key: PeerKey,
        candidate: String,
    },
    /// An offer, answer or description the browser rejected: this peer cannot go on.
    NegotiationFailed {
        key: PeerKey,
        error: String,
    },
    ConnectionState {
        key: PeerKey,
        state: ConnState,
    },
    ChannelOpen(PeerKey),
    ChannelClosed(PeerKey),
    ChannelMessage {
        key: PeerKey,
        text: String,
    },
    /// The person toggled mic or camera.
    LocalMedia {
        mic: bool,
        cam: bool,
    },
    /// Time passes (timers are checked here, never inside the edge).
    Tick,
    /// Send every open data channel a `Ping` (the edge does so about once a second), so that
    /// the other side can tell silence from a quiet call.
    Heartbeat,
}

/// What the edges must do, in order.
#[derive(Debug, Clone, PartialEq)]
pub enum Command {
    /// Make an `RTCPeerConnection` with our tracks and the negotiated data channel. The offerer
    /// also adds receive-only transceivers for kinds it does not send, so it can still receive.
    CreatePeer {
        key: PeerKey,
        offerer: bool,
    },
    /// `setLocalDescription()` with an offer (after `restartIce()` if asked).
    MakeOffer {
        key: PeerKey,
        ice_restart: bool,
    },
    /// `setRemoteDescription(offer)` (rolling back ours if any), then answer.
    AcceptOffer {
        key: PeerKey,
        sdp: String,
    },
    AcceptAnswer {
        key: PeerKey,
        sdp: String,
    },
    AddCandidate {
        key: PeerKey,
        candidate: String,
    },
    SendSignal {
        to: PeerId,
        signal: PeerSignal,
    },
    SendToPeer {
        key: PeerKey,
        message: PeerMessage,
    },
    /// Close the connection and release everything it holds. The tile may stay (failed).
    ClosePeer {
        key: PeerKey,
    },
    /// The tile's view changed.
    PeerUpdated {
        key: PeerKey,
    },
    /// The tile goes.
    PeerRemoved {
        key: PeerKey,
    },
}

/// The room as we see it: our own id and media, and every remote peer by stable key.
#[derive(Debug, Default)]
pub struct Room {
    my_id: Option<PeerId>,
    name: String,
    mic: bool,
    cam: bool,
    now: u64,
    next_key: PeerKey,
    peers: LiteMap<PeerKey, Peer>,
    by_signaling_id: LiteMap<PeerId, PeerKey>,
    orphan_candidates: LiteMap<PeerId, Vec<String>>,
    /// Connected peers whose signaling id may have changed since our socket reconnected (at the
    /// time given), until their `Rebind` or `Hello` says which id they have now.
    unconfirmed: LiteMap<PeerKey, u64>,
    /// Since when our signaling socket is up (None while it is down).
    signaling_up_since: Option<u64>,
    /// When each peer last sent us a signal.
    last_heard: LiteMap<PeerKey, u64>,
    /// `NewPeer`s held back while a rebind may claim them (id, when announced).
    deferred_joins: Vec<(PeerId, u64)>,
}

impl Room {
    pub fn new(name: impl Into<String>, mic: bool, cam: bool) -> Self {
        Room {
            name: name.into(),
            mic,
            cam,
            ..Room::default()
        }
    }

    pub fn my_id(&self) -> Option<&str> {
        self.my_id.as_deref()
    }

    pub fn peer(&self, key: PeerKey) -> Option<&Peer> {
        self.peers.get(&key)
    }

    pub fn peers(&self) -> impl Iterator<Item = &Peer> {
        self.peers.values()
    }

    pub fn key_of(&self, signaling_id: &str) -> Option<PeerKey> {
        self.by_signaling_id.get(signaling_id).copied()
    }

    /// Feed one event at time `now` (milliseconds, monotonic) and get the commands to run.
    pub fn step(&mut self, now: u64, event: Event) -> Vec<Command> {
        self.now = self.now.max(now);
        let mut out = Vec::new();
        match event {
            Event::IdAssigned(id) => self.on_id_assigned(id, &mut out),
            Event::SignalingLost => self.signaling_up_since = None,
            Event::PeerJoined(id) => self.on_peer_joined(id, &mut out),
            Event::PeerLeft(id) => self.on_peer_left(id, &mut out),
            Event::Signal { from, data } => self.on_signal(from, data, &mut out),
            Event::NegotiationNeeded(key) => {
                // Before the first exchange completes, the initial offer/answer already covers
                // every track and the channel; the browser fires again once stable if not.
                if let Some(p) = self.peers.get_mut(&key) {
                    if p.negotiated_once && p.can_offer() {
                        p.making_offer = true;
                        out.push(Command::MakeOffer {
                            key,
                            ice_restart: false,
                        });
                    }
                }
            }
            Event::LocalDescription { key, kind, sdp } => {
                self.on_local_description(key, kind, sdp, &mut out)
            }
            Event::LocalCandidate { key, candidate } => {
                if let Some(p) = self
                    .peers
                    .get(&key)
                    .filter(|p| p.state != PeerState::Failed)
                {
                    out.push(Command::SendSignal {
                        to: p.signaling_id.clone(),
                        signal: PeerSignal::IceCandidate(candidate),
                    });
                }
            }
            Event::NegotiationFailed { key, .. } => self.fail(key, &mut out),
            Event::ConnectionState { key, state } => self.on_connection_state(key, state, &mut out),
            Event::ChannelOpen(key) => {
                let hello = self.hello();
                // A failed peer's connection is closed already: a late event from it is stale.
                if let Some(p) = self
                    .peers
                    .get_mut(&key)
                    .filter(|p| p.state != PeerState::Failed)
                {
                    p.channel_open = true;
                    out.push(Command::SendToPeer {
                        key,
                        message: hello,
                    });
                }
            }
            Event::ChannelClosed(key) => {
                // The other side closed its connection (left, reloaded): the tile goes now
                // rather than after ICE notices.
                if self
                    .peers
                    .get(&key)
                    .is_some_and(|p| p.state != PeerState::Failed)
                {
                    self.remove(key, &mut out);
                }
            }
            Event::ChannelMessage { key, text } => self.on_channel_message(key, &text, &mut out),
            Event::LocalMedia { mic, cam } => {
                self.mic = mic;
                self.cam = cam;
                for p in self.peers.values().filter(|p| p.channel_open) {
                    out.push(Command::SendToPeer {
                        key: p.key,
                        message: PeerMessage::Media { mic, cam },
                    });
                }
            }
            Event::Tick => self.on_tick(&mut out),
            Event::Heartbeat => {
                for p in self
                    .peers
                    .values()
                    .filter(|p| p.channel_open && p.state != PeerState::Failed)
                {
                    out.push(Command::SendToPeer {
                        key: p.key,
                        message: PeerMessage::Ping,
                    });
                }
            }
        }
        out
    }

    fn hello(&self) -> PeerMessage {
        PeerMessage::Hello {
            name: self.name.clone(),
            mic: self.mic,
            cam: self.cam,
            signaling_id: self.my_id.clone(),
        }
    }

    fn on_id_assigned(&mut self, id: PeerId, out: &mut Vec<Command>) {
        self.signaling_up_since = Some(self.now);
        let previous = self.my_id.replace(id.clone());
        if previous.is_none() || previous.as_deref() == Some(id.as_str()) {
            return;
        }
        // Our socket reconnected under a new id. Established peers learn it over their data
        // channel and keep their connection; half-negotiated ones sent their answers to an id
        // that is gone, and will call our new id (NewPeer) anyway.
        let keys: Vec<PeerKey> = self.peers.keys().copied().collect();
        for key in keys {
            let p = &self.peers[&key];
            if p.channel_open {
                // If the server restarted, their ids changed too: their Rebind will tell.
                self.unconfirmed.insert(key, self.now);
                out.push(Command::SendToPeer {
                    key,
                    message: PeerMessage::Rebind {
                        signaling_id: id.clone(),
                    },
                });
            } else if p.state != PeerState::Failed {
                self.remove(key, out);
            }
        }
    }

    fn new_peer(&mut self, signaling_id: PeerId) -> PeerKey {
        self.next_key += 1;
        let key = self.next_key;
        // Both sides compute the same answer from the two ids: the smaller id is polite.
        let polite = self
            .my_id
            .as_deref()
            .is_none_or(|me| me < signaling_id.as_str());
        self.by_signaling_id.insert(signaling_id.clone(), key);
        self.peers
            .insert(key, Peer::new(key, signaling_id, polite, self.now));
        key
    }

    fn on_peer_left(&mut self, id: PeerId, out: &mut Vec<Command>) {
        self.orphan_candidates.remove(&id);
        self.deferred_joins.retain(|(d, _)| *d != id);
        let Some(key) = self.key_of(&id) else { return };
        let now = self.now;
        match self.peers.get_mut(&key) {
            // The connection looks up: maybe only its signaling socket dropped, maybe the tab
            // closed and ICE has not noticed yet. Ask over the channel; only a live peer answers.
            Some(p) if p.channel_open && p.state == PeerState::Connected => {
                p.signaling_left_at = Some(now);
                p.awaiting_pong = true;
                self.by_signaling_id.remove(&id);
                out.push(Command::SendToPeer {
                    key,
                    message: PeerMessage::Ping,
                });
            }
            _ => self.remove(key, out),
        }
    }

    /// A peer we are connected to may be about to announce a new signaling id.
    fn rebind_expected(&self) -> bool {
        let now = self.now;
        let live = |key: &PeerKey| {
            self.peers
                .get(key)
                .is_some_and(|p| p.state != PeerState::Failed && p.channel_open)
        };
        self.unconfirmed
            .iter()
            .any(|(key, &since)| now < since + REBIND_GRACE_MS && live(key))
            || self
                .peers
                .values()
                .any(|p| p.signaling_left_at.is_some() && live(&p.key))
    }

    fn on_peer_joined(&mut self, id: PeerId, out: &mut Vec<Command>) {
        if self.my_id.as_deref() == Some(id.as_str()) || self.by_signaling_id.contains_key(&id) {
            return;
        }
        if self.rebind_expected() {
            // Maybe someone we already have, back with a new id: give its Rebind a moment
            // rather than build a connection that the Rebind would then throw away.
            if !self.deferred_joins.iter().any(|(d, _)| *d == id) {
                self.deferred_joins.push((id, self.now));
            }
            return;
        }
        self.call(id, out);
    }

    /// Classic flow: whoever is already in the room calls the newcomer.
    fn call(&mut self, id: PeerId, out: &mut Vec<Command>) {
        if self.my_id.as_deref() == Some(id.as_str()) || self.by_signaling_id.contains_key(&id) {
            return;
        }
        let key = self.new_peer(id);
        if let Some(p) = self.peers.get_mut(&key) {
            p.making_offer = true;
        }
        out.push(Command::CreatePeer { key, offerer: true });
        out.push(Command::MakeOffer {
            key,
            ice_restart: false,
        });
        out.push(Command::PeerUpdated { key });
    }

    fn on_signal(&mut self, from: PeerId, data: Value, out: &mut Vec<Command>) {
        let known = self.key_of(&from);
        let signal = match PeerSignal::from_value(data) {
            Ok(signal) => signal,
            Err(_) => {
                // Garbage costs the sender its connection and nothing else.
                if let Some(key) = known {
                    self.fail(key, out);
                }
                return;
            }
        };
        let key = match (known, &signal) {
            (Some(key), _) => key,
            (None, PeerSignal::Offer(_)) => {
                if self.my_id.as_deref() == Some(from.as_str()) {
                    return;
                }
                // Someone already in the room calls us (we are the newcomer).
                let key = self.new_peer(from.clone());
                out.push(Command::CreatePeer {
                    key,
                    offerer: false,
                });
                out.push(Command::PeerUpdated { key });
                if let Some(early) = self.orphan_candidates.remove(&from) {
                    if let Some(p) = self.peers.get_mut(&key) {
                        p.pending_candidates = early;
                    }
                }
                key
            }
            (None, PeerSignal::IceCandidate(c)) => {
                if self.orphan_candidates.len() < MAX_ORPHAN_SENDERS
                    || self.orphan_candidates.contains_key(&from)
                {
                    let queue = self.orphan_candidates.entry(from).or_default();
                    if queue.len() < MAX_QUEUED_CANDIDATES {
                        queue.push(c.clone());
                    }
                }
                return;
            }
            (None, PeerSignal::Answer(_)) => return,
        };
        self.last_heard.insert(key, self.now);
        let Some(p) = self.peers.get_mut(&key) else {
            return;
        };
        if p.state == PeerState::Failed {
            return;
        }
        match signal {
            PeerSignal::Offer(sdp) => {
                let session = sdp_session_id(&sdp).map(str::to_owned);
                if p.negotiated_once
                    && session.is_some()
                    && p.remote_session.is_some()
                    && session != p.remote_session
                {
                    // A second connection from a peer we are already connected to: it called our
                    // new id after our socket reconnected. Our Rebind tells it to drop that one.
                    return;
                }
                let collision = p.making_offer || p.signaling != Signaling::Stable;
                p.ignore_offer = !p.polite && collision;
                if p.ignore_offer {
                    return;
                }
                p.remote_session = session;
                p.signaling = Signaling::RemoteOffer;
                p.has_remote_description = true;
                out.push(Command::AcceptOffer { key, sdp });
                for candidate in p.pending_candidates.drain(..) {
                    out.push(Command::AddCandidate { key, candidate });
                }
            }
            PeerSignal::Answer(sdp) => {
                if p.signaling != Signaling::LocalOffer {
                    return; // stale: our offer was rolled back or already answered
                }
                p.remote_session = sdp_session_id(&sdp).map(str::to_owned);
                p.signaling = Signaling::Stable;
                p.has_remote_description = true;
                p.negotiated_once = true;
                out.push(Command::AcceptAnswer { key, sdp });
                for candidate in p.pending_candidates.drain(..) {
                    out.push(Command::AddCandidate { key, candidate });
                }
            }
            PeerSignal::IceCandidate(candidate) => {
                if p.has_remote_description {
                    out.push(Command::AddCandidate { key, candidate });
                } else if p.pending_candidates.len() < MAX_QUEUED_CANDIDATES {
                    p.pending_candidates.push(candidate);
                }
            }
        }
    }

    fn on_local_description(
        &mut self,
        key: PeerKey,
        kind: SdpKind,
        sdp: String,
        out: &mut Vec<Command>,
    ) {
        let Some(p) = self.peers.get_mut(&key) else {
            return;
        };
        if p.state == PeerState::Failed {
            return;
        }
        let signal = match kind {
            SdpKind::Offer => {
                p.making_offer = false;
                if p.signaling == Signaling::RemoteOffer {
                    // We accepted their offer meanwhile (we are polite): ours is being rolled
                    // back, so it must not go out.
                    return;
                }
                p.signaling = Signaling::LocalOffer;
                PeerSignal::Offer(sdp)
            }
            SdpKind::Answer => {
                p.signaling = Signaling::Stable;
                p.negotiated_once = true;
                PeerSignal::Answer(sdp)
            }
        };
        out.push(Command::SendSignal {
            to: p.signaling_id.clone(),
            signal,
        });
    }

    fn on_connection_state(&mut self, key: PeerKey, state: ConnState, out: &mut Vec<Command>) {
        let now = self.now;
        let Some(p) = self.peers.get_mut(&key) else {
            return;
        };
        if p.state == PeerState::Failed {
            return;
        }
        p.conn = state;
        let before = p.state;
        match state {
            ConnState::Connected => {
                p.ever_connected = true;
                p.bad_since = None;
                p.state = PeerState::Connected;
            }
            ConnState::Disconnected | ConnState::Failed => {
                p.bad_since.get_or_insert(now);
                if p.ever_connected {
                    p.state = PeerState::Reconnecting;
                }
            }
            ConnState::New | ConnState::Connecting | ConnState::Closed => {}
        }
        if state == ConnState::Failed && !p.polite {
            Self::restart_ice(p, now, out);
        }
        if p.state != before {
            out.push(Command::PeerUpdated { key });
        }
    }

    fn restart_ice(p: &mut Peer, now: u64, out: &mut Vec<Command>) {
        if !p.can_offer() || p.last_restart.is_some_and(|t| now < t + RESTART_GAP_MS) {
            return;
        }
        p.last_restart = Some(now);
        p.making_offer = true;
        out.push(Command::MakeOffer {
            key: p.key,
            ice_restart: true,
        });
    }

    fn on_channel_message(&mut self, key: PeerKey, text: &str, out: &mut Vec<Command>) {
        // A message we cannot read is ignored: the channel is for extras, not worth a call.
        let Ok(message) = serde_json::from_str::<PeerMessage>(text) else {
            return;
        };
        let Some(p) = self
            .peers
            .get_mut(&key)
            .filter(|p| p.state != PeerState::Failed)
        else {
            return;
        };
        p.channel_heard_at = Some(self.now);
        if p.conn == ConnState::Connected && p.bad_since.is_some() {
            // Only channel silence made it bad, and the channel speaks again.
            p.bad_since = None;
            if p.state == PeerState::Reconnecting {
                p.state = PeerState::Connected;
                out.push(Command::PeerUpdated { key });
            }
        }
        match message {
            PeerMessage::Hello {
                name,
                mic,
                cam,
                signaling_id,
            } => {
                p.name = clean_name(&name);
                p.mic = mic;
                p.cam = cam;
                out.push(Command::PeerUpdated { key });
                if let Some(id) = signaling_id {
                    self.rebind(key, id, out);
                }
            }
            PeerMessage::Media { mic, cam } => {
                if (p.mic, p.cam) != (mic, cam) {
                    p.mic = mic;
                    p.cam = cam;
                    out.push(Command::PeerUpdated { key });
                }
            }
            PeerMessage::Rebind { signaling_id } => self.rebind(key, signaling_id, out),
            PeerMessage::Ping => {
                p.heartbeats = true;
                out.push(Command::SendToPeer {
                    key,
                    message: PeerMessage::Pong,
                });
            }
            PeerMessage::Pong => p.awaiting_pong = false,
            PeerMessage::Chat { .. } => {}
        }
    }

    /// The peer behind `key` now has signaling id `id`. A connection we made towards that id in
    /// the meantime (we saw it as a NewPeer) is a duplicate of this one and goes.
    fn rebind(&mut self, key: PeerKey, id: PeerId, out: &mut Vec<Command>) {
        let Some(current) = self.peers.get(&key).map(|p| p.signaling_id.clone()) else {
            return;
        };
        if current == id {
            self.unconfirmed.remove(&key);
        }
        if current == id || self.my_id.as_deref() == Some(id.as_str()) {
            return;
        }
        if let Some(duplicate) = self.key_of(&id).filter(|&k| k != key) {
            self.remove(duplicate, out);
        }
        self.orphan_candidates.remove(&id);
        self.unconfirmed.remove(&key);
        // The NewPeer we held back for this id was this peer: no second connection.
        self.deferred_joins.retain(|(d, _)| *d != id);
        if self.by_signaling_id.get(&current) == Some(&key) {
            self.by_signaling_id.remove(&current);
        }
        self.by_signaling_id.insert(id.clone(), key);
        if let Some(p) = self.peers.get_mut(&key) {
            p.signaling_id = id;
            p.signaling_left_at = None;
            p.awaiting_pong = false;
        }
    }

    fn on_tick(&mut self, out: &mut Vec<Command>) {
        let now = self.now;
        if !self.deferred_joins.is_empty() {
            let expected = self.rebind_expected();
            let (due, wait): (Vec<_>, Vec<_>) = std::mem::take(&mut self.deferred_joins)
                .into_iter()
                .partition(|(_, at)| !expected || now >= at + REBIND_WAIT_MS);
            self.deferred_joins = wait;
            for (id, _) in due {
                self.call(id, out);
            }
        }
        let mut fail = Vec::new();
        let mut remove = Vec::new();
        let mut updated = Vec::new();
        for p in self.peers.iter_mut().map(|(_, p)| p) {
            if p.state == PeerState::Failed {
                if p.failed_at.is_some_and(|t| now >= t + FAILED_TILE_MS) {
                    remove.push(p.key);
                }
                continue;
            }
            let silent = p.awaiting_pong
                && p.signaling_left_at
                    .is_some_and(|t| now >= t + PONG_TIMEOUT_MS);
            if silent
                || p.signaling_left_at
                    .is_some_and(|t| now >= t + REBIND_GRACE_MS)
            {
                remove.push(p.key);
                continue;
            }
            if !p.ever_connected && now >= p.created_at + CONNECT_TIMEOUT_MS {
                fail.push(p.key);
                continue;
            }
            let channel_silent = p.heartbeats
                && p.ever_connected
                && p.channel_open
                && p.channel_heard_at
                    .is_some_and(|h| now >= h + CHANNEL_SILENCE_MS);
            if channel_silent && p.bad_since.is_none() {
                // Bad since the last word we heard, so a peer that answers over signaling after
                // that (an ICE restart) counts as heard, and a frozen one does not.
                p.bad_since = p.channel_heard_at;
                p.state = PeerState::Reconnecting;
                updated.push(p.key);
            }
            let Some(since) = p.bad_since else { continue };
            let heard = self.last_heard.get(&p.key).is_some_and(|&t| t >= since);
            let listening = self.signaling_up_since.map(|t| t.max(since));
            if p.ever_connected && !heard && listening.is_some_and(|t| now >= t + SILENT_PEER_MS) {
                remove.push(p.key);
                continue;
            }
            if now >= since + GIVE_UP_MS {
                fail.push(p.key);
                continue;
            }
            let lost = match p.conn {
                ConnState::Failed => true,
                ConnState::Disconnected => now >= since + DISCONNECTED_RESTART_MS,
                _ => channel_silent,
            };
            // The impolite side restarts first; the polite one steps in if that never came.
            let our_turn = !p.polite || now >= since + POLITE_RESTART_MS;
            if lost && our_turn {
                Self::restart_ice(p, now, out);
            }
        }
        // A tile that fails or goes in this same tick gets no separate update.
        for key in updated {
            if !fail.contains(&key) && !remove.contains(&key) {
                out.push(Command::PeerUpdated { key });
            }
        }
        for key in fail {
            self.fail(key, out);
        }
        for key in remove {
            self.remove(key, out);
        }
    }

    /// The peer cannot go on: close its connection, show it failed for a moment.
    fn fail(&mut self, key: PeerKey, out: &mut Vec<Command>) {
        let now = self.now;
        let Some(p) = self.peers.get_mut(&key) else {
            return;
        };
        if p.state == PeerState::Failed {
            return;
        }
        p.state = PeerState::Failed;
        p.failed_at = Some(now);
        p.channel_open = false;
        p.making_offer = false;
        p.pending_candidates.clear();
        out.push(Command::ClosePeer { key });
        out.push(Command::PeerUpdated { key });
    }

    fn remove(&mut self, key: PeerKey, out: &mut Vec<Command>) {
        let Some(p) = self.peers.remove(&key) else {
            return;
        };
        self.unconfirmed.remove(&key);
        self.last_heard.remove(&key);
        if self.by_signaling_id.get(&p.signaling_id) == Some(&key) {
            self.by_signaling_id.remove(&p.signaling_id);
        }
        if p.state != PeerState::Failed {
            out.push(Command::ClosePeer { key });
        }
        out.push(Command::PeerRemoved { key });
    }

    /// Everything goes (leave): close every connection.
    pub fn close_all(&mut self) -> Vec<Command> {
        let mut out = Vec::new();
        let keys: Vec<PeerKey> = self.peers.keys().copied().collect();
        for key in keys {
            self.remove(key, &mut out);
        }
        self.orphan_candidates.clear();
        self.deferred_joins.clear();
        out
    }
}

/// Names come from other people's browsers: no control characters, bounded length.
fn clean_name(name: &str) -> String {
    name.chars()
        .filter(|c| !c.is_control())
        .take(MAX_NAME_CHARS)
        .collect::<String>()
        .trim()
        .to_owned()
}
