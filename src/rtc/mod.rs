//! The web-sys edge for media and peers: `RTCPeerConnection`s, their data channels,
//! `getUserMedia`, devices and the mic meter. It turns browser callbacks into room events and
//! runs room commands; it decides nothing about the call itself.

pub mod files;
pub mod media;
pub mod meter;
pub mod ops;
pub mod peer;
pub mod remote;
pub mod screen;
pub mod speaker;
pub mod stats;
pub mod uplink;

use wasm_bindgen::{JsCast, JsValue};

/// A browser call that failed, with the DOMException name kept so the UI can explain it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{name}: {message}")]
pub struct JsError {
    pub name: String,
    pub message: String,
}

impl From<JsValue> for JsError {
    fn from(value: JsValue) -> Self {
        if let Some(err) = value.dyn_ref::<js_sys::Error>() {
            return JsError {
                name: String::from(err.name()),
                message: String::from(err.message()),
            };
        }
        JsError {
            name: "Error".into(),
            message: value.as_string().unwrap_or_else(|| format!("{value:?}")),
        }
    }
}

/// Milliseconds on the page's monotonic clock, as the room brain's `now`.
pub fn now_ms() -> u64 {
    web_sys::window()
        .and_then(|w| w.performance())
        .map(|p| p.now() as u64)
        .unwrap_or(0)
}

/// The local time of day, `HH:MM`, as chat lines show it.
pub fn time_of_day() -> String {
    let now = js_sys::Date::new_0();
    format!("{:02}:{:02}", now.get_hours(), now.get_minutes())
}
