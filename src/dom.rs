//! The page's input events as the views need them: single-key shortcuts, a tile full screen,
//! files picked or dropped. Views call these instead of touching `web_sys`; nothing here keeps a
//! resource (the shortcut listener's handle goes back to its caller, which removes it).

use leptos::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{DragEvent, Element, Event, FileList, HtmlInputElement, KeyboardEvent};

pub use web_sys::File;

/// Whether a key press may be a single-key shortcut: never while a field has the focus (`tag`,
/// the target's tag name: typing), with a modifier held (the browser's own), or repeating.
pub fn is_shortcut(tag: Option<&str>, modifier: bool, repeat: bool) -> bool {
    !matches!(tag, Some("INPUT" | "TEXTAREA" | "SELECT")) && !modifier && !repeat
}

/// Listens on the window for single-key shortcuts ([`is_shortcut`]): `on_key` gets the key
/// (`"m"`, `"M"`, …) and says whether it acted on it; the browser's default then does not
/// happen. The caller removes the handle on cleanup.
pub fn on_shortcut(on_key: impl Fn(&str) -> bool + 'static) -> WindowListenerHandle {
    window_event_listener_untyped("keydown", move |ev| {
        let Some(ev) = ev.dyn_ref::<KeyboardEvent>() else {
            return;
        };
        let tag = ev
            .target()
            .and_then(|t| t.dyn_into::<Element>().ok())
            .map(|e| e.tag_name());
        let modifier = ev.ctrl_key() || ev.meta_key() || ev.alt_key();
        if is_shortcut(tag.as_deref(), modifier, ev.repeat()) && on_key(&ev.key()) {
            ev.prevent_default();
        }
    })
}

/// Shows the `.tile` that holds `ev`'s target (a tile's button) full screen; if the browser
/// refuses, nothing happens.
pub fn full_screen_tile(ev: &Event) {
    let button: Element = event_target(ev);
    if let Ok(Some(tile)) = button.closest(".tile") {
        let _ = tile.request_fullscreen();
    }
}

/// The files picked in the `<input type="file">` that fired `ev`. The input is emptied, so the
/// same file may be picked again.
pub fn picked_files(ev: &Event) -> Vec<File> {
    let input: HtmlInputElement = event_target(ev);
    let files = list(input.files());
    input.set_value("");
    files
}

/// The files of a drop.
pub fn dropped_files(ev: &DragEvent) -> Vec<File> {
    list(ev.data_transfer().and_then(|d| d.files()))
}

fn list(files: Option<FileList>) -> Vec<File> {
    files
        .map(|l| (0..l.length()).filter_map(|i| l.get(i)).collect())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::is_shortcut;

    #[test]
    fn a_key_is_a_shortcut_only_outside_fields_alone_and_once() {
        let cases = [
            (None, false, false, true),
            (Some("BODY"), false, false, true),
            (Some("BUTTON"), false, false, true),
            (Some("INPUT"), false, false, false),
            (Some("TEXTAREA"), false, false, false),
            (Some("SELECT"), false, false, false),
            (Some("BUTTON"), true, false, false),
            (Some("BUTTON"), false, true, false),
        ];
        for (tag, modifier, repeat, want) in cases {
            assert_eq!(
                is_shortcut(tag, modifier, repeat),
                want,
                "{tag:?} {modifier} {repeat}"
            );
        }
    }
}
