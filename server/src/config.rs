//! What the server is told at start, as plain values: built by the CLI in `main.rs` or directly by
//! tests. Reads no environment and no files itself.

use std::net::IpAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use crate::limits;
use crate::tls::TlsSetup;

/// The default is one node alone, serving the app built into the binary.
#[derive(Debug, Clone, Default)]
pub struct Config {
    /// Serve the app from this directory (Trunk's `dist/`) instead of the one embedded in the
    /// binary. Missing is fine: the page routes then say the app is not built, and signaling still
    /// works.
    pub static_dir: Option<PathBuf>,
    /// The public origins the app is served from (and any other page allowed to signal through us),
    /// each `scheme://host[:port]`, e.g. `https://meet.example.com`; `*` allows all. Pages at an IP
    /// address or `localhost` need no entry (see [`crate::origin`]).
    pub allowed_origins: Vec<String>,
    /// Reverse proxies whose `X-Forwarded-For` names the client (see [`crate::client_ip`]). Empty:
    /// the TCP peer is the client and `X-Forwarded-For` is ignored.
    pub trusted_proxies: Vec<IpAddr>,
    /// Plain ICE server URLs (`stun:...`, or `turn:...` with static credentials in the URL-less sense).
    pub ice_servers: Vec<String>,
    /// TURN REST API credentials handed out by `/config.json`.
    pub turn: Option<TurnConfig>,
    /// Whether pages may use every path (`All`) or must relay all media through TURN (`Relay`).
    pub ice_transport_policy: IceTransportPolicy,
    /// Each page's total upload budget in kbit/s (`None`: the app's default).
    pub upload_kbps: Option<u32>,
    /// The largest file a page accepts, in MB (`None`: the app's default).
    pub max_file_mb: Option<u32>,
    /// Serve HTTPS/WSS with this certificate.
    pub tls: Option<Arc<TlsSetup>>,
    pub limits: Limits,
    /// Join a cluster of nodes sharing rooms through this Redis (`redis://host:port/db`).
    pub redis: Option<String>,
}

/// `RTCPeerConnection`'s `iceTransportPolicy`, as `/config.json` hands it to every page.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum IceTransportPolicy {
    /// Direct paths where they work, TURN where they do not (the browser's default).
    #[default]
    All,
    /// Every connection through a TURN relay: peers never see each other's addresses, and a call
    /// proves the relay works.
    Relay,
}

#[derive(Clone)]
pub struct TurnConfig {
    pub urls: Vec<String>,
    /// The `static-auth-secret` shared with coturn (`use-auth-secret`).
    pub secret: String,
    pub ttl: Duration,
}

impl std::fmt::Debug for TurnConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print the secret.
        f.debug_struct("TurnConfig")
            .field("urls", &self.urls)
            .field("ttl", &self.ttl)
            .finish()
    }
}

/// The tunable limits; see [`crate::limits`] for why each default is what it is.
#[derive(Debug, Clone)]
pub struct Limits {
    pub max_message_bytes: usize,
    pub max_peers_per_room: usize,
    pub max_connections: usize,
    pub max_connections_per_ip: usize,
    pub rate_burst: u32,
    pub rate_per_sec: u32,
    pub outbound_queue: usize,
    pub ping_interval: Duration,
    pub idle_timeout: Duration,
    pub config_rate_burst: u32,
    pub config_rate_per_min: u32,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_message_bytes: limits::DEFAULT_MAX_MESSAGE_BYTES,
            max_peers_per_room: limits::DEFAULT_MAX_PEERS_PER_ROOM,
            max_connections: limits::DEFAULT_MAX_CONNECTIONS,
            max_connections_per_ip: limits::DEFAULT_MAX_CONNECTIONS_PER_IP,
            rate_burst: limits::DEFAULT_RATE_BURST,
            rate_per_sec: limits::DEFAULT_RATE_PER_SEC,
            outbound_queue: limits::DEFAULT_OUTBOUND_QUEUE,
            ping_interval: limits::DEFAULT_PING_INTERVAL,
            idle_timeout: limits::DEFAULT_IDLE_TIMEOUT,
            config_rate_burst: limits::DEFAULT_CONFIG_RATE_BURST,
            config_rate_per_min: limits::DEFAULT_CONFIG_RATE_PER_MIN,
        }
    }
}

/// Loopback: browsers treat http://127.0.0.1 as a secure context, so cameras work without TLS.
pub const DEFAULT_ADDR: &str = "127.0.0.1:8080";

/// The largest `--max-file-mb`: what the app accepts from any `config.json` (src/session/files.rs).
pub const MAX_FILE_MB: u32 = 2_047;

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum ConfigError {
    #[error("{0} must be greater than zero")]
    Zero(&'static str),
    #[error("the idle timeout ({idle:?}) must be longer than the ping interval ({ping:?})")]
    IdleNotAfterPing { idle: Duration, ping: Duration },
    #[error("--turn-secret needs at least one --turn-url")]
    TurnSecretWithoutUrl,
    #[error("--turn-secret is empty: give the TURN server's shared secret (coturn's static-auth-secret), or leave out --turn-url and --turn-secret")]
    EmptyTurnSecret,
    #[error("--allowed-origin {0:?} must be scheme://host[:port] with http or https (e.g. https://meet.example.com), or *")]
    BadOrigin(String),
    #[error("--outbound-queue ({queue}) must be at least --max-peers-per-room ({peers}), so each peer has a share of it")]
    QueueBelowRoom { queue: usize, peers: usize },
    #[error("{name} may be at most {max}")]
    TooMany { name: &'static str, max: usize },
    #[error("ICE server URL {0:?} must start with stun:, stuns:, turn: or turns:")]
    BadIceUrl(String),
    #[error("{0}")]
    BadRedisUrl(String),
    #[error("--ice-transport-policy relay needs a TURN server: give --turn-url and --turn-secret (or a turn: URL in --ice-server), or every call fails")]
    RelayWithoutTurn,
}

impl Config {
    /// Checks what the types cannot; run before serving.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let l = &self.limits;
        let nonzero = [
            ("--max-message-bytes", l.max_message_bytes as u64),
            ("--max-peers-per-room", l.max_peers_per_room as u64),
            ("--max-connections", l.max_connections as u64),
            ("--max-connections-per-ip", l.max_connections_per_ip as u64),
            ("--config-rate-burst", l.config_rate_burst as u64),
            ("--config-rate-per-min", l.config_rate_per_min as u64),
            ("--rate-burst", l.rate_burst as u64),
            ("--rate-per-sec", l.rate_per_sec as u64),
            ("--outbound-queue", l.outbound_queue as u64),
            ("--ping-interval-ms", l.ping_interval.as_millis() as u64),
        ];
        for (name, value) in nonzero {
            if value == 0 {
                return Err(ConfigError::Zero(name));
            }
        }
        let max = tokio::sync::Semaphore::MAX_PERMITS;
        if l.max_connections > max {
            return Err(ConfigError::TooMany {
                name: "--max-connections",
                max,
            });
        }
        if l.idle_timeout <= l.ping_interval {
            return Err(ConfigError::IdleNotAfterPing {
                idle: l.idle_timeout,
                ping: l.ping_interval,
            });
        }
        if l.outbound_queue < l.max_peers_per_room {
            return Err(ConfigError::QueueBelowRoom {
                queue: l.outbound_queue,
                peers: l.max_peers_per_room,
            });
        }
        for origin in &self.allowed_origins {
            if origin != "*" && crate::origin::Origin::parse(origin).is_none() {
                return Err(ConfigError::BadOrigin(origin.clone()));
            }
        }
        if let Some(turn) = &self.turn {
            if turn.secret.trim().is_empty() {
                return Err(ConfigError::EmptyTurnSecret);
            }
            if turn.urls.is_empty() {
                return Err(ConfigError::TurnSecretWithoutUrl);
            }
            if turn.ttl.is_zero() {
                return Err(ConfigError::Zero("--turn-ttl-secs"));
            }
        }
        let turn_urls = self.turn.iter().flat_map(|t| t.urls.iter());
        for url in self.ice_servers.iter().chain(turn_urls) {
            if !["stun:", "stuns:", "turn:", "turns:"]
                .iter()
                .any(|p| url.starts_with(p))
            {
                return Err(ConfigError::BadIceUrl(url.clone()));
            }
        }
        if self.upload_kbps == Some(0) {
            return Err(ConfigError::Zero("--upload-kbps"));
        }
        if self.max_file_mb == Some(0) {
            return Err(ConfigError::Zero("--max-file-mb"));
        }
        // The page holds a file in one typed array, and the app caps what it accepts there.
        if self.max_file_mb.is_some_and(|mb| mb > MAX_FILE_MB) {
            return Err(ConfigError::TooMany {
                name: "--max-file-mb",
                max: MAX_FILE_MB as usize,
            });
        }
        let has_turn = self.turn.is_some()
            || self
                .ice_servers
                .iter()
                .any(|u| u.starts_with("turn:") || u.starts_with("turns:"));
        if self.ice_transport_policy == IceTransportPolicy::Relay && !has_turn {
            return Err(ConfigError::RelayWithoutTurn);
        }
        if let Some(url) = &self.redis {
            crate::cluster::check_url(url).map_err(|e| ConfigError::BadRedisUrl(e.to_string()))?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid() {
        assert_eq!(Config::default().validate(), Ok(()));
    }

    #[test]
    fn rejects_what_cannot_work() {
        let mut c = Config::default();
        c.limits.idle_timeout = c.limits.ping_interval;
        assert!(matches!(
            c.validate(),
            Err(ConfigError::IdleNotAfterPing { .. })
        ));

        let mut c = Config::default();
        c.limits.rate_per_sec = 0;
        assert_eq!(c.validate(), Err(ConfigError::Zero("--rate-per-sec")));

        let turn = TurnConfig {
            urls: vec![],
            secret: "s".into(),
            ttl: Duration::from_secs(1),
        };
        let c = Config {
            turn: Some(turn),
            ..Config::default()
        };
        assert_eq!(c.validate(), Err(ConfigError::TurnSecretWithoutUrl));

        let c = Config {
            ice_servers: vec!["http://x".into()],
            ..Config::default()
        };
        assert_eq!(c.validate(), Err(ConfigError::BadIceUrl("http://x".into())));

        let mut c = Config::default();
        c.limits.max_connections = usize::MAX;
        assert!(matches!(c.validate(), Err(ConfigError::TooMany { .. })));
    }

    #[test]
    fn relay_only_needs_a_turn_server() {
        let mut c = Config {
            ice_transport_policy: IceTransportPolicy::Relay,
            ice_servers: vec!["stun:s.example:3478".into()],
            ..Config::default()
        };
        assert_eq!(c.validate(), Err(ConfigError::RelayWithoutTurn));
        c.turn = Some(TurnConfig {
            urls: vec!["turn:t.example:3478".into()],
            secret: "s".into(),
            ttl: Duration::from_secs(60),
        });
        assert_eq!(c.validate(), Ok(()));
    }

    #[test]
    fn rejects_an_empty_turn_secret_a_schemeless_origin_and_a_queue_without_shares() {
        for secret in ["", "  "] {
            let c = Config {
                turn: Some(TurnConfig {
                    urls: vec!["turn:t:3478".into()],
                    secret: secret.into(),
                    ttl: Duration::from_secs(60),
                }),
                ..Config::default()
            };
            assert_eq!(
                c.validate(),
                Err(ConfigError::EmptyTurnSecret),
                "{secret:?}"
            );
            assert!(ConfigError::EmptyTurnSecret.to_string().contains("empty"));
        }

        for bad in ["meet.example.com", "ftp://x.example", "https://", "null"] {
            let c = Config {
                allowed_origins: vec![bad.into()],
                ..Config::default()
            };
            assert_eq!(
                c.validate(),
                Err(ConfigError::BadOrigin(bad.into())),
                "{bad}"
            );
        }
        for good in ["*", "https://meet.example.com", "http://10.0.0.1:8080"] {
            let c = Config {
                allowed_origins: vec![good.into()],
                ..Config::default()
            };
            assert_eq!(c.validate(), Ok(()), "{good}");
        }

        let mut c = Config::default();
        c.limits.outbound_queue = c.limits.max_peers_per_room - 1;
        assert!(matches!(
            c.validate(),
            Err(ConfigError::QueueBelowRoom { .. })
        ));
    }

    #[test]
    fn an_upload_budget_of_zero_is_refused() {
        let c = Config {
            upload_kbps: Some(0),
            ..Config::default()
        };
        assert_eq!(c.validate(), Err(ConfigError::Zero("--upload-kbps")));
        let c = Config {
            max_file_mb: Some(0),
            ..Config::default()
        };
        assert_eq!(c.validate(), Err(ConfigError::Zero("--max-file-mb")));
    }

    #[test]
    fn a_file_cap_beyond_what_the_page_can_hold_is_refused() {
        let c = |mb| Config {
            max_file_mb: Some(mb),
            ..Config::default()
        };
        assert_eq!(c(MAX_FILE_MB).validate(), Ok(()));
        let err = c(MAX_FILE_MB + 1).validate().unwrap_err();
        assert_eq!(err.to_string(), "--max-file-mb may be at most 2047");
    }
}
