//! The lobby with Chromium's fake camera and microphone: devices are listed with labels, the
//! preview plays, the meter exists, toggles carry `aria-pressed`.
#![cfg(target_arch = "wasm32")]

mod common;

use common::until;
use leptos::prelude::*;
use meshcall::components::lobby::{Lobby, LobbyState};
use meshcall::hooks::SelfVideo;
use meshcall::rtc::media::LocalMedia;
use wasm_bindgen::JsCast;
use wasm_bindgen_test::*;
use web_sys::{HtmlElement, HtmlSelectElement, HtmlVideoElement, MediaStream, MediaStreamTrack};

wasm_bindgen_test_configure!(run_in_browser);

fn query<T: JsCast>(selector: &str) -> Option<T> {
    let doc = web_sys::window()?.document()?;
    doc.query_selector(selector).ok()??.dyn_into().ok()
}

fn labels(select: &HtmlSelectElement) -> Vec<String> {
    (0..select.length())
        .filter_map(|i| select.item(i))
        .map(|o| o.text_content().unwrap_or_default())
        .collect()
}

#[wasm_bindgen_test]
async fn lobby_lists_fake_devices_and_previews_the_camera() {
    let owner = Owner::new();
    owner.set();
    let state = LobbyState {
        media: StoredValue::new_local(None::<LocalMedia>),
        mic_on: RwSignal::new(true),
        cam_on: RwSignal::new(true),
        name: RwSignal::new("Ada".into()),
        video: SelfVideo::new(),
    };
    let joined = RwSignal::new(false);
    let body: HtmlElement = web_sys::window()
        .unwrap()
        .document()
        .unwrap()
        .body()
        .unwrap();
    let handle = leptos::mount::mount_to(body, move || {
        view! { <Lobby room="test-room".to_owned() state on_join=move |()| joined.set(true) joining=Signal::stored(false) /> }
    });

    until("camera and microphone pickers filled", 10_000, || {
        let cams = query::<HtmlSelectElement>("select[data-testid=camera-select]");
        let mics = query::<HtmlSelectElement>("select[data-testid=mic-select]");
        matches!((cams, mics), (Some(c), Some(m)) if !c.disabled() && !m.disabled())
    })
    .await;
    let cams = labels(&query("select[data-testid=camera-select]").unwrap());
    let mics = labels(&query("select[data-testid=mic-select]").unwrap());
    assert!(
        !cams.is_empty() && cams.iter().all(|l| !l.is_empty()),
        "cameras: {cams:?}"
    );
    assert!(
        !mics.is_empty() && mics.iter().all(|l| !l.is_empty()),
        "microphones: {mics:?}"
    );
    assert!(
        query::<HtmlElement>("[data-testid=lobby-notice]").is_none(),
        "no device problem to report"
    );

    let preview: HtmlVideoElement = query("video[data-testid=preview]").unwrap();
    assert!(preview.muted());
    let stream: MediaStream = preview
        .src_object()
        .expect("preview has the camera")
        .unchecked_into();
    assert_eq!(stream.get_video_tracks().length(), 1);
    let meter: HtmlElement = query("[data-testid=mic-level]").unwrap();
    let level: u32 = meter.get_attribute("data-level").unwrap().parse().unwrap();
    assert!(level <= 100);

    // Mic toggle: aria-pressed follows and the track is disabled, not stopped.
    let mic: HtmlElement = query("button[data-testid=toggle-mic]").unwrap();
    assert_eq!(mic.get_attribute("aria-pressed").as_deref(), Some("true"));
    mic.click();
    until("mic toggle pressed state", 2_000, || {
        mic.get_attribute("aria-pressed").as_deref() == Some("false")
    })
    .await;
    let audio: MediaStreamTrack = stream.get_audio_tracks().get(0).unchecked_into();
    assert!(!audio.enabled());
    assert_eq!(audio.ready_state(), web_sys::MediaStreamTrackState::Live);

    let join: HtmlElement = query("button[data-testid=join]").unwrap();
    join.click();
    until("join intent emitted", 2_000, || joined.get_untracked()).await;

    let video: MediaStreamTrack = stream.get_video_tracks().get(0).unchecked_into();
    drop(handle);
    state.media.set_value(None);
    assert_eq!(
        video.ready_state(),
        web_sys::MediaStreamTrackState::Ended,
        "dropping the media stops it"
    );
}
