//! One remote peer as the room brain sees it: its negotiation flags (MDN "perfect negotiation"),
//! what it told us over the data channel, and the timestamps that drive ICE restarts.

use meshcall_protocol::PeerId;

/// Stable local handle of a peer. Unlike the signaling id it never changes while the connection
/// lives, so the UI and the browser edge key everything by it.
pub type PeerKey = u32;

/// What a tile shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PeerState {
    /// First negotiation or first ICE connectivity check still running.
    Connecting,
    Connected,
    /// Was connected, lost media path; an ICE restart is under way.
    Reconnecting,
    /// Given up; the tile goes away shortly.
    Failed,
}

impl PeerState {
    /// The `data-state` value of the UI contract.
    pub fn as_str(self) -> &'static str {
        match self {
            PeerState::Connecting => "connecting",
            PeerState::Connected => "connected",
            PeerState::Reconnecting => "reconnecting",
            PeerState::Failed => "failed",
        }
    }
}

/// `RTCPeerConnection.connectionState`, as the edge reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConnState {
    New,
    Connecting,
    Connected,
    Disconnected,
    Failed,
    Closed,
}

/// Our view of the connection's signaling state. `RemoteOffer` is entered as soon as we decide to
/// accept an offer (the edge runs operations in order, so nothing can overtake it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Signaling {
    Stable,
    LocalOffer,
    RemoteOffer,
}

/// What a tile renders; cheap to clone and compare.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PeerView {
    pub name: String,
    pub mic: bool,
    pub cam: bool,
    pub state: PeerState,
}

#[derive(Debug, Clone)]
pub struct Peer {
    pub key: PeerKey,
    /// Where signals for this peer go; changes when the peer's socket reconnects (`Rebind`).
    pub signaling_id: PeerId,
    /// Polite peers yield on glare (roll back their offer); derived from the ids at creation.
    pub polite: bool,
    pub name: String,
    pub mic: bool,
    pub cam: bool,
    pub state: PeerState,
    pub(crate) making_offer: bool,
    pub(crate) signaling: Signaling,
    pub(crate) ignore_offer: bool,
    pub(crate) has_remote_description: bool,
    pub(crate) pending_candidates: Vec<String>,
    pub(crate) negotiated_once: bool,
    /// `o=` session id of the remote SDP: a different one means a different remote connection.
    pub(crate) remote_session: Option<String>,
    pub(crate) conn: ConnState,
    pub(crate) ever_connected: bool,
    pub(crate) channel_open: bool,
    pub(crate) created_at: u64,
    pub(crate) bad_since: Option<u64>,
    pub(crate) last_restart: Option<u64>,
    pub(crate) failed_at: Option<u64>,
    /// The server said this peer's socket left while our connection still worked: it may be
    /// reconnecting its signaling and `Rebind` shortly.
    pub(crate) signaling_left_at: Option<u64>,
    /// We asked "still there?" after `PeerLeft` and have no answer yet.
    pub(crate) awaiting_pong: bool,
    /// When the data channel last carried a message from the peer.
    pub(crate) channel_heard_at: Option<u64>,
    /// The peer sends heartbeats, so its channel's silence means something.
    pub(crate) heartbeats: bool,
}

impl Peer {
    pub(crate) fn new(key: PeerKey, signaling_id: PeerId, polite: bool, now: u64) -> Self {
        Peer {
            key,
            signaling_id,
            polite,
            name: String::new(),
            // Assume media on until the peer's hello says otherwise, as a call app shows a face
            // rather than a placeholder while the channel opens.
            mic: true,
            cam: true,
            state: PeerState::Connecting,
            making_offer: false,
            signaling: Signaling::Stable,
            ignore_offer: false,
            has_remote_description: false,
            pending_candidates: Vec::new(),
            negotiated_once: false,
            remote_session: None,
            conn: ConnState::New,
            ever_connected: false,
            channel_open: false,
            created_at: now,
            bad_since: None,
            last_restart: None,
            failed_at: None,
            signaling_left_at: None,
            awaiting_pong: false,
            channel_heard_at: None,
            heartbeats: false,
        }
    }

    pub fn view(&self) -> PeerView {
        PeerView {
            name: self.name.clone(),
            mic: self.mic,
            cam: self.cam,
            state: self.state,
        }
    }

    /// Ready to start an offer right now (nothing in flight).
    pub(crate) fn can_offer(&self) -> bool {
        !self.making_offer && self.signaling == Signaling::Stable && self.state != PeerState::Failed
    }
}

/// The session id of an SDP's `o=` line (`o=- <sess-id> <sess-version> IN IP4 ...`).
pub(crate) fn sdp_session_id(sdp: &str) -> Option<&str> {
    sdp.lines()
        .find_map(|line| line.trim().strip_prefix("o="))
        .and_then(|origin| origin.split_whitespace().nth(1))
}
