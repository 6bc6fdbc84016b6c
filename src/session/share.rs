//! Our screen share in the call: picked with `getDisplayMedia`, its tracks added to every
//! connection (and to those made later) and negotiated as usual, its stream's id announced so the
//! others show it apart from our camera; stopped by our button or by the browser's own "Stop
//! sharing", which removes the tracks from every connection again. No connection is rebuilt.

use std::rc::Rc;

use leptos::prelude::*;

use super::Session;
use crate::room::Event;
use crate::rtc::screen::Screen;

impl Session {
    /// Asks for a screen to share; a refusal or a cancelled pick leaves the call as it was and
    /// says so.
    pub fn share_screen(&self) {
        if self.0.screen.borrow().is_some() {
            return;
        }
        self.0.view.share_trouble.set(None);
        let weak = Rc::downgrade(&self.0);
        let ended = weak.clone();
        wasm_bindgen_futures::spawn_local(async move {
            let picked = Screen::pick(move |_| {
                if let Some(inner) = ended.upgrade() {
                    Session(inner).stop_share();
                }
            })
            .await;
            // Dropping a screen nobody wants (the call ended meanwhile, or a second pick won)
            // stops its tracks.
            let Some(inner) = weak.upgrade().filter(|i| i.media.borrow().is_some()) else {
                return;
            };
            match picked {
                Ok(screen) if inner.screen.borrow().is_none() => {
                    let stream = Clone::clone(screen.stream());
                    for edge in inner.edges.borrow().values() {
                        edge.add_share(&stream);
                    }
                    *inner.screen.borrow_mut() = Some(screen);
                    inner.view.sharing.set(true);
                    let _ = inner
                        .events
                        .unbounded_send(Event::LocalShare(Some(stream.id())));
                }
                Ok(_) => {}
                Err(trouble) => inner.view.share_trouble.set(Some(trouble)),
            }
        });
    }

    /// Stops our screen share everywhere (nothing if none).
    pub fn stop_share(&self) {
        let Some(screen) = self.0.screen.borrow_mut().take() else {
            return;
        };
        for edge in self.0.edges.borrow().values() {
            edge.remove_share();
        }
        drop(screen);
        self.0.view.sharing.set(false);
        let _ = self.0.events.unbounded_send(Event::LocalShare(None));
    }

    /// The peer's screen share, for its share tile.
    pub fn share_stream(&self, key: crate::room::PeerKey) -> Option<web_sys::MediaStream> {
        self.0.edges.borrow().get(&key).map(|e| e.share_stream())
    }
}
