//! Video tiles: ours and one per remote peer.

use leptos::html::{Div, Video};
use leptos::prelude::*;

use super::controls::muted_mark;
use super::people::hand_mark;
use super::quality::Quality;
use super::stage::{self, big, screen, tile_tools, ME};
use crate::hooks::{use_video_source as attach, SelfVideo};
use crate::room::{Link, PeerState, PeerView};
use crate::session::Session;

/// The first letters of up to two words; the stylesheet shows them in capitals (`.avatar`), which
/// spares the wasm Unicode's case tables.
fn initials(name: &str) -> String {
    let s: String = name
        .split_whitespace()
        .filter_map(|w| w.chars().next())
        .take(2)
        .collect();
    if s.is_empty() {
        "?".into()
    } else {
        s
    }
}

/// How a peer is named on its tile and in the list.
pub fn display_name(name: &str) -> String {
    if name.is_empty() {
        "Guest".to_owned()
    } else {
        name.to_owned()
    }
}

/// How we are named on our own tile and in the list.
pub fn self_label(name: &str) -> String {
    if name.is_empty() {
        "You".to_owned()
    } else {
        format!("{name} (you)")
    }
}

fn hand_state(place: Option<usize>) -> &'static str {
    if place.is_some() {
        "up"
    } else {
        "down"
    }
}

#[component]
pub fn SelfTile(
    session: StoredValue<Option<Session>, LocalStorage>,
    name: Signal<String>,
    /// The call is on screen: only then is the preview element moved here.
    shown: Signal<bool>,
    mic: Signal<bool>,
    /// Whether our camera is on and working.
    cam: Signal<bool>,
    /// Changes when a local track was swapped for another device's.
    swaps: Signal<u32>,
    /// The lobby's preview element, moved here.
    video: SelfVideo,
    /// Our raised hand's place in the line.
    hand: Signal<Option<usize>>,
    /// We speak (never while muted).
    speaking: Signal<bool>,
) -> impl IntoView {
    let slot = NodeRef::<Div>::new();
    let joined_with = StoredValue::new(None::<u32>);
    Effect::new(move || {
        if !shown.get() {
            return;
        }
        let swaps = swaps.get();
        let swapped = joined_with.get_value().is_some_and(|at| at != swaps);
        if joined_with.get_value().is_none() {
            joined_with.set_value(Some(swaps));
        }
        let stream = session.with_value(|s| s.as_ref().and_then(Session::local_stream));
        if swapped {
            video.reload(stream.as_ref());
        } else {
            // At Join: the stream the preview already plays, left playing.
            video.show(stream.as_ref());
        }
    });
    let show = move || cam.get();
    let label = move || name.with(|n| self_label(n));
    let init = move || name.with(|n| initials(n));
    view! {
        <figure class="tile self" class:big=big(ME) class:speaking=speaking data-speaking=move || speaking.get().to_string() data-testid="self-tile" data-mic=move || on_off(mic.get()) data-cam=move || on_off(show()) data-hand=move || hand_state(hand.get())>
            <Show when=move || shown.get()>
                {
                    video.place(slot, "mirror", None, Signal::derive(move || !show()));
                    view! { <div node_ref=slot class="video-slot"></div> }
                }
            </Show>
            <Show when=move || !show()>
                <div class="cam-off" aria-hidden="true"><span class="avatar">{init}</span></div>
            </Show>
            <div class="corner">{tile_tools(ME)}</div>
            <figcaption class="caption">
                <Show when=move || !mic.get()>
                    {muted_mark(None)}
                </Show>
                <span class="name">{label}</span>
                {move || hand.get().map(hand_mark)}
            </figcaption>
        </figure>
    }
}

fn on_off(on: bool) -> &'static str {
    if on {
        "on"
    } else {
        "off"
    }
}

/// A peer's screen share, large, while it shares.
#[component]
pub fn ShareTile(
    session: StoredValue<Option<Session>, LocalStorage>,
    key: u32,
    view: ArcRwSignal<PeerView>,
    /// The speaker its sound plays on.
    speaker: Signal<String>,
) -> impl IntoView {
    let v: RwSignal<PeerView> = view.into();
    let sharing = move || v.with(|v| v.share);
    let video = NodeRef::<Video>::new();
    attach(
        video,
        move || {
            sharing()
                .then(|| session.with_value(|s| s.as_ref().and_then(|s| s.share_stream(key))))
                .flatten()
        },
        speaker,
    );
    view! {
        <Show when=sharing>
            <figure class="tile share" class:big=big(screen(key)) data-testid="share-tile" data-peer=key.to_string()>
                <video node_ref=video autoplay playsinline></video>
                <div class="corner">{tile_tools(screen(key))}</div>
                <figcaption class="caption">
                    <span class="name">{move || format!("{}'s screen", v.with(|v| display_name(&v.name)))}</span>
                </figcaption>
            </figure>
        </Show>
    }
}

#[component]
pub fn PeerTile(
    session: StoredValue<Option<Session>, LocalStorage>,
    key: u32,
    view: ArcRwSignal<PeerView>,
    /// Its raised hand's place in the line.
    hand: Signal<Option<usize>>,
    /// Whether it speaks, and its connection's quality.
    link: ArcRwSignal<Link>,
    /// The speaker its sound plays on.
    speaker: Signal<String>,
) -> impl IntoView {
    let v: RwSignal<PeerView> = view.into();
    let link: RwSignal<Link> = link.into();
    // Muted is never speaking, from the moment its mute arrives (not at the next reading).
    let speaking = move || link.with(|l| l.view.speaking) && v.with(|v| v.mic);
    let video = NodeRef::<Video>::new();
    attach(
        video,
        move || session.with_value(|s| s.as_ref().and_then(|s| s.remote_stream(key))),
        speaker,
    );
    // Measured by the session, so the peer sends no more than this tile shows.
    let show_in = move |el| {
        session.with_value(|s| s.as_ref().map(|s| s.show_in(key, el)));
    };
    Effect::new(move || show_in(video.get()));
    on_cleanup(move || show_in(None));
    let state = move || v.with(|v| v.state);
    let name = move || v.with(|v| display_name(&v.name));
    let cam = move || v.with(|v| v.cam);
    let mic = move || v.with(|v| v.mic);
    let safety_code = move || v.with(|v| v.safety_code.clone());
    view! {
        <figure
            class="tile"
            class:big=big(stage::cam(key))
            class:speaking=speaking
            data-speaking=move || speaking().to_string()
            data-testid="peer-tile"
            data-peer=key.to_string()
            data-state=move || state().as_str()
            data-mic=move || on_off(mic())
            data-cam=move || on_off(cam())
            data-hand=move || hand_state(hand.get())
        >
            <video node_ref=video class:hidden=move || !cam() autoplay playsinline></video>
            <Show when=move || !cam()>
                <div class="cam-off" data-testid="cam-off"><span class="avatar" aria-hidden="true">{move || initials(&name())}</span><span class="sr-only">"Camera off"</span></div>
            </Show>
            <Show when=move || state() != PeerState::Connected>
                <div class="state-badge" role="status">
                    {move || match state() {
                        PeerState::Connecting => "Connecting…",
                        PeerState::Reconnecting => "Reconnecting…",
                        PeerState::Failed => "Connection failed",
                        PeerState::Connected => "",
                    }}
                </div>
            </Show>
            <div class="corner">{tile_tools(stage::cam(key))}<Quality link /></div>
            <figcaption class="caption">
                <Show when=move || !mic()>
                    {muted_mark(Some("muted-mark"))}
                </Show>
                <span class="name" data-testid="peer-name">{name}</span>
                {move || hand.get().map(hand_mark)}
                // Read aloud and compared with the other side: the same digits there mean
                // nothing sits in the middle of this connection.
                {move || safety_code().map(|code| view! {
                    <details class="safety">
                        <summary title="Safety code: compare it with theirs">"Code"</summary>
                        <span data-testid="safety-code">{code}</span>
                    </details>
                })}
            </figcaption>
        </figure>
    }
}
