//! Bad input ends the socket that sent it, with a code that says why, or is ignored where the
//! protocol may grow; the others in its room only ever see `PeerLeft`.

mod common;

use common::{next_close, next_msg, relayed, send, signal, start};
use futures_util::SinkExt;
use meshcall_protocol::ServerMessage;
use serde_json::json;
use tokio_tungstenite::tungstenite::protocol::frame::coding::{Data, OpCode};
use tokio_tungstenite::tungstenite::protocol::frame::Frame;
use tokio_tungstenite::tungstenite::Message;

/// A room of two well-behaved peers plus `bad`; sends `frame` from `bad` and checks the close
/// code, that the others hear `PeerLeft`, and that they still relay to each other.
async fn bad_frame_closes_only_its_socket(frame: Message, want_code: u16) {
    let server = start(common::config()).await;
    let (mut a, a_id) = server.join("r").await;
    let (mut b, b_id) = server.join("r").await;
    let (mut bad, bad_id) = server.join("r").await;
    assert_eq!(next_msg(&mut a).await, ServerMessage::NewPeer(b_id.clone()));
    assert_eq!(
        next_msg(&mut a).await,
        ServerMessage::NewPeer(bad_id.clone())
    );
    assert_eq!(
        next_msg(&mut b).await,
        ServerMessage::NewPeer(bad_id.clone())
    );

    bad.send(frame).await.unwrap();
    let (code, reason) = next_close(&mut bad).await;
    assert_eq!(code, want_code, "{reason}");
    assert!(!reason.is_empty());

    assert_eq!(
        next_msg(&mut a).await,
        ServerMessage::PeerLeft(bad_id.clone())
    );
    assert_eq!(next_msg(&mut b).await, ServerMessage::PeerLeft(bad_id));
    send(&mut a, &signal(&b_id, json!("fine"))).await;
    assert_eq!(next_msg(&mut b).await, relayed(&a_id, json!("fine")));
}

#[tokio::test]
async fn a_binary_frame_closes_with_1003() {
    bad_frame_closes_only_its_socket(Message::binary(vec![1, 2, 3]), 1003).await;
}

#[tokio::test]
async fn malformed_json_closes_with_1007() {
    bad_frame_closes_only_its_socket(Message::text("{\"Signal\": {"), 1007).await;
}

#[tokio::test]
async fn a_signal_of_the_wrong_shape_closes_with_1007() {
    let wrong = r#"{"Signal":{"receiver":42,"data":"x"}}"#;
    bad_frame_closes_only_its_socket(Message::text(wrong), 1007).await;
}

#[tokio::test]
async fn a_text_frame_that_is_not_utf8_closes_with_1007() {
    let frame = Frame::message(vec![0xff, 0xfe, 0x22], OpCode::Data(Data::Text), true);
    bad_frame_closes_only_its_socket(Message::Frame(frame), 1007).await;
}

/// Well-formed JSON that is no message we know is ignored (documented), so a client of a newer
/// protocol keeps its socket.
#[tokio::test]
async fn an_unknown_message_is_ignored() {
    let server = start(common::config()).await;
    let (mut a, a_id) = server.join("r").await;
    let (mut b, b_id) = server.join("r").await;
    next_msg(&mut a).await; // NewPeer(b)

    for unknown in [
        r#"{"Hello":{"name":"x"}}"#,
        r#""Ping""#,
        "[1,2,3]",
        "null",
        "7",
    ] {
        a.send(Message::text(unknown)).await.unwrap();
    }
    // KeepAlive is known and answered by nothing.
    a.send(Message::text(r#""KeepAlive""#)).await.unwrap();
    send(&mut a, &signal(&b_id, json!("after"))).await;
    assert_eq!(next_msg(&mut b).await, relayed(&a_id, json!("after")));
    send(&mut b, &signal(&a_id, json!("back"))).await;
    assert_eq!(next_msg(&mut a).await, relayed(&b_id, json!("back")));
}
