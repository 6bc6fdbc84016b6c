//! Leaving releases everything: no live local track, no open connection, and the other side's
//! tile goes. Needs a non-loopback interface (run inside scripts/netns.sh).
#![cfg(target_arch = "wasm32")]

mod common;

use common::{ada_and_bob, until};
use leptos::prelude::WithUntracked;
use wasm_bindgen::JsCast;
use wasm_bindgen_test::*;
use web_sys::{MediaStreamTrack, MediaStreamTrackState, RtcPeerConnectionState};

wasm_bindgen_test_configure!(run_in_browser);

#[wasm_bindgen_test]
async fn leave_stops_tracks_and_closes_connections() {
    let (_hub, ada, bob) = ada_and_bob().await;

    let tracks: Vec<MediaStreamTrack> = ada
        .local_stream()
        .unwrap()
        .get_tracks()
        .iter()
        .map(|t| t.unchecked_into())
        .collect();
    assert_eq!(tracks.len(), 2);
    let connections = ada.connections();
    assert_eq!(connections.len(), 1);

    ada.leave();

    for t in &tracks {
        assert_eq!(
            t.ready_state(),
            MediaStreamTrackState::Ended,
            "{} track still live",
            t.kind()
        );
    }
    for pc in &connections {
        assert_eq!(pc.connection_state(), RtcPeerConnectionState::Closed);
    }
    assert!(ada.connections().is_empty());
    assert!(ada.local_stream().is_none());
    assert!(ada.view().tiles.with_untracked(Vec::is_empty));
    // Bob learns it from the closed data channel, before any server says so.
    until("Bob's tile for Ada is gone", 10_000, || {
        bob.view().tiles.with_untracked(Vec::is_empty)
    })
    .await;
    assert!(bob.connections().is_empty());
    bob.leave();
}
