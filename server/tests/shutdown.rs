//! Shutdown closes every socket with 1001 and returns; the binary does it on SIGTERM, reads its
//! flags from MESHCALL_* variables and documents each in --help.

mod common;

use std::process::Command;

use futures_util::SinkExt;

use common::{next_close, next_msg, spawn_binary, start};
use meshcall_protocol::ServerMessage;

#[tokio::test]
async fn shutdown_closes_every_socket_with_1001() {
    let server = start(common::config()).await;
    let (mut a, _) = server.join("one").await;
    let (mut b, b_id) = server.join("one").await;
    let (mut c, _) = server.join("two").await;
    assert_eq!(next_msg(&mut a).await, ServerMessage::NewPeer(b_id));

    let stopping = tokio::spawn(server.stop());
    for ws in [&mut a, &mut b, &mut c] {
        let (code, reason) = next_close(ws).await;
        assert_eq!(code, 1001, "{reason}");
    }
    stopping.await.unwrap().unwrap();
}

#[tokio::test]
async fn the_binary_reads_env_and_exits_cleanly_on_sigterm() {
    let mut server = spawn_binary(&[("MESHCALL_MAX_PEERS_PER_ROOM", "1")]).await;

    let url = format!("ws://{}/ws/room", server.addr);
    let (mut a, _) = tokio_tungstenite::connect_async(&url).await.unwrap();
    assert!(matches!(
        next_msg(&mut a).await,
        ServerMessage::IdAssigned(_)
    ));
    // MESHCALL_MAX_PEERS_PER_ROOM=1 took effect.
    let (mut b, _) = tokio_tungstenite::connect_async(&url).await.unwrap();
    assert_eq!(
        next_close(&mut b).await.0,
        meshcall_protocol::close_code::ROOM_FULL
    );

    // One info line per join, with the room's tag (never its name) and the count.
    let join_line = server.line_with(" join").await;
    assert!(
        join_line.contains("room=")
            && !join_line.contains("room=room")
            && join_line.contains("peers=1"),
        "{join_line}"
    );

    server.sigterm();
    assert_eq!(next_close(&mut a).await.0, 1001);
    let exit = server.wait().await;
    assert!(exit.success(), "{exit}");
    let leave_line = server.line_with(" leave").await;
    assert!(leave_line.contains("peers=0"), "{leave_line}");
}

#[tokio::test]
async fn json_logs_have_one_structured_line_per_join_and_leave() {
    let mut server = spawn_binary(&[("MESHCALL_LOG_FORMAT", "json")]).await;
    let url = format!("ws://{}/ws/logged", server.addr);
    let (mut a, _) = tokio_tungstenite::connect_async(&url).await.unwrap();
    let a_id = match next_msg(&mut a).await {
        ServerMessage::IdAssigned(id) => id,
        other => panic!("{other:?}"),
    };
    let join: serde_json::Value =
        serde_json::from_str(&server.line_with(r#""join""#).await).unwrap();
    // The room's tag, never its name: 8 hex digits.
    let tag = join["room"].as_str().unwrap().to_owned();
    assert!(
        tag.len() == 8 && tag.bytes().all(|b| b.is_ascii_hexdigit()),
        "{tag}"
    );
    assert_eq!(join["peer"], a_id.as_str());
    assert_eq!(join["peers"], 1);

    // A signal's contents never reach the log at info.
    let secret = "v=0 o=- 4611731400430051336 2 IN IP4 127.0.0.1 SECRET-SDP";
    let signal = serde_json::json!({"Signal": {"receiver": a_id, "data": {"Offer": secret}}});
    a.send(tokio_tungstenite::tungstenite::Message::text(
        signal.to_string(),
    ))
    .await
    .unwrap();
    assert!(matches!(
        next_msg(&mut a).await,
        ServerMessage::Signal { .. }
    ));
    a.close(None).await.unwrap();
    let leave: serde_json::Value =
        serde_json::from_str(&server.line_with(r#""leave""#).await).unwrap();
    assert_eq!(
        (leave["peer"].as_str(), leave["peers"].as_u64()),
        (Some(a_id.as_str()), Some(0))
    );
    assert_eq!(
        leave["room"].as_str(),
        Some(tag.as_str()),
        "the same room, the same tag"
    );

    server.sigterm();
    assert!(server.wait().await.success());
    while let Ok(line) = server.lines.try_recv() {
        assert!(!line.contains("SECRET-SDP"), "{line}");
    }
}

#[test]
fn help_explains_every_flag_and_its_variable() {
    let out = Command::new(env!("CARGO_BIN_EXE_meshcall-server"))
        .arg("--help")
        .output()
        .unwrap();
    assert!(out.status.success());
    let help = String::from_utf8(out.stdout).unwrap();
    for flag in [
        "--addr",
        "--static-dir",
        "--allowed-origin",
        "--ice-server",
        "--turn-url",
        "--turn-secret",
        "--turn-ttl-secs",
        "--tls-cert",
        "--tls-key",
        "--tls-self-signed",
        "--max-message-bytes",
        "--max-peers-per-room",
        "--max-connections",
        "--max-connections-per-ip",
        "--trusted-proxy",
        "--config-rate-burst",
        "--config-rate-per-min",
        "--rate-burst",
        "--rate-per-sec",
        "--outbound-queue",
        "--ping-interval-ms",
        "--idle-timeout-ms",
        "--log-format",
    ] {
        assert!(help.contains(flag), "{flag} missing from --help");
        let var = format!(
            "MESHCALL_{}",
            flag.trim_start_matches("--")
                .replace('-', "_")
                .to_uppercase()
        );
        let var = match var.as_str() {
            "MESHCALL_ALLOWED_ORIGIN" => "MESHCALL_ALLOWED_ORIGINS".to_owned(),
            "MESHCALL_ICE_SERVER" => "MESHCALL_ICE_SERVERS".to_owned(),
            "MESHCALL_TURN_URL" => "MESHCALL_TURN_URLS".to_owned(),
            "MESHCALL_TRUSTED_PROXY" => "MESHCALL_TRUSTED_PROXIES".to_owned(),
            _ => var,
        };
        assert!(help.contains(&var), "{var} missing from --help");
    }
}
