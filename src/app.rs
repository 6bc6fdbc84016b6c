//! Routes and the page frame.

use leptos::prelude::*;
use leptos_router::components::{Route, Router, Routes, A};
use leptos_router::path;

use crate::components::home::Home;
use crate::components::room_page::RoomPage;

#[component]
pub fn App() -> impl IntoView {
    view! {
        <Router>
            <header class="topbar">
                <A href="/" attr:class="logo">"meshcall"</A>
            </header>
            <main>
                <Routes fallback=NotFound>
                    <Route path=path!("/") view=Home />
                    <Route path=path!("/r/:room") view=RoomPage />
                </Routes>
            </main>
        </Router>
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
