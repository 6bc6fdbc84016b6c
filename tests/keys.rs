//! Private rooms at the edge (issue 11): two sessions with the room key read each other's DTLS
//! fingerprints from `getStats()`, prove the key over the data channel, and only then send media
//! (tracks released with `replaceTrack`); both tiles show the same safety code. A third session
//! without the key, or with another one, is turned away by both: no tile, one notice each, and
//! its connections closed. Needs a non-loopback interface (scripts/netns.sh).
#![cfg(target_arch = "wasm32")]

mod common;

use common::{frames_arrive, keyed_session, only_tile, until, Hub};
use leptos::prelude::WithUntracked;
use meshcall::room::PeerState;
use meshcall::session::Session;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

const KEY: &str = "#wasm-test-room-key-abcdef";

fn no_key_notices(s: &Session) -> u32 {
    s.view().notices.with_untracked(|n| n.no_key)
}

#[wasm_bindgen_test]
async fn invited_sessions_admit_each_other_and_turn_away_the_rest() {
    let hub = Hub::default();
    let ada = keyed_session("Ada", Some(KEY)).await;
    let bob = keyed_session("Bob", Some(KEY)).await;
    hub.join(&ada);
    hub.join(&bob);
    until("both tiles connected, named, with a safety code", 15_000, || {
        [&ada, &bob].iter().all(|s| {
            matches!(only_tile(s), Some((_, v)) if v.state == PeerState::Connected && v.safety_code.is_some() && !v.name.is_empty())
        })
    })
    .await;
    let (bob_at_ada, bob_seen) = only_tile(&ada).expect("Bob's tile");
    let (ada_at_bob, ada_seen) = only_tile(&bob).expect("Ada's tile");
    assert_eq!(
        (bob_seen.name.as_str(), ada_seen.name.as_str()),
        ("Bob", "Ada")
    );
    assert_eq!(
        bob_seen.safety_code, ada_seen.safety_code,
        "same code at both ends"
    );
    frames_arrive(&ada, bob_at_ada).await;
    frames_arrive(&bob, ada_at_bob).await;

    for (n, (name, key)) in [
        ("Eve", None),
        ("Mallory", Some("#not-the-key-of-this-room")),
    ]
    .into_iter()
    .enumerate()
    {
        let intruder = keyed_session(name, key).await;
        let id = hub.join(&intruder);
        let turned_away = n as u32 + 1;
        until("both turned the intruder away", 15_000, || {
            no_key_notices(&ada) == turned_away && no_key_notices(&bob) == turned_away
        })
        .await;
        // Ours to it closed, so its connections to us close too and its tiles of us go.
        until("the intruder is left with nothing", 10_000, || {
            intruder.connections().is_empty() && intruder.view().tiles.with_untracked(Vec::is_empty)
        })
        .await;
        hub.leave(&id);
        intruder.leave();
    }
    for (s, other) in [(&ada, "Bob"), (&bob, "Ada")] {
        let (_, v) = only_tile(s).expect("still exactly one tile");
        assert_eq!((v.name.as_str(), v.state), (other, PeerState::Connected));
    }
    frames_arrive(&ada, bob_at_ada).await;
    ada.leave();
    bob.leave();
}
