//! Which speaker plays the others: `setSinkId` on their media elements, where the browser has it.

use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use web_sys::HtmlMediaElement;

#[wasm_bindgen]
extern "C" {
    /// A media element as far as `setSinkId` goes, which web-sys lacks.
    type Sink;
    #[wasm_bindgen(method, catch, js_name = setSinkId)]
    fn set_sink_id(this: &Sink, id: &str) -> Result<js_sys::Promise, JsValue>;
    /// The output it plays on now; `undefined` without `setSinkId`.
    #[wasm_bindgen(method, getter, js_name = sinkId)]
    fn sink_id(this: &Sink) -> Option<String>;
}

/// Two sink ids that name the same output: Chromium's default is `""` as well as `"default"`.
fn same_output(a: &str, b: &str) -> bool {
    let default = |s: &str| s.is_empty() || s == "default";
    a == b || (default(a) && default(b))
}

/// The browser lets a page pick the speaker an element plays on.
pub(super) fn can_choose_speaker() -> bool {
    let get = |o: &JsValue, k: &str| js_sys::Reflect::get(o, &k.into());
    get(&js_sys::global(), "HTMLMediaElement")
        .and_then(|c| get(&c, "prototype"))
        .and_then(|p| js_sys::Reflect::has(&p, &"setSinkId".into()))
        .unwrap_or(false)
}

/// Seconds [`play_on`] keeps trying.
const SINK_TRIES: u32 = 30;

/// Plays `element` on the speaker `id` (from [`super::media::list_devices`]). Chromium refuses (`AbortError`)
/// while the element has no sound to play, and a peer's tracks arrive after its tile: so this
/// tries each second for a while, until another speaker is chosen for it (its `data-sink`) or
/// it leaves the page. A speaker that is gone, or a browser without the choice, leaves it where
/// it plays. An element already on that output is left alone: every tile starts on the default
/// speaker, and asking for it again cost each tile up to 30 refused calls.
pub fn play_on(element: &HtmlMediaElement, id: &str) {
    let _ = element.set_attribute("data-sink", id);
    let sink = element.unchecked_ref::<Sink>();
    if sink.sink_id().is_none_or(|now| same_output(&now, id)) {
        return;
    }
    let (element, id) = (element.clone(), id.to_owned());
    wasm_bindgen_futures::spawn_local(async move {
        for _ in 0..SINK_TRIES {
            let Ok(done) = element.unchecked_ref::<Sink>().set_sink_id(&id) else {
                return;
            };
            if JsFuture::from(done).await.is_ok() {
                return;
            }
            gloo_timers::future::TimeoutFuture::new(1_000).await;
            if !element.is_connected() || element.get_attribute("data-sink") != Some(id.clone()) {
                return;
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use super::same_output;

    #[test]
    fn the_default_output_has_two_names() {
        assert!(same_output("", "default"));
        assert!(same_output("default", ""));
        assert!(same_output("abc", "abc"));
        assert!(!same_output("", "abc"));
        assert!(!same_output("default", "abc"));
    }
}
