//! Thin browser helpers the components use: page URL, clipboard, remembered name, random room
//! names and keys, a `<video>`'s stream. Nothing here holds a resource.

use leptos::html::Video;
use leptos::prelude::*;
use wasm_bindgen_futures::JsFuture;
use web_sys::MediaStream;

use crate::trust::RoomKey;

const NAME_KEY: &str = "meshcall.name";
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

pub fn remembered_name() -> String {
    web_sys::window()
        .and_then(|w| w.local_storage().ok().flatten())
        .and_then(|s| s.get_item(NAME_KEY).ok().flatten())
        .unwrap_or_default()
}

pub fn remember_name(name: &str) {
    if let Some(storage) = web_sys::window().and_then(|w| w.local_storage().ok().flatten()) {
        let _ = storage.set_item(NAME_KEY, name);
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
/// changes (never through an attribute: a stream is not a URL).
pub fn use_video_source(video: NodeRef<Video>, stream: impl Fn() -> Option<MediaStream> + 'static) {
    Effect::new(move || {
        if let Some(el) = video.get() {
            el.set_src_object(stream().as_ref());
        }
    });
}
