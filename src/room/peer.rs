//! One remote peer as the room brain sees it: what its tile shows, and the state each concern
//! keeps about it ([`Negotiation`], [`Liveness`], [`Socket`]), each changed only by its module.

use meshcall_protocol::PeerId;

use super::admission::Admission;
use super::budget::Budget;
use super::identity::Socket;
use super::liveness::Liveness;
use super::negotiation::Negotiation;
use super::relay::Relay;
use super::uplink::{Carried, SendLimit, Want};

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

/// What a tile renders; cheap to clone and compare.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PeerView {
    pub name: String,
    pub mic: bool,
    pub cam: bool,
    pub state: PeerState,
    /// When its hand went up (our clock, ms; before our page loaded: negative), if it is up.
    pub hand: Option<i64>,
    /// It shares its screen: a tile of its own.
    pub share: bool,
    /// The connection's safety code, once its fingerprints are known: the same digits on the
    /// other end unless something in between replaced them.
    pub safety_code: Option<String>,
    /// Whether it says it is speaking; `None` until it tells (an older version never does).
    pub speaking: Option<bool>,
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
    /// When its hand went up, on our clock (hand).
    pub hand: Option<i64>,
    /// The stream id of its screen share (share).
    pub share: Option<String>,
    /// What it last told us of its speaking (channel), if it tells.
    pub speaking: Option<bool>,
    /// The data channel is open (and the peer not failed).
    pub(crate) channel_open: bool,
    pub(crate) negotiation: Negotiation,
    pub(crate) liveness: Liveness,
    pub(crate) socket: Socket,
    pub(crate) admission: Admission,
    /// What its data channel may still make us do.
    pub(crate) budget: Budget,
    /// The last new id it told us it has, which we answered with our rebind proof.
    pub(crate) hinted: Option<PeerId>,
    /// What its connection learnt about reaching the TURN server.
    pub(crate) relay: Relay,
    /// The limit its video sender was given last (uplink).
    pub(crate) send_limit: Option<SendLimit>,
    /// Times the browser refused that limit (uplink).
    pub(crate) limit_refusals: u8,
    /// What it asks of our uplink: the size it says it shows our camera at (uplink).
    pub(crate) want: Want,
    /// What our connection to it said it can send, the last few readings (uplink).
    pub(crate) carried: Carried,
    /// The size we last told it we show its camera at (uplink).
    pub(crate) told_shown: Option<(u32, u32)>,
    /// Its tile may be made: our first offer or answer to it went out, or a tick passed since it
    /// came. Rendering a new tile took 10-30 ms of the main thread, which held back that
    /// description and so everybody's first face (docs/join-timeline.md).
    pub(crate) on_screen: bool,
}

impl Peer {
    /// `keyed`: the room has a key, so the peer must prove it before it gets anything.
    pub(crate) fn new(
        key: PeerKey,
        signaling_id: PeerId,
        polite: bool,
        keyed: bool,
        now: u64,
    ) -> Self {
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
            hand: None,
            share: None,
            speaking: None,
            channel_open: false,
            negotiation: Negotiation::new(Vec::new()),
            liveness: Liveness::new(now),
            socket: Socket::Present,
            admission: Admission::new(keyed),
            budget: Budget::new(now),
            hinted: None,
            relay: Relay::default(),
            send_limit: None,
            limit_refusals: 0,
            want: Want::default(),
            carried: Carried::default(),
            told_shown: None,
            on_screen: false,
        }
    }

    pub fn view(&self) -> PeerView {
        PeerView {
            name: self.name.clone(),
            mic: self.mic,
            cam: self.cam,
            state: self.state,
            hand: self.hand,
            share: self.share.is_some(),
            safety_code: self.admission.safety_code.clone(),
            speaking: self.speaking,
        }
    }

    /// The connection has been up at some point. Only a connected peer is ever shown
    /// reconnecting, so the tile's state says it (a failed peer is never asked).
    pub(crate) fn ever_connected(&self) -> bool {
        matches!(self.state, PeerState::Connected | PeerState::Reconnecting)
    }
}
