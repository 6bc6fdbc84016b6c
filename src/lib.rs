//! meshcall: video rooms over a full WebRTC mesh. The library holds everything so the wasm test
//! suites in `tests/` can drive the same code the app runs.

pub mod app;
pub mod components;
pub mod devices;
pub mod dom;
pub mod hooks;
pub mod json;
pub mod room;
pub mod rtc;
pub mod session;
pub mod signaling;
pub mod trust;
