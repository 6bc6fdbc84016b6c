//! `GET /config.json`: the signaling path and ICE servers for the app, with TURN REST API
//! credentials checked against an independent HMAC-SHA1 (ring's, not the server's hmac crate);
//! handed only to our own page, a few times a minute per address, for two hours by default.

mod common;

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use common::{header, http_get_from, spawn_binary, start};
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

fn with_turn() -> meshcall_server::Config {
    let mut config = common::config();
    config.turn = Some(TurnConfig {
        urls: vec!["turn:turn.example.org:3478".into()],
        secret: "north-wind-42".into(),
        ttl: Duration::from_secs(600),
    });
    config
}

/// Another site's page, or a page under a DNS name that was made to point at us (rebinding), gets
/// no credentials; the app's own fetch, with the headers Chromium sends for it, does.
#[tokio::test]
async fn config_json_answers_only_our_own_page() {
    let server = start(with_turn()).await;
    let own_host = server.addr.to_string();
    let rebound = format!("evil.example:{}", server.addr.port());
    let refused: &[&[(&str, &str)]] = &[
        &[
            ("Sec-Fetch-Site", "cross-site"),
            ("Sec-Fetch-Mode", "no-cors"),
        ],
        &[("Sec-Fetch-Site", "same-site")],
        &[
            ("Origin", "https://evil.example"),
            ("Sec-Fetch-Site", "cross-site"),
        ],
        &[("Origin", "https://evil.example")],
        &[
            ("Host", rebound.as_str()),
            ("Sec-Fetch-Site", "same-origin"),
        ],
    ];
    for headers in refused {
        let (status, _, body) =
            http_get_from(server.addr, "127.0.0.1", "/config.json", headers).await;
        assert_eq!(status, 403, "{headers:?}");
        assert!(!body.contains("credential"), "{body}");
    }
    // What Chromium sends for the page's own fetch("/config.json"): no Origin on a same-origin GET.
    let own: &[(&str, &str)] = &[
        ("Host", own_host.as_str()),
        ("Sec-Fetch-Site", "same-origin"),
        ("Sec-Fetch-Mode", "cors"),
        ("Sec-Fetch-Dest", "empty"),
    ];
    let (status, _, body) = http_get_from(server.addr, "127.0.0.1", "/config.json", own).await;
    assert_eq!(status, 200, "{body}");
    let config: ClientConfig = serde_json::from_str(&body).unwrap();
    assert!(config.ice_servers[0].credential.is_some());
}

/// One address minting credentials in a loop runs dry after the burst (429 with Retry-After and
/// no credentials); another address is not affected.
#[tokio::test]
async fn config_json_is_rate_limited_per_address() {
    let mut config = with_turn();
    config.limits.config_rate_burst = 3;
    config.limits.config_rate_per_min = 1;
    let server = start(config).await;
    for _ in 0..3 {
        assert_eq!(server.get("/config.json").await.0, 200);
    }
    let (status, headers, body) = server.get("/config.json").await;
    assert_eq!(status, 429);
    assert!(header(&headers, "retry-after").is_some());
    assert!(body.contains("Too many"), "{body}");
    assert!(!body.contains("credential"), "{body}");
    let (status, _, _) = http_get_from(server.addr, "127.0.0.2", "/config.json", &[]).await;
    assert_eq!(status, 200, "another address");
}

/// Without --turn-ttl-secs, credentials expire in two hours (README "Security").
#[tokio::test]
async fn turn_credentials_last_two_hours_by_default() {
    let server = spawn_binary(&[
        ("MESHCALL_TURN_URLS", "turn:turn.example.org:3478"),
        ("MESHCALL_TURN_SECRET", "north-wind-42"),
    ])
    .await;
    let addr = server.addr.parse().unwrap();
    let (status, _, body) = common::http_get(addr, "/config.json").await;
    assert_eq!(status, 200);
    let config: ClientConfig = serde_json::from_str(&body).unwrap();
    let username = config.ice_servers[0].username.as_deref().unwrap();
    let expiry: u64 = username.split_once(':').unwrap().0.parse().unwrap();
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs();
    assert!(
        (now + 7190..=now + 7210).contains(&expiry),
        "expiry {expiry}, now {now}"
    );
}

/// An operator forcing relay (`--ice-transport-policy relay`): every page is told so in
/// `/config.json`, beside its TURN credentials. By default the field is absent, so pages use every
/// path, as a `config.json` without it (any static host, matchbox_server) means too.
#[tokio::test]
async fn relay_only_policy_reaches_every_page() {
    let server = spawn_binary(&[
        ("MESHCALL_TURN_URLS", "turn:turn.example.org:3478"),
        ("MESHCALL_TURN_SECRET", "north-wind-42"),
        ("MESHCALL_ICE_TRANSPORT_POLICY", "relay"),
    ])
    .await;
    let (status, _, body) = common::http_get(server.addr.parse().unwrap(), "/config.json").await;
    assert_eq!(status, 200);
    assert!(body.contains(r#""iceTransportPolicy":"relay""#), "{body}");
    let config: ClientConfig = serde_json::from_str(&body).unwrap();
    assert!(config.relay_only());
    assert!(config.ice_servers[0].credential.is_some());

    let (_, _, body) = start(with_turn()).await.get("/config.json").await;
    assert!(!body.contains("iceTransportPolicy"), "{body}");
}

/// The operator's upload budget (`--upload-kbps`) reaches every page; without it the field is
/// absent and the app divides its own default.
#[tokio::test]
async fn upload_budget_reaches_every_page() {
    let server = spawn_binary(&[("MESHCALL_UPLOAD_KBPS", "900")]).await;
    let (status, _, body) = common::http_get(server.addr.parse().unwrap(), "/config.json").await;
    assert_eq!(status, 200);
    let config: ClientConfig = serde_json::from_str(&body).unwrap();
    assert_eq!(config.upload_kbps, Some(900), "{body}");

    let (_, _, body) = start(common::config()).await.get("/config.json").await;
    assert!(!body.contains("uploadKbps"), "{body}");
}

/// The operator's file cap (`--max-file-mb`) reaches every page; without it the field is absent.
#[tokio::test]
async fn file_cap_reaches_every_page() {
    let server = spawn_binary(&[("MESHCALL_MAX_FILE_MB", "7")]).await;
    let (status, _, body) = common::http_get(server.addr.parse().unwrap(), "/config.json").await;
    assert_eq!(status, 200);
    let config: ClientConfig = serde_json::from_str(&body).unwrap();
    assert_eq!(config.max_file_mb, Some(7), "{body}");

    let (_, _, body) = start(common::config()).await.get("/config.json").await;
    assert!(!body.contains("maxFileMb"), "{body}");
}

/// Relay without any TURN server would fail every call: the server refuses to start and says why.
#[test]
fn relay_only_without_turn_is_refused_at_start() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_meshcall-server"))
        .env("MESHCALL_ADDR", "127.0.0.1:0")
        .env("MESHCALL_ICE_TRANSPORT_POLICY", "relay")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("needs a TURN server"), "{stderr}");
}
