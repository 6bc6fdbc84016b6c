//! Two sessions in one page negotiate through an in-memory signaling pipe, with the real
//! browser edges: each must receive the other's video frames and data-channel messages.
//! Needs a non-loopback interface (run inside scripts/netns.sh).
#![cfg(target_arch = "wasm32")]

mod common;

use common::{ada_and_bob, frames_arrive, no_media_session, only_tile, session, until, Hub};
use meshcall::room::PeerState;
use meshcall::session::Session;
use wasm_bindgen::JsCast;
use wasm_bindgen_test::*;
use web_sys::MediaStreamTrack;

wasm_bindgen_test_configure!(run_in_browser);

trait Untracked<T> {
    fn get_untracked_clone(&self) -> T;
}
impl<T: Clone + Send + Sync + 'static> Untracked<T> for leptos::prelude::ArcRwSignal<T> {
    fn get_untracked_clone(&self) -> T {
        use leptos::prelude::WithUntracked;
        self.with_untracked(Clone::clone)
    }
}

fn live_kinds(s: &Session, key: u32) -> Vec<String> {
    let stream = s.remote_stream(key).expect("remote stream");
    let mut kinds: Vec<String> = stream
        .get_tracks()
        .iter()
        .map(|t| t.unchecked_into::<MediaStreamTrack>())
        .filter(|t| t.ready_state() == web_sys::MediaStreamTrackState::Live)
        .map(|t| t.kind())
        .collect();
    kinds.sort();
    kinds
}

#[wasm_bindgen_test]
async fn two_peers_exchange_video_and_channel_messages() {
    let hub = Hub::default();
    let ada = session("Ada").await;
    let bob = session("Bob").await;
    hub.join(&ada);
    hub.join(&bob);

    // The names travel over the data channel (hello), the state comes from ICE.
    until("both tiles connected and named", 15_000, || {
        matches!(only_tile(&ada), Some((_, v)) if v.state == PeerState::Connected && v.name == "Bob")
            && matches!(only_tile(&bob), Some((_, v)) if v.state == PeerState::Connected && v.name == "Ada")
    })
    .await;
    let (bob_at_ada, _) = only_tile(&ada).unwrap();
    let (ada_at_bob, _) = only_tile(&bob).unwrap();
    until("audio and video tracks both ways", 10_000, || {
        live_kinds(&ada, bob_at_ada) == ["audio", "video"]
            && live_kinds(&bob, ada_at_bob) == ["audio", "video"]
    })
    .await;
    frames_arrive(&ada, bob_at_ada).await;
    frames_arrive(&bob, ada_at_bob).await;

    // Toggles reach the other side's tile over the channel.
    bob.set_cam(false);
    bob.set_mic(false);
    until(
        "Ada sees Bob's camera and mic off",
        5_000,
        || matches!(only_tile(&ada), Some((_, v)) if !v.cam && !v.mic),
    )
    .await;
    ada.leave();
    bob.leave();
}

#[wasm_bindgen_test]
async fn receive_only_newcomer_still_gets_media() {
    let hub = Hub::default();
    let ada = session("Ada").await;
    let viewer = no_media_session("Viewer");
    hub.join(&viewer);
    hub.join(&ada); // Viewer (no tracks) calls Ada: its offer must still ask for her media.
    until("connected both ways", 15_000, || {
        matches!(only_tile(&ada), Some((_, v)) if v.state == PeerState::Connected && v.name == "Viewer")
            && matches!(only_tile(&viewer), Some((_, v)) if v.state == PeerState::Connected && v.name == "Ada")
    })
    .await;
    let (key, _) = only_tile(&viewer).unwrap();
    frames_arrive(&viewer, key).await;
    let (key, view) = only_tile(&ada).unwrap();
    assert!(!view.mic && !view.cam, "the viewer says it sends nothing");
    assert!(live_kinds(&ada, key).is_empty());
    ada.leave();
    viewer.leave();
}

#[wasm_bindgen_test]
async fn three_peers_form_a_full_mesh() {
    let hub = Hub::default();
    let people = [session("A").await, session("B").await, session("C").await];
    for p in &people {
        hub.join(p);
    }
    until("each sees two connected peers", 20_000, || {
        people.iter().all(|p| {
            let tiles = p.view().tiles.get_untracked_clone();
            tiles.len() == 2
                && tiles
                    .iter()
                    .all(|t| t.view.get_untracked_clone().state == PeerState::Connected)
        })
    })
    .await;
    // One leaves: the others drop its tile and keep each other.
    let ids = ["peer-1", "peer-2", "peer-3"];
    people[0].leave();
    hub.leave(ids[0]);
    until("two remain, connected", 10_000, || {
        people[1..].iter().all(|p| {
            let tiles = p.view().tiles.get_untracked_clone();
            tiles.len() == 1 && tiles[0].view.get_untracked_clone().state == PeerState::Connected
        })
    })
    .await;
    for p in &people[1..] {
        p.leave();
    }
}

fn ufrag(pc: &web_sys::RtcPeerConnection) -> Option<String> {
    let sdp = pc.local_description()?.sdp();
    sdp.lines()
        .find_map(|l| l.strip_prefix("a=ice-ufrag:"))
        .map(str::to_owned)
}

/// Both sides renegotiate in the same instant (an ICE restart each): perfect negotiation must
/// settle both connections with fresh ICE credentials, and the call keeps working.
#[wasm_bindgen_test]
async fn simultaneous_renegotiation_settles() {
    let (_hub, ada, bob) = ada_and_bob().await;
    let pcs = [ada.connections().remove(0), bob.connections().remove(0)];
    let before: Vec<_> = pcs.iter().map(ufrag).collect();
    for pc in &pcs {
        let restart = js_sys::Reflect::get(pc, &"restartIce".into()).unwrap();
        js_sys::Function::from(restart).call0(pc).unwrap();
    }
    until(
        "both stable again with new ICE credentials, connected",
        15_000,
        || {
            pcs.iter().zip(&before).all(|(pc, old)| {
                pc.signaling_state() == web_sys::RtcSignalingState::Stable
                    && ufrag(pc) != *old
                    && pc.connection_state() == web_sys::RtcPeerConnectionState::Connected
            })
        },
    )
    .await;
    // Nothing failed on the way, and the channel still carries messages.
    bob.set_mic(false);
    until(
        "Ada sees Bob's mic off",
        5_000,
        || matches!(only_tile(&ada), Some((_, v)) if !v.mic && v.state == PeerState::Connected),
    )
    .await;
    ada.leave();
    bob.leave();
}

/// Each side gathers for one transport (`bundlePolicy: "max-bundle"`): the offerer no longer
/// sends candidates for its audio, video and data sections apart (12 signals and 12
/// `addIceCandidate` calls at the other end for two interfaces, where one transport needs 4),
/// which every join waited on through busy pages and the server; and none of its active TCP
/// candidates, which no browser gathers the passive partners of.
#[wasm_bindgen_test]
async fn each_side_gathers_candidates_for_one_transport() {
    let hub = Hub::default();
    let ada = session("Ada").await;
    let bob = session("Bob").await;
    common::call(&hub, &ada, &bob).await;
    let (bob_at_ada, _) = only_tile(&ada).unwrap();
    frames_arrive(&ada, bob_at_ada).await;
    // Ada joined first, so she offered.
    for sender in ["peer-1", "peer-2"] {
        let mids = hub.candidate_mids(sender);
        assert_eq!(
            mids.len(),
            1,
            "{sender} sent candidates for sections {mids:?}"
        );
    }
    // Nor any active TCP candidate, which no browser can answer.
    assert_eq!(hub.candidates_with(" tcptype active"), 0);
    assert!(hub.relayed("IceCandidate") > 0);
    ada.leave();
    bob.leave();
}
