//! Switching camera and microphone in a running call, at the browser edge: the other side keeps
//! (or starts) seeing frames, a swap of a kind already sent is a `replaceTrack` (same connection,
//! same remote track, no new offer), a kind never sent is added and renegotiated, a lost device
//! shows and can be picked again, and no swap leaves a live track behind.
//! Needs a non-loopback interface (run inside scripts/netns.sh).
#![cfg(target_arch = "wasm32")]

mod common;

use common::{ada_and_bob, call, no_media_session, only_tile as tile, session, until, Hub};
use js_sys::{Array, Function, Object, Reflect};
use leptos::prelude::WithUntracked;
use meshcall::devices::DeviceView;
use meshcall::room::{PeerState, PeerView};
use meshcall::rtc::media::{list_devices, Device, DeviceTrouble, MediaKind};
use meshcall::session::Session;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use wasm_bindgen_test::*;
use web_sys::{
    HtmlVideoElement, MediaStream, MediaStreamTrack, MediaStreamTrackState, RtcPeerConnection,
    RtcRtpReceiver, RtcRtpSender, RtcSignalingState,
};

wasm_bindgen_test_configure!(run_in_browser);

fn devices(s: &Session) -> DeviceView {
    s.view().devices.with_untracked(Clone::clone)
}

fn tracks(list: Array) -> Vec<MediaStreamTrack> {
    list.iter().map(JsCast::unchecked_into).collect()
}

fn live(t: &MediaStreamTrack) -> bool {
    t.ready_state() == MediaStreamTrackState::Live
}

/// The tracks `pc` sends of `kind` (senders without a track are not sending anything).
fn sent(pc: &RtcPeerConnection, kind: &str) -> Vec<MediaStreamTrack> {
    pc.get_senders()
        .iter()
        .filter_map(|s| s.unchecked_into::<RtcRtpSender>().track())
        .filter(|t| t.kind() == kind)
        .collect()
}

/// The one track `pc` sends of `kind`; anything else is a failure.
fn sent_one(pc: &RtcPeerConnection, kind: &str) -> MediaStreamTrack {
    let mut all = sent(pc, kind);
    assert_eq!(all.len(), 1, "exactly one {kind} sender with a track");
    all.remove(0)
}

fn received(pc: &RtcPeerConnection, kind: &str) -> Vec<MediaStreamTrack> {
    pc.get_receivers()
        .iter()
        .map(|r| r.unchecked_into::<RtcRtpReceiver>().track())
        .filter(|t| t.kind() == kind)
        .collect()
}

fn local(s: &Session, kind: &str) -> Vec<MediaStreamTrack> {
    let stream = s.local_stream().expect("local stream");
    tracks(if kind == "video" {
        stream.get_video_tracks()
    } else {
        stream.get_audio_tracks()
    })
}

fn remote(s: &Session, key: u32, kind: &str) -> Vec<MediaStreamTrack> {
    let stream = s.remote_stream(key).expect("remote stream");
    tracks(if kind == "video" {
        stream.get_video_tracks()
    } else {
        stream.get_audio_tracks()
    })
}

fn only_connection(s: &Session) -> RtcPeerConnection {
    let mut all = s.connections();
    assert_eq!(all.len(), 1, "one connection");
    all.remove(0)
}

/// What the browser does when a device goes away: the track ends and fires `ended`.
fn unplug(track: &MediaStreamTrack) {
    track.stop();
    track
        .dispatch_event(&web_sys::Event::new("ended").unwrap())
        .unwrap();
}

/// A muted `<video>` playing a remote stream, as the peer tile does; removed on drop.
struct Screen(HtmlVideoElement);

impl Screen {
    async fn new(stream: &MediaStream) -> Screen {
        let doc = web_sys::window().unwrap().document().unwrap();
        let video: HtmlVideoElement = doc.create_element("video").unwrap().unchecked_into();
        video.set_muted(true);
        video.set_src_object(Some(stream));
        doc.body().unwrap().append_child(&video).unwrap();
        let _ = JsFuture::from(video.play().unwrap()).await;
        Screen(video)
    }

    /// Frames decoded and presented so far.
    fn frames(&self) -> u32 {
        let quality =
            Function::new_with_args("v", "return v.getVideoPlaybackQuality().totalVideoFrames");
        quality
            .call1(&JsValue::NULL, &self.0)
            .ok()
            .and_then(|n| n.as_f64())
            .unwrap_or(0.0) as u32
    }

    /// Waits for `more` frames beyond those shown so far.
    async fn advances(&self, what: &str, more: u32) {
        let start = self.frames();
        until(what, 10_000, || {
            self.frames() >= start + more && self.0.video_width() > 0
        })
        .await;
    }
}

impl Drop for Screen {
    fn drop(&mut self) {
        self.0.set_src_object(None);
        self.0.remove();
    }
}

/// After a swap of `kind`: `old` is stopped, and the one track of the kind that is sent is the
/// live one in the local stream (what the self view shows). Returns it.
/// The session counts a swap as soon as the new track is in its stream; `replaceTrack` on each
/// connection settles a moment later, so wait for the sender itself before asserting.
async fn swapped_in(
    s: &Session,
    pc: &RtcPeerConnection,
    kind: &str,
    old: &MediaStreamTrack,
) -> MediaStreamTrack {
    until("the connection sends the new track", 5_000, || {
        !Object::is(&sent_one(pc, kind), old)
    })
    .await;
    let now = sent_one(pc, kind);
    assert!(!live(old), "the old {kind} track is stopped");
    assert!(
        live(&now) && !Object::is(&now, old),
        "a new live {kind} track is sent"
    );
    let in_stream = local(s, kind);
    assert!(
        in_stream.len() == 1 && Object::is(&in_stream[0], &now),
        "the local stream holds exactly the {kind} track sent"
    );
    now
}

/// The receiving side still plays `before` for `key`: the same live remote track, the only one
/// of its kind (replaceTrack keeps the receiver).
fn kept(s: &Session, key: u32, before: &MediaStreamTrack) {
    let kind = before.kind();
    let now = remote(s, key, &kind);
    assert!(
        now.len() == 1 && Object::is(&now[0], before) && live(before),
        "the remote {kind} track is kept"
    );
}

/// Ada and Bob in a connected call through `hub`, Bob watching Ada's video.
struct Watched {
    hub: Hub,
    ada: Session,
    bob: Session,
    ada_at_bob: u32,
    ada_pc: RtcPeerConnection,
    bob_pc: RtcPeerConnection,
    screen: Screen,
}

async fn watched_call() -> Watched {
    let (hub, ada, bob) = ada_and_bob().await;
    let ada_at_bob = tile(&bob).expect("Bob's tile of Ada").0;
    until("Bob receives Ada's video", 10_000, || {
        remote(&bob, ada_at_bob, "video").iter().any(live)
    })
    .await;
    let screen = Screen::new(&bob.remote_stream(ada_at_bob).unwrap()).await;
    screen.advances("Bob sees Ada's video", 3).await;
    let (ada_pc, bob_pc) = (only_connection(&ada), only_connection(&bob));
    Watched {
        hub,
        ada,
        bob,
        ada_at_bob,
        ada_pc,
        bob_pc,
        screen,
    }
}

/// Inbound RTP packets of `kind` on `pc` so far (what a listener hears arrives as these).
async fn packets_in(pc: &RtcPeerConnection, kind: &str) -> f64 {
    let report = JsFuture::from(pc.get_stats()).await.expect("getStats");
    let count = Function::new_with_args(
        "r, kind",
        "let n = 0; r.forEach(s => { if (s.type === 'inbound-rtp' && s.kind === kind) n += s.packetsReceived || 0; }); return n;",
    );
    count
        .call2(&JsValue::NULL, &report, &kind.into())
        .ok()
        .and_then(|n| n.as_f64())
        .unwrap_or(0.0)
}

fn mic_named<'a>(mics: &'a [Device], label: &str) -> &'a Device {
    mics.iter()
        .find(|d| d.label == label)
        .unwrap_or_else(|| panic!("no {label:?} among {mics:?}"))
}

#[wasm_bindgen_test]
async fn switching_camera_and_mic_keeps_the_call_without_renegotiating() {
    let Watched {
        hub,
        ada,
        bob,
        ada_at_bob,
        ada_pc,
        bob_pc,
        screen,
    } = watched_call().await;

    let bob_video = remote(&bob, ada_at_bob, "video").remove(0);
    let bob_audio = remote(&bob, ada_at_bob, "audio").remove(0);
    let old_video = sent_one(&ada_pc, "video");
    let old_audio = sent_one(&ada_pc, "audio");
    let descriptions = hub.descriptions();
    let swaps = devices(&ada).swaps;

    // The camera: the same (only) fake camera by its id, so a fresh track from it.
    let (cameras, mics, _) = list_devices().await.expect("devices listed");
    let camera = cameras.first().expect("a fake camera").clone();
    ada.switch_device(MediaKind::Video, Some(camera.id.clone()));
    until("Ada sends a new live camera track", 10_000, || {
        devices(&ada).swaps == swaps + 1
            && sent(&ada_pc, "video")
                .iter()
                .any(|t| t.id() != old_video.id() && live(t))
    })
    .await;
    let new_video = swapped_in(&ada, &ada_pc, "video", &old_video).await;
    let d = devices(&ada);
    assert!(d.has_cam && d.cam_trouble.is_none(), "{d:?}");
    assert_eq!(d.camera, camera.id);

    // Frames keep coming on Bob's side, on the very same receiver track.
    screen
        .advances("Bob keeps seeing Ada after the camera switch", 10)
        .await;
    kept(&bob, ada_at_bob, &bob_video);
    assert!(received(&bob_pc, "video")
        .iter()
        .any(|t| Object::is(t, &bob_video)));

    // The microphone: "Fake Audio Input 1" by id.
    let mic = mic_named(&mics, "Fake Audio Input 1");
    ada.switch_device(MediaKind::Audio, Some(mic.id.clone()));
    until("Ada sends Fake Audio Input 1", 10_000, || {
        sent(&ada_pc, "audio")
            .iter()
            .any(|t| t.label() == "Fake Audio Input 1" && live(t))
    })
    .await;
    let new_audio = swapped_in(&ada, &ada_pc, "audio", &old_audio).await;
    let d = devices(&ada);
    assert!(
        d.has_mic && d.mic_trouble.is_none() && d.mic == mic.id && d.swaps == swaps + 2,
        "{d:?}"
    );
    // Bob hears it: audio packets keep arriving, on the same remote audio track.
    let heard = packets_in(&bob_pc, "audio").await;
    let mut latest = heard;
    for _ in 0..200 {
        if latest >= heard + 15.0 {
            break;
        }
        gloo_timers::future::TimeoutFuture::new(50).await;
        latest = packets_in(&bob_pc, "audio").await;
    }
    assert!(
        latest >= heard + 15.0,
        "audio packets after the mic switch: {heard} -> {latest}"
    );
    kept(&bob, ada_at_bob, &bob_audio);

    // Both swaps were replaceTrack: same single connection each, no offer or answer since.
    screen.advances("Bob still sees Ada", 5).await;
    assert_eq!(
        hub.descriptions(),
        descriptions,
        "no renegotiation for a device switch"
    );
    assert!(
        Object::is(&only_connection(&ada), &ada_pc) && Object::is(&only_connection(&bob), &bob_pc)
    );
    assert_eq!(ada_pc.signaling_state(), RtcSignalingState::Stable);
    assert!(
        matches!(tile(&bob), Some((_, v)) if v.cam && v.mic && v.state == PeerState::Connected)
    );
    drop(screen);
    ada.leave();
    bob.leave();
    assert!(
        !live(&new_video) && !live(&new_audio),
        "leave stops the swapped-in tracks too"
    );
}

#[wasm_bindgen_test]
async fn a_camera_that_is_gone_falls_back_to_any_camera() {
    let Watched {
        ada,
        bob,
        ada_pc,
        screen,
        ..
    } = watched_call().await;
    let old = sent_one(&ada_pc, "video");
    let swaps = devices(&ada).swaps;
    let (cameras, _, _) = list_devices().await.expect("devices listed");

    ada.switch_device(MediaKind::Video, Some("a-camera-unplugged-since".into()));
    until("the switch settled", 10_000, || {
        let d = devices(&ada);
        d.swaps != swaps || d.cam_trouble.is_some()
    })
    .await;
    let d = devices(&ada);
    assert!(
        d.has_cam && d.cam_trouble.is_none() && d.swaps == swaps + 1,
        "no trouble shown: {d:?}"
    );
    assert!(
        cameras.iter().any(|c| c.id == d.camera),
        "in use: a listed camera, not {:?}",
        d.camera
    );
    swapped_in(&ada, &ada_pc, "video", &old).await;
    screen.advances("Bob keeps seeing Ada", 10).await;
    drop(screen);
    ada.leave();
    bob.leave();
}

/// Records every track `getUserMedia` hands out, with the constraints asked, until dropped.
struct GumTap;

impl GumTap {
    /// `reorder`: the devices answer out of order, as a slow camera and a fast one do (the first
    /// of each pair of calls resolves only after the second one has resolved and been handled).
    /// `refuse`: every call fails with a `DOMException` of that name instead.
    fn install(reorder: bool, refuse: Option<&str>) -> GumTap {
        Function::new_with_args(
            "reorder, refuse",
            "const md = navigator.mediaDevices;
             md.__meshcallOriginal = md.__meshcallOriginal || md.getUserMedia;
             const original = md.__meshcallOriginal;
             globalThis.__meshcallTapped = [];
             const done = [];
             const resolved = i => (done[i] = done[i] || (() => { let r; const p = new Promise(x => r = x); return { p, r }; })());
             let calls = 0;
             md.getUserMedia = async function (c) {
               if (refuse) throw new DOMException('Could not start the source', refuse);
               const i = calls++;
               const s = await original.call(md, c);
               for (const t of s.getTracks()) globalThis.__meshcallTapped.push({ asked: JSON.stringify(c), track: t });
               if (reorder && i % 2 === 0) {
                 await resolved(i + 1).p;
                 // One task later, so the app has handled the later answer first.
                 await new Promise(r => setTimeout(r, 0));
               } else if (reorder) {
                 resolved(i).r();
               }
               return s;
             };",
        )
        .call2(&JsValue::NULL, &reorder.into(), &refuse.map(JsValue::from_str).unwrap_or(JsValue::NULL))
        .expect("getUserMedia tapped");
        GumTap
    }

    /// (constraints as JSON, track), in the order the tracks were handed out.
    fn tapped(&self) -> Vec<(String, MediaStreamTrack)> {
        let all: Array = Reflect::get(&js_sys::global(), &"__meshcallTapped".into())
            .unwrap()
            .unchecked_into();
        all.iter()
            .map(|e| {
                let asked = Reflect::get(&e, &"asked".into())
                    .unwrap()
                    .as_string()
                    .unwrap_or_default();
                (
                    asked,
                    Reflect::get(&e, &"track".into()).unwrap().unchecked_into(),
                )
            })
            .collect()
    }
}

impl Drop for GumTap {
    fn drop(&mut self) {
        let _ = Function::new_no_args(
            "const md = navigator.mediaDevices;
             if (md.__meshcallOriginal) { md.getUserMedia = md.__meshcallOriginal; delete md.__meshcallOriginal; }
             delete globalThis.__meshcallTapped;",
        )
        .call0(&JsValue::NULL);
    }
}

#[wasm_bindgen_test]
async fn quick_successive_picks_keep_only_the_last_and_leak_no_track() {
    let (hub, ada, bob) = ada_and_bob().await;
    let ada_pc = only_connection(&ada);
    let originals: Vec<MediaStreamTrack> = tracks(ada.local_stream().unwrap().get_tracks());
    let (cameras, mics, _) = list_devices().await.expect("devices listed");
    let (in1, in2) = (
        mic_named(&mics, "Fake Audio Input 1"),
        mic_named(&mics, "Fake Audio Input 2"),
    );
    let camera = cameras.first().expect("a fake camera");
    let swaps = devices(&ada).swaps;
    let descriptions = hub.descriptions();

    let tap = GumTap::install(true, None);
    // A person clicking through the pickers faster than the devices open; each first pick's
    // device answers last.
    ada.switch_device(MediaKind::Audio, Some(in1.id.clone()));
    ada.switch_device(MediaKind::Audio, Some(in2.id.clone()));
    ada.switch_device(MediaKind::Video, Some(camera.id.clone()));
    ada.switch_device(MediaKind::Video, None);
    until(
        "four tracks handed out, the last pick of each kind live and sent, the rest stopped",
        10_000,
        || {
            let tapped = tap.tapped();
            tapped.len() == 4
                && tapped.iter().filter(|(_, t)| live(t)).count() == 2
                && sent(&ada_pc, "audio")
                    .iter()
                    .any(|t| t.label() == "Fake Audio Input 2" && live(t))
                && sent(&ada_pc, "video")
                    .iter()
                    .any(|t| live(t) && !originals.iter().any(|o| Object::is(o, t)))
        },
    )
    .await;
    let tapped = tap.tapped();
    drop(tap);
    let winner = |kind: &str, asked: &dyn Fn(&str) -> bool| {
        let picks: Vec<_> = tapped
            .iter()
            .filter(|(a, t)| t.kind() == kind && asked(a))
            .collect();
        assert_eq!(picks.len(), 1, "one {kind} track per pick: {tapped:?}");
        // `Clone::clone`: `MediaStreamTrack::clone` is the JS method that makes a new live track.
        Clone::clone(&picks[0].1)
    };
    let (audio, video) = (
        winner("audio", &|a| a.contains(&in2.id)),
        winner("video", &|a| a.contains("\"video\":true")),
    );
    for (asked, t) in &tapped {
        let wanted = Object::is(t, &audio) || Object::is(t, &video);
        assert_eq!(
            live(t),
            wanted,
            "{} track asked with {asked}: live only if it was the last pick",
            t.kind()
        );
    }
    // What is sent is what the local stream holds, and only that.
    let local_tracks = tracks(ada.local_stream().unwrap().get_tracks());
    assert_eq!(
        local_tracks.len(),
        2,
        "one track per kind in the local stream"
    );
    assert!(
        local_tracks.iter().any(|t| Object::is(t, &audio))
            && local_tracks.iter().any(|t| Object::is(t, &video))
    );
    assert!(
        Object::is(&sent_one(&ada_pc, "audio"), &audio)
            && Object::is(&sent_one(&ada_pc, "video"), &video)
    );
    for t in &originals {
        assert!(!live(t), "the {} track from joining is stopped", t.kind());
    }
    let d = devices(&ada);
    assert_eq!(
        d.swaps,
        swaps + 2,
        "only the last pick of each kind was swapped in: {d:?}"
    );
    assert_eq!(d.mic, in2.id);
    assert!(
        d.has_cam && d.has_mic && d.cam_trouble.is_none() && d.mic_trouble.is_none(),
        "{d:?}"
    );
    assert_eq!(hub.descriptions(), descriptions, "no renegotiation");
    ada.leave();
    bob.leave();
    assert!(!live(&audio) && !live(&video));
}

/// Ada joined without camera or mic, then turns her camera on mid-call: the kind was never sent,
/// so the track is added and the connection renegotiated (not replaced), and Bob starts seeing her.
async fn camera_added_mid_call(ada_first: bool) {
    let hub = Hub::default();
    let ada = no_media_session("Ada");
    let bob = session("Bob").await;
    let ada_at_bob = if ada_first {
        call(&hub, &ada, &bob).await.1
    } else {
        call(&hub, &bob, &ada).await.0
    };
    until(
        "Bob's tile says Ada's camera is off",
        5_000,
        || matches!(tile(&bob), Some((_, v)) if !v.cam),
    )
    .await;
    assert!(
        !remote(&bob, ada_at_bob, "video").iter().any(live),
        "nothing to see yet"
    );
    let (ada_pc, bob_pc) = (only_connection(&ada), only_connection(&bob));
    let offers = hub.relayed("Offer");
    let answers = hub.relayed("Answer");

    // What the camera button does for someone without a camera: turn it on, which asks for one.
    ada.turn(MediaKind::Video, true);
    until(
        "Bob receives a live video track from Ada and shows her camera on",
        15_000,
        || {
            remote(&bob, ada_at_bob, "video").iter().any(live)
                && matches!(tile(&bob), Some((_, v)) if v.cam && v.state == PeerState::Connected)
        },
    )
    .await;
    let screen = Screen::new(&bob.remote_stream(ada_at_bob).unwrap()).await;
    screen.advances("Bob sees Ada's camera", 5).await;
    drop(screen);

    assert!(
        hub.relayed("Offer") > offers && hub.relayed("Answer") > answers,
        "the new track was negotiated"
    );
    assert!(
        Object::is(&only_connection(&ada), &ada_pc) && Object::is(&only_connection(&bob), &bob_pc),
        "on the same connections"
    );
    let sending = sent_one(&ada_pc, "video");
    let in_stream = local(&ada, "video");
    assert!(live(&sending) && in_stream.len() == 1 && Object::is(&in_stream[0], &sending));
    let d = devices(&ada);
    assert!(
        d.has_cam && d.cam_trouble.is_none() && !d.camera.is_empty(),
        "{d:?}"
    );
    assert!(
        ada.view().cam.with_untracked(|on| *on),
        "her camera button shows on"
    );
    ada.leave();
    bob.leave();
    assert!(!live(&sending));
}

#[wasm_bindgen_test]
async fn camera_added_mid_call_by_the_offerer_is_negotiated() {
    camera_added_mid_call(true).await;
}

#[wasm_bindgen_test]
async fn camera_added_mid_call_by_the_answerer_is_negotiated() {
    camera_added_mid_call(false).await;
}

#[wasm_bindgen_test]
async fn a_camera_that_stops_shows_and_can_be_picked_again() {
    let Watched {
        hub,
        ada,
        bob,
        ada_pc,
        screen,
        ..
    } = watched_call().await;
    let descriptions = hub.descriptions();

    // Unplugged: the browser ends the track and fires `ended`.
    let camera = local(&ada, "video").remove(0);
    unplug(&camera);
    until("Ada's camera shows as stopped", 5_000, || {
        let d = devices(&ada);
        d.cam_trouble == Some(DeviceTrouble::Stopped) && !d.has_cam
    })
    .await;
    // The button shows what is sent (off); what she wants (on) is kept for when it is back.
    assert!(ada.view().cam.with_untracked(|on| *on), "her wish is kept");
    until(
        "Bob's tile shows Ada's camera off",
        5_000,
        || matches!(tile(&bob), Some((_, v)) if !v.cam),
    )
    .await;
    let d = devices(&ada);
    assert!(
        d.has_mic && d.mic_trouble.is_none(),
        "the mic is untouched: {d:?}"
    );

    // Picking a camera again brings it back for everyone.
    ada.switch_device(MediaKind::Video, None);
    until("Ada's camera is back", 10_000, || {
        let d = devices(&ada);
        d.cam_trouble.is_none() && d.has_cam
    })
    .await;
    until(
        "Bob's tile shows Ada's camera on",
        5_000,
        || matches!(tile(&bob), Some((_, v)) if v.cam && v.state == PeerState::Connected),
    )
    .await;
    screen.advances("Bob sees Ada again", 10).await;
    swapped_in(&ada, &ada_pc, "video", &camera).await;
    assert!(
        ada.view().cam.with_untracked(|on| *on),
        "her camera button shows on"
    );
    assert_eq!(
        hub.descriptions(),
        descriptions,
        "the stopped sender was reused, no renegotiation"
    );
    drop(screen);
    ada.leave();
    bob.leave();
}

#[wasm_bindgen_test]
async fn switching_while_off_keeps_the_mic_muted_and_the_camera_off() {
    let (_hub, ada, bob) = ada_and_bob().await;
    ada.set_mic(false);
    ada.set_cam(false);
    until(
        "Bob's tile shows Ada muted, camera off",
        5_000,
        || matches!(tile(&bob), Some((_, v)) if !v.mic && !v.cam),
    )
    .await;
    let ada_pc = only_connection(&ada);
    let swaps = devices(&ada).swaps;
    let sent_before = (sent_one(&ada_pc, "audio"), sent_one(&ada_pc, "video"));
    let (cameras, mics, _) = list_devices().await.expect("devices listed");
    ada.switch_device(
        MediaKind::Audio,
        Some(mic_named(&mics, "Fake Audio Input 1").id.clone()),
    );
    ada.switch_device(
        MediaKind::Video,
        Some(cameras.first().expect("a fake camera").id.clone()),
    );
    until("both swapped", 10_000, || devices(&ada).swaps == swaps + 2).await;
    // replaceTrack settles a moment after the session counts the swap.
    until("the connection sends both new tracks", 5_000, || {
        !Object::is(&sent_one(&ada_pc, "audio"), &sent_before.0)
            && !Object::is(&sent_one(&ada_pc, "video"), &sent_before.1)
    })
    .await;
    let (audio, video) = (sent_one(&ada_pc, "audio"), sent_one(&ada_pc, "video"));
    assert_eq!(audio.label(), "Fake Audio Input 1");
    assert!(live(&audio) && live(&video));
    assert!(
        !audio.enabled() && !video.enabled(),
        "the new devices are sent silent and black"
    );
    assert!(
        !ada.view().mic.with_untracked(|on| *on) && !ada.view().cam.with_untracked(|on| *on),
        "her buttons still show off"
    );
    // Ada's next hello carries her whole state, after anything the swaps sent on the ordered channel.
    ada.set_mic(true);
    until(
        "Bob's tile shows Ada's mic on",
        5_000,
        || matches!(tile(&bob), Some((_, v)) if v.mic),
    )
    .await;
    assert!(
        matches!(tile(&bob), Some((_, v)) if !v.cam),
        "her camera is still off for Bob"
    );
    assert!(audio.enabled() && !video.enabled());
    ada.leave();
    bob.leave();
}

#[wasm_bindgen_test]
async fn a_busy_camera_keeps_the_one_in_use_and_says_why() {
    let Watched {
        hub,
        ada,
        bob,
        ada_pc,
        screen,
        ..
    } = watched_call().await;
    let old = sent_one(&ada_pc, "video");
    let swaps = devices(&ada).swaps;
    let descriptions = hub.descriptions();
    let (cameras, _, _) = list_devices().await.expect("devices listed");
    let camera = cameras.first().expect("a fake camera");

    // Another app holds the camera picked: the browser refuses it.
    let tap = GumTap::install(false, Some("NotReadableError"));
    ada.switch_device(MediaKind::Video, Some(camera.id.clone()));
    until("Ada is told the camera is busy", 10_000, || {
        devices(&ada).cam_trouble == Some(DeviceTrouble::Busy)
    })
    .await;
    drop(tap);
    let d = devices(&ada);
    assert!(
        d.has_cam && d.swaps == swaps && d.camera == camera.id,
        "the camera in use stays: {d:?}"
    );
    assert!(
        Object::is(&sent_one(&ada_pc, "video"), &old) && live(&old) && old.enabled(),
        "and is still sent"
    );
    assert!(ada.view().cam.with_untracked(|on| *on));
    screen.advances("Bob keeps seeing Ada", 10).await;

    // The other app let go: trying again works and the message goes.
    ada.switch_device(MediaKind::Video, d.retry_choice(MediaKind::Video));
    until("the camera is swapped without trouble", 10_000, || {
        let d = devices(&ada);
        d.swaps == swaps + 1 && d.cam_trouble.is_none() && d.has_cam
    })
    .await;
    swapped_in(&ada, &ada_pc, "video", &old).await;
    screen.advances("Bob sees Ada's new camera", 5).await;
    assert_eq!(hub.descriptions(), descriptions);
    drop(screen);
    ada.leave();
    bob.leave();
}

/// A camera pick still opening when Ada leaves (and, if `dropped`, when her session is gone too)
/// is stopped once it opens: nothing holds the camera after leaving.
async fn pick_in_flight_at_leave(dropped: bool) {
    let ada = session("Ada").await;
    let tap = GumTap::install(false, None);
    ada.switch_device(MediaKind::Video, None);
    ada.leave();
    if dropped {
        drop(ada);
    }
    until("the camera opened for the pick", 5_000, || {
        tap.tapped().len() == 1
    })
    .await;
    let (_, track) = tap.tapped().remove(0);
    drop(tap);
    until(
        "it is stopped: nothing holds the camera after leaving",
        5_000,
        || !live(&track),
    )
    .await;
}

#[wasm_bindgen_test]
async fn a_pick_still_opening_when_leaving_is_stopped() {
    pick_in_flight_at_leave(false).await;
}

#[wasm_bindgen_test]
async fn a_pick_still_opening_when_the_session_is_dropped_is_stopped() {
    pick_in_flight_at_leave(true).await;
}

/// `p` has `n` tiles, all connected.
fn all_connected(p: &Session, n: usize) -> bool {
    p.view().tiles.with_untracked(|t| {
        t.len() == n
            && t.iter()
                .all(|t| t.view.with_untracked(|v| v.state == PeerState::Connected))
    })
}

/// `viewer`'s tile for the peer called `name`: its key and view.
fn tile_of(viewer: &Session, name: &str) -> Option<(u32, PeerView)> {
    viewer.view().tiles.with_untracked(|t| {
        t.iter().find_map(|t| {
            t.view
                .with_untracked(|v| (v.name == name).then(|| (t.key, v.clone())))
        })
    })
}

#[wasm_bindgen_test]
async fn a_camera_picked_again_reaches_every_connection_and_one_made_while_it_was_lost() {
    let hub = Hub::default();
    let (ada, bob, cy) = (
        session("Ada").await,
        session("Bob").await,
        session("Cy").await,
    );
    for p in [&ada, &bob, &cy] {
        hub.join(p);
    }
    until("a full mesh of three", 15_000, || {
        [&ada, &bob, &cy].iter().all(|p| all_connected(p, 2))
    })
    .await;
    let swaps = devices(&ada).swaps;

    // Her camera stops, and Dan joins while it is lost: he is told it is off.
    let old = local(&ada, "video").remove(0);
    unplug(&old);
    until("Ada's camera shows as stopped", 5_000, || {
        devices(&ada).cam_trouble == Some(DeviceTrouble::Stopped)
    })
    .await;
    let dan = session("Dan").await;
    hub.join(&dan);
    until(
        "Dan connected to the three, Ada's camera off on his tile",
        15_000,
        || all_connected(&dan, 3) && matches!(tile_of(&dan, "Ada"), Some((_, v)) if !v.cam),
    )
    .await;
    let ada_pcs = ada.connections();
    assert_eq!(ada_pcs.len(), 3);
    let descriptions = hub.descriptions();

    // She picks a camera again: all three connections, the one made meanwhile too, send it.
    ada.switch_device(MediaKind::Video, None);
    until("swapped", 10_000, || devices(&ada).swaps == swaps + 1).await;
    let camera = local(&ada, "video").remove(0);
    // replaceTrack settles on each connection a moment after the session counts the swap.
    until("every connection sends the new camera", 5_000, || {
        ada_pcs
            .iter()
            .all(|pc| Object::is(&sent_one(pc, "video"), &camera))
    })
    .await;
    assert!(live(&camera), "the new camera is live");
    for viewer in [&bob, &cy, &dan] {
        until(
            "the viewer's tile shows Ada's camera on",
            5_000,
            || matches!(tile_of(viewer, "Ada"), Some((_, v)) if v.cam),
        )
        .await;
        let (key, _) = tile_of(viewer, "Ada").unwrap();
        until("a live video track from Ada", 10_000, || {
            remote(viewer, key, "video").iter().any(live)
        })
        .await;
        Screen::new(&viewer.remote_stream(key).unwrap())
            .await
            .advances("frames from Ada", 5)
            .await;
    }
    assert_eq!(
        hub.descriptions(),
        descriptions,
        "even the stopped sender of the newer connection is reused"
    );
    assert!(ada
        .connections()
        .iter()
        .zip(&ada_pcs)
        .all(|(a, b)| Object::is(a, b)));
    for p in [&ada, &bob, &cy, &dan] {
        p.leave();
    }
}

#[wasm_bindgen_test]
async fn a_refused_pick_does_not_unmute_later() {
    let (_hub, ada, bob) = ada_and_bob().await;
    ada.set_mic(false);
    until(
        "Bob's tile shows Ada muted",
        5_000,
        || matches!(tile(&bob), Some((_, v)) if !v.mic),
    )
    .await;
    let (_, mics, _) = list_devices().await.expect("devices listed");
    let in1 = mic_named(&mics, "Fake Audio Input 1");
    let swaps = devices(&ada).swaps;
    let tap = GumTap::install(false, Some("NotReadableError"));
    ada.switch_device(MediaKind::Audio, Some(in1.id.clone()));
    until("Ada is told the mic is busy", 10_000, || {
        devices(&ada).mic_trouble == Some(DeviceTrouble::Busy)
    })
    .await;
    drop(tap);
    ada.switch_device(MediaKind::Audio, Some(in1.id.clone()));
    until("swapped", 10_000, || devices(&ada).swaps == swaps + 1).await;
    let audio = sent_one(&only_connection(&ada), "audio");
    // What Bob sees once Ada's state settles: force a later hello and wait for it.
    ada.set_cam(false);
    until(
        "Bob sees Ada's camera off",
        5_000,
        || matches!(tile(&bob), Some((_, v)) if !v.cam),
    )
    .await;
    assert!(
        matches!(tile(&bob), Some((_, v)) if !v.mic),
        "Bob's tile shows Ada's mic ON: she is heard although she muted"
    );
    assert!(
        !ada.view().mic.with_untracked(|on| *on),
        "mic button turned on by itself"
    );
    assert!(
        !audio.enabled(),
        "the new mic is sent live although Ada had muted"
    );
    ada.leave();
    bob.leave();
}

#[wasm_bindgen_test]
async fn a_camera_turned_off_then_lost_stays_off_when_picked_again() {
    let (_hub, ada, bob) = ada_and_bob().await;
    ada.set_cam(false);
    until(
        "Bob sees Ada's camera off",
        5_000,
        || matches!(tile(&bob), Some((_, v)) if !v.cam),
    )
    .await;
    let camera = local(&ada, "video").remove(0);
    unplug(&camera);
    until("Ada's camera shows as stopped", 5_000, || {
        devices(&ada).cam_trouble == Some(DeviceTrouble::Stopped)
    })
    .await;
    let swaps = devices(&ada).swaps;
    ada.switch_device(MediaKind::Video, None);
    until("a camera is back", 10_000, || {
        devices(&ada).swaps == swaps + 1
    })
    .await;
    assert!(
        !ada.view().cam.with_untracked(|on| *on),
        "still off, as she left it"
    );
    assert!(
        !sent_one(&only_connection(&ada), "video").enabled(),
        "the new camera is sent disabled"
    );
    // What Bob sees once Ada's state settles: force a later message and wait for it.
    ada.set_mic(false);
    until(
        "Bob sees Ada muted",
        5_000,
        || matches!(tile(&bob), Some((_, v)) if !v.mic),
    )
    .await;
    assert!(
        matches!(tile(&bob), Some((_, v)) if !v.cam),
        "Bob still sees Ada's camera off"
    );
    ada.leave();
    bob.leave();
}
