use leptos::prelude::*;
use meshcall_protocol::is_valid_room_name;

use crate::hooks::{go_to, random_room_key, random_room_name};

/// Typed room names: spaces become dashes so "team standup" just works.
pub fn normalize_room(typed: &str) -> String {
    typed.split_whitespace().collect::<Vec<_>>().join("-")
}

#[component]
pub fn Home() -> impl IntoView {
    let typed = RwSignal::new(String::new());
    let error = RwSignal::new(false);
    // Only the room (and a new room's key) goes along: nothing from this page's query, which
    // anyone who sent the link could have written. A new room is private: its key travels in the
    // link's fragment, never to a server.
    let new_room = move |_| {
        let key = random_room_key();
        go_to(&format!("/r/{}#{}", random_room_name(), key.as_str()));
    };
    let go = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let room = normalize_room(&typed.get_untracked());
        if is_valid_room_name(&room) {
            error.set(false);
            go_to(&format!("/r/{room}"));
        } else {
            error.set(true);
        }
    };
    view! {
        <section class="home card">
            <h1 class="brand">"meshcall"</h1>
            <p class="lede">"Video rooms that connect everyone directly. No account, no install."</p>
            <button class="btn primary big" data-testid="new-room" on:click=new_room>
                "Start a new room"
            </button>
            <div class="or"><span>"or join one"</span></div>
            <form class="join-form" on:submit=go>
                <label class="sr-only" for="room-input">"Room name"</label>
                <input
                    id="room-input"
                    data-testid="room-input"
                    type="text"
                    placeholder="Room name"
                    autocomplete="off"
                    maxlength="64"
                    prop:value=move || typed.get()
                    on:input=move |ev| typed.set(event_target_value(&ev))
                    aria-invalid=move || if error.get() { "true" } else { "false" }
                />
                <button class="btn" type="submit" data-testid="go-room">"Go"</button>
            </form>
            <Show when=move || error.get()>
                <p class="field-error" role="alert">
                    "Room names use letters, digits, - and _ (up to 64)."
                </p>
            </Show>
        </section>
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn typed_names_are_normalized() {
        assert_eq!(super::normalize_room("  team standup "), "team-standup");
        assert_eq!(super::normalize_room("abc"), "abc");
    }
}
