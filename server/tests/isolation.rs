//! One room's flood, stalled reader and bad client do not delay another room's relays: the room
//! table lock is never held across a wait, and no socket ever waits on another.

mod common;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use common::{next_msg, relayed, send, signal, start};
use futures_util::{SinkExt, StreamExt};
use meshcall_protocol::ServerMessage;
use serde_json::json;
use tokio::time::Instant;
use tokio_tungstenite::tungstenite::Message;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flooded_room_does_not_delay_another_rooms_relays() {
    let mut config = common::config();
    // No rate limit, so the flood lasts the whole test instead of being cut off at once.
    config.limits.rate_burst = u32::MAX;
    config.limits.rate_per_sec = u32::MAX;
    let server = start(config).await;

    // The noisy room: a flooder, a reader that drains what it gets, and a reader that never reads.
    let (flooder, _) = server.join("noisy").await;
    let (mut drain, drain_id) = server.join("noisy").await;
    let (_stalled, stalled_id) = server.join("noisy").await;
    let received = Arc::new(AtomicU64::new(0));
    let counter = received.clone();
    tokio::spawn(async move {
        while let Some(Ok(_)) = drain.next().await {
            counter.fetch_add(1, Ordering::Relaxed);
        }
    });
    let (mut flood_sink, mut flood_stream) = flooder.split();
    tokio::spawn(async move { while let Some(Ok(_)) = flood_stream.next().await {} });
    let big = "f".repeat(16 * 1024);
    tokio::spawn(async move {
        for i in 0u64.. {
            let (to, data) = if i % 8 == 0 { (&stalled_id, big.as_str()) } else { (&drain_id, "x") };
            let text = format!(r#"{{"Signal":{{"receiver":"{to}","data":"{data}"}}}}"#);
            if flood_sink.send(Message::text(text)).await.is_err() {
                break;
            }
        }
    });
    // And a bad client that keeps coming back with garbage.
    let bad_server_url = server.url("noisy");
    tokio::spawn(async move {
        loop {
            let Ok((mut bad, _)) = tokio_tungstenite::connect_async(&bad_server_url).await else {
                break;
            };
            let _ = bad.send(Message::text("{not json")).await;
            while let Some(Ok(_)) = bad.next().await {}
        }
    });

    // Wait until the flood is really flowing.
    while received.load(Ordering::Relaxed) < 1_000 {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }

    // The calm room: 100 round trips, each timed.
    let (mut p, p_id) = server.join("calm").await;
    let (mut q, q_id) = server.join("calm").await;
    assert_eq!(next_msg(&mut p).await, ServerMessage::NewPeer(q_id.clone()));
    let before = received.load(Ordering::Relaxed);
    let mut worst = Duration::ZERO;
    for i in 0..100 {
        let t0 = Instant::now();
        send(&mut p, &signal(&q_id, json!(i))).await;
        assert_eq!(next_msg(&mut q).await, relayed(&p_id, json!(i)));
        send(&mut q, &signal(&p_id, json!(i))).await;
        assert_eq!(next_msg(&mut p).await, relayed(&q_id, json!(i)));
        worst = worst.max(t0.elapsed());
    }
    let during = received.load(Ordering::Relaxed) - before;
    println!("calm room: worst round trip {worst:?} while the noisy room relayed {during} messages");
    assert!(during > 200, "the flood must run during the measurement ({during})");
    // Two relays per round trip; on an idle machine each takes well under a millisecond.
    assert!(worst < Duration::from_millis(250), "worst round trip {worst:?}");
}
