//! JSON text to and from Rust values. In the browser the browser's own parser and serializer do the
//! text (`JSON.parse`/`JSON.stringify`) and `serde-wasm-bindgen`, which the app has for getStats
//! anyway, maps the JavaScript values: that keeps serde_json's text parser and printer out of the
//! download (README "Download size"). Natively (the room brain's tests) serde_json does it all.

use serde::{de::DeserializeOwned, Serialize};

/// A text that is not JSON, or not the shape asked for.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not the JSON expected")]
pub struct BadJson;

#[cfg(target_arch = "wasm32")]
pub fn from_str<T: DeserializeOwned>(text: &str) -> Result<T, BadJson> {
    let value = js_sys::JSON::parse(text).map_err(|_| BadJson)?;
    serde_wasm_bindgen::from_value(value).map_err(|_| BadJson)
}

#[cfg(target_arch = "wasm32")]
pub fn to_string<T: Serialize>(value: &T) -> Result<String, BadJson> {
    let serializer = serde_wasm_bindgen::Serializer::json_compatible();
    let value = value.serialize(&serializer).map_err(|_| BadJson)?;
    js_sys::JSON::stringify(&value)
        .ok()
        .and_then(|s| s.as_string())
        .ok_or(BadJson)
}

#[cfg(not(target_arch = "wasm32"))]
pub fn from_str<T: DeserializeOwned>(text: &str) -> Result<T, BadJson> {
    serde_json::from_str(text).map_err(|_| BadJson)
}

#[cfg(not(target_arch = "wasm32"))]
pub fn to_string<T: Serialize>(value: &T) -> Result<String, BadJson> {
    serde_json::to_string(value).map_err(|_| BadJson)
}
