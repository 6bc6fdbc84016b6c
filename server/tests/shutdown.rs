//! Shutdown closes every socket with 1001 and returns; the binary does it on SIGTERM, reads its
//! flags from MESHCALL_* variables and documents each in --help.

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;

use common::{next_close, next_msg, start, WAIT};
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
    let mut child = Command::new(env!("CARGO_BIN_EXE_meshcall-server"))
        .env("MESHCALL_ADDR", "127.0.0.1:0")
        .env("MESHCALL_STATIC_DIR", "/nonexistent/meshcall-dist")
        .env("MESHCALL_MAX_PEERS_PER_ROOM", "1")
        .env("RUST_LOG", "info")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let (lines_tx, mut lines) = tokio::sync::mpsc::unbounded_channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if lines_tx.send(line).is_err() {
                break;
            }
        }
    });
    let addr = loop {
        let line = tokio::time::timeout(WAIT, lines.recv()).await.unwrap().expect("a log line");
        if let Some((_, rest)) = line.split_once("listening on http://") {
            break rest.split_whitespace().next().unwrap().to_owned();
        }
    };

    let url = format!("ws://{addr}/ws/room");
    let (mut a, _) = tokio_tungstenite::connect_async(&url).await.unwrap();
    assert!(matches!(next_msg(&mut a).await, ServerMessage::IdAssigned(_)));
    // MESHCALL_MAX_PEERS_PER_ROOM=1 took effect.
    let (mut b, _) = tokio_tungstenite::connect_async(&url).await.unwrap();
    assert_eq!(next_close(&mut b).await.0, meshcall_protocol::close_code::ROOM_FULL);

    let join_line = loop {
        let line = tokio::time::timeout(WAIT, lines.recv()).await.unwrap().unwrap();
        if line.contains("join") {
            break line;
        }
    };
    assert!(join_line.contains("room=room") && join_line.contains("peers=1"), "{join_line}");

    let status = Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap();
    assert!(status.success());
    assert_eq!(next_close(&mut a).await.0, 1001);
    let deadline = std::time::Instant::now() + WAIT;
    let exit = loop {
        if let Some(exit) = child.try_wait().unwrap() {
            break exit;
        }
        assert!(std::time::Instant::now() < deadline, "still running after SIGTERM");
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert!(exit.success(), "{exit}");
}

#[test]
fn help_explains_every_flag_and_its_variable() {
    let out = Command::new(env!("CARGO_BIN_EXE_meshcall-server")).arg("--help").output().unwrap();
    assert!(out.status.success());
    let help = String::from_utf8(out.stdout).unwrap();
    for flag in [
        "--addr", "--static-dir", "--allowed-origin", "--ice-server", "--turn-url", "--turn-secret",
        "--turn-ttl-secs", "--tls-cert", "--tls-key", "--tls-self-signed", "--max-message-bytes",
        "--max-peers-per-room", "--max-connections", "--rate-burst", "--rate-per-sec",
        "--outbound-queue", "--ping-interval-ms", "--idle-timeout-ms",
    ] {
        assert!(help.contains(flag), "{flag} missing from --help");
        let var = format!("MESHCALL_{}", flag.trim_start_matches("--").replace('-', "_").to_uppercase());
        let var = match var.as_str() {
            "MESHCALL_ALLOWED_ORIGIN" => "MESHCALL_ALLOWED_ORIGINS".to_owned(),
            "MESHCALL_ICE_SERVER" => "MESHCALL_ICE_SERVERS".to_owned(),
            "MESHCALL_TURN_URL" => "MESHCALL_TURN_URLS".to_owned(),
            _ => var,
        };
        assert!(help.contains(&var), "{var} missing from --help");
    }
}
