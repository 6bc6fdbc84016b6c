//! Each limit with its outcome: refused handshakes (400, 403) and closes with the code the app
//! shows (1009, 4001 to 4005). Every test also checks that the rest of the room hears `PeerLeft`
//! or nothing at all, never a broken room.

mod common;

use std::time::Duration;

use common::{next_close, next_msg, relayed, send, signal, start, WAIT};
use futures_util::{SinkExt, StreamExt};
use meshcall_protocol::{close_code, ServerMessage};
use serde_json::json;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::Message;

#[tokio::test]
async fn a_bad_room_name_is_refused_with_400_before_the_upgrade() {
    let server = start(common::config()).await;
    let too_long = "x".repeat(65);
    for room in [
        "",
        "a%20b",
        "a/b",
        "caf%C3%A9",
        "semi;colon",
        too_long.as_str(),
    ] {
        assert_eq!(
            server.refused_status(room, None).await,
            400,
            "room {room:?}"
        );
    }
    // The longest allowed name works.
    server.join(&"x".repeat(64)).await;
}

#[tokio::test]
async fn a_foreign_origin_is_refused_with_403_before_the_upgrade() {
    let mut config = common::config();
    config.allowed_origins = vec!["https://meet.example.com".into()];
    let server = start(config).await;
    let own = format!("http://{}", server.addr);

    assert_eq!(
        server
            .refused_status("r", Some("https://evil.example"))
            .await,
        403
    );
    assert_eq!(server.refused_status("r", Some("null")).await, 403);
    // Same host, other port: another origin.
    let other_port = format!("http://127.0.0.1:{}", server.addr.port() + 1);
    assert_eq!(server.refused_status("r", Some(&other_port)).await, 403);

    assert!(
        server.try_connect("r", Some(&own)).await.is_ok(),
        "own origin"
    );
    // Behind a proxy that rewrites Host (as `trunk serve` does), X-Forwarded-Host is our host.
    let proxied = |origin: &str| {
        let mut req = server.url("r").into_client_request().unwrap();
        req.headers_mut().insert("origin", origin.parse().unwrap());
        req.headers_mut()
            .insert("host", "127.0.0.1".parse().unwrap());
        req.headers_mut()
            .insert("x-forwarded-host", "127.0.0.1:8081".parse().unwrap());
        tokio_tungstenite::connect_async(req)
    };
    assert!(proxied("http://127.0.0.1:8081").await.is_ok(), "dev proxy");
    assert!(
        proxied("https://evil.example").await.is_err(),
        "foreign through the dev proxy"
    );
    assert!(
        server
            .try_connect("r", Some("https://meet.example.com"))
            .await
            .is_ok(),
        "allowed"
    );
    assert!(
        server.try_connect("r", None).await.is_ok(),
        "non-browser client without Origin"
    );
}

#[tokio::test]
async fn a_message_over_the_size_limit_closes_with_1009() {
    let mut config = common::config();
    config.limits.max_message_bytes = 1024;
    let server = start(config).await;
    let (mut a, a_id) = server.join("r").await;
    let (mut big, big_id) = server.join("r").await;
    next_msg(&mut a).await; // NewPeer

    // Exactly at the limit passes...
    let at_limit = format!(r#"{{"Signal":{{"receiver":"{a_id}","data":"{}"}}}}"#, "");
    let pad = "p".repeat(1024 - at_limit.len());
    let at_limit = format!(r#"{{"Signal":{{"receiver":"{a_id}","data":"{pad}"}}}}"#);
    assert_eq!(at_limit.len(), 1024);
    big.send(Message::text(at_limit)).await.unwrap();
    assert_eq!(next_msg(&mut a).await, relayed(&big_id, json!(pad)));

    // ...one byte more closes that socket.
    big.send(Message::text("x".repeat(1025))).await.unwrap();
    let (code, reason) = next_close(&mut big).await;
    assert_eq!(code, 1009, "{reason}");
    assert!(reason.contains("too big"), "{reason}");
    assert_eq!(next_msg(&mut a).await, ServerMessage::PeerLeft(big_id));
}

#[tokio::test]
async fn the_peer_over_the_room_limit_is_closed_with_4001_and_a_reason() {
    let mut config = common::config();
    config.limits.max_peers_per_room = 2;
    let server = start(config).await;
    let (mut a, a_id) = server.join("r").await;
    let (_b, _) = server.join("r").await;
    next_msg(&mut a).await; // NewPeer(b)

    let mut third = server.connect("r").await;
    let (code, reason) = next_close(&mut third).await;
    assert_eq!(code, close_code::ROOM_FULL);
    assert!(reason.contains("full"), "{reason}");
    // The room never heard of it; another room is open.
    send(&mut a, &signal(&a_id, json!("marker"))).await;
    assert_eq!(next_msg(&mut a).await, relayed(&a_id, json!("marker")));
    server.join("other").await;
}

#[tokio::test]
async fn the_connection_over_the_server_limit_is_closed_with_4002() {
    let mut config = common::config();
    config.limits.max_connections = 2;
    let server = start(config).await;
    let (mut a, _) = server.join("one").await;
    let (_b, _) = server.join("two").await;

    let mut third = server.connect("three").await;
    let (code, reason) = next_close(&mut third).await;
    assert_eq!(code, close_code::SERVER_FULL);
    assert!(reason.contains("full"), "{reason}");

    // A slot frees when a socket ends.
    a.close(None).await.unwrap();
    while let Some(Ok(_)) = a.next().await {}
    server.join_once_a_place_frees("three").await;
}

/// With the default limits: joining a full room (an answer plus 20 candidates for each of 11
/// peers, sent as fast as possible) passes whole; a flood is closed with 4003.
#[tokio::test]
async fn the_rate_limit_passes_a_twelve_peer_join_burst_and_stops_a_flood() {
    let server = start(common::config()).await;
    let mut peers = Vec::new();
    for _ in 0..11 {
        peers.push(server.join("r").await);
    }
    let (mut b, b_id) = server.join("r").await;

    for (_, id) in &peers {
        for i in 0..1 + 20 {
            send(
                &mut b,
                &signal(id, json!({ "IceCandidate": i.to_string() })),
            )
            .await;
        }
    }
    for (ws, _) in &mut peers {
        loop {
            match next_msg(ws).await {
                ServerMessage::NewPeer(_) => continue,
                first => {
                    assert_eq!(first, relayed(&b_id, json!({ "IceCandidate": "0" })));
                    break;
                }
            }
        }
        for i in 1..1 + 20 {
            assert_eq!(
                next_msg(ws).await,
                relayed(&b_id, json!({ "IceCandidate": i.to_string() }))
            );
        }
    }
    let (mut a, a_id) = peers.swap_remove(0);

    // A flood: thousands at once. Sends may start failing once the server has closed.
    let (mut sink, mut stream) = b.split();
    let flood = tokio::spawn(async move {
        for i in 0..5_000 {
            let text = format!(r#"{{"Signal":{{"receiver":"{a_id}","data":{i}}}}}"#);
            if sink.send(Message::text(text)).await.is_err() {
                break;
            }
        }
    });
    let code = loop {
        match tokio::time::timeout(WAIT, stream.next())
            .await
            .expect("closed in time")
        {
            Some(Ok(Message::Close(Some(frame)))) => break u16::from(frame.code),
            Some(Ok(_)) => continue,
            other => panic!("expected a close, got {other:?}"),
        }
    };
    assert_eq!(code, close_code::RATE_LIMITED);
    flood.abort();
    // a got part of the flood, then b's departure.
    loop {
        match next_msg(&mut a).await {
            ServerMessage::Signal { .. } => continue,
            other => break assert_eq!(other, ServerMessage::PeerLeft(b_id)),
        }
    }
}

/// A socket that reads nothing at all is closed with 4004 once even the server's own news for it
/// (who joins, who leaves) no longer fits its queue; the room hears `PeerLeft`. Others' signals
/// never do that (tests/attacks.rs): they only fill each sender's share.
#[tokio::test]
async fn a_socket_that_reads_nothing_is_dropped_once_the_room_news_no_longer_fits() {
    let mut config = common::config();
    config.limits.outbound_queue = 12;
    config.limits.max_message_bytes = 1024 * 1024;
    let server = start(config).await;
    let (mut watcher, watcher_id) = server.join("r").await;
    // The stalled reader: a small receive buffer so the kernel holds little for it.
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.set_recv_buffer_size(4096).unwrap();
    let tcp = socket.connect(server.addr).await.unwrap();
    let (mut stalled, _) = tokio_tungstenite::client_async(server.url("r"), tcp)
        .await
        .unwrap();
    let stalled_id = match next_msg(&mut stalled).await {
        ServerMessage::IdAssigned(id) => id,
        other => panic!("{other:?}"),
    };
    assert_eq!(
        next_msg(&mut watcher).await,
        ServerMessage::NewPeer(stalled_id.clone())
    );

    // The watcher fills every buffer on the way to the stalled reader with 16 MiB of signals (more
    // than the kernel holds; what passes the watcher's share is dropped), then one to itself: once
    // that is back, the server has handled them all, and the stalled reader is still in the room.
    let payload = "s".repeat(1024 * 1024 - 100);
    for _ in 0..16 {
        send(&mut watcher, &signal(&stalled_id, json!(payload))).await;
    }
    send(&mut watcher, &signal(&watcher_id, json!("filled"))).await;
    assert_eq!(
        next_msg(&mut watcher).await,
        relayed(&watcher_id, json!("filled"))
    );

    // People come and go; the watcher reads each NewPeer and PeerLeft, the stalled reader none.
    let mut cycles = 0;
    let mut dropped = false;
    while !dropped {
        cycles += 1;
        assert!(cycles < 100, "the stalled reader was never dropped");
        let (comer, comer_id) = server.join("r").await;
        drop(comer);
        loop {
            match next_msg(&mut watcher).await {
                ServerMessage::NewPeer(_) => {}
                ServerMessage::PeerLeft(id) if id == comer_id => break,
                ServerMessage::PeerLeft(id) => {
                    assert_eq!(id, stalled_id);
                    dropped = true;
                }
                other => panic!("{other:?}"),
            }
        }
    }

    // What the stalled reader finds when it reads again: what was already in flight, then the
    // end of the connection (with the 4004 close frame if it still fit).
    let end = tokio::time::timeout(WAIT, async {
        loop {
            match stalled.next().await {
                Some(Ok(Message::Close(Some(frame)))) => break Some(u16::from(frame.code)),
                Some(Ok(_)) => continue,
                _ => break None,
            }
        }
    })
    .await
    .expect("the connection ends");
    assert!(matches!(end, None | Some(close_code::TOO_SLOW)), "{end:?}");
}

/// The server pings; a client that never answers (never reads, so never pongs) is closed with 4005
/// after the idle timeout and its room hears `PeerLeft`; a client that reads stays.
#[tokio::test]
async fn silence_past_the_heartbeat_timeout_closes_with_4005() {
    let mut config = common::config();
    // Ten pings per timeout: the reading client stays even on a machine busy enough to delay a
    // few of its pongs.
    config.limits.ping_interval = Duration::from_millis(100);
    config.limits.idle_timeout = Duration::from_millis(1000);
    let server = start(config).await;
    let (mut alive, alive_id) = server.join("r").await;
    let (mut silent, silent_id) = server.join("r").await;

    let started = tokio::time::Instant::now();
    // Reading answers the server's pings (tungstenite pongs by itself).
    assert_eq!(
        next_msg(&mut alive).await,
        ServerMessage::NewPeer(silent_id.clone())
    );
    assert_eq!(
        next_msg(&mut alive).await,
        ServerMessage::PeerLeft(silent_id)
    );
    assert!(
        started.elapsed() >= Duration::from_millis(900),
        "{:?}",
        started.elapsed()
    );

    let (code, reason) = next_close(&mut silent).await;
    assert_eq!(code, close_code::TIMED_OUT, "{reason}");

    // The reading client outlived the timeout and still relays.
    send(&mut alive, &signal(&alive_id, json!("still here"))).await;
    assert_eq!(
        next_msg(&mut alive).await,
        relayed(&alive_id, json!("still here"))
    );
}

/// The heartbeat's other half: the server pings at the configured interval, so a browser (which
/// answers pings by itself) never needs to send anything to stay.
#[tokio::test]
async fn the_server_pings_at_the_interval() {
    let mut config = common::config();
    config.limits.ping_interval = Duration::from_millis(50);
    let server = start(config).await;
    let (mut ws, _) = server.join("r").await;
    let started = tokio::time::Instant::now();
    let mut pings = 0;
    while pings < 3 {
        match tokio::time::timeout(WAIT, ws.next())
            .await
            .expect("pinged in time")
        {
            Some(Ok(Message::Ping(_))) => pings += 1,
            other => panic!("expected pings only, got {other:?}"),
        }
    }
    // Three pings span at least two intervals (the first may come right after the join).
    assert!(
        started.elapsed() >= Duration::from_millis(100),
        "{:?}",
        started.elapsed()
    );
}
