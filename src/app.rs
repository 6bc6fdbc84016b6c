//! Routes and the page frame.

use leptos::prelude::*;

use crate::components::home::Home;
use crate::components::room_page::RoomPage;
use crate::hooks::page_path;

/// What a path shows. Each page is its own load (links and [`crate::hooks::go_to`] load the
/// next one), so the path is read once: no client-side router, whose code cost the page
/// ~10 KB gzipped for two routes (README "Download size").
#[derive(Debug, PartialEq, Eq)]
pub enum Page {
    Home,
    Room(String),
    NotFound,
}

impl Page {
    pub fn of(path: &str) -> Page {
        match path.strip_prefix("/r/") {
            _ if path == "/" => Page::Home,
            Some(room) if !room.is_empty() && !room.contains('/') => Page::Room(room.to_owned()),
            _ => Page::NotFound,
        }
    }
}

#[component]
pub fn App() -> impl IntoView {
    let page = match Page::of(&page_path()) {
        Page::Home => view! { <Home /> }.into_any(),
        Page::Room(room) => view! { <RoomPage room /> }.into_any(),
        Page::NotFound => view! { <NotFound /> }.into_any(),
    };
    view! {
        <header class="topbar">
            <a href="/" class="logo">"meshcall"</a>
        </header>
        <main>{page}</main>
    }
}

#[component]
fn NotFound() -> impl IntoView {
    view! {
        <section class="card">
            <h1>"Nothing here"</h1>
            <p><a href="/">"Start or join a room"</a></p>
        </section>
    }
}

pub fn mount() {
    // A panic's message in the console, in development and test builds. The release app aborts on
    // a panic before any hook could run (scripts/lib.sh's trunk_release), so there it would only be
    // bytes.
    #[cfg(debug_assertions)]
    console_error_panic_hook::set_once();
    leptos::mount::mount_to_body(App);
}

#[cfg(test)]
mod tests {
    use super::Page;

    #[test]
    fn paths_choose_pages() {
        assert_eq!(Page::of("/"), Page::Home);
        assert_eq!(Page::of("/r/standup"), Page::Room("standup".to_owned()));
        // The room page judges the name itself and says what is wrong with it.
        assert_eq!(Page::of("/r/a%20b"), Page::Room("a%20b".to_owned()));
        for path in ["", "/r/", "/r/a/b", "/r", "/x", "/index.html"] {
            assert_eq!(Page::of(path), Page::NotFound, "{path}");
        }
    }
}
