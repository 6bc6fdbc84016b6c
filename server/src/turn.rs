//! Short-lived TURN credentials in the TURN REST API form (coturn's `use-auth-secret`):
//! username `<unix expiry>:<random>`, password base64(HMAC-SHA1(secret, username)).
//! Must never log or return the secret itself.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use hmac::{Hmac, Mac};
use meshcall_protocol::{ClientConfig, IceServer};
use sha1::Sha1;

use crate::config::{Config, IceTransportPolicy, TurnConfig};

/// Credentials valid until `now + ttl`; a fresh random user part each call, so two pages never
/// share a username.
pub fn credentials(turn: &TurnConfig, now: SystemTime) -> IceServer {
    let expiry = (now + turn.ttl)
        .duration_since(UNIX_EPOCH)
        .unwrap_or(Duration::ZERO)
        .as_secs();
    let username = format!("{expiry}:{}", uuid::Uuid::new_v4().simple());
    IceServer {
        urls: turn.urls.clone(),
        credential: Some(password(&turn.secret, &username)),
        username: Some(username),
    }
}

pub fn password(secret: &str, username: &str) -> String {
    // HMAC accepts keys of any length, so this cannot fail.
    let mut mac =
        Hmac::<Sha1>::new_from_slice(secret.as_bytes()).expect("HMAC takes keys of any length");
    mac.update(username.as_bytes());
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

/// The body of `GET /config.json`: the signaling path relative to the page's origin, and the ICE
/// servers (plain ones first, then TURN with fresh credentials).
pub fn client_config(config: &Config, now: SystemTime) -> ClientConfig {
    let mut ice_servers: Vec<IceServer> = config
        .ice_servers
        .iter()
        .map(|url| IceServer {
            urls: vec![url.clone()],
            username: None,
            credential: None,
        })
        .collect();
    if let Some(turn) = &config.turn {
        ice_servers.push(credentials(turn, now));
    }
    ClientConfig {
        signaling_url: Some(crate::WS_PATH.to_owned()),
        ice_servers,
        // Only a forced relay is written: the browser's default needs no field.
        ice_transport_policy: (config.ice_transport_policy == IceTransportPolicy::Relay)
            .then(|| ClientConfig::RELAY.to_owned()),
        upload_kbps: config.upload_kbps,
        max_file_mb: config.max_file_mb,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn password_matches_rfc2202_vector() {
        // RFC 2202 test case 2 for HMAC-SHA1: key "Jefe", data "what do ya want for nothing?".
        assert_eq!(
            password("Jefe", "what do ya want for nothing?"),
            base64::engine::general_purpose::STANDARD.encode([
                0xef, 0xfc, 0xdf, 0x6a, 0xe5, 0xeb, 0x2f, 0xa2, 0xd2, 0x74, 0x16, 0xd5, 0xf1, 0x84,
                0xdf, 0x9c, 0x25, 0x9a, 0x7c, 0x79
            ])
        );
    }

    #[test]
    fn username_carries_the_expiry() {
        let turn = TurnConfig {
            urls: vec!["turn:t.example:3478".into()],
            secret: "s".into(),
            ttl: Duration::from_secs(100),
        };
        let now = UNIX_EPOCH + Duration::from_secs(1_000);
        let a = credentials(&turn, now);
        let b = credentials(&turn, now);
        let user = a.username.clone().unwrap();
        assert!(user.starts_with("1100:"), "{user}");
        assert_ne!(a.username, b.username);
        assert_eq!(a.credential.unwrap(), password("s", &user));
    }
}
