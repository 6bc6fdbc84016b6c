//! `GET /config.json`: the signaling path and ICE servers for the app, with TURN REST API
//! credentials checked against an independent HMAC-SHA1 (ring's, not the server's hmac crate).

mod common;

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use common::{header, start};
use meshcall_protocol::{ClientConfig, IceServer};
use meshcall_server::TurnConfig;

#[tokio::test]
async fn config_json_hands_out_valid_short_lived_turn_credentials() {
    let secret = "north-wind-42";
    let mut config = common::config();
    config.ice_servers = vec!["stun:stun.example.org:3478".into()];
    config.turn = Some(TurnConfig {
        urls: vec![
            "turn:turn.example.org:3478?transport=udp".into(),
            "turns:turn.example.org:5349".into(),
        ],
        secret: secret.into(),
        ttl: Duration::from_secs(600),
    });
    let server = start(config).await;

    let (status, headers, body) = server.get("/config.json").await;
    assert_eq!(status, 200);
    assert_eq!(header(&headers, "cache-control"), Some("no-store"));
    assert!(header(&headers, "content-type")
        .unwrap()
        .starts_with("application/json"));
    let first: ClientConfig = serde_json::from_str(&body).unwrap();
    assert_eq!(first.signaling_url.as_deref(), Some("/ws/"));
    assert_eq!(first.ice_servers.len(), 2);
    assert_eq!(
        first.ice_servers[0],
        IceServer {
            urls: vec!["stun:stun.example.org:3478".into()],
            username: None,
            credential: None
        }
    );
    let turn = &first.ice_servers[1];
    assert_eq!(
        turn.urls,
        [
            "turn:turn.example.org:3478?transport=udp",
            "turns:turn.example.org:5349"
        ]
    );

    // username = <unix expiry>:<random>, expiry = now + ttl.
    let username = turn.username.as_deref().unwrap();
    let (expiry, random) = username.split_once(':').unwrap();
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let expiry: u64 = expiry.parse().unwrap();
    assert!(
        (now + 590..=now + 610).contains(&expiry),
        "expiry {expiry}, now {now}"
    );
    assert!(random.len() >= 16);

    // password = base64(HMAC-SHA1(secret, username)), as coturn's use-auth-secret computes it.
    let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA1_FOR_LEGACY_USE_ONLY, secret.as_bytes());
    let password = base64::engine::general_purpose::STANDARD
        .decode(turn.credential.as_deref().unwrap())
        .unwrap();
    ring::hmac::verify(&key, username.as_bytes(), &password).expect("valid TURN credential");

    // Every page gets its own username.
    let (_, _, body) = server.get("/config.json").await;
    let second: ClientConfig = serde_json::from_str(&body).unwrap();
    assert_ne!(
        second.ice_servers[1].username,
        first.ice_servers[1].username
    );
}

#[tokio::test]
async fn config_json_without_ice_servers_is_just_the_signaling_path() {
    let server = start(common::config()).await;
    let (status, _, body) = server.get("/config.json").await;
    assert_eq!(status, 200);
    assert_eq!(body, r#"{"signalingUrl":"/ws/","iceServers":[]}"#);
}
