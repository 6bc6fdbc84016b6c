//! `meshcall-server`: flags (each also read from a `MESHCALL_*` variable) into a [`Config`], logs,
//! TLS, signals. Everything else lives in the library.

use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use clap::Parser;
use meshcall_server::{config, limits, Config, IceTransportPolicy, Limits, TlsSetup, TurnConfig};

/// Signaling server for meshcall rooms (the matchbox protocol at /ws/<room>) that also serves the
/// built app. Every flag can also be set by the environment variable shown.
#[derive(Debug, Parser)]
#[command(name = "meshcall-server", version, about, long_about = None)]
struct Cli {
    /// Address to listen on.
    #[arg(long, env = "MESHCALL_ADDR", default_value = config::DEFAULT_ADDR)]
    addr: SocketAddr,

    /// Serve the app from this directory (Trunk's dist/) instead of the copy built into this
    /// binary, e.g. while working on the app. If it has no index.html, pages say the app is not
    /// built and signaling still works.
    #[arg(long, env = "MESHCALL_STATIC_DIR")]
    static_dir: Option<PathBuf>,

    /// A public origin of the app, or another page allowed to signal through this server, as
    /// scheme://host[:port], e.g. https://meet.example.com (repeatable; comma-separated in the
    /// variable; * allows any). Needed for every DNS name the app is served under (pages at an IP
    /// address or localhost need none). Requests without an Origin header (non-browser clients)
    /// may open WebSockets.
    #[arg(
        long = "allowed-origin",
        env = "MESHCALL_ALLOWED_ORIGINS",
        value_delimiter = ','
    )]
    allowed_origins: Vec<String>,

    /// A STUN or TURN URL handed to the app in /config.json, e.g. stun:stun.example.com:3478
    /// (repeatable; comma-separated in the variable). None by default: fine on one network.
    #[arg(
        long = "ice-server",
        env = "MESHCALL_ICE_SERVERS",
        value_delimiter = ','
    )]
    ice_servers: Vec<String>,

    /// A TURN URL whose credentials are made from --turn-secret, e.g. turn:turn.example.com:3478
    /// (repeatable; comma-separated in the variable).
    #[arg(
        long = "turn-url",
        env = "MESHCALL_TURN_URLS",
        value_delimiter = ',',
        requires = "turn_secret"
    )]
    turn_urls: Vec<String>,

    /// The TURN server's shared secret (coturn: use-auth-secret + static-auth-secret). Each page
    /// gets credentials valid for --turn-ttl-secs. Prefer the variable: flags show in `ps`.
    #[arg(
        long,
        env = "MESHCALL_TURN_SECRET",
        hide_env_values = true,
        requires = "turn_urls"
    )]
    turn_secret: Option<Secret>,

    /// Lifetime of the TURN credentials in seconds; a call relayed through TURN longer than this
    /// loses its relay (coturn ends the session when its credential expires).
    #[arg(long, env = "MESHCALL_TURN_TTL_SECS", default_value_t = limits::DEFAULT_TURN_TTL.as_secs())]
    turn_ttl_secs: u64,

    /// `relay`: every page sends all media through the TURN servers (--turn-url), never directly,
    /// so peers never learn each other's addresses; `all`: direct where possible (the default).
    #[arg(long, env = "MESHCALL_ICE_TRANSPORT_POLICY", value_enum, default_value_t = IceTransportPolicy::All)]
    ice_transport_policy: IceTransportPolicy,

    /// Each page's total upload in kbit/s, divided over the video it sends to each other person
    /// (audio first) as the room grows and shrinks. Default: the app's 2500.
    #[arg(long, env = "MESHCALL_UPLOAD_KBPS")]
    upload_kbps: Option<u32>,

    /// The largest file a page accepts from another person, in MB, which is also the most it lets
    /// arrive at once. Default: the app's 100.
    #[arg(long, env = "MESHCALL_MAX_FILE_MB")]
    max_file_mb: Option<u32>,

    /// PEM certificate chain: serve HTTPS and WSS (browsers allow cameras only on HTTPS or localhost).
    #[arg(
        long,
        env = "MESHCALL_TLS_CERT",
        requires = "tls_key",
        conflicts_with = "tls_self_signed"
    )]
    tls_cert: Option<PathBuf>,

    /// PEM private key for --tls-cert.
    #[arg(long, env = "MESHCALL_TLS_KEY", requires = "tls_cert")]
    tls_key: Option<PathBuf>,

    /// Serve HTTPS with a certificate made at start (for localhost, 127.0.0.1, ::1 and the listen
    /// address); its SHA-256 fingerprint is printed so you can check it in the browser.
    #[arg(long, env = "MESHCALL_TLS_SELF_SIGNED")]
    tls_self_signed: bool,

    /// Largest message a client may send, in bytes; larger closes its socket with 1009.
    #[arg(long, env = "MESHCALL_MAX_MESSAGE_BYTES", default_value_t = limits::DEFAULT_MAX_MESSAGE_BYTES)]
    max_message_bytes: usize,

    /// Peers per room; the next one is closed with 4001 ("room is full").
    #[arg(long, env = "MESHCALL_MAX_PEERS_PER_ROOM", default_value_t = limits::DEFAULT_MAX_PEERS_PER_ROOM)]
    max_peers_per_room: usize,

    /// WebSockets the whole server holds; the next one is closed with 4002.
    #[arg(long, env = "MESHCALL_MAX_CONNECTIONS", default_value_t = limits::DEFAULT_MAX_CONNECTIONS)]
    max_connections: usize,

    /// WebSockets one client address may hold (IPv6: per /64); the next is closed with 4002.
    #[arg(long, env = "MESHCALL_MAX_CONNECTIONS_PER_IP", default_value_t = limits::DEFAULT_MAX_CONNECTIONS_PER_IP)]
    max_connections_per_ip: usize,

    /// A reverse proxy whose X-Forwarded-For names the client, e.g. 127.0.0.1 for nginx on the
    /// same machine (repeatable; comma-separated in the variable). Without one, the TCP peer is
    /// the client and X-Forwarded-For is ignored, since anyone can write it.
    #[arg(
        long = "trusted-proxy",
        env = "MESHCALL_TRUSTED_PROXIES",
        value_delimiter = ','
    )]
    trusted_proxies: Vec<IpAddr>,

    /// /config.json requests one address may make at once; then --config-rate-per-min refill.
    #[arg(long, env = "MESHCALL_CONFIG_RATE_BURST", default_value_t = limits::DEFAULT_CONFIG_RATE_BURST)]
    config_rate_burst: u32,

    /// /config.json requests per minute per address once the burst is spent; more get HTTP 429.
    #[arg(long, env = "MESHCALL_CONFIG_RATE_PER_MIN", default_value_t = limits::DEFAULT_CONFIG_RATE_PER_MIN)]
    config_rate_per_min: u32,

    /// Messages a socket may send at once (token bucket size); running dry closes it with 4003.
    #[arg(long, env = "MESHCALL_RATE_BURST", default_value_t = limits::DEFAULT_RATE_BURST)]
    rate_burst: u32,

    /// Messages per second that refill the bucket.
    #[arg(long, env = "MESHCALL_RATE_PER_SEC", default_value_t = limits::DEFAULT_RATE_PER_SEC)]
    rate_per_sec: u32,

    /// Messages queued for one socket. Each other peer in the room may fill 1/--max-peers-per-room
    /// of it (more of its messages are dropped); a socket that leaves the rest unread is closed
    /// with 4004.
    #[arg(long, env = "MESHCALL_OUTBOUND_QUEUE", default_value_t = limits::DEFAULT_OUTBOUND_QUEUE)]
    outbound_queue: usize,

    /// How often the server pings each socket, in milliseconds.
    #[arg(long, env = "MESHCALL_PING_INTERVAL_MS", default_value_t = limits::DEFAULT_PING_INTERVAL.as_millis() as u64)]
    ping_interval_ms: u64,

    /// Silence after which a socket is closed with 4005, in milliseconds.
    #[arg(long, env = "MESHCALL_IDLE_TIMEOUT_MS", default_value_t = limits::DEFAULT_IDLE_TIMEOUT.as_millis() as u64)]
    idle_timeout_ms: u64,

    /// Join a cluster: nodes given the same Redis (e.g. redis://10.0.0.5:6379/0) share their rooms,
    /// so a load balancer may send anyone to any node. Without it this node is a server alone.
    #[arg(long, env = "MESHCALL_REDIS")]
    redis: Option<String>,

    /// Log lines as human-readable text or as one JSON object per line. Verbosity: RUST_LOG
    /// (default info: one line per join and leave, never signal contents).
    #[arg(long, env = "MESHCALL_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text)]
    log_format: LogFormat,
}

/// The TURN secret as the CLI holds it: `Debug` (and so any log of the parsed flags) never shows it.
#[derive(Clone)]
struct Secret(String);

impl std::str::FromStr for Secret {
    type Err = std::convert::Infallible;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(Secret(s.to_owned()))
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum LogFormat {
    Text,
    Json,
}

impl Cli {
    fn into_config(self) -> Result<Config, String> {
        let tls = if self.tls_self_signed {
            let mut names = vec![
                "localhost".to_owned(),
                "127.0.0.1".to_owned(),
                "::1".to_owned(),
            ];
            let ip = self.addr.ip();
            if !ip.is_unspecified() && !ip.is_loopback() {
                names.push(ip.to_string());
            }
            Some(TlsSetup::self_signed(names).map_err(|e| e.to_string())?)
        } else if let (Some(cert), Some(key)) = (&self.tls_cert, &self.tls_key) {
            Some(TlsSetup::from_pem_files(cert, key).map_err(|e| e.to_string())?)
        } else {
            None
        };
        let turn = self.turn_secret.map(|Secret(secret)| TurnConfig {
            urls: self.turn_urls,
            secret,
            ttl: Duration::from_secs(self.turn_ttl_secs),
        });
        Ok(Config {
            static_dir: self.static_dir,
            allowed_origins: self.allowed_origins,
            trusted_proxies: self.trusted_proxies,
            ice_servers: self.ice_servers,
            turn,
            ice_transport_policy: self.ice_transport_policy,
            upload_kbps: self.upload_kbps,
            max_file_mb: self.max_file_mb,
            tls: tls.map(Arc::new),
            limits: Limits {
                max_message_bytes: self.max_message_bytes,
                max_peers_per_room: self.max_peers_per_room,
                max_connections: self.max_connections,
                max_connections_per_ip: self.max_connections_per_ip,
                rate_burst: self.rate_burst,
                rate_per_sec: self.rate_per_sec,
                outbound_queue: self.outbound_queue,
                ping_interval: Duration::from_millis(self.ping_interval_ms),
                idle_timeout: Duration::from_millis(self.idle_timeout_ms),
                config_rate_burst: self.config_rate_burst,
                config_rate_per_min: self.config_rate_per_min,
            },
            redis: self.redis,
        })
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logs(cli.log_format);
    let addr = cli.addr;
    let config = match cli.into_config() {
        Ok(config) => config,
        Err(err) => {
            eprintln!("meshcall-server: {err}");
            return ExitCode::from(2);
        }
    };
    if let Err(err) = config.validate() {
        eprintln!("meshcall-server: {err}");
        return ExitCode::from(2);
    }
    let shutdown = match shutdown_signal() {
        Ok(shutdown) => shutdown,
        Err(err) => {
            eprintln!("meshcall-server: cannot install signal handlers: {err}");
            return ExitCode::FAILURE;
        }
    };
    let listener = match std::net::TcpListener::bind(addr) {
        Ok(listener) => listener,
        Err(err) => {
            eprintln!("meshcall-server: cannot listen on {addr}: {err}");
            return ExitCode::FAILURE;
        }
    };
    let local = listener.local_addr().unwrap_or(addr);
    let scheme = if config.tls.is_some() {
        "https"
    } else {
        "http"
    };
    if let Some(tls) = &config.tls {
        println!("TLS certificate SHA-256 fingerprint: {}", tls.fingerprint);
    }
    let app = match &config.static_dir {
        Some(dir) => dir.display().to_string(),
        None => "built into the binary".to_owned(),
    };
    let built = match &config.static_dir {
        Some(dir) => dir.join("index.html").exists(),
        None => meshcall_server::embedded::has_app(),
    };
    if !built {
        tracing::warn!(%app, "the app is not built: pages will say so (run `make run`)");
    }
    tracing::info!(%app, "listening on {scheme}://{local}");
    match meshcall_server::serve(listener, config, shutdown).await {
        Ok(()) => {
            tracing::info!("stopped");
            ExitCode::SUCCESS
        }
        Err(err) => {
            eprintln!("meshcall-server: {err}");
            ExitCode::FAILURE
        }
    }
}

fn init_logs(format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let logs = tracing_subscriber::fmt().with_env_filter(filter);
    match format {
        LogFormat::Text => logs
            .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stdout()))
            .init(),
        LogFormat::Json => logs.json().flatten_event(true).init(),
    }
}

/// Installs the Ctrl-C and SIGTERM handlers now (so a signal that comes before the first poll is
/// not fatal) and returns a future that resolves on either.
#[cfg(unix)]
fn shutdown_signal() -> std::io::Result<impl std::future::Future<Output = ()>> {
    use tokio::signal::unix::{signal, SignalKind};
    let mut interrupt = signal(SignalKind::interrupt())?;
    let mut terminate = signal(SignalKind::terminate())?;
    Ok(async move {
        tokio::select! {
            _ = interrupt.recv() => {}
            _ = terminate.recv() => {}
        }
    })
}

#[cfg(not(unix))]
fn shutdown_signal() -> std::io::Result<impl std::future::Future<Output = ()>> {
    Ok(async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn cli_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn defaults_and_flags() {
        let cli = Cli::try_parse_from(["meshcall-server"]).unwrap();
        assert_eq!(cli.addr.to_string(), "127.0.0.1:8080");
        let config = cli.into_config().unwrap();
        assert_eq!(config.limits.max_peers_per_room, 12);
        assert_eq!(config.limits.max_message_bytes, 65536);
        assert_eq!(config.static_dir, None, "the embedded app by default");

        let cli = Cli::try_parse_from([
            "meshcall-server",
            "--ice-server",
            "stun:a:1",
            "--ice-server",
            "stun:b:2",
            "--turn-url",
            "turn:t:3478",
            "--turn-secret",
            "s",
            "--idle-timeout-ms",
            "500",
        ])
        .unwrap();
        let config = cli.into_config().unwrap();
        assert_eq!(config.ice_servers, ["stun:a:1", "stun:b:2"]);
        assert_eq!(config.turn.unwrap().urls, ["turn:t:3478"]);
        assert_eq!(config.limits.idle_timeout, Duration::from_millis(500));

        assert!(Cli::try_parse_from(["meshcall-server", "--turn-secret", "s"]).is_err());
        let cli = Cli::try_parse_from([
            "meshcall-server",
            "--trusted-proxy",
            "127.0.0.1",
            "--trusted-proxy",
            "::1",
            "--max-connections-per-ip",
            "7",
        ])
        .unwrap();
        let config = cli.into_config().unwrap();
        assert_eq!(config.trusted_proxies.len(), 2);
        assert_eq!(config.limits.max_connections_per_ip, 7);
        assert!(Cli::try_parse_from(["meshcall-server", "--trusted-proxy", "proxy.lan"]).is_err());
        assert!(Cli::try_parse_from(["meshcall-server", "--tls-cert", "c"]).is_err());
    }

    #[test]
    fn debug_never_prints_the_turn_secret() {
        let cli = Cli::try_parse_from([
            "meshcall-server",
            "--turn-url",
            "turn:t:3478",
            "--turn-secret",
            "north-wind-42",
        ])
        .unwrap();
        let shown = format!("{cli:?}");
        assert!(shown.contains("turn:t:3478"), "{shown}");
        assert!(!shown.contains("north-wind-42"), "{shown}");
        let config = cli.into_config().unwrap();
        assert!(!format!("{config:?}").contains("north-wind-42"));
        assert_eq!(config.turn.unwrap().secret, "north-wind-42");
    }
}
