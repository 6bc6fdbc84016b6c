//! Each second, every connection's `getStats()`: who is speaking and how good the connection is,
//! on its tile (`room::link` judges, `rtc::stats` reads).

use std::rc::Weak;

use leptos::prelude::*;

use super::Inner;
use crate::rtc::{now_ms, stats};

const EVERY_MS: u32 = 1_000;

/// Runs until the call is left or the session dropped; it holds the session only between reads.
pub(super) fn watch(session: Weak<Inner>) {
    wasm_bindgen_futures::spawn_local(async move {
        loop {
            gloo_timers::future::TimeoutFuture::new(EVERY_MS).await;
            let Some(inner) = session.upgrade().filter(|i| i.ticker.borrow().is_some()) else {
                break;
            };
            let links: Vec<_> = {
                let edges = inner.edges.borrow();
                inner.view.tiles.with_untracked(|tiles| {
                    tiles
                        .iter()
                        .filter_map(|t| Some((edges.get(&t.key)?.connection().clone(), t.clone())))
                        .collect()
                })
            };
            drop(inner);
            for (pc, tile) in links {
                // A closed connection has no stats: its tile is going anyway.
                if let Ok(s) = stats::sample(&pc).await {
                    let (mic, cam) = tile.view.with_untracked(|v| (v.mic, v.cam));
                    tile.link.update(|l| l.sample(now_ms(), s, mic, cam));
                }
            }
        }
    });
}
