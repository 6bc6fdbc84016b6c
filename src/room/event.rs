//! What goes into the room brain ([`Event`]) and what comes out ([`Command`]). Plain data: the
//! edges build events from browser and server callbacks and run the commands, in order.

use meshcall_protocol::{PeerId, PeerMessage, PeerSignal};
use serde_json::Value;

use super::{ConnState, Encoder, Notice, PeerKey, SendLimit};
use crate::trust::Fingerprints;

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
    /// `icecandidateerror`: a STUN or TURN server answered with an error `code` (401: the TURN
    /// server refused our credentials) or not at all (7xx).
    IceServerError {
        key: PeerKey,
        code: u16,
    },
    /// Candidate gathering of the connection finished (`iceGatheringState` "complete").
    GatheringDone(PeerKey),
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
    /// The edge read the connection's DTLS fingerprints ([`Command::Secure`]) and drew `token`,
    /// a fresh random secret for this pair.
    Secured {
        key: PeerKey,
        fingerprints: Fingerprints,
        token: String,
    },
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
    /// We started sharing our screen (its stream's id) or stopped.
    LocalShare(Option<String>),
    /// We started speaking (our microphone's level as we send it) or stopped: told to the peers,
    /// who then need not read our audio each second to mark us.
    LocalSpeaking(bool),
    /// The person raised (`true`) or lowered their hand.
    RaiseHand(bool),
    /// The person sends a chat line to everyone.
    SendChat(String),
    /// We show the peer's camera at `width` x `height` device pixels (0 x 0: not at all).
    Shown {
        key: PeerKey,
        width: u32,
        height: u32,
    },
    /// A connection's counters as `getStats()` read them (each second, or at rest every 5 s):
    /// the media bytes received from the peer so far, how long ago (ms) its last packet came
    /// (None: not said, or none yet), and our camera's encoder on it (None: none, or not told
    /// apart).
    Flow {
        key: PeerKey,
        received: u64,
        media_age: Option<u64>,
        encoder: Option<Encoder>,
    },
    /// Our camera's picture is `long_side` pixels along its longer side (0: no camera): at the
    /// start of a call and after a switch of camera.
    Camera {
        long_side: u32,
    },
    /// Putting the limits of [`Command::LimitSend`] on the peer's senders failed.
    LimitFailed(PeerKey),
    /// Time passes (timers are checked here, never inside the edge).
    Tick,
    /// Send every open data channel a `Beat` (the edge does so about once a second), so that
    /// the other side can tell silence from a quiet call.
    Heartbeat,
}

/// Why a peer's connection is closed: the page logs it, so a peer that vanished from a call says
/// which rule took it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Why {
    /// We leave the call.
    Leaving,
    /// Its signaling socket left the room (and, if its connection was up, its channel did not
    /// answer in time).
    Left,
    /// It closed its data channel: it hung up or reloaded.
    HungUp,
    /// It sent more over its channel than a peer may.
    Flooding,
    /// It sent a signal that is not one.
    Garbage,
    /// The browser rejected a step of the negotiation.
    NegotiationFailed,
    /// Its first connection never came up (no `connected`, no channel, no media) in
    /// [`CONNECT_TIMEOUT_MS`](super::CONNECT_TIMEOUT_MS).
    NeverConnected,
    /// Its path stayed lost (no media either) for [`GIVE_UP_MS`](super::GIVE_UP_MS).
    Lost,
    /// Its path went bad and it did not answer our question over signaling
    /// ([`PeerSignal::Probe`](meshcall_protocol::PeerSignal::Probe)) while our signaling was up.
    Vanished,
    /// Turned away: no room key, or another one.
    Refused,
    /// Our socket came back under a new id before this connection was up: the peer calls us again.
    Rebound,
    /// Its id now belongs to another connection of ours: that one proved it is the peer.
    Replaced,
}

impl std::fmt::Display for Why {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Why::Leaving => "we left",
            Why::Left => "its socket left the room",
            Why::HungUp => "it closed its channel",
            Why::Flooding => "it flooded its channel",
            Why::Garbage => "it sent a malformed signal",
            Why::NegotiationFailed => "negotiation failed",
            Why::NeverConnected => "its first connection never came up",
            Why::Lost => "its path stayed lost",
            Why::Vanished => "it went quiet and did not answer whether it was still there",
            Why::Refused => "turned away (room key)",
            Why::Rebound => "our id changed before it connected",
            Why::Replaced => "another connection of ours is this peer",
        })
    }
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
    /// Read the connection's DTLS fingerprints (`getStats`) and draw a random pair token, then
    /// report both with [`Event::Secured`].
    Secure {
        key: PeerKey,
    },
    /// The peer proved it has the room key: send it our tracks (in a room with a key, every
    /// connection starts with its senders empty).
    AllowMedia {
        key: PeerKey,
    },
    /// Give the connection's video sender this limit (`setParameters`, no renegotiation).
    LimitSend {
        key: PeerKey,
        limit: SendLimit,
    },
    /// Something the person must be told about the room (not about one tile).
    Notice(Notice),
    /// Close the connection and release everything it holds. The tile may stay (failed).
    ClosePeer {
        key: PeerKey,
        why: Why,
    },
    /// A chat line to show: ours (`from: None`) or an admitted peer's, cleaned.
    Chat {
        from: Option<PeerKey>,
        name: String,
        text: String,
    },
    /// The peer's screen share comes in the stream `stream` (or it stopped sharing): tell its
    /// tracks apart from its camera's.
    RemoteShare {
        key: PeerKey,
        stream: Option<String>,
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
