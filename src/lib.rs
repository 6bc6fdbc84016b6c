//! meshcall: video rooms over a full WebRTC mesh. The library holds everything so the wasm test
//! suites in `tests/` can drive the same code the app runs.

pub mod room;
