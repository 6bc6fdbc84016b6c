//! `/r/<room>` (with `#<key>` for a private room): the lobby, then the call after Join, then the
//! lobby again after Leave.

use futures::FutureExt;
use leptos::prelude::*;
use leptos::task::spawn_local;
use meshcall_protocol::is_valid_room_name;

use super::call::Call;
use super::lobby::{Lobby, LobbyState};
use crate::hooks::{go_to, invite_link, page_fragment, store, stored, SelfVideo, NAME_KEY};
use crate::rtc::media::LocalMedia;
use crate::session::{CallSettings, CallView, Session};
use crate::signaling::{config, room_url};
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
    let call = RwSignal::new(None::<CallView>);
    let joining = RwSignal::new(false);
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
                    return;
                };
                let name = state.name.get_untracked().trim().to_owned();
                store(NAME_KEY, &name);
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
                let s = Session::new(settings, media);
                let target = room_url(&resolved.base, &room);
                url.set_value(target.clone());
                s.connect(target);
                call.set(Some(s.view()));
                session.set_value(Some(s));
                joining.set(false);
            });
        }
    };
    let leave = move |()| {
        if let Some(s) = session.try_update_value(Option::take).flatten() {
            s.leave();
        }
        call.set(None);
    };
    let retry = move |()| {
        session.with_value(|s| {
            if let Some(s) = s {
                s.connect(url.get_value())
            }
        });
    };
    // A closing tab hangs up properly: closed connections tell the others at once over SCTP,
    // where a vanished page leaves them waiting for ICE to notice.
    let hangup = window_event_listener_untyped("pagehide", move |_| {
        if let Some(s) = session.try_update_value(Option::take).flatten() {
            s.leave();
        }
        call.try_set(None);
    });
    on_cleanup(move || {
        hangup.remove();
        if let Some(s) = session.try_update_value(Option::take).flatten() {
            s.leave();
        }
        state.media.try_set_value(None);
        state.video.show(None);
    });

    view! {
        {move || match call.get() {
            None => {
                // Back from a call (or first visit): fresh media for the preview.
                let joining: Signal<bool> = joining.into();
                view! { <Lobby room=room.clone() keyed=key.is_some() state on_join=join.clone() joining /> }.into_any()
            }
            Some(view) => {
                let name = state.name.get_untracked().trim().to_owned();
                let invite = invite_link(&room, key.as_ref());
                view! { <Call session view name invite video=state.video on_leave=leave on_retry=retry /> }.into_any()
            }
        }}
    }
}
