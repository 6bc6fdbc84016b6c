//! Thin browser helpers the components use: page URL, clipboard, what the browser remembers (name,
//! settings), random room names and keys, a `<video>`'s stream, our camera's one `<video>`.
//! Nothing here holds a resource.

use leptos::html::{Div, Video};
use leptos::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use web_sys::{HtmlVideoElement, MediaStream};

use crate::rtc::speaker::play_on;
use crate::trust::RoomKey;

/// What the page remembers in `localStorage`, under these keys.
pub const NAME_KEY: &str = "meshcall.name";
/// "off" when the person turned the single-key shortcuts off.
pub const SHORTCUTS_KEY: &str = "meshcall.shortcuts";
/// The id of the speaker the others are played on.
pub const SPEAKER_KEY: &str = "meshcall.speaker";
/// 32 symbols without look-alikes (no l, 1, 0, o): 5 bits each.
const ROOM_ALPHABET: &[u8; 32] = b"abcdefghijkmnpqrstuvwxyz23456789";

/// `N` random bytes from `crypto.getRandomValues`.
pub fn random_bytes<const N: usize>() -> [u8; N] {
    let mut bytes = [0u8; N];
    let filled = web_sys::window()
        .and_then(|w| w.crypto().ok())
        .map(|c| c.get_random_values_with_u8_array(&mut bytes).is_ok())
        .unwrap_or(false);
    if !filled {
        // No WebCrypto (very old browser): still random, if weaker.
        for b in bytes.iter_mut() {
            *b = (js_sys::Math::random() * 256.0) as u8;
        }
    }
    bytes
}

/// A room name nobody can guess: 15 symbols = 75 random bits, grouped for reading aloud.
pub fn random_room_name() -> String {
    let bytes = random_bytes::<15>();
    let mut name = String::with_capacity(17);
    for (i, b) in bytes.iter().enumerate() {
        if i > 0 && i % 5 == 0 {
            name.push('-');
        }
        name.push(ROOM_ALPHABET[usize::from(b & 31)] as char);
    }
    name
}

/// A new room key (130 random bits) for "Start a new room".
pub fn random_room_key() -> RoomKey {
    RoomKey::from_random(&random_bytes::<{ crate::trust::KEY_SYMBOLS }>())
}

/// The page's path, which says what it shows (`/`, `/r/<room>`).
pub fn page_path() -> String {
    web_sys::window()
        .and_then(|w| w.location().pathname().ok())
        .unwrap_or_default()
}

/// Opens another page of the app (`/`, `/r/<room>#<key>`) by loading it, so nothing of this one
/// (a call, a camera, a query someone wrote into the link) outlives the move.
pub fn go_to(path: &str) {
    if let Some(window) = web_sys::window() {
        // The only failure is a URL of another origin, which no caller builds.
        let _ = window.location().assign(path);
    }
}

/// The page's `#fragment`, where an invite link carries the room key (never sent to a server).
pub fn page_fragment() -> String {
    web_sys::window()
        .and_then(|w| w.location().hash().ok())
        .unwrap_or_default()
}

/// The link that invites someone into `room`: this origin, the room, and its key if it has one.
/// Never the page's query: a parameter there must not travel to the people invited.
pub fn invite_link(room: &str, key: Option<&RoomKey>) -> String {
    let origin = web_sys::window()
        .and_then(|w| w.location().origin().ok())
        .unwrap_or_default();
    match key {
        Some(key) => format!("{origin}/r/{room}#{}", key.as_str()),
        None => format!("{origin}/r/{room}"),
    }
}

/// What `localStorage` holds under `key` (empty if nothing, or if the browser keeps no storage).
pub fn stored(key: &str) -> String {
    web_sys::window()
        .and_then(|w| w.local_storage().ok().flatten())
        .and_then(|s| s.get_item(key).ok().flatten())
        .unwrap_or_default()
}

/// Remembers `value` under `key`, where the browser lets the page keep anything.
pub fn store(key: &str, value: &str) {
    if let Some(storage) = web_sys::window().and_then(|w| w.local_storage().ok().flatten()) {
        let _ = storage.set_item(key, value);
    }
}

/// Copies `text`; false if the browser refused (no permission, insecure origin).
pub async fn copy_text(text: &str) -> bool {
    let Some(window) = web_sys::window() else {
        return false;
    };
    let clipboard = window.navigator().clipboard();
    if clipboard.is_undefined() {
        return false;
    }
    JsFuture::from(clipboard.write_text(text)).await.is_ok()
}

/// Hands `stream` to the `<video>` once it is mounted, and again whenever a signal it reads
/// changes (never through an attribute: a stream is not a URL); plays its sound on `speaker`
/// (a device id), also when that changes.
pub fn use_video_source(
    video: NodeRef<Video>,
    stream: impl Fn() -> Option<MediaStream> + 'static,
    speaker: Signal<String>,
) {
    Effect::new(move || {
        if let Some(el) = video.get() {
            el.set_src_object(stream().as_ref());
        }
    });
    Effect::new(move || {
        if let Some(el) = video.get() {
            speaker.with(|id| play_on(&el, id));
        }
    });
}

/// Our own camera's one `<video>`: the lobby's preview, then the call's self view, then the
/// preview again after Leave. It is moved between the two screens, never rebuilt, so the picture
/// never blanks or reloads at Join. (A camera `<video>` that was removed or hidden at Join while
/// the connections' video senders started stalled the camera of every page of a browser for
/// ~2.6 s when several people shared one browser's camera, as the benchmarks do:
/// docs/join-timeline.md.) `None` only where the page cannot make elements.
#[derive(Clone, Copy)]
pub struct SelfVideo(StoredValue<Option<HtmlVideoElement>, LocalStorage>);

impl SelfVideo {
    pub fn new() -> Self {
        let video = web_sys::window()
            .and_then(|w| w.document())
            .and_then(|d| d.create_element("video").ok())
            .and_then(|e| e.dyn_into::<HtmlVideoElement>().ok());
        if let Some(v) = &video {
            // Our own sound is never played back to us.
            v.set_muted(true);
            v.set_default_muted(true);
            v.set_autoplay(true);
            let _ = v.set_attribute("playsinline", "");
        }
        SelfVideo(StoredValue::new_local(video))
    }

    /// Shows `stream`, unless it already does: setting the same stream again restarts the
    /// element's loading, which is exactly the blank moment this element exists to avoid.
    pub fn show(self, stream: Option<&MediaStream>) {
        self.0.with_value(|v| {
            let Some(v) = v else { return };
            let same = match (v.src_object(), stream) {
                (Some(old), Some(new)) => js_sys::Object::is(&old, new),
                (None, None) => true,
                _ => false,
            };
            if !same {
                v.set_src_object(stream);
            }
        });
    }

    /// Shows `stream` afresh even if it is the one shown (its camera track was swapped).
    pub fn reload(self, stream: Option<&MediaStream>) {
        self.0.with_value(|v| {
            if let Some(v) = v {
                v.set_src_object(stream);
            }
        });
    }

    /// Puts the element into `slot` once that is mounted, with `class` (plus `hidden` while
    /// `hidden` says so) and `testid`. The move happens in the same turn of the event loop as
    /// the screen change, so the element never counts as removed (which would pause it).
    pub fn place(
        self,
        slot: NodeRef<Div>,
        class: &'static str,
        testid: Option<&'static str>,
        hidden: Signal<bool>,
    ) {
        Effect::new(move || {
            let hidden = hidden.get();
            let Some(slot) = slot.get() else { return };
            self.0.with_value(|v| {
                let Some(v) = v else { return };
                let slot: &web_sys::Node = &slot;
                if v.parent_node().as_ref() != Some(slot) {
                    let _ = slot.append_child(v);
                }
                if hidden {
                    v.set_class_name(&format!("{class} hidden"));
                } else {
                    v.set_class_name(class);
                }
                let _ = match testid {
                    Some(id) => v.set_attribute("data-testid", id),
                    None => v.remove_attribute("data-testid"),
                };
                // A paused element (the browser pauses one that left the document) plays on.
                // The promise is awaited so that its rejection is handled: a new stream set
                // meanwhile interrupts it (AbortError, "interrupted by a new load request"; the
                // lobby's camera is often ready at once now, index.html having asked for it),
                // and `autoplay` plays that one.
                if v.paused() {
                    if let Ok(playing) = v.play() {
                        wasm_bindgen_futures::spawn_local(async move {
                            let _ = wasm_bindgen_futures::JsFuture::from(playing).await;
                        });
                    }
                }
            });
        });
    }
}

impl Default for SelfVideo {
    fn default() -> Self {
        Self::new()
    }
}
