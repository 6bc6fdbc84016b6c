//! How the call arranges its tiles: a grid, or the speaker view (one tile large, the others in a
//! strip); any tile pinned large; any tile full screen. The choice is the person's and outlives
//! the people coming and going: the pin names a tile by its peer's stable key, and a pinned tile
//! that is gone simply stops counting.

use leptos::prelude::*;

use super::controls::icon;
use crate::dom::full_screen_tile;
use crate::room::PeerKey;
use crate::session::Tile;

/// One tile of the call, as a number, so the arrangement lives in signal types the app has
/// anyway (each new one costs the wasm): us -1, a peer's camera its key, its screen key + 2^32.
pub type Spot = i64;
pub const ME: Spot = -1;
const SCREEN: Spot = 1 << 32;

pub fn cam(key: PeerKey) -> Spot {
    key.into()
}

pub fn screen(key: PeerKey) -> Spot {
    SCREEN + Spot::from(key)
}

/// The tile shown large: the pinned one while it is there; in the speaker view else a screen
/// share, else whoever spoke last, else the first person; in the grid none.
pub fn focus(
    pinned: Option<Spot>,
    speaker_view: bool,
    present: &[Spot],
    last_speaker: Option<Spot>,
) -> Option<Spot> {
    let here = |s: &Spot| present.contains(s);
    let first = |f: fn(&Spot) -> bool| present.iter().copied().find(f);
    pinned.filter(here).or_else(|| {
        speaker_view.then(|| {
            first(|&s| s >= SCREEN)
                .or(last_speaker.filter(here))
                .or(first(|&s| (0..SCREEN).contains(&s)))
                .unwrap_or(ME)
        })
    })
}

/// The call's arrangement, given to every tile as context.
#[derive(Clone, Copy)]
pub struct Stage {
    pub pinned: RwSignal<Option<Spot>>,
    pub speaker_view: RwSignal<bool>,
    pub last_speaker: RwSignal<Option<Spot>>,
    pub tiles: RwSignal<Vec<Tile>>,
}

impl Stage {
    fn large(self) -> Option<Spot> {
        let mut present = vec![ME];
        self.tiles.with(|t| {
            for t in t {
                present.push(cam(t.key));
                if t.view.with(|v| v.share) {
                    present.push(screen(t.key));
                }
            }
        });
        focus(
            self.pinned.get(),
            self.speaker_view.get(),
            &present,
            self.last_speaker.get(),
        )
    }
}

/// Whether `spot` is the large tile (its `big` class).
pub fn big(spot: Spot) -> impl Fn() -> bool + Copy {
    let stage = use_context::<Stage>();
    move || stage.is_some_and(|s| s.large() == Some(spot))
}

/// A tile's corner buttons: pin it large, show it full screen.
pub fn tile_tools(spot: Spot) -> impl IntoView {
    let pinned = use_context::<Stage>().map(|s| s.pinned);
    let is_pinned = move || pinned.is_some_and(|p| p.get() == Some(spot));
    let pin = move |_| {
        if let Some(p) = pinned {
            p.update(|p| *p = if *p == Some(spot) { None } else { Some(spot) })
        }
    };
    let full = move |ev: leptos::ev::MouseEvent| full_screen_tile(&ev);
    view! {
        <button type="button" class="tool" data-testid="pin" aria-pressed=move || is_pinned().to_string()
            aria-label=move || if is_pinned() { "Unpin" } else { "Pin" } title="Pin: keep this tile large" on:click=pin>
            {icon("pin")}
        </button>
        <button type="button" class="tool" data-testid="fullscreen" aria-label="Full screen" title="Full screen" on:click=full>
            {icon("full")}
        </button>
    }
}

#[cfg(test)]
mod tests {
    use super::{cam, focus, screen, Spot, ME};

    #[test]
    fn the_large_tile() {
        let all = [ME, cam(1), cam(2), screen(2)];
        let cams = [ME, cam(1), cam(2)];
        // (pinned, speaker view, present, last speaker) -> large tile
        type Case<'a> = (Option<Spot>, bool, &'a [Spot], Option<Spot>, Option<Spot>);
        let cases: [Case; 9] = [
            (None, false, &all, Some(cam(1)), None),
            (Some(cam(1)), false, &all, None, Some(cam(1))),
            (Some(ME), true, &all, Some(cam(1)), Some(ME)),
            (None, true, &all, Some(cam(1)), Some(screen(2))),
            (None, true, &cams, Some(cam(2)), Some(cam(2))),
            (None, true, &cams, None, Some(cam(1))),
            // The last speaker left: the first person; the pinned one left: as if none.
            (None, true, &cams, Some(cam(7)), Some(cam(1))),
            (Some(cam(7)), true, &cams, Some(cam(2)), Some(cam(2))),
            (None, true, &[ME], None, Some(ME)),
        ];
        for (pinned, speaker, present, last, want) in cases {
            assert_eq!(
                focus(pinned, speaker, present, last),
                want,
                "{pinned:?} {speaker} {last:?}"
            );
        }
    }
}
