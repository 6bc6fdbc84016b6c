//! A signaling reconnect keeps the call: the peer that got a new id rebinds over the data
//! channel, the connection that the others started towards its new id is dropped, and media keeps
//! flowing on the original connection. Needs a non-loopback interface (scripts/netns.sh).
#![cfg(target_arch = "wasm32")]

mod common;

use common::{session, until, Hub};
use leptos::prelude::WithUntracked;
use meshcall::room::PeerState;
use meshcall::session::Session;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

fn tiles(s: &Session) -> Vec<(u32, PeerState, String)> {
    s.view().tiles.with_untracked(|t| {
        t.iter()
            .map(|t| t.view.with_untracked(|v| (t.key, v.state, v.name.clone())))
            .collect()
    })
}

#[wasm_bindgen_test]
async fn signaling_reconnect_keeps_the_connection() {
    let hub = Hub::default();
    let ada = session("Ada").await;
    let bob = session("Bob").await;
    let ada_id = hub.join(&ada);
    hub.join(&bob);
    until("connected", 15_000, || {
        [&ada, &bob]
            .iter()
            .all(|s| matches!(tiles(s).as_slice(), [(_, PeerState::Connected, _)]))
    })
    .await;
    let before_ada = tiles(&ada);
    let before_bob = tiles(&bob);
    let pc_ada = ada.connections();
    let pc_bob = bob.connections();

    hub.reconnect(&ada_id, &ada);

    // Bob called Ada's new id meanwhile; after her rebind exactly the old connection remains.
    until("the duplicate connection is gone", 10_000, || {
        bob.connections().len() == 1 && tiles(&bob).len() == 1
    })
    .await;
    assert_eq!(
        tiles(&bob),
        before_bob,
        "same tile, same key, still connected"
    );
    assert_eq!(tiles(&ada), before_ada);
    assert!(
        js_sys::Object::is(&bob.connections()[0], &pc_bob[0]),
        "Bob kept the original connection"
    );
    assert!(
        js_sys::Object::is(&ada.connections()[0], &pc_ada[0]),
        "Ada kept the original connection"
    );

    // The rebound pair still talks: toggles travel, and a later leave is seen.
    ada.set_cam(false);
    until("Bob sees Ada's camera off", 5_000, || {
        bob.view()
            .tiles
            .with_untracked(|t| t[0].view.with_untracked(|v| !v.cam))
    })
    .await;
    ada.leave();
    until("Bob's tile for Ada is gone", 10_000, || {
        tiles(&bob).is_empty()
    })
    .await;
    bob.leave();
}
