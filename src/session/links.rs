//! The connections' `getStats()`: who is speaking (we too, from what our microphone sends, which
//! we then tell the others) and how good each connection is, on its tile (`room::link` judges,
//! `rtc::stats` reads); and to the room, whether media still arrives and what our camera's
//! encoder may send. Each second, the connections that need it; the others at rest
//! (`room::link::due`).

use std::rc::Weak;

use leptos::prelude::*;

use super::Inner;
use crate::room::{due, Event, PeerState, Sample};
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
            let now = now_ms();
            let links: Vec<_> = {
                let edges = inner.edges.borrow();
                let room = inner.room.borrow();
                inner.view.tiles.with_untracked(|tiles| {
                    // Only connections that are up: one still connecting has nothing to report,
                    // and each `getStats()` is work for the browser's WebRTC threads, which
                    // the connections still coming up wait on (at N = 6 on two cores a read
                    // took 0.6 s while the mesh assembled).
                    tiles
                        .iter()
                        .filter(|t| {
                            t.view.with_untracked(|v| {
                                matches!(v.state, PeerState::Connected | PeerState::Reconnecting)
                            })
                        })
                        .filter_map(|t| {
                            let pc = edges.get(&t.key)?.connection().clone();
                            let wants = t.link.with_untracked(|l| l.wants_reading())
                                || room.wants_reading(t.key);
                            Some((pc, t.clone(), wants))
                        })
                        .collect()
                })
            };
            let plan: Vec<_> = links
                .iter()
                .map(|(_, t, w)| (t.key, t.link.with_untracked(|l| l.read_at()), *w))
                .collect();
            let chosen = due(now, &plan);
            let (me, mic) = (inner.view.me.clone(), inner.view.mic.clone());
            let events = inner.events.clone();
            drop(inner);
            // Any connection that sends our microphone tells how loud it was since that
            // connection was read before; none (alone) is silence.
            let mut loudness = 0.0;
            for (pc, tile, _) in links
                .into_iter()
                .filter(|(_, t, _)| chosen.contains(&t.key))
            {
                // A closed connection has no stats: its tile is going anyway.
                if let Ok(s) = stats::sample(&pc).await {
                    // Media arriving tells the room the peer is there.
                    let _ = events.unbounded_send(Event::Flow {
                        key: tile.key,
                        received: s.bytes as u64,
                        media_age: s.media_age,
                        encoder: s.encoder,
                    });
                    loudness = tile
                        .link
                        .with_untracked(|l| l.sent_loudness(&s))
                        .max(loudness);
                    let (mic, cam) = tile.view.with_untracked(|v| (v.mic, v.cam));
                    tile.link.update(|l| l.sample(now_ms(), s, mic, cam));
                }
            }
            let ours = Sample {
                level: loudness,
                ..Sample::default()
            };
            me.update(|l| l.sample(now_ms(), ours, mic.get_untracked(), false));
            // The others mark us from our word, and read our audio only to check it.
            let _ =
                events.unbounded_send(Event::LocalSpeaking(me.with_untracked(|l| l.view.speaking)));
        }
    });
}
