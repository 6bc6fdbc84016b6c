//! Where to signal and which ICE servers to use: `signalingUrl` in the operator's `config.json`
//! beside `index.html`, else the same origin's `/ws/`. A missing or broken `config.json` is normal
//! (any static host) and never an error.
//!
//! The page URL never chooses the server in a release build: whoever relays the signaling sees
//! every SDP, so a crafted `?signaling=` link could put a stranger's server in the middle of a
//! call (issue 11, hole 2). Debug builds (`trunk serve`) still read `?signaling=` for development.

use meshcall_protocol::{ClientConfig, IceServer};
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;

use super::url::signaling_base;

#[derive(Debug, Clone, PartialEq)]
pub struct Resolved {
    /// `ws:`/`wss:` base ending in `/`; the room is appended.
    pub base: String,
    pub ice_servers: Vec<IceServer>,
    /// The operator forces every connection through TURN.
    pub relay_only: bool,
    /// The operator's upload budget in kbit/s, if it set one.
    pub upload_kbps: Option<u32>,
    /// The operator's file cap in MB, if it set one.
    pub max_file_mb: Option<u32>,
}

/// The `?signaling=` override of the current page, if any: debug builds only.
#[cfg(debug_assertions)]
fn dev_override() -> Option<String> {
    let search = web_sys::window()?.location().search().ok()?;
    web_sys::UrlSearchParams::new_with_str(&search)
        .ok()?
        .get("signaling")
        .filter(|s| !s.is_empty())
}

/// Release builds take the server from the operator alone.
#[cfg(not(debug_assertions))]
fn dev_override() -> Option<String> {
    None
}

async fn fetch_config() -> Option<ClientConfig> {
    let window = web_sys::window()?;
    let response = JsFuture::from(window.fetch_with_str("/config.json"))
        .await
        .ok()?;
    let response: web_sys::Response = response.dyn_into().ok()?;
    if !response.ok() {
        return None;
    }
    let text = JsFuture::from(response.text().ok()?)
        .await
        .ok()?
        .as_string()?;
    crate::json::from_str(&text).ok()
}

pub async fn load() -> Resolved {
    let config = fetch_config().await.unwrap_or_default();
    let relay_only = config.relay_only();
    let configured = dev_override().or(config.signaling_url);
    let location = web_sys::window().map(|w| w.location());
    let protocol = location
        .as_ref()
        .and_then(|l| l.protocol().ok())
        .unwrap_or_else(|| "http:".into());
    let host = location
        .as_ref()
        .and_then(|l| l.host().ok())
        .unwrap_or_default();
    Resolved {
        base: signaling_base(configured.as_deref(), &protocol, &host),
        ice_servers: config.ice_servers,
        relay_only,
        upload_kbps: config.upload_kbps,
        max_file_mb: config.max_file_mb,
    }
}
