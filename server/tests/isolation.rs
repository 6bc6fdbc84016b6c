//! One room's flood, stalled reader and bad client do not delay another room's relays: the room
//! table lock is never held across a wait, and no socket ever waits on another.

mod common;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use common::{next_msg, relayed, send, signal, start_on_own_runtime, WAIT};
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
    let server = start_on_own_runtime(config);

    // The noisy room: a flooder, a reader that drains what it gets (until it falls behind and is
    // dropped, which is the server's right), and a reader that never reads.
    let (flooder, _) = server.join("noisy").await;
    let (mut drain, drain_id) = server.join("noisy").await;
    let (_stalled, stalled_id) = server.join("noisy").await;
    tokio::spawn(async move { while let Some(Ok(_)) = drain.next().await {} });
    let sent = Arc::new(AtomicU64::new(0));
    let counter = sent.clone();
    let (mut flood_sink, mut flood_stream) = flooder.split();
    tokio::spawn(async move { while let Some(Ok(_)) = flood_stream.next().await {} });
    let big = "f".repeat(16 * 1024);
    tokio::spawn(async move {
        for i in 0u64.. {
            let (to, data) = if i % 8 == 0 {
                (&stalled_id, big.as_str())
            } else {
                (&drain_id, "x")
            };
            let text = format!(r#"{{"Signal":{{"receiver":"{to}","data":"{data}"}}}}"#);
            if flood_sink.send(Message::text(text)).await.is_err() {
                break;
            }
            counter.fetch_add(1, Ordering::Relaxed);
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
    tokio::time::timeout(WAIT, async {
        while sent.load(Ordering::Relaxed) < 1_000 {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    })
    .await
    .expect("the flood flows");

    // The calm room: 100 round trips, each timed.
    let (mut p, p_id) = server.join("calm").await;
    let (mut q, q_id) = server.join("calm").await;
    assert_eq!(next_msg(&mut p).await, ServerMessage::NewPeer(q_id.clone()));
    let before = sent.load(Ordering::Relaxed);
    let mut round_trips = Vec::new();
    for i in 0..100 {
        let t0 = Instant::now();
        send(&mut p, &signal(&q_id, json!(i))).await;
        assert_eq!(next_msg(&mut q).await, relayed(&p_id, json!(i)));
        send(&mut q, &signal(&p_id, json!(i))).await;
        assert_eq!(next_msg(&mut p).await, relayed(&q_id, json!(i)));
        round_trips.push(t0.elapsed());
    }
    let during = sent.load(Ordering::Relaxed) - before;
    round_trips.sort();
    let (median, p95, worst) = (round_trips[50], round_trips[95], round_trips[99]);
    println!(
        "calm room: round trip median {median:?}, p95 {p95:?}, worst {worst:?}, \
         while the noisy room got {during} messages"
    );
    assert!(
        during > 200,
        "the flood must run during the measurement ({during})"
    );
    // Idle, a round trip (two relays) takes about a millisecond. A lock held across a wait or a
    // socket waiting on another would hold every round trip for the close timeout (seconds) or
    // forever; the bounds leave room for a busy two-core machine's occasional stall.
    assert!(
        median < Duration::from_millis(50),
        "median round trip {median:?}"
    );
    assert!(p95 < Duration::from_millis(500), "p95 round trip {p95:?}");
}
