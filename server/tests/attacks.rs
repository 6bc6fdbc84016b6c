//! The server's part of issue 11, each attack performed for real against a server on port 0: a
//! flooder trying to evict a slow reader, one address taking every socket, a forged
//! `X-Forwarded-For`, a page under a rebound DNS name, and logs that would name the room.

mod common;

use std::process::Command;

use common::{
    connect_from, next_msg, next_msg_or_close, relayed, send, signal, spawn_binary, start,
};
use futures_util::{SinkExt, StreamExt};
use meshcall_protocol::{close_code, ServerMessage};
use serde_json::json;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::Message;

/// A flooder sends big signals at full speed to a receiver that reads slowly. The flooder's
/// signals beyond its share of the receiver's queue are dropped; the receiver keeps its socket and
/// still gets the other peer's signal; both can still talk.
#[tokio::test]
async fn a_flooder_cannot_evict_a_slow_reader() {
    let mut config = common::config();
    // No rate limit in the way: only the queue shares decide.
    config.limits.rate_burst = 1_000_000;
    config.limits.rate_per_sec = 1_000_000;
    let server = start(config).await;
    // The slow reader: a small receive buffer, and it reads nothing until the flood is over.
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.set_recv_buffer_size(4096).unwrap();
    let tcp = socket.connect(server.addr).await.unwrap();
    let (mut slow, _) = tokio_tungstenite::client_async(server.url("r"), tcp)
        .await
        .unwrap();
    let slow_id = match next_msg(&mut slow).await {
        ServerMessage::IdAssigned(id) => id,
        other => panic!("{other:?}"),
    };
    let (mut flooder, flooder_id) = server.join("r").await;
    let (mut other, other_id) = server.join("r").await;
    assert_eq!(
        next_msg(&mut flooder).await,
        ServerMessage::NewPeer(other_id.clone())
    );

    // 400 signals of 16 KiB (6 MiB) as fast as the socket takes them, then one to itself: once
    // that comes back, the server has handled every one before it.
    let payload = "f".repeat(16 * 1024);
    let sent = 400;
    for _ in 0..sent {
        let text = format!(r#"{{"Signal":{{"receiver":"{slow_id}","data":"{payload}"}}}}"#);
        flooder.feed(Message::text(text)).await.unwrap();
    }
    flooder.flush().await.unwrap();
    send(&mut flooder, &signal(&flooder_id, json!("flood done"))).await;
    assert_eq!(
        next_msg(&mut flooder).await,
        relayed(&flooder_id, json!("flood done"))
    );

    // The other peer's signal, while the slow reader's queue holds all the flooder may put there.
    send(&mut other, &signal(&slow_id, json!("from the other peer"))).await;
    send(&mut other, &signal(&other_id, json!("sent"))).await;
    assert_eq!(
        next_msg(&mut other).await,
        relayed(&other_id, json!("sent"))
    );

    // The slow reader reads now: a part of the flood, then the other peer's signal, no close.
    let mut flood_received = 0;
    loop {
        match next_msg_or_close(&mut slow).await {
            Ok(ServerMessage::Signal { sender, data }) if sender == flooder_id => {
                assert_eq!(data, json!(payload));
                flood_received += 1;
            }
            Ok(ServerMessage::Signal { sender, data }) => {
                assert_eq!(
                    (sender, data),
                    (other_id.clone(), json!("from the other peer"))
                );
                break;
            }
            Ok(ServerMessage::NewPeer(_)) => {}
            Ok(msg) => panic!("{msg:?}"),
            Err(close) => panic!("the slow reader was closed: {close:?}"),
        }
    }
    assert!(
        flood_received < sent,
        "the flooder got all {sent} through; the share never held it"
    );

    // Everyone still has a socket: the reader answers the other peer, the flooder still relays.
    send(&mut slow, &signal(&other_id, json!("still here"))).await;
    assert_eq!(
        next_msg(&mut other).await,
        relayed(&slow_id, json!("still here"))
    );
    send(&mut flooder, &signal(&other_id, json!("me too"))).await;
    assert_eq!(
        next_msg(&mut other).await,
        relayed(&flooder_id, json!("me too"))
    );
}

/// One address holds at most `max_connections_per_ip` sockets; the next is closed with 4002 and
/// a reason that says why, while another address still gets in. `X-Forwarded-For` from a client
/// that is no trusted proxy changes nothing.
#[tokio::test]
async fn one_address_cannot_take_every_socket() {
    let mut config = common::config();
    config.limits.max_connections_per_ip = 2;
    let server = start(config).await;
    let (mut first, _) = server.join("r").await;
    let (_second, _) = server.join("r").await;

    for headers in [&[][..], &[("x-forwarded-for", "198.51.100.7")][..]] {
        let mut third = connect_from(&server, "127.0.0.1", "r", headers).await;
        let (code, reason) = next_msg_or_close(&mut third).await.unwrap_err();
        assert_eq!(code, close_code::SERVER_FULL, "{headers:?}");
        assert!(reason.contains("your address"), "{reason}");
    }
    // Another machine (127.0.0.2 is another source address here) is not affected.
    let mut elsewhere = connect_from(&server, "127.0.0.2", "r", &[]).await;
    assert!(matches!(
        next_msg_or_close(&mut elsewhere).await,
        Ok(ServerMessage::IdAssigned(_))
    ));

    // A place frees when a socket of the address ends.
    first.close(None).await.unwrap();
    while let Some(Ok(_)) = first.next().await {}
    server.join_once_a_place_frees("r").await;
}

/// Behind a trusted proxy the client is the address the proxy appended to `X-Forwarded-For`;
/// what a client wrote there itself (further left) is never read.
#[tokio::test]
async fn behind_a_trusted_proxy_the_forwarded_address_is_the_client() {
    let mut config = common::config();
    config.limits.max_connections_per_ip = 1;
    config.trusted_proxies = vec!["127.0.0.1".parse().unwrap()];
    let server = start(config).await;
    let server = &server;
    let via_proxy = move |xff: &'static str| async move {
        connect_from(server, "127.0.0.1", "r", &[("x-forwarded-for", xff)]).await
    };
    let joined = |result: Result<ServerMessage, (u16, String)>| {
        matches!(result, Ok(ServerMessage::IdAssigned(_)))
    };

    let mut a = via_proxy("198.51.100.1").await;
    assert!(joined(next_msg_or_close(&mut a).await));
    let mut b = via_proxy("198.51.100.2").await;
    assert!(
        joined(next_msg_or_close(&mut b).await),
        "another client behind the proxy"
    );
    // The same client again, and the same client pretending to be someone else.
    for xff in ["198.51.100.1", "203.0.113.9, 198.51.100.1"] {
        let mut again = via_proxy(xff).await;
        let (code, _) = next_msg_or_close(&mut again).await.unwrap_err();
        assert_eq!(code, close_code::SERVER_FULL, "{xff}");
    }
    // From an address that is no trusted proxy the header is ignored: 127.0.0.2 is the client.
    let (mut results, mut held) = (Vec::new(), Vec::new());
    for xff in ["198.51.100.3", "198.51.100.4"] {
        let headers = [("x-forwarded-for", xff)];
        let mut ws = connect_from(server, "127.0.0.2", "r", &headers).await;
        results.push(next_msg_or_close(&mut ws).await.map_err(|(code, _)| code));
        // Kept open, so the second one finds the first.
        held.push(ws);
    }
    assert!(matches!(results[0], Ok(ServerMessage::IdAssigned(_))));
    assert_eq!(results[1], Err(close_code::SERVER_FULL));
}

/// DNS rebinding: a page at `http://evil.example:<port>` whose name resolves to our address sends
/// `Origin` and `Host` of evil.example, which agree with each other. Refused, as is a page of the
/// wrong scheme; our own page at its IP address gets in.
#[tokio::test]
async fn a_page_under_a_rebound_name_or_another_scheme_cannot_open_a_socket() {
    let server = start(common::config()).await;
    let port = server.addr.port();
    let handshake = |origin: String, host: String| {
        let mut req = server.url("r").into_client_request().unwrap();
        req.headers_mut().insert("origin", origin.parse().unwrap());
        req.headers_mut().insert("host", host.parse().unwrap());
        tokio_tungstenite::connect_async(req)
    };
    let status = |result: Result<_, tokio_tungstenite::tungstenite::Error>| match result {
        Ok(_) => 101,
        Err(tokio_tungstenite::tungstenite::Error::Http(res)) => res.status().as_u16(),
        Err(e) => panic!("{e}"),
    };
    let rebound = format!("evil.example:{port}");
    assert_eq!(
        status(handshake(format!("http://{rebound}"), rebound).await),
        403
    );
    let own = format!("127.0.0.1:{port}");
    assert_eq!(
        status(handshake(format!("https://{own}"), own.clone()).await),
        403
    );
    assert_eq!(status(handshake(format!("http://{own}"), own).await), 101);
    let local = format!("localhost:{port}");
    assert_eq!(
        status(handshake(format!("http://{local}"), local).await),
        101
    );
}

/// The room name is what lets people in, so the log never has it: joins, leaves and refusals carry
/// a short tag instead.
#[tokio::test]
async fn logs_never_name_the_room() {
    let mut server =
        spawn_binary(&[("MESHCALL_ALLOWED_ORIGINS", "https://meet.example.com")]).await;
    let addr = server.addr.clone();
    let url = |room: &str| format!("ws://{addr}/ws/{room}");
    let room = "kitchen-7f3k9q";
    let (mut ws, _) = tokio_tungstenite::connect_async(url(room)).await.unwrap();
    next_msg(&mut ws).await;
    let join = server.line_with("join").await;
    assert!(join.contains("room="), "{join}");
    ws.close(None).await.unwrap();
    let leave = server.line_with("leave").await;

    let mut req = url(room).into_client_request().unwrap();
    req.headers_mut()
        .insert("origin", "https://evil.example".parse().unwrap());
    assert!(tokio_tungstenite::connect_async(req).await.is_err());
    let refused = server.line_with("refused").await;
    for line in [join, leave, refused] {
        assert!(!line.contains("kitchen"), "{line}");
    }
}

#[test]
fn an_empty_turn_secret_is_refused_at_start() {
    let out = Command::new(env!("CARGO_BIN_EXE_meshcall-server"))
        .args([
            "--addr",
            "127.0.0.1:0",
            "--turn-url",
            "turn:t.example:3478",
            "--turn-secret",
            "",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("--turn-secret is empty"), "{stderr}");
}
