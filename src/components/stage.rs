//! How the call arranges its tiles: a grid, or the speaker view (one tile large, the others in a
//! strip); any tile pinned large; any tile full screen. The choice is the person's and outlives
//! the people coming and going: the pin names a tile by its peer's stable key, and a pinned tile
//! that is gone simply stops counting.

use leptos::prelude::*;

use super::controls::icon;
use crate::room::PeerKey;

/// One tile of the call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Spot {
    Me,
    Cam(PeerKey),
    Screen(PeerKey),
}

/// The tile shown large: the pinned one while it is there; in the speaker view else a screen
/// share, else whoever spoke last, else the first person; in the grid none.
pub fn focus(
    pinned: Option<Spot>,
    speaker_view: bool,
    present: &[Spot],
    last_speaker: Option<PeerKey>,
) -> Option<Spot> {
    let here = |s: &Spot| present.contains(s);
    let first = |f: fn(&Spot) -> bool| present.iter().copied().find(f);
    pinned.filter(here).or_else(|| {
        speaker_view.then(|| {
            first(|s| matches!(s, Spot::Screen(_)))
                .or(last_speaker.map(Spot::Cam).filter(here))
                .or(first(|s| matches!(s, Spot::Cam(_))))
                .unwrap_or(Spot::Me)
        })
    })
}

/// The call's arrangement, given to every tile as context.
#[derive(Clone, Copy)]
pub struct Stage {
    pub pinned: RwSignal<Option<Spot>>,
    pub focus: Memo<Option<Spot>>,
}

/// Whether `spot` is the large tile (its `big` class).
pub fn big(spot: Spot) -> impl Fn() -> bool + Copy {
    let stage = use_context::<Stage>();
    move || stage.is_some_and(|s| s.focus.get() == Some(spot))
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
    let full = move |ev: leptos::ev::MouseEvent| {
        let button: web_sys::Element = event_target(&ev);
        if let Ok(Some(tile)) = button.closest(".tile") {
            let _ = tile.request_fullscreen();
        }
    };
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
    use super::{focus, Spot};

    #[test]
    fn the_large_tile() {
        use Spot::*;
        let all = [Me, Cam(1), Cam(2), Screen(2)];
        let cams = [Me, Cam(1), Cam(2)];
        // (pinned, speaker view, present, last speaker) -> large tile
        type Case<'a> = (Option<Spot>, bool, &'a [Spot], Option<u32>, Option<Spot>);
        let cases: [Case; 9] = [
            (None, false, &all, Some(1), None),
            (Some(Cam(1)), false, &all, None, Some(Cam(1))),
            (Some(Me), true, &all, Some(1), Some(Me)),
            (None, true, &all, Some(1), Some(Screen(2))),
            (None, true, &cams, Some(2), Some(Cam(2))),
            (None, true, &cams, None, Some(Cam(1))),
            // The last speaker left: the first person; the pinned one left: as if none.
            (None, true, &cams, Some(7), Some(Cam(1))),
            (Some(Cam(7)), true, &cams, Some(2), Some(Cam(2))),
            (None, true, &[Me], None, Some(Me)),
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
