//! `/r/<room>` (with `#<key>` for a private room): the lobby, then the call after Join, then the
//! lobby again after Leave.

use futures::FutureExt;
use gloo_timers::callback::Timeout;
use leptos::prelude::*;
use leptos::task::spawn_local;
use meshcall_protocol::is_valid_room_name;

use super::call::Call;
use super::lobby::{Lobby, LobbyState};
use crate::hooks::{go_to, invite_link, page_fragment, store, stored, SelfVideo, NAME_KEY};
use crate::rtc::media::LocalMedia;
use crate::session::{CallSettings, CallView, Session};
use crate::signaling::{config, room_url, LinkStatus};
use crate::trust::RoomKey;

#[component]
pub fn RoomPage(room: String) -> impl IntoView {
    if !is_valid_room_name(&room) {
        let why = format!("\u{201c}{room}\u{201d} is not a valid room name. Room names use letters, digits, - and _ (up to 64).");
        return view! { <BadLink why /> }.into_any();
    }
    // A damaged key must never quietly make a private room an open one.
    match RoomKey::from_fragment(&page_fragment()) {
        Ok(key) => view! { <Room room key /> }.into_any(),
        Err(_) => {
            let why =
                "The room key in this link is damaged. Ask for the invite link again.".to_owned();
            view! { <BadLink why /> }.into_any()
        }
    }
}

#[component]
fn BadLink(why: String) -> impl IntoView {
    // No lobby here: the camera index.html asked for while the app loaded goes off again.
    crate::rtc::media::discard_early_media();
    view! {
        <section class="error card" data-testid="error" role="alert">
            <p>{why}</p>
            <button class="btn primary" data-testid="retry" on:click=move |_| go_to("/")>
                "Choose another room"
            </button>
        </section>
    }
}

#[component]
fn Room(room: String, key: Option<RoomKey>) -> impl IntoView {
    let state = LobbyState {
        media: StoredValue::new_local(None::<LocalMedia>),
        mic_on: RwSignal::new(true),
        cam_on: RwSignal::new(true),
        name: RwSignal::new(stored(NAME_KEY)),
        video: SelfVideo::new(),
    };
    let session = StoredValue::new_local(None::<Session>);
    // The call screen is built while the person is in the lobby, laid out but not shown (a new
    // one after each Leave), and shown once the call has something to show (`show_when_ready`):
    // rendered at the click, it kept the page busy when the others' offers came
    // (docs/join-timeline.md).
    let call = RwSignal::new(CallView::blank());
    let in_call = RwSignal::new(false);
    // Join was clicked: connecting, the lobby still on screen, its button saying so.
    let joining = RwSignal::new(false);
    // Our name as the call shows it: the lobby's field as it was at Join.
    let joined_name = RwSignal::new(String::new());
    let show_timers = StoredValue::new_local(ShowTimers::default());
    let waited = RwSignal::new(false);
    show_when_ready(call, joining, in_call, waited, show_timers);
    let url = StoredValue::new(String::new());
    // Fetch the configuration while the person is still in the lobby, so Join goes straight to
    // the socket (the benchmark saw ~17 ms of first-face time in this round trip). TURN
    // credentials in it live for hours, far longer than anyone waits in a lobby.
    let config = config::load().boxed_local().shared();
    spawn_local({
        let config = config.clone();
        async move {
            config.await;
        }
    });
    let config = StoredValue::new_local(config);

    let join = {
        let room = room.clone();
        let key = key.clone();
        move |()| {
            if joining.get_untracked() {
                return;
            }
            joining.set(true);
            waited.set(false);
            let cap = Timeout::new(SHOW_CAP_MS, move || {
                waited.try_set(true);
            });
            show_timers.update_value(|t| t.cap = Some(cap));
            let room = room.clone();
            let key = key.clone();
            spawn_local(async move {
                let resolved = config.get_value().await;
                // Normally the lobby's media; none if the page is closing or it never came.
                let media = state
                    .media
                    .try_update_value(Option::take)
                    .flatten()
                    .or_else(|| LocalMedia::none().ok());
                let Some(media) = media else {
                    joining.try_set(false);
                    show_timers.try_set_value(ShowTimers::default());
                    return;
                };
                let name = state.name.get_untracked().trim().to_owned();
                store(NAME_KEY, &name);
                joined_name.set(name.clone());
                let settings = CallSettings {
                    name,
                    mic: state.mic_on.get_untracked(),
                    cam: state.cam_on.get_untracked(),
                    ice_servers: resolved.ice_servers,
                    relay_only: resolved.relay_only,
                    upload_kbps: resolved.upload_kbps,
                    max_file_mb: resolved.max_file_mb,
                    key: key.clone(),
                };
                let s = Session::new(settings, media, call.get_untracked());
                let target = room_url(&resolved.base, &room);
                url.set_value(target.clone());
                s.connect(target);
                session.set_value(Some(s));
            });
        }
    };
    // Leave, and a page put away (pagehide: it may come back from the back/forward cache): the
    // call ended, the lobby back, a fresh call screen for the next Join.
    let hang_up = move || {
        if let Some(s) = session.try_update_value(Option::take).flatten() {
            s.leave();
        }
        in_call.try_set(false);
        joining.try_set(false);
        waited.try_set(false);
        show_timers.try_set_value(ShowTimers::default());
        call.try_set(CallView::blank());
    };
    let leave = move |()| hang_up();
    let retry = move |()| {
        session.with_value(|s| {
            if let Some(s) = s {
                s.connect(url.get_value())
            }
        });
    };
    // A closing tab hangs up properly: closed connections tell the others at once over SCTP,
    // where a vanished page leaves them waiting for ICE to notice.
    let hangup = window_event_listener_untyped("pagehide", move |_| hang_up());
    on_cleanup(move || {
        hangup.remove();
        if let Some(s) = session.try_update_value(Option::take).flatten() {
            s.leave();
        }
        state.media.try_set_value(None);
        state.video.show(None);
    });

    let name: Signal<String> = joined_name.into();
    let invite = invite_link(&room, key.as_ref());
    let joining: Signal<bool> = joining.into();
    view! {
        <Show when=move || !in_call.get()>
            // Back from a call (or first visit): fresh media for the preview.
            <Lobby room=room.clone() keyed=key.is_some() state on_join=join.clone() joining />
        </Show>
        {move || {
            let view = call.get();
            let invite = invite.clone();
            view! { <Call session view name invite shown=in_call.into() video=state.video on_leave=leave on_retry=retry /> }
        }}
    }
}

/// Longest the lobby stays on screen after the server let us in while nobody offered a call yet:
/// the people already in the room offer within tens of milliseconds; after this we are alone.
const SHOW_ALONE_MS: u32 = 150;
/// Longest the lobby stays on screen after Join however slow the server is: the call screen then
/// says it is connecting.
const SHOW_CAP_MS: u32 = 1_000;

/// The timers that end the wait for the call screen; dropped, they are cancelled.
#[derive(Default)]
struct ShowTimers {
    /// [`SHOW_CAP_MS`] after Join.
    cap: Option<Timeout>,
    /// [`SHOW_ALONE_MS`] after the server let us in.
    alone: Option<Timeout>,
}

/// Shows the call screen once Join has something to show: our first offer or answer went out (a
/// tile came with it), the server refused us or cannot be reached, or [`SHOW_ALONE_MS`] passed
/// since it let us in ([`SHOW_CAP_MS`] since Join: `waited`). Until then the lobby stays, saying
/// "Joining…". Showing the call screen costs the page 30-50 ms (layout, paint, the lobby taken
/// down); at the click it sat exactly where the others' offers came in, delaying our answers and
/// so everybody's first face (docs/join-timeline.md).
fn show_when_ready(
    call: RwSignal<CallView>,
    joining: RwSignal<bool>,
    in_call: RwSignal<bool>,
    waited: RwSignal<bool>,
    timers: StoredValue<ShowTimers, LocalStorage>,
) {
    Effect::new(move || {
        if !joining.get() || in_call.get_untracked() {
            return;
        }
        let (tiles, link) = call.with(|v| (v.tiles.with(Vec::len), v.link.get()));
        let ready = match link {
            LinkStatus::Refused(_) | LinkStatus::Unreachable => true,
            LinkStatus::Open => {
                timers.update_value(|t| {
                    t.alone.get_or_insert_with(|| {
                        Timeout::new(SHOW_ALONE_MS, move || {
                            waited.try_set(true);
                        })
                    });
                });
                tiles > 0
            }
            LinkStatus::Connecting | LinkStatus::Reconnecting => tiles > 0,
        };
        if ready || waited.get() {
            timers.set_value(ShowTimers::default());
            joining.set(false);
            waited.set(false);
            in_call.set(true);
        }
    });
}
