//! The room brain: a pure state machine `step(now, event) -> commands` over the table of peers.
//! It must never touch the browser: the edges in `rtc/` and `signaling/` turn callbacks into
//! [`Event`]s and run its [`Command`]s. This module only routes each event to the concern it is
//! for, each in its own module with its own per-peer state (str0m's layout, STYLE.md):
//!
//! - [`negotiation`]: who offers, perfect negotiation, early candidates, ICE restarts;
//! - [`identity`]: signaling ids, our reconnects, peers that rebind under a new id;
//! - [`liveness`]: connection states, heartbeats and silence, the timers that give up;
//! - [`channel`]: the data channel's hello and media state, and routing its messages;
//! - [`admission`]: who gets our media: the room key's proof, pair tokens, safety codes;
//! - [`budget`]: how much one peer may make us do;
//! - [`chat`]: chat lines out and in, and the log the call keeps;
//! - [`files`]: what a file sent to us may be, and how each transfer stands;
//! - [`hand`]: raised hands, ours and the peers', in the order raised;
//! - [`share`]: screen shares, ours announced and the peers' told apart from their cameras;
//! - [`relay`]: why a connection that needs the TURN server cannot get through it;
//! - [`uplink`]: what each sender may send, so the whole mesh fits one upload budget;
//! - [`link`]: who speaks and how good each connection is, judged from its `getStats()` (no events).
//!
//! A new feature (chat, files, screen share) gets a module of its own here, not arms in `step`.

mod admission;
mod budget;
mod channel;
mod chat;
mod event;
mod files;
mod hand;
mod identity;
mod link;
mod liveness;
mod negotiation;
mod peer;
mod relay;
mod share;
#[cfg(test)]
mod tests;
mod uplink;

// The peer tables are sorted Vecs: a room holds a handful of peers, and BTreeMap's and HashMap's
// own code cost the app's wasm about 6 KB gzipped (README "Download size").
use litemap::LiteMap;

use meshcall_protocol::PeerId;

use crate::trust::RoomKey;

pub use admission::{Notice, Verdict, ADMISSION_TIMEOUT_MS};
pub use budget::{CHANNEL_BURST, CHANNEL_CUT_AFTER, CHANNEL_PER_SEC};
pub use channel::MAX_NAME_CHARS;
pub use chat::{clean_chat, ChatLine, ChatLog, CHAT_HISTORY, MAX_CHAT_CHARS};
pub use event::{Command, Event, SdpKind, Why};
pub use files::{
    admit, clean_file_name, mb, sent, Announce, Arriving, FileEntry, FileState, Leg, Refusal,
    CHUNK, DEFAULT_MAX_FILE_MB, KEEP_FILES, MAX_ARRIVING_PER_PEER, MAX_FILE_NAME_CHARS, RECEIVED,
    STALL_MS,
};
pub use identity::{PONG_TIMEOUT_MS, REBIND_GRACE_MS, REBIND_WAIT_MS};
pub use link::{due, Grade, Link, LinkView, Sample};
pub use liveness::{
    CHANNEL_SILENCE_MS, CONNECTING_CAP_MS, CONNECT_TIMEOUT_MS, DISCONNECTED_RESTART_MS,
    FAILED_TILE_MS, GIVE_UP_MS, MEDIA_ARRIVING_MS, MEDIA_FRESH_MS, MEDIA_UNREAD_MS,
    POLITE_RESTART_MS, PROBE_ANSWER_MS, PROBE_QUIET_MS, PROBE_REPLY_MS, QUIET_READ_MS,
    TICK_LATE_MS, TICK_MS,
};
pub use negotiation::RESTART_GAP_MS;
pub use peer::{ConnState, Peer, PeerKey, PeerState, PeerView};
pub use relay::TURN_UNAUTHORIZED;
pub use share::MAX_STREAM_ID_CHARS;
pub use uplink::{
    camera_scale, limit_for, plan, sized, tile_kbps, Encoder, SendLimit, Want, DEFAULT_UPLOAD_KBPS,
    ENCODER_PERCENT, LIMIT_RETRIES, RESERVED_KBPS, SCREEN_MAX_KBPS, SHORT_PERCENT, SHORT_READINGS,
    SHOWN_STEP, USED_PERCENT, VIDEO_MAX_KBPS, VIDEO_MIN_KBPS,
};

/// The room as we see it: our own id and media, and every remote peer by stable key.
#[derive(Debug, Default)]
pub struct Room {
    /// Our signaling id (identity).
    my_id: Option<PeerId>,
    /// What our `hello` says (channel).
    name: String,
    mic: bool,
    cam: bool,
    /// Hand: since when ours is up.
    hand: Option<u64>,
    /// Share: the stream id of our screen share, while we share.
    share: Option<String>,
    /// Channel: we are speaking, as we last told the peers.
    speaking: bool,
    now: u64,
    next_key: PeerKey,
    peers: LiteMap<PeerKey, Peer>,
    /// Identity: the key behind each signaling id.
    by_signaling_id: LiteMap<PeerId, PeerKey>,
    /// Negotiation: candidates from senders we do not know yet.
    orphan_candidates: LiteMap<PeerId, Vec<String>>,
    /// Identity: connected peers whose signaling id may have changed since our socket reconnected
    /// (at the time given), until their `Rebind` or `Hello` says which id they have now.
    unconfirmed: LiteMap<PeerKey, u64>,
    /// Liveness: since when our signaling socket is up (None while it is down).
    signaling_up_since: Option<u64>,
    /// Liveness: when each peer last sent us a signal.
    last_heard: LiteMap<PeerKey, u64>,
    /// Liveness: when the last tick came (a late one means our page was not running).
    last_tick: Option<u64>,
    /// Identity: `NewPeer`s held back while a rebind may claim them (id, when announced).
    deferred_joins: Vec<(PeerId, u64)>,
    /// Identity: connected peers that told us their signaling dropped (when), until they rebind.
    moving: LiteMap<PeerKey, u64>,
    /// Admission: the room's key, if the link had one; then only peers that prove it get in.
    key: Option<RoomKey>,
    /// Admission: ids we turned away (oldest first, bounded).
    refused: Vec<PeerId>,
    /// Relay: the operator forces every connection through TURN.
    relay_only: bool,
    /// Uplink: the total upload budget in kbit/s.
    upload_kbps: u32,
    /// Uplink: the longer side of our camera's picture (0: none, or not said).
    camera_side: u32,
}

impl Room {
    pub fn new(name: impl Into<String>, mic: bool, cam: bool) -> Self {
        Room {
            name: name.into(),
            mic,
            cam,
            upload_kbps: uplink::DEFAULT_UPLOAD_KBPS,
            ..Room::default()
        }
    }

    /// A room only those with `key` enter (`None`: an open room, as [`Room::new`] makes).
    pub fn with_key(mut self, key: Option<RoomKey>) -> Self {
        self.key = key;
        self
    }

    /// Whether only peers that prove the room key get our media.
    pub fn has_key(&self) -> bool {
        self.key.is_some()
    }

    pub fn my_id(&self) -> Option<&str> {
        self.my_id.as_deref()
    }

    pub fn peer(&self, key: PeerKey) -> Option<&Peer> {
        self.peers.get(&key)
    }

    /// The peer, unless we failed it: its connection is closed already, so a late event from it
    /// is stale and nothing it asks is answered.
    fn live_peer(&self, key: PeerKey) -> Option<&Peer> {
        self.peers
            .get(&key)
            .filter(|p| p.state != PeerState::Failed)
    }

    /// [`Room::live_peer`], to change.
    fn live_peer_mut(&mut self, key: PeerKey) -> Option<&mut Peer> {
        self.peers
            .get_mut(&key)
            .filter(|p| p.state != PeerState::Failed)
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
        // A new peer's tile is made once our first description to it is out, or at the next tick.
        let reveal = match &event {
            Event::LocalDescription { key, .. } => Some(Some(*key)),
            Event::Tick => Some(None),
            _ => None,
        };
        match event {
            Event::IdAssigned(id) => self.on_id_assigned(id, &mut out),
            Event::SignalingLost => self.on_signaling_lost(&mut out),
            Event::PeerJoined(id) => self.on_peer_joined(id, &mut out),
            Event::PeerLeft(id) => self.on_peer_left(id, &mut out),
            Event::Signal { from, data } => self.on_signal(from, data, &mut out),
            Event::NegotiationNeeded(key) => self.on_negotiation_needed(key, &mut out),
            Event::LocalDescription { key, kind, sdp } => {
                self.on_local_description(key, kind, sdp, &mut out)
            }
            Event::LocalCandidate { key, candidate } => {
                self.on_local_gathered(key);
                self.on_local_candidate(key, candidate, &mut out)
            }
            Event::IceServerError { key, code } => self.on_ice_server_error(key, code, &mut out),
            Event::GatheringDone(key) => self.on_gathering_done(key, &mut out),
            Event::NegotiationFailed { key, .. } => {
                self.fail(key, Why::NegotiationFailed, &mut out)
            }
            Event::ConnectionState { key, state } => self.on_connection_state(key, state, &mut out),
            Event::ChannelOpen(key) => self.on_channel_open(key, &mut out),
            Event::Secured {
                key,
                fingerprints,
                token,
            } => self.on_secured(key, fingerprints, token, &mut out),
            Event::ChannelClosed(key) => self.on_channel_closed(key, &mut out),
            Event::ChannelMessage { key, text } => self.on_channel_message(key, &text, &mut out),
            Event::LocalMedia { mic, cam } => self.on_local_media(mic, cam, &mut out),
            Event::LocalSpeaking(on) => self.on_local_speaking(on, &mut out),
            Event::SendChat(text) => self.on_send_chat(&text, &mut out),
            Event::RaiseHand(up) => self.on_raise_hand(up, &mut out),
            Event::LocalShare(stream) => self.on_local_share(stream, &mut out),
            Event::Shown { key, width, height } => self.tell_shown(key, width, height, &mut out),
            Event::Flow {
                key,
                received,
                media_age,
                encoder,
            } => {
                self.on_flow(key, received, media_age);
                self.on_encoder(key, encoder);
            }
            Event::Camera { long_side } => self.on_camera(long_side),
            Event::LimitFailed(key) => self.on_limit_failed(key),
            Event::Tick => {
                let late = self.on_tick_time();
                self.run_deferred_joins(&mut out);
                self.check_admissions(&mut out);
                self.check_peers(late, &mut out);
            }
            Event::Heartbeat => self.on_heartbeat(&mut out),
        }
        if let Some(which) = reveal {
            for (_, p) in self.peers.iter_mut() {
                if !p.on_screen && which.is_none_or(|k| k == p.key) {
                    p.on_screen = true;
                    out.push(Command::PeerUpdated { key: p.key });
                }
            }
        }
        // The one place that keeps tiles to admitted peers: whatever changed about a peer that
        // has not proven the room key (or is gone by now), no tile is made or updated for it;
        // nor before its first description went out (`Peer::on_screen`).
        out.retain(|c| match c {
            Command::PeerUpdated { key } => self
                .peers
                .get(key)
                .is_some_and(|p| p.admission.admitted() && p.on_screen),
            _ => true,
        });
        out
    }

    /// The peer cannot go on: close its connection, show it failed for a moment.
    fn fail(&mut self, key: PeerKey, why: Why, out: &mut Vec<Command>) {
        let now = self.now;
        if self.live_peer(key).is_some() {
            self.explain_failure(key, out);
        }
        let Some(p) = self.peers.get_mut(&key) else {
            return;
        };
        if p.state == PeerState::Failed {
            return;
        }
        p.state = PeerState::Failed;
        p.liveness.failed_at = Some(now);
        p.channel_open = false;
        p.negotiation.stop();
        out.push(Command::ClosePeer { key, why });
        out.push(Command::PeerUpdated { key });
    }

    fn remove(&mut self, key: PeerKey, why: Why, out: &mut Vec<Command>) {
        let Some(p) = self.peers.remove(&key) else {
            return;
        };
        self.unconfirmed.remove(&key);
        self.moving.remove(&key);
        self.last_heard.remove(&key);
        if self.by_signaling_id.get(&p.signaling_id) == Some(&key) {
            self.by_signaling_id.remove(&p.signaling_id);
        }
        if p.state != PeerState::Failed {
            out.push(Command::ClosePeer { key, why });
        }
        out.push(Command::PeerRemoved { key });
    }

    /// Everything goes (leave): close every connection.
    pub fn close_all(&mut self) -> Vec<Command> {
        let mut out = Vec::new();
        let keys: Vec<PeerKey> = self.peers.keys().copied().collect();
        for key in keys {
            self.remove(key, Why::Leaving, &mut out);
        }
        self.orphan_candidates.clear();
        self.deferred_joins.clear();
        out
    }
}
