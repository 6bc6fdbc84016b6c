//! Relay: telling the person, within a second or two, why a connection that needs the TURN server
//! cannot get through it, instead of a tile that says "connecting" until it is given up. It owns
//! each peer's [`Relay`] and the room's `relay_only` setting; it never fails or restarts a peer
//! itself (liveness does).
//!
//! A connection needs the relay when the operator forces relay (`iceTransportPolicy: "relay"`), or
//! when it never connected any other way. The causes come from the edge: the browser's
//! `icecandidateerror` (401 is the TURN server refusing the credentials, after the usual challenge
//! round) and the end of candidate gathering.

use super::{Command, Notice, PeerKey, Room};

/// STUN/TURN's "Unauthorized" (RFC 8489 14.8): the browser reports it only when the credentials
/// themselves were refused, not for the first challenge of every allocation.
pub const TURN_UNAUTHORIZED: u16 = 401;

/// What one peer's connection learnt about reaching the relay.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Relay {
    /// An ICE server answered with an error (or never answered).
    trouble: bool,
    /// The error was the TURN server refusing our credentials.
    refused: bool,
    /// At least one local candidate was gathered (under relay-only: a relay address).
    gathered: bool,
    /// The person has been told about this connection.
    told: bool,
}

impl Relay {
    /// The notice that explains why this connection cannot use the relay, once.
    fn notice(&mut self) -> Option<Notice> {
        if self.told {
            return None;
        }
        self.told = true;
        Some(if self.refused {
            Notice::RelayRefused
        } else {
            Notice::RelayUnreachable
        })
    }
}

impl Room {
    /// Every connection goes through TURN (the operator's `iceTransportPolicy: "relay"`).
    pub fn relay_only(mut self, relay_only: bool) -> Self {
        self.relay_only = relay_only;
        self
    }

    pub(super) fn on_local_gathered(&mut self, key: PeerKey) {
        if let Some(p) = self.peers.get_mut(&key) {
            p.relay.gathered = true;
        }
    }

    /// `icecandidateerror`: an ICE server failed us. Under relay-only a refusal is the whole story
    /// at once (no other path may be tried); otherwise it is kept for the case the connection
    /// never comes up.
    pub(super) fn on_ice_server_error(&mut self, key: PeerKey, code: u16, out: &mut Vec<Command>) {
        let relay_only = self.relay_only;
        let Some(p) = self.peers.get_mut(&key) else {
            return;
        };
        p.relay.trouble = true;
        if code == TURN_UNAUTHORIZED {
            p.relay.refused = true;
            if relay_only && !p.ever_connected() {
                out.extend(p.relay.notice().map(Command::Notice));
            }
        }
    }

    /// Gathering ended: under relay-only, no candidate at all means no relay address, and no
    /// connection can ever come up.
    pub(super) fn on_gathering_done(&mut self, key: PeerKey, out: &mut Vec<Command>) {
        let relay_only = self.relay_only;
        if let Some(p) = self.peers.get_mut(&key) {
            if relay_only && !p.relay.gathered && !p.ever_connected() {
                out.extend(p.relay.notice().map(Command::Notice));
            }
        }
    }

    /// The peer failed before it ever connected: if an ICE server failed it too, say so (without
    /// a relay error the cause is elsewhere, and the failed tile says enough).
    pub(super) fn explain_failure(&mut self, key: PeerKey, out: &mut Vec<Command>) {
        if let Some(p) = self.peers.get_mut(&key) {
            if p.relay.trouble && !p.ever_connected() {
                out.extend(p.relay.notice().map(Command::Notice));
            }
        }
    }
}
