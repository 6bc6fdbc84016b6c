//! Our screen share: `getDisplayMedia` and the stream it gives, owned here. Dropping a
//! [`Screen`] stops its tracks and removes its `ended` listener; the session owns the one in use.

use gloo_events::EventListener;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use web_sys::{DisplayMediaStreamConstraints, MediaStream, MediaStreamTrack};

use super::JsError;

/// Why no screen is shared, as a sentence.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ShareTrouble {
    /// Picking was cancelled, or the browser or the person refused.
    Refused,
    /// This browser cannot share a screen (phones, old browsers, an insecure page).
    Unsupported,
    Failed,
}

impl ShareTrouble {
    pub fn sentence(self) -> &'static str {
        match self {
            ShareTrouble::Refused => {
                "Screen sharing was cancelled or not allowed. The call goes on as before."
            }
            ShareTrouble::Unsupported => "This browser cannot share a screen.",
            ShareTrouble::Failed => {
                "Your screen could not be shared. The call goes on as before; try again."
            }
        }
    }

    fn of(error: &JsError) -> ShareTrouble {
        match error.name.as_str() {
            "NotAllowedError" | "AbortError" => ShareTrouble::Refused,
            "NotSupportedError" | "TypeError" | "InvalidStateError" => ShareTrouble::Unsupported,
            _ => ShareTrouble::Failed,
        }
    }
}

/// A screen being shared.
pub struct Screen {
    stream: MediaStream,
    _ended: EventListener,
}

impl Screen {
    /// Asks the person to pick a screen, window or tab (with its sound where the browser offers
    /// it). `on_ended` runs when the browser ends the share itself ("Stop sharing").
    pub async fn pick(
        on_ended: impl FnMut(&web_sys::Event) + 'static,
    ) -> Result<Screen, ShareTrouble> {
        let devices = web_sys::window()
            .and_then(|w| w.navigator().media_devices().ok())
            .ok_or(ShareTrouble::Unsupported)?;
        let c = DisplayMediaStreamConstraints::new();
        c.set_video(&wasm_bindgen::JsValue::TRUE);
        c.set_audio(&wasm_bindgen::JsValue::TRUE);
        let promise = devices
            .get_display_media_with_constraints(&c)
            .map_err(|e| ShareTrouble::of(&e.into()))?;
        let stream: MediaStream = JsFuture::from(promise)
            .await
            .map_err(|e| ShareTrouble::of(&e.into()))?
            .unchecked_into();
        let Ok(video) = stream
            .get_video_tracks()
            .get(0)
            .dyn_into::<MediaStreamTrack>()
        else {
            stop_all(&stream);
            return Err(ShareTrouble::Failed);
        };
        Ok(Screen {
            _ended: EventListener::new(&video, "ended", on_ended),
            stream,
        })
    }

    /// Its id is what the others are told, so they can tell these tracks from the camera's.
    pub fn stream(&self) -> &MediaStream {
        &self.stream
    }
}

impl Drop for Screen {
    fn drop(&mut self) {
        stop_all(&self.stream);
    }
}

fn stop_all(stream: &MediaStream) {
    for t in stream.get_tracks().iter() {
        t.unchecked_into::<MediaStreamTrack>().stop();
    }
}
