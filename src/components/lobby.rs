//! The lobby: camera preview, mic meter, device pickers, toggles, name, Join. It owns the
//! preview's media until Join hands it to the call.

use leptos::html::Video;
use leptos::prelude::*;
use leptos::task::spawn_local;

use super::controls::{Device as Kind, MediaToggle};
use crate::rtc::media::{acquire, list_devices, Device, LocalMedia, MediaProblem, MicMeter};

/// What the lobby hands over on Join.
#[derive(Clone, Copy)]
pub struct LobbyState {
    pub media: StoredValue<Option<LocalMedia>, LocalStorage>,
    pub mic_on: RwSignal<bool>,
    pub cam_on: RwSignal<bool>,
    pub name: RwSignal<String>,
}

#[component]
pub fn Lobby(
    room: String,
    state: LobbyState,
    #[prop(into)] on_join: Callback<()>,
    joining: Signal<bool>,
) -> impl IntoView {
    let LobbyState {
        media,
        mic_on,
        cam_on,
        name,
    } = state;
    let preview = NodeRef::<Video>::new();
    let level = RwSignal::new(0u8);
    let problems = RwSignal::new(Vec::<MediaProblem>::new());
    let cameras = RwSignal::new(Vec::<Device>::new());
    let mics = RwSignal::new(Vec::<Device>::new());
    let camera_id = RwSignal::new(String::new());
    let mic_id = RwSignal::new(String::new());
    let has_cam = RwSignal::new(false);
    let has_mic = RwSignal::new(false);
    let ready = RwSignal::new(false);
    let generation = RwSignal::new(0u32);
    let meter = StoredValue::new_local(None::<MicMeter>);

    let start = move |camera: Option<String>, mic: Option<String>| {
        ready.set(false);
        // Release the old devices first: some cameras open only once.
        meter.try_set_value(None);
        media.try_set_value(None);
        let wanted = generation.get_untracked().wrapping_add(1);
        generation.set(wanted);
        spawn_local(async move {
            let got = acquire(camera.as_deref(), mic.as_deref()).await;
            // The lobby closed or another pick started meanwhile: these tracks are not wanted.
            if generation.try_get_untracked() != Some(wanted) {
                return;
            }
            got.media.set_enabled("audio", mic_on.get_untracked());
            got.media.set_enabled("video", cam_on.get_untracked());
            has_cam.set(got.media.has("video"));
            has_mic.set(got.media.has("audio"));
            camera_id.set(got.media.device_id("video").unwrap_or_default());
            mic_id.set(got.media.device_id("audio").unwrap_or_default());
            if let Some(video) = preview.get_untracked() {
                video.set_src_object(Some(got.media.stream()));
            }
            if got.media.has("audio") {
                let meter_level = level;
                match MicMeter::new(got.media.stream(), move |l| meter_level.set(l)) {
                    Ok(m) => meter.set_value(Some(m)),
                    Err(e) => crate::rtc::peer::log(&format!("mic meter: {e}")),
                }
            } else {
                level.set(0);
            }
            problems.set(got.problems);
            media.set_value(Some(got.media));
            if let Ok((c, m)) = list_devices().await {
                if generation.try_get_untracked() == Some(wanted) {
                    cameras.set(c);
                    mics.set(m);
                }
            }
            ready.set(true);
        });
    };
    start(None, None);
    on_cleanup(move || {
        // Invalidate an acquisition still in flight and stop the meter.
        generation.try_update(|g| *g = g.wrapping_add(1));
        meter.try_set_value(None);
    });

    let toggle_mic = move |()| {
        let on = !mic_on.get_untracked();
        mic_on.set(on);
        media.with_value(|m| {
            if let Some(m) = m {
                m.set_enabled("audio", on)
            }
        });
    };
    let toggle_cam = move |()| {
        let on = !cam_on.get_untracked();
        cam_on.set(on);
        media.with_value(|m| {
            if let Some(m) = m {
                m.set_enabled("video", on)
            }
        });
    };
    let pick_camera = move |ev| {
        let id = event_target_value(&ev);
        start(
            Some(id),
            Some(mic_id.get_untracked()).filter(|s| !s.is_empty()),
        );
    };
    let pick_mic = move |ev| {
        let id = event_target_value(&ev);
        start(
            Some(camera_id.get_untracked()).filter(|s| !s.is_empty()),
            Some(id),
        );
    };
    let join = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        on_join.run(());
    };
    let show_video = move || has_cam.get() && cam_on.get();

    view! {
        <section class="lobby">
            <div class="preview-wrap">
                <video
                    node_ref=preview
                    data-testid="preview"
                    class="preview mirror"
                    class:hidden=move || !show_video()
                    autoplay
                    playsinline
                    muted
                    prop:muted=true
                ></video>
                <Show when=move || !show_video()>
                    <div class="cam-off-big" aria-hidden="true">
                        {move || {
                            if has_cam.get() {
                                "Camera off"
                            } else if !ready.get() {
                                "Starting camera…"
                            } else if problems.with(|p| p.contains(&MediaProblem::Blocked)) {
                                "Camera blocked"
                            } else {
                                "No camera"
                            }
                        }}
                    </div>
                </Show>
                <div class="preview-controls">
                    <MediaToggle device=Kind::Mic testid="toggle-mic" on=Signal::derive(move || mic_on.get() && (has_mic.get() || !ready.get())) disabled=Signal::derive(move || ready.get() && !has_mic.get()) on_toggle=toggle_mic />
                    <MediaToggle device=Kind::Cam testid="toggle-cam" on=Signal::derive(move || cam_on.get() && (has_cam.get() || !ready.get())) disabled=Signal::derive(move || ready.get() && !has_cam.get()) on_toggle=toggle_cam />
                </div>
            </div>
            <form class="lobby-side card" on:submit=join>
                <h1 class="room-title">
                    <span class="muted-text">"Room "</span>
                    {room}
                </h1>
                <Show when=move || !problems.get().is_empty()>
                    <div class="notice" data-testid="lobby-notice" role="status">
                        {move || problems.get().iter().map(|p| view! { <p>{p.sentence()}</p> }).collect_view()}
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
                <label class="field">
                    <span>"Camera"</span>
                    <select data-testid="camera-select" on:change=pick_camera disabled=move || cameras.get().is_empty()>
                        <Show when=move || cameras.get().is_empty()>
                            <option value="">"No camera"</option>
                        </Show>
                        <For each=move || cameras.get() key=|d| d.id.clone() let:d>
                            <option value=d.id.clone() selected=move || camera_id.get() == d.id>{d.label.clone()}</option>
                        </For>
                    </select>
                </label>
                <label class="field">
                    <span>"Microphone"</span>
                    <select data-testid="mic-select" on:change=pick_mic disabled=move || mics.get().is_empty()>
                        <Show when=move || mics.get().is_empty()>
                            <option value="">"No microphone"</option>
                        </Show>
                        <For each=move || mics.get() key=|d| d.id.clone() let:d>
                            <option value=d.id.clone() selected=move || mic_id.get() == d.id>{d.label.clone()}</option>
                        </For>
                    </select>
                </label>
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
                        <div class="meter-fill" style:width=move || format!("{}%", level.get())></div>
                    </div>
                </div>
                <button class="btn primary big" type="submit" data-testid="join" disabled=move || !ready.get() || joining.get()>
                    {move || if joining.get() { "Joining…" } else { "Join" }}
                </button>
            </form>
        </section>
    }
}
