//! Relay: a TURN server that refuses us, or gives us no address, is said in one line, once per
//! connection, as soon as it is known, and only where the connection needed it.

use super::*;

fn notices(out: &[Command]) -> Vec<Notice> {
    out.iter()
        .filter_map(|c| match c {
            Command::Notice(n) => Some(*n),
            _ => None,
        })
        .collect()
}

fn ice_error(key: PeerKey, code: u16) -> Event {
    Event::IceServerError { key, code }
}

/// We called `them` (it joined after us); nothing has connected.
fn calling(r: &mut Room, them: &str) -> PeerKey {
    r.step(0, Event::PeerJoined(them.into()));
    r.key_of(them).unwrap()
}

#[test]
fn relay_only_says_at_once_that_the_turn_server_refused_our_credentials() {
    let mut r = room("aaa").relay_only(true);
    let k = calling(&mut r, "bbb");
    // A server that is not reachable is not the refusal; the end of gathering decides for those.
    assert!(notices(&r.step(10, ice_error(k, 701))).is_empty());
    assert_eq!(
        notices(&r.step(20, ice_error(k, TURN_UNAUTHORIZED))),
        [Notice::RelayRefused]
    );
    // Once per connection: the second URL's refusal and the end of gathering add nothing.
    assert!(notices(&r.step(30, ice_error(k, TURN_UNAUTHORIZED))).is_empty());
    assert!(notices(&r.step(40, Event::GatheringDone(k))).is_empty());
    // Another connection refused too counts again (the line says how many).
    let k2 = calling(&mut r, "ccc");
    assert_eq!(
        notices(&r.step(50, ice_error(k2, TURN_UNAUTHORIZED))),
        [Notice::RelayRefused]
    );
}

#[test]
fn relay_only_without_any_relay_address_says_the_relay_is_unreachable() {
    let mut r = room("aaa").relay_only(true);
    let k = calling(&mut r, "bbb");
    r.step(10, ice_error(k, 701));
    assert_eq!(
        notices(&r.step(20, Event::GatheringDone(k))),
        [Notice::RelayUnreachable]
    );

    // A relay address was gathered: however the other servers did, nothing to say.
    let k2 = calling(&mut r, "ccc");
    r.step(
        30,
        Event::LocalCandidate {
            key: k2,
            candidate: cand(1),
        },
    );
    r.step(31, ice_error(k2, 701));
    assert!(notices(&r.step(40, Event::GatheringDone(k2))).is_empty());
}

#[test]
fn without_relay_only_a_refusal_is_said_only_if_the_connection_never_comes_up() {
    let mut r = room("aaa");
    let k = calling(&mut r, "bbb");
    // Direct paths may still work: no line yet.
    assert!(notices(&r.step(10, ice_error(k, TURN_UNAUTHORIZED))).is_empty());
    assert!(notices(&r.step(20, Event::GatheringDone(k))).is_empty());
    // It never connects: when it is given up the person learns why.
    let out = r.step(CONNECT_TIMEOUT_MS, Event::Tick);
    assert_eq!(notices(&out), [Notice::RelayRefused]);
    assert!(out.contains(&Command::ClosePeer {
        key: k,
        why: Why::NeverConnected
    }));

    // A connection that came up directly never blames the relay, even when it is lost later.
    let k2 = connected(&mut r, "ccc");
    r.step(CONNECT_TIMEOUT_MS + 1, ice_error(k2, TURN_UNAUTHORIZED));
    let out = r.step(
        CONNECT_TIMEOUT_MS + 2,
        Event::NegotiationFailed {
            key: k2,
            error: "x".into(),
        },
    );
    assert!(notices(&out).is_empty());
    assert!(out.contains(&Command::ClosePeer {
        key: k2,
        why: Why::NegotiationFailed
    }));

    // A connection failing without any relay error is not the relay's fault either.
    let k3 = calling(&mut r, "ddd");
    let out = r.step(
        CONNECT_TIMEOUT_MS + 3,
        Event::NegotiationFailed {
            key: k3,
            error: "x".into(),
        },
    );
    assert!(notices(&out).is_empty());
}

#[test]
fn relay_only_says_nothing_for_a_connection_already_up() {
    let mut r = room("aaa").relay_only(true);
    let k = connected(&mut r, "bbb");
    // An ICE restart after a working relay, e.g. credentials expired mid-call: the tile's own
    // state (reconnecting, then failed) tells it; not a line about setup.
    assert!(notices(&r.step(10, ice_error(k, TURN_UNAUTHORIZED))).is_empty());
    assert!(notices(&r.step(20, Event::GatheringDone(k))).is_empty());
}
