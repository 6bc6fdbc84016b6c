//! The room brain's unit tests, one file per concern like the brain itself; the helpers here drive
//! a room through the common steps.

mod admission;
mod channel;
mod chat;
mod files;
mod hand;
mod identity;
mod link;
mod liveness;
mod negotiation;
mod relay;
mod share;
mod uplink;
// proptest is a native-only dev-dependency: the wasm test build must not see this module.
#[cfg(not(target_arch = "wasm32"))]
mod proptests;

pub(super) use super::*;
pub(super) use meshcall_protocol::{PeerMessage, PeerSignal};

pub(super) const OFFER_A: &str = "v=0\r\no=- 111 2 IN IP4 127.0.0.1\r\ns=-\r\n";
pub(super) const OFFER_A2: &str = "v=0\r\no=- 111 3 IN IP4 127.0.0.1\r\ns=-\r\n";
pub(super) const OFFER_OTHER_PC: &str = "v=0\r\no=- 999 2 IN IP4 127.0.0.1\r\ns=-\r\n";
pub(super) const ANSWER_B: &str = "v=0\r\no=- 222 2 IN IP4 127.0.0.1\r\ns=-\r\n";

/// Our connection's fingerprints towards `them` (and theirs, reversed), as the edge reads them.
pub(super) fn fingerprints(them: &str) -> crate::trust::Fingerprints {
    crate::trust::Fingerprints::new(("sha-256", "AA:AA"), ("sha-256", them))
}

/// The pair tokens of the connection to `them`: the one we drew, and the one it sent us.
pub(super) fn my_token(them: &str) -> String {
    format!("mine-{them}")
}
pub(super) fn their_token(them: &str) -> String {
    format!("theirs-{them}")
}

/// A signal that proves the peer we gave `token` now has the id `from`.
pub(super) fn rebind_proof(from: &str, token: &str) -> Event {
    signal(
        from,
        PeerSignal::Rebind(crate::trust::rebind_mac(token, from)),
    )
}

/// The edge read the fingerprints of `key`'s connection (to `them`) and drew our token.
pub(super) fn secured(key: PeerKey, them: &str) -> Event {
    Event::Secured {
        key,
        fingerprints: fingerprints(them),
        token: my_token(them),
    }
}

/// A message from `key`'s data channel.
pub(super) fn message(key: PeerKey, m: &PeerMessage) -> Event {
    Event::ChannelMessage {
        key,
        text: serde_json::to_string(m).unwrap(),
    }
}

pub(super) fn room(id: &str) -> Room {
    let mut r = Room::new("me", true, true);
    assert!(r.step(0, Event::IdAssigned(id.into())).is_empty());
    r
}

pub(super) fn signal(from: &str, s: PeerSignal) -> Event {
    Event::Signal {
        from: from.into(),
        data: s.to_value(),
    }
}

pub(super) fn cand(n: u32) -> String {
    format!(r#"{{"candidate":"candidate:{n} 1 udp 1 10.0.0.1 {n} typ host","sdpMid":"0"}}"#)
}

/// What the room commands when a peer goes: its connection closed, its tile removed.
pub(super) fn removal(key: PeerKey, why: Why) -> Vec<Command> {
    vec![
        Command::ClosePeer { key, why },
        Command::PeerRemoved { key },
    ]
}

/// Whether `out` closes a connection or removes a peer.
pub(super) fn loses_a_peer(out: &[Command]) -> bool {
    out.iter()
        .any(|c| matches!(c, Command::ClosePeer { .. } | Command::PeerRemoved { .. }))
}

/// Nothing happens a millisecond before `at`; at `at` the peer `key` goes, for `why`.
pub(super) fn gone_exactly_at(r: &mut Room, at: u64, key: PeerKey, why: Why) {
    assert!(
        r.step(at - 1, Event::Tick).is_empty(),
        "{key} went before {at}"
    );
    assert_eq!(
        r.step(at, Event::Tick),
        removal(key, why),
        "{key} goes at {at}"
    );
}

/// An existing peer `me` and newcomer `them` complete a first negotiation, open the channel and
/// swap pair tokens (an open room); returns the key.
pub(super) fn connected(r: &mut Room, them: &str) -> PeerKey {
    r.step(0, Event::PeerJoined(them.into()));
    let key = r.key_of(them).unwrap();
    r.step(
        0,
        Event::LocalDescription {
            key,
            kind: SdpKind::Offer,
            sdp: OFFER_A.into(),
        },
    );
    r.step(0, signal(them, PeerSignal::Answer(ANSWER_B.into())));
    r.step(
        0,
        Event::ConnectionState {
            key,
            state: ConnState::Connected,
        },
    );
    r.step(0, Event::ChannelOpen(key));
    r.step(0, secured(key, them));
    r.step(
        0,
        message(
            key,
            &PeerMessage::Proof {
                token: their_token(them),
                key_id: None,
                mac: None,
            },
        ),
    );
    key
}
