//! The lobby: camera preview, mic meter, device pickers, toggles, name, Join. It owns the
//! preview's media until Join hands it to the call.

use leptos::html::Div;
use leptos::prelude::*;
use leptos::task::spawn_local;

use super::controls::{DevicePicker, MediaToggle};
use crate::devices::{DeviceView, Devices};
use crate::hooks::SelfVideo;
use crate::rtc::media::{acquire, DeviceTrouble, LocalMedia, MediaKind, MediaProblem};
use crate::rtc::meter::MicMeter;

/// What the lobby hands over on Join.
#[derive(Clone, Copy)]
pub struct LobbyState {
    pub media: StoredValue<Option<LocalMedia>, LocalStorage>,
    pub mic_on: RwSignal<bool>,
    pub cam_on: RwSignal<bool>,
    pub name: RwSignal<String>,
    /// The preview's `<video>`, which becomes the call's self view.
    pub video: SelfVideo,
}

#[component]
pub fn Lobby(
    room: String,
    /// The link carried a room key: only people with it get in.
    #[prop(optional)]
    keyed: bool,
    state: LobbyState,
    #[prop(into)] on_join: Callback<()>,
    joining: Signal<bool>,
) -> impl IntoView {
    let LobbyState {
        media,
        mic_on,
        cam_on,
        name,
        video,
    } = state;
    let preview = NodeRef::<Div>::new();
    let level = RwSignal::new(0u8);
    let problems = RwSignal::new(Vec::<MediaProblem>::new());
    // What can be picked and what is in use; a track that ended under us (unplugged, permission
    // taken back) since the last pick shows as stopped.
    let lists = Devices::new(DeviceView::default());
    let devices: RwSignal<DeviceView> = lists.view.clone().into();
    let has_cam = move || devices.with(|d| d.has_cam);
    let has_mic = move || devices.with(|d| d.has_mic);
    let stopped =
        move |kind: MediaKind| devices.with(|d| d.trouble(kind) == Some(DeviceTrouble::Stopped));
    let ready = RwSignal::new(false);
    let generation = RwSignal::new(0u32);
    let meter = StoredValue::new_local(None::<MicMeter>);
    let device_watch = StoredValue::new_local(lists.watch());
    let lists = StoredValue::new(lists);

    let start = move |camera: Option<String>, mic: Option<String>| {
        ready.set(false);
        devices.update(|d| (d.cam_trouble, d.mic_trouble) = (None, None));
        // Release the old devices first: some cameras open only once.
        meter.try_set_value(None);
        media.try_set_value(None);
        let wanted = generation.get_untracked().wrapping_add(1);
        generation.set(wanted);
        spawn_local(async move {
            let mut got = acquire(camera.as_deref(), mic.as_deref()).await;
            // The lobby closed or another pick started meanwhile: these tracks are not wanted.
            if generation.try_get_untracked() != Some(wanted) {
                return;
            }
            got.media
                .set_enabled(MediaKind::Audio, mic_on.get_untracked());
            got.media
                .set_enabled(MediaKind::Video, cam_on.get_untracked());
            devices.update(|d| d.use_media(&got.media));
            video.show(Some(got.media.stream()));
            if got.media.has(MediaKind::Audio) {
                let meter_level = level;
                match MicMeter::new(got.media.stream(), move |l| meter_level.set(l)) {
                    Ok(m) => meter.set_value(Some(m)),
                    Err(e) => crate::rtc::peer::log(&format!("mic meter: {e}")),
                }
            } else {
                level.set(0);
            }
            problems.set(got.problems);
            let Some(lists) = lists.try_get_value() else {
                return;
            };
            let on_ended = lists.clone();
            got.media.on_ended(move |kind| on_ended.stopped(kind));
            media.set_value(Some(got.media));
            lists.read_lists().await;
            ready.set(true);
        });
    };
    start(None, None);
    // Join hands the microphone to the call: the meter (an audio graph and ten renders a second)
    // stops, so the page is as idle as it can be while the call comes up.
    Effect::new(move || {
        if joining.get() {
            meter.set_value(None);
            level.set(0);
        }
    });
    on_cleanup(move || {
        // Invalidate an acquisition still in flight and stop the meter.
        generation.try_update(|g| *g = g.wrapping_add(1));
        meter.try_set_value(None);
        device_watch.try_set_value(None);
    });

    let toggle_mic = move |()| {
        let on = !mic_on.get_untracked();
        mic_on.set(on);
        media.with_value(|m| {
            if let Some(m) = m {
                m.set_enabled(MediaKind::Audio, on)
            }
        });
    };
    let toggle_cam = move |()| {
        let on = !cam_on.get_untracked();
        cam_on.set(on);
        media.with_value(|m| {
            if let Some(m) = m {
                m.set_enabled(MediaKind::Video, on)
            }
        });
    };
    let pick_camera = move |id: String| {
        start(
            Some(id),
            Some(devices.with_untracked(|d| d.mic.clone())).filter(|s| !s.is_empty()),
        );
    };
    let pick_mic = move |id: String| {
        start(
            Some(devices.with_untracked(|d| d.camera.clone())).filter(|s| !s.is_empty()),
            Some(id),
        );
    };
    let join = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        on_join.run(());
    };
    let show_video = move || has_cam() && cam_on.get();
    video.place(
        preview,
        "preview mirror",
        Some("preview"),
        Signal::derive(move || !show_video()),
    );

    view! {
        // Joining: the lobby stays on screen until the call has something to show, but its media
        // already went to the call, so nothing in it may be changed meanwhile.
        <section class="lobby" inert=move || joining.get()>
            <div class="preview-wrap">
                <div node_ref=preview class="video-slot"></div>
                <Show when=move || !show_video()>
                    <div class="cam-off-big" aria-hidden="true">
                        {move || {
                            if has_cam() {
                                "Camera off"
                            } else if !ready.get() {
                                "Starting camera…"
                            } else if stopped(MediaKind::Video) {
                                "Camera stopped"
                            } else if problems.with(|p| p.contains(&MediaProblem::Blocked)) {
                                "Camera blocked"
                            } else {
                                "No camera"
                            }
                        }}
                    </div>
                </Show>
                <div class="preview-controls">
                    <MediaToggle device=MediaKind::Audio testid="toggle-mic" on=Signal::derive(move || mic_on.get() && (has_mic() || !ready.get())) disabled=Signal::derive(move || ready.get() && !has_mic()) on_toggle=toggle_mic />
                    <MediaToggle device=MediaKind::Video testid="toggle-cam" on=Signal::derive(move || cam_on.get() && (has_cam() || !ready.get())) disabled=Signal::derive(move || ready.get() && !has_cam()) on_toggle=toggle_cam />
                </div>
            </div>
            <form class="lobby-side card" on:submit=join>
                <h1 class="room-title">
                    <span class="muted-text">"Room "</span>
                    {room}
                </h1>
                <p class="hint" data-testid="room-privacy">
                    {if keyed {
                        "Private room: only people with this invite link can join."
                    } else {
                        "Open room: anyone who knows its name can join."
                    }}
                </p>
                                <Show when=move || !problems.get().is_empty() || stopped(MediaKind::Video) || stopped(MediaKind::Audio)>
                    <div class="notice" data-testid="lobby-notice" role="status">
                        {move || problems.get().iter().map(|p| view! { <p>{p.sentence()}</p> }).collect_view()}
                        {move || [MediaKind::Video, MediaKind::Audio].into_iter().filter(|&k| stopped(k)).map(|k| view! { <p>{DeviceTrouble::Stopped.sentence(k)}</p> }).collect_view()}
                    </div>
                </Show>
                <label class="field">
                    <span>"Your name"</span>
                    <input
                        data-testid="name-input"
                        type="text"
                        maxlength="40"
                        placeholder="Name others will see"
                        autocomplete="nickname"
                        prop:value=move || name.get()
                        on:input=move |ev| name.set(event_target_value(&ev))
                    />
                </label>
                <DevicePicker label="Camera" empty="No camera" testid="camera-select" devices=Signal::derive(move || devices.with(|d| d.cameras.clone())) selected=Signal::derive(move || devices.with(|d| d.camera.clone())) on_pick=pick_camera />
                <DevicePicker label="Microphone" empty="No microphone" testid="mic-select" devices=Signal::derive(move || devices.with(|d| d.mics.clone())) selected=Signal::derive(move || devices.with(|d| d.mic.clone())) on_pick=pick_mic />
                <div class="meter-row">
                    <span>"Mic level"</span>
                    <div
                        class="meter"
                        data-testid="mic-level"
                        role="meter"
                        aria-label="Microphone level"
                        aria-valuemin="0"
                        aria-valuemax="100"
                        aria-valuenow=move || level.get().to_string()
                        data-level=move || level.get().to_string()
                    >
                        // Scaled, not resized: no layout at each reading.
                        <div class="meter-fill" style:transform=move || format!("scaleX({})", f32::from(level.get()) / 100.0)></div>
                    </div>
                </div>
                <button class="btn primary big" type="submit" data-testid="join" disabled=move || !ready.get() || joining.get()>
                    {move || if joining.get() { "Joining…" } else { "Join" }}
                </button>
            </form>
        </section>
    }
}
