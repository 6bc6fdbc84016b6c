//! Buttons shared by the lobby and the call: real `<button>`s with a label, an icon and
//! `aria-pressed` for toggles.

use leptos::prelude::*;

use crate::rtc::media::{Device, MediaKind};

/// 24px line icons (Feather-style paths), drawn with `currentColor`.
pub fn icon(name: &'static str) -> impl IntoView {
    let path = match name {
        "mic" => "M12 2a3 3 0 0 0-3 3v7a3 3 0 0 0 6 0V5a3 3 0 0 0-3-3zM19 10v2a7 7 0 0 1-14 0v-2M12 19v3",
        "mic-off" => "M2 2l20 20M9 9v3a3 3 0 0 0 5.1 2.1M15 9.3V5a3 3 0 0 0-5.9-.6M17 16.9A7 7 0 0 1 5 12v-2m14 0v2c0 .8-.1 1.5-.4 2.2M12 19v3",
        "cam" => "M23 7l-7 5 7 5V7zM1 5h15v14H1z",
        "cam-off" => "M2 2l20 20M16 16v3H1V5h3m5 0h7v7l7-5v10",
        "sliders" => "M4 21v-7M4 10V3M12 21v-9M12 8V3M20 21v-5M20 12V3M1 14h6M9 8h6M17 16h6",
        "link" => "M10 13a5 5 0 0 0 7.5.5l3-3a5 5 0 0 0-7-7l-1.7 1.7M14 11a5 5 0 0 0-7.5-.5l-3 3a5 5 0 0 0 7 7l1.7-1.7",
        "users" => "M17 21v-2a4 4 0 0 0-4-4H5a4 4 0 0 0-4 4v2M9 11a4 4 0 1 0 0-8 4 4 0 0 0 0 8zM23 21v-2a4 4 0 0 0-3-3.9M16 3.1a4 4 0 0 1 0 7.8",
        "screen" => "M2 3h20v14H2zM8 21h8M12 17v4",
        "pin" => "M12 17v5M9 3h6l-1 7 4 3v2H6v-2l4-3z",
        "full" => "M3 8V3h5M16 3h5v5M21 16v5h-5M8 21H3v-5",
        "speaker" => "M2 4h20v11H2zM3 18h4v3H3zM10 18h4v3h-4zM17 18h4v3h-4z",
        "chat" => "M21 15a2 2 0 0 1-2 2H7l-4 4V5a2 2 0 0 1 2-2h14a2 2 0 0 1 2 2z",
        _ => "M18 6L6 18M6 6l12 12",
    };
    view! {
        <svg class="icon" viewBox="0 0 24 24" width="20" height="20" fill="none" stroke="currentColor"
            stroke-width="2" stroke-linecap="round" stroke-linejoin="round" aria-hidden="true">
            <path d=path />
        </svg>
    }
}

/// Mic or camera on/off. Disabled when the device is missing.
#[component]
pub fn MediaToggle(
    device: MediaKind,
    testid: &'static str,
    /// The key that toggles it, for its tooltip (none in the lobby).
    #[prop(optional)]
    shortcut: &'static str,
    /// Single-key shortcuts are on (never in the lobby).
    #[prop(optional, into)]
    keys: Signal<bool>,
    #[prop(into)] on: Signal<bool>,
    #[prop(into)] disabled: Signal<bool>,
    #[prop(into)] on_toggle: Callback<()>,
) -> impl IntoView {
    let noun = device.noun();
    let (short, icon_on, icon_off) = match device {
        MediaKind::Audio => ("Mic", "mic", "mic-off"),
        MediaKind::Video => ("Camera", "cam", "cam-off"),
    };
    let key = move || keys.get().then_some(shortcut);
    let label = move || format!("{} {noun}", if on.get() { "Turn off" } else { "Turn on" });
    view! {
        <button
            type="button"
            class="round"
            data-testid=testid
            aria-pressed=move || if on.get() { "true" } else { "false" }
            aria-label=label
            title=move || with_key(&label(), key())
            aria-keyshortcuts=key
            class:off=move || !on.get()
            disabled=move || disabled.get()
            on:click=move |_| on_toggle.run(())
        >
            {move || if on.get() { icon(icon_on).into_any() } else { icon(icon_off).into_any() }}
            <span class="btn-text">{short}</span>
        </button>
    }
}

/// A control's tooltip: what it does, and its key while single-key shortcuts are on.
pub fn with_key(what: &str, key: Option<&str>) -> String {
    match key {
        Some(key) => format!("{what} ({key})"),
        None => what.to_owned(),
    }
}

/// The small crossed-out microphone on a tile.
pub fn muted_mark(testid: Option<&'static str>) -> impl IntoView {
    view! {
        <span class="muted-mark" data-testid=testid title="Microphone off" role="img" aria-label="Microphone off">
            {icon("mic-off")}
        </span>
    }
}

/// A labelled `<select>` of cameras or microphones; `on_pick` gets the chosen device id.
#[component]
pub fn DevicePicker(
    label: &'static str,
    /// Shown (and the select disabled) when the list is empty.
    empty: &'static str,
    testid: &'static str,
    #[prop(into)] devices: Signal<Vec<Device>>,
    #[prop(into)] selected: Signal<String>,
    #[prop(into)] on_pick: Callback<String>,
) -> impl IntoView {
    view! {
        <label class="field">
            <span>{label}</span>
            <select
                data-testid=testid
                on:change=move |ev| on_pick.run(event_target_value(&ev))
                disabled=move || devices.with(Vec::is_empty)
            >
                <Show when=move || devices.with(Vec::is_empty)>
                    <option value="">{empty}</option>
                </Show>
                // The one in use is gone (unplugged): nothing is pre-chosen, so any pick counts.
                <Show when=move || !devices.with(Vec::is_empty) && !devices.with(|l| selected.with(|s| l.iter().any(|d| d.id == *s)))>
                    <option value="" disabled selected>"Choose…"</option>
                </Show>
                <For each=move || devices.get() key=|d| d.id.clone() let:d>
                    <option value=d.id.clone() selected=move || selected.with(|s| *s == d.id)>{d.label.clone()}</option>
                </For>
            </select>
        </label>
    }
}
