//! `meshcall-server`: flags (each also read from a `MESHCALL_*` variable) into a [`Config`], logs,
//! TLS, signals. Everything else lives in the library.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use clap::Parser;
use meshcall_server::{config, limits, Config, Limits, TlsSetup, TurnConfig};

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

    /// An origin allowed to open WebSockets besides the server's own host, e.g.
    /// https://meet.example.com (repeatable; comma-separated in the variable; * allows any).
    /// Requests without an Origin header (non-browser clients) are always allowed.
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
    turn_secret: Option<String>,

    /// Lifetime of the TURN credentials in seconds.
    #[arg(long, env = "MESHCALL_TURN_TTL_SECS", default_value_t = limits::DEFAULT_TURN_TTL.as_secs())]
    turn_ttl_secs: u64,

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

    /// Messages a socket may send at once (token bucket size); running dry closes it with 4003.
    #[arg(long, env = "MESHCALL_RATE_BURST", default_value_t = limits::DEFAULT_RATE_BURST)]
    rate_burst: u32,

    /// Messages per second that refill the bucket.
    #[arg(long, env = "MESHCALL_RATE_PER_SEC", default_value_t = limits::DEFAULT_RATE_PER_SEC)]
    rate_per_sec: u32,

    /// Messages queued for one socket; a reader that falls this far behind is closed with 4004.
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
        let turn = self.turn_secret.map(|secret| TurnConfig {
            urls: self.turn_urls,
            secret,
            ttl: Duration::from_secs(self.turn_ttl_secs),
        });
        Ok(Config {
            static_dir: self.static_dir,
            allowed_origins: self.allowed_origins,
            ice_servers: self.ice_servers,
            turn,
            tls: tls.map(Arc::new),
            limits: Limits {
                max_message_bytes: self.max_message_bytes,
                max_peers_per_room: self.max_peers_per_room,
                max_connections: self.max_connections,
                rate_burst: self.rate_burst,
                rate_per_sec: self.rate_per_sec,
                outbound_queue: self.outbound_queue,
                ping_interval: Duration::from_millis(self.ping_interval_ms),
                idle_timeout: Duration::from_millis(self.idle_timeout_ms),
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
        assert!(Cli::try_parse_from(["meshcall-server", "--tls-cert", "c"]).is_err());
    }
}
