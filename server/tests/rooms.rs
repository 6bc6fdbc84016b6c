//! Room rules: who hears about whom, and where a signal may go.

mod common;

use common::{next_msg, relayed, send, signal, start};
use futures_util::{SinkExt, StreamExt};
use meshcall_protocol::ServerMessage;
use serde_json::json;

#[tokio::test]
async fn newcomer_gets_its_id_others_get_new_peer_and_peer_left() {
    let server = start(common::config()).await;
    let (mut a, a_id) = server.join("standup").await;
    let (mut b, b_id) = server.join("standup").await;
    assert_ne!(a_id, b_id);
    assert_eq!(next_msg(&mut a).await, ServerMessage::NewPeer(b_id.clone()));

    let (mut c, c_id) = server.join("standup").await;
    assert_eq!(next_msg(&mut a).await, ServerMessage::NewPeer(c_id.clone()));
    assert_eq!(next_msg(&mut b).await, ServerMessage::NewPeer(c_id.clone()));

    // A closed socket...
    b.close(None).await.unwrap();
    assert_eq!(
        next_msg(&mut a).await,
        ServerMessage::PeerLeft(b_id.clone())
    );
    assert_eq!(next_msg(&mut c).await, ServerMessage::PeerLeft(b_id));
    // ...and a dropped one (no close handshake) both count as leaving.
    drop(c);
    assert_eq!(next_msg(&mut a).await, ServerMessage::PeerLeft(c_id));
    // The newcomer was told nothing about the peers already there: matchbox's rule.
    send(&mut a, &signal(&a_id, json!("self"))).await;
    assert_eq!(next_msg(&mut a).await, relayed(&a_id, json!("self")));
}

#[tokio::test]
async fn the_server_stamps_the_sender() {
    let server = start(common::config()).await;
    let (mut a, a_id) = server.join("r").await;
    let (mut b, b_id) = server.join("r").await;
    next_msg(&mut a).await; // NewPeer(b)

    // Whatever the client claims, `sender` is who really sent it.
    let forged = r#"{"Signal":{"receiver":"RECEIVER","data":{"Offer":"v=0"},"sender":"mallory"}}"#
        .replace("RECEIVER", &b_id);
    a.send(tokio_tungstenite::tungstenite::Message::text(forged))
        .await
        .unwrap();
    assert_eq!(
        next_msg(&mut b).await,
        relayed(&a_id, json!({"Offer": "v=0"}))
    );

    send(&mut b, &signal(&a_id, json!({"Answer": "v=0"}))).await;
    assert_eq!(
        next_msg(&mut a).await,
        relayed(&b_id, json!({"Answer": "v=0"}))
    );
}

#[tokio::test]
async fn signals_never_cross_rooms() {
    let server = start(common::config()).await;
    let (mut a, a_id) = server.join("one").await;
    let (mut b, b_id) = server.join("two").await;
    let (mut b2, b2_id) = server.join("two").await;
    next_msg(&mut b).await; // NewPeer(b2)

    // a knows b's id but is in another room: the signal is dropped.
    send(&mut a, &signal(&b_id, json!("across"))).await;
    send(&mut b2, &signal(&b_id, json!("marker"))).await;
    assert_eq!(next_msg(&mut b).await, relayed(&b2_id, json!("marker")));
    // a heard nothing of room two either.
    send(&mut a, &signal(&a_id, json!("mine"))).await;
    assert_eq!(next_msg(&mut a).await, relayed(&a_id, json!("mine")));
}

#[tokio::test]
async fn a_signal_to_an_unknown_receiver_is_dropped_and_the_socket_lives() {
    let server = start(common::config()).await;
    let (mut a, a_id) = server.join("r").await;
    let (mut b, b_id) = server.join("r").await;
    next_msg(&mut a).await; // NewPeer(b)

    send(
        &mut a,
        &signal("00000000-0000-0000-0000-000000000000", json!("lost")),
    )
    .await;
    send(&mut a, &signal(&b_id, json!("after"))).await;
    assert_eq!(next_msg(&mut b).await, relayed(&a_id, json!("after")));
}

#[tokio::test]
async fn an_empty_room_is_forgotten() {
    let server = start(common::config()).await;
    let (mut a, _) = server.join("gone").await;
    let (_, _, body) = server.get("/healthz").await;
    let health: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(
        (health["rooms"].as_u64(), health["peers"].as_u64()),
        (Some(1), Some(1))
    );

    a.close(None).await.unwrap();
    // Wait for the server's side of the close handshake: the stream ends.
    while let Some(Ok(_)) = a.next().await {}
    // The room is removed before the close completes, so it is gone now.
    let (_, _, body) = server.get("/healthz").await;
    let health: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(
        (health["rooms"].as_u64(), health["peers"].as_u64()),
        (Some(0), Some(0))
    );
    server.stop().await.unwrap();
}
