//! The call screen: the grid of tiles, the controls, and what went wrong with the server.

use leptos::prelude::*;
use leptos::task::spawn_local;

use super::chat::ChatPanel;
use super::controls::{icon, with_key, DevicePicker, MediaToggle};
use super::people::{hand_place, in_hand_order, PeoplePanel, Person};
use super::stage::{self, Stage};
use super::tile::{display_name, self_label, PeerTile, SelfTile, ShareTile};
use crate::devices::DeviceView;
use crate::dom::on_shortcut;
use crate::hooks::{copy_text, store, stored, SelfVideo, SHORTCUTS_KEY, SPEAKER_KEY};
use crate::room::ChatLog;
use crate::rtc::media::MediaKind;
use crate::rtc::screen::ShareTrouble;
use crate::session::{CallView, Notices, Session};
use crate::signaling::LinkStatus;

/// Columns for `n` tiles on a wide screen: the smallest square grid that holds them.
pub fn grid_columns(n: usize) -> usize {
    (1..=n.max(1)).find(|c| c * c >= n).unwrap_or(1)
}

#[component]
pub fn Call(
    session: StoredValue<Option<Session>, LocalStorage>,
    view: CallView,
    /// Our name as the others see it.
    name: Signal<String>,
    /// The link that brings others into this room (with its key, if it has one).
    invite: String,
    /// Our camera's `<video>`, the lobby's preview until the call is shown.
    video: SelfVideo,
    /// The call is on screen; until then it is built, hidden, for a Join that only connects.
    shown: Signal<bool>,
    #[prop(into)] on_leave: Callback<()>,
    #[prop(into)] on_retry: Callback<()>,
) -> impl IntoView {
    let tiles: RwSignal<Vec<crate::session::Tile>> = view.tiles.clone().into();
    let link: RwSignal<LinkStatus> = view.link.clone().into();
    let mic: RwSignal<bool> = view.mic.clone().into();
    let cam: RwSignal<bool> = view.cam.clone().into();
    let devices: RwSignal<DeviceView> = view.devices.clone().into();
    let notices: RwSignal<Notices> = view.notices.clone().into();
    let chat: RwSignal<ChatLog> = view.chat.clone().into();
    let files: RwSignal<Vec<crate::room::FileEntry>> = view.files.clone().into();
    let unread = move || chat.with(ChatLog::unread);
    let chat_open = move || chat.with(ChatLog::is_open);
    let send_chat = move |text: String| {
        session.with_value(|s| {
            if let Some(s) = s {
                s.send_chat(text)
            }
        });
    };
    let hand: RwSignal<Option<i64>> = view.hand.clone().into();
    let raise = move || {
        session.with_value(|s| {
            if let Some(s) = s {
                s.raise_hand(hand.get_untracked().is_none())
            }
        });
    };
    let show_people = RwSignal::new(false);
    let sharing: RwSignal<bool> = view.sharing.clone().into();
    let share_trouble: RwSignal<Option<ShareTrouble>> = view.share_trouble.clone().into();
    let toggle_share = move || {
        session.with_value(|s| match s {
            Some(s) if sharing.get_untracked() => s.stop_share(),
            Some(s) => s.share_screen(),
            None => {}
        });
    };
    // The speaker the others play on, as last chosen in this browser (Chromium's "default" else).
    let speaker = RwSignal::new(match stored(SPEAKER_KEY) {
        id if id.is_empty() => "default".to_owned(),
        id => id,
    });
    let copied = RwSignal::new(None::<bool>);
    let show_devices = RwSignal::new(false);
    let count = move || tiles.with(Vec::len);
    let has_mic = move || devices.with(|d| d.has_mic);
    let has_cam = move || devices.with(|d| d.has_cam);
    let troubles = move || {
        devices.with(|d| {
            [MediaKind::Video, MediaKind::Audio]
                .into_iter()
                .filter_map(|kind| d.trouble(kind).map(|t| (kind, t)))
                .collect::<Vec<_>>()
        })
    };
    let switch = move |kind: MediaKind, device: Option<String>| {
        session.with_value(|s| {
            if let Some(s) = s {
                s.switch_device(kind, device)
            }
        });
    };
    let retry_devices = move |_| {
        for (kind, _) in troubles() {
            switch(kind, devices.with_untracked(|d| d.retry_choice(kind)));
        }
    };

    // Shown as on only while a working track is sent; turning on without one asks for a device.
    let mic_on = Signal::derive(move || mic.get() && has_mic());
    let cam_on = Signal::derive(move || cam.get() && has_cam());
    let turn = move |kind: MediaKind, on: bool| {
        session.with_value(|s| {
            if let Some(s) = s {
                s.turn(kind, on)
            }
        });
    };
    let me_link: RwSignal<crate::room::Link> = view.me.clone().into();
    let speaking = Signal::derive(move || me_link.with(|l| l.view.speaking) && mic_on.get());
    // Everyone with mic, camera and hand, raised hands first: the list and the tiles' hand marks.
    let people = Memo::new(move |_| {
        let mut all = vec![Person {
            key: None,
            name: name.with(|n| self_label(n)),
            mic: mic_on.get(),
            cam: cam_on.get(),
            hand: hand.get(),
            share: sharing.get(),
        }];
        tiles.with(|t| {
            all.extend(t.iter().map(|t| {
                t.view.with(|v| Person {
                    key: Some(t.key),
                    name: display_name(&v.name),
                    mic: v.mic,
                    cam: v.cam,
                    hand: v.hand,
                    share: v.share,
                })
            }))
        });
        in_hand_order(all)
    });
    let place = move |key| Signal::derive(move || people.with(|p| hand_place(p, key)));
    let toggle_mic = move |()| turn(MediaKind::Audio, !mic_on.get_untracked());
    let toggle_cam = move |()| turn(MediaKind::Video, !cam_on.get_untracked());
    let toggle_chat = move || chat.update(|c| c.set_open(!c.is_open()));
    // One-letter shortcuts, as Jitsi has them: never while a field has the focus (typing) or
    // with a modifier held (the browser's own), nor once the person turned them off (WCAG 2.1.4:
    // a single key can be hit by a speech input or a stray finger), which the browser remembers.
    let keys = RwSignal::new(stored(SHORTCUTS_KEY) != "off");
    let key = move |k: &'static str| keys.get().then_some(k);
    let set_keys = move |_| {
        let on = !keys.get_untracked();
        store(SHORTCUTS_KEY, if on { "on" } else { "off" });
        keys.set(on);
    };
    let listener = on_shortcut(move |k| {
        if !keys.get_untracked() || !shown.get_untracked() {
            return false;
        }
        match k {
            "m" | "M" => toggle_mic(()),
            "v" | "V" => toggle_cam(()),
            "s" | "S" => toggle_share(),
            "c" | "C" => toggle_chat(),
            "h" | "H" => raise(),
            _ => return false,
        }
        true
    });
    on_cleanup(move || listener.remove());

    // The arrangement: the person's choice, kept while people come and go.
    let speaker_view = RwSignal::new(false);
    let pinned = RwSignal::new(None);
    // Whoever began speaking last, kept while nobody speaks.
    let last_speaker = RwSignal::new(None);
    Effect::new(move || {
        let now = tiles.with(|t| {
            t.iter()
                .filter_map(|t| {
                    t.link
                        .with(|l| l.view.speaking.then_some((l.view.spoke_at, t.key)))
                })
                .max()
        });
        if let Some((_, key)) = now {
            last_speaker.set(Some(stage::cam(key)));
        }
    });
    provide_context(Stage {
        pinned,
        speaker_view,
        last_speaker,
        tiles,
    });
    let invite = StoredValue::new(invite);
    let copy = move |_| {
        spawn_local(async move {
            let ok = copy_text(&invite.get_value()).await;
            copied.set(Some(ok));
        });
    };
    let error = move || match link.get() {
        LinkStatus::Refused(reason) => Some(reason),
        LinkStatus::Unreachable => Some(
            "We can't reach the signaling server. Check your connection, then retry.".to_owned(),
        ),
        _ => None,
    };

    // A refusal names the likely fix; both say that the call itself cannot connect without it.
    let relay_trouble = move || {
        notices.with(|n| {
            if n.relay_refused > 0 {
                Some("Can't reach the relay server (TURN): it refused the credentials, so the call cannot connect. Reload the page to get fresh ones; if that fails, whoever runs this server must check its TURN secret.")
            } else if n.relay_unreachable > 0 {
                Some("Can't reach the relay server (TURN), so the call cannot connect. Check your connection; whoever runs this server must check that the relay is up and its port open.")
            } else {
                None
            }
        })
    };

    view! {
        <section class="call" class:offstage=move || !shown.get()>
            <h1 class="sr-only">"Call"</h1>
            <Show when=move || link.get() == LinkStatus::Reconnecting>
                <div class="banner" data-testid="reconnecting-banner" role="status">
                    "Lost the connection to the server. Reconnecting… Calls in progress continue."
                </div>
            </Show>
            <Show when=move || error().is_some()>
                <div class="error card" data-testid="error" role="alert">
                    <p>{move || error().unwrap_or_default()}</p>
                    <div class="row">
                        <button class="btn primary" data-testid="retry" on:click=move |_| on_retry.run(())>"Retry"</button>
                        <button class="btn" on:click=move |_| on_leave.run(())>"Back to lobby"</button>
                    </div>
                </div>
            </Show>
            <Show when=move || notices.with(|n| n.mismatch > 0)>
                <div class="banner warning" data-testid="mitm-warning" role="alert">
                    "Warning: someone with this room's key reached you through a connection that was tampered with. The signaling server, or something between you, may be trying to listen in on the call (a man in the middle). Nothing was sent to them."
                </div>
            </Show>
            <Show when=move || notices.with(|n| n.no_key > 0)>
                <p class="hint" data-testid="intruder-notice" data-count=move || notices.with(|n| n.no_key).to_string() role="status">
                    "Someone without the room key tried to join"
                </p>
            </Show>
            {move || share_trouble.get().map(|t| view! { <p class="hint" data-testid="share-notice" role="alert">{t.sentence()}</p> })}
            <Show when=move || sharing.get()>
                <p class="hint" role="status">"You are sharing your screen with everyone in the call."</p>
            </Show>
            {move || relay_trouble().map(|t| view! { <p class="banner warning" data-testid="relay-notice" role="alert">{t}</p> })}
            <Show when=move || link.get() == LinkStatus::Connecting>
                <p class="hint" role="status">"Connecting to the room…"</p>
            </Show>
            <Show when=move || link.get() == LinkStatus::Open && count() == 0>
                <p class="hint" role="status">"You're the only one here. Copy the invite link and share it."</p>
            </Show>
            // On an error the card is the page: the grid would only push it around.
            <div class="grid" class:speaker=move || speaker_view.get() class:hidden=move || error().is_some() style:--cols=move || grid_columns(count() + 1).to_string()
                style:--rows=move || (count() + 1).div_ceil(grid_columns(count() + 1)).to_string() data-count=move || (count() + 1).to_string()>
                // Screens first, each across the whole row.
                <For each=move || tiles.get() key=|t| t.key let:tile>
                    <ShareTile session key=tile.key view=tile.view speaker=speaker.into() />
                </For>
                <SelfTile session name shown mic=mic_on cam=cam_on swaps=Signal::derive(move || devices.with(|d| d.swaps)) video hand=place(None) speaking />
                <For each=move || tiles.get() key=|t| t.key let:tile>
                    <PeerTile session key=tile.key view=tile.view hand=place(Some(tile.key)) link=tile.link speaker=speaker.into() />
                </For>
            </div>
            <nav class="controls" class:hidden=move || error().is_some() aria-label="Call controls">
                <span class="count" aria-live="polite">
                    <span data-testid="peer-count">{count}</span>
                    {move || if count() == 1 { " other" } else { " others" }}
                </span>
                <MediaToggle device=MediaKind::Audio testid="call-mic" shortcut="M" keys on=mic_on disabled=Signal::stored(false) on_toggle=toggle_mic />
                <MediaToggle device=MediaKind::Video testid="call-cam" shortcut="V" keys on=cam_on disabled=Signal::stored(false) on_toggle=toggle_cam />
                <button
                    type="button"
                    class="round"
                    class:raised=move || hand.get().is_some()
                    data-testid="call-hand"
                    aria-label="Raise hand"
                    aria-pressed=move || hand.get().is_some().to_string()
                    title=move || with_key(if hand.get().is_some() { "Lower your hand" } else { "Raise your hand" }, key("H"))
                    aria-keyshortcuts=move || key("H")
                    on:click=move |_| raise()
                >
                    <span aria-hidden="true">"✋"</span>
                    <span class="btn-text">"Hand"</span>
                </button>
                <button
                    type="button"
                    class="round"
                    class:raised=move || sharing.get()
                    data-testid="call-share"
                    aria-label="Share screen"
                    aria-pressed=move || sharing.get().to_string()
                    title=move || with_key(if sharing.get() { "Stop sharing your screen" } else { "Share your screen" }, key("S"))
                    aria-keyshortcuts=move || key("S")
                    on:click=move |_| toggle_share()
                >
                    {icon("screen")}
                    <span class="btn-text">"Share"</span>
                </button>
                <button
                    type="button"
                    class="btn"
                    data-testid="layout-toggle"
                    aria-pressed=move || speaker_view.get().to_string()
                    title="Speaker view: the one speaking (or a screen) large, the others in a strip"
                    on:click=move |_| speaker_view.update(|v| *v = !*v)
                >
                    {icon("speaker")}
                    <span class="btn-text">"Speaker view"</span>
                </button>
                <button
                    type="button"
                    class="btn"
                    data-testid="people-toggle"
                    aria-label="People"
                    aria-expanded=move || show_people.get().to_string()
                    aria-controls="people-panel"
                    on:click=move |_| show_people.update(|v| *v = !*v)
                >
                    {icon("users")}
                    <span class="btn-text">"People"</span>
                </button>
                <button
                    type="button"
                    class="btn"
                    data-testid="call-devices"
                    aria-label="Devices and settings"
                    title="Devices and settings"
                    aria-expanded=move || if show_devices.get() { "true" } else { "false" }
                    aria-controls="device-panel"
                    on:click=move |_| show_devices.update(|v| *v = !*v)
                >
                    {icon("sliders")}
                    <span class="btn-text">"Devices"</span>
                </button>
                <button
                    type="button"
                    class="btn"
                    data-testid="chat-toggle"
                    aria-label=move || match unread() {
                        0 => "Chat".to_owned(),
                        n => format!("Chat, {n} unread"),
                    }
                    aria-expanded=move || chat_open().to_string()
                    aria-controls="chat-panel"
                    title=move || with_key("Chat", key("C"))
                    aria-keyshortcuts=move || key("C")
                    on:click=move |_| toggle_chat()
                >
                    {icon("chat")}
                    <span class="btn-text">"Chat"</span>
                    <Show when=move || unread() != 0>
                        <span class="badge" data-testid="chat-unread">{unread}</span>
                    </Show>
                </button>
                <button class="btn" data-testid="copy-link" on:click=copy>
                    {icon("link")}
                    {move || match copied.get() {
                        Some(true) => "Link copied".to_owned(),
                        Some(false) => "Copy failed".to_owned(),
                        None => "Copy invite link".to_owned(),
                    }}
                </button>
                <button class="btn danger" data-testid="leave" on:click=move |_| on_leave.run(())>"Leave"</button>
            </nav>
            <Show when=move || (show_devices.get() || !troubles().is_empty()) && error().is_none()>
                <div class="device-panel card" id="device-panel" data-testid="device-panel">
                    <Show when=move || !troubles().is_empty()>
                        <div class="notice" data-testid="device-notice" role="alert">
                            {move || troubles().into_iter().map(|(kind, t)| view! { <p>{t.sentence(kind)}</p> }).collect_view()}
                            <button type="button" class="btn" data-testid="device-retry" on:click=retry_devices>"Try again"</button>
                        </div>
                    </Show>
                    <div class="pickers">
                        <DevicePicker label="Camera" empty="No camera" testid="call-camera-select"
                            devices=Signal::derive(move || devices.with(|d| d.cameras.clone()))
                            selected=Signal::derive(move || devices.with(|d| d.camera.clone()))
                            on_pick=move |id: String| switch(MediaKind::Video, Some(id).filter(|s| !s.is_empty())) />
                        <DevicePicker label="Microphone" empty="No microphone" testid="call-mic-select"
                            devices=Signal::derive(move || devices.with(|d| d.mics.clone()))
                            selected=Signal::derive(move || devices.with(|d| d.mic.clone()))
                            on_pick=move |id: String| switch(MediaKind::Audio, Some(id).filter(|s| !s.is_empty())) />
                        <Show when=move || devices.with(|d| !d.speakers.is_empty())>
                            <DevicePicker label="Speaker" empty="" testid="call-speaker-select"
                                devices=Signal::derive(move || devices.with(|d| d.speakers.clone()))
                                selected=speaker
                                on_pick=move |id: String| {
                                    store(SPEAKER_KEY, &id);
                                    speaker.set(id);
                                } />
                        </Show>
                    </div>
                    <label class="check">
                        <input type="checkbox" data-testid="shortcuts-toggle" prop:checked=keys on:change=set_keys />
                        "Single-key shortcuts: M, V, S, C, H"
                    </label>
                </div>
            </Show>
            <Show when=move || show_people.get() && error().is_none()>
                <PeoplePanel people />
            </Show>
            <Show when=move || chat_open() && error().is_none()>
                <ChatPanel log=chat on_send=send_chat session files />
            </Show>
            <Show when=move || copied.get() == Some(false)>
                <p class="hint">"Copy this link: " <code data-testid="invite-link">{move || invite.get_value()}</code></p>
            </Show>
        </section>
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn grid_fits_the_count() {
        let cases = [(1, 1), (2, 2), (4, 2), (5, 3), (9, 3), (10, 4), (13, 4)];
        for (n, cols) in cases {
            assert_eq!(super::grid_columns(n), cols, "{n}");
        }
    }
}
