//! What the connections' readings tell liveness: whether a peer's media still arrives (its last
//! packet's time, else its counters' growth), and which connections the room wants read each
//! second rather than at rest (`room::link::due`).

use super::{Liveness, Voice, PROBE_ANSWER_MS};
use crate::room::{ConnState, PeerKey, PeerState, Room};

/// A peer quiet past [`CHANNEL_SILENCE_MS`](super::CHANNEL_SILENCE_MS) has not lost its path
/// while its media arrives: a packet this recently (by the counters, read every 5 s while all is
/// well and each second once it is quiet) says the path works and the peer's browser runs, only
/// its page is slow to speak (a starved main thread delays its heartbeats, never its audio). A
/// frozen or cut-off peer's media stops with its channel. The same holds for a connection ICE
/// calls `disconnected`: while its media arrives it is neither restarted nor given up.
pub const MEDIA_FRESH_MS: u64 = 2_000;
/// Media stops only by a reading that says so: while no reading has come since the last one that
/// found it arriving (our own page reads the connections one after another, and on a starved
/// machine each `getStats()` takes seconds; a connection at rest is read every 5 s), the media
/// counts as arriving, for at most this long.
pub const MEDIA_UNREAD_MS: u64 = 6_000;
/// A reading finds media arriving when its last packet came this recently.
pub const MEDIA_ARRIVING_MS: u64 = 1_000;
/// A heartbeating peer quiet this long is read each second (its media tells whether it is
/// there) rather than at rest: well before [`PROBE_QUIET_MS`](super::PROBE_QUIET_MS), and past
/// one heartbeat's second.
pub const QUIET_READ_MS: u64 = 1_200;

impl Liveness {
    /// Its media arrives: a packet came within [`MEDIA_FRESH_MS`], or the last reading found it
    /// arriving (within [`MEDIA_ARRIVING_MS`]) and none has come since (within
    /// [`MEDIA_UNREAD_MS`]).
    pub(super) fn media_flows(&self, now: u64) -> bool {
        self.media_fresh(now)
            || self.media_at.is_some_and(|t| {
                self.read_at.is_some_and(|r| r < t + MEDIA_ARRIVING_MS) && now < t + MEDIA_UNREAD_MS
            })
    }

    /// The counters grew within [`MEDIA_FRESH_MS`].
    pub(super) fn media_fresh(&self, now: u64) -> bool {
        self.media_at.is_some_and(|t| now < t + MEDIA_FRESH_MS)
    }
}

impl Room {
    /// The peer's media counters read now: its last packet `age` ms ago, or where the browser
    /// does not say, bytes that grew since the last reading, are a sign of life of its browser
    /// and of the path (a counter that went back is a new receiver: nothing new yet). The age
    /// says when media stopped however long ago the last reading was (a connection at rest is
    /// read every 5 s).
    pub(in crate::room) fn on_flow(&mut self, key: PeerKey, received: u64, age: Option<u64>) {
        let now = self.now;
        if let Some(p) = self.peers.get_mut(&key) {
            let l = &mut p.liveness;
            let arrived = match age {
                Some(age) => Some(now.saturating_sub(age)),
                None => (received > l.received).then_some(now),
            };
            l.media_at = l.media_at.max(arrived);
            l.received = received;
            l.read_at = Some(now);
        }
    }

    /// Whether the peer's connection should be read each second rather than at rest, for what
    /// the room judges from its readings: a connection not (yet) up or looking lost, media not
    /// read yet, a heartbeating peer quiet past [`QUIET_READ_MS`] or asked whether it is there,
    /// or our camera's encoder on it still to judge (`Carried::settled`). A peer gone or
    /// failed is not read.
    pub fn wants_reading(&self, key: PeerKey) -> bool {
        let now = self.now;
        let Some(p) = self.live_peer(key) else {
            return false;
        };
        let l = &p.liveness;
        let quiet = match l.voice {
            Voice::Heartbeats { at } => now >= at + QUIET_READ_MS,
            _ => false,
        };
        p.state != PeerState::Connected
            || l.conn != ConnState::Connected
            || l.bad_since.is_some()
            || l.media_at.is_none()
            || quiet
            || l.probed_at.is_some_and(|t| now < t + PROBE_ANSWER_MS)
            // While we share our screen the plan alone applies (its encoder and the camera's
            // are not told apart): nothing to judge.
            || !(self.share.is_some() || p.carried.settled())
    }
}
