//! meshcall-server: the signaling server rooms meet through (the matchbox protocol at `/ws/<room>`),
//! which also serves the built app. It relays signals and never reads them.
//!
//! [`serve`] runs it on a listener until a shutdown future resolves; [`build_app`] is the router
//! alone, for tests that need no network.

pub mod client_ip;
pub mod cluster;
pub mod config;
pub mod embedded;
pub mod limits;
pub mod origin;
pub mod rate;
pub mod rooms;
pub mod socket;
pub mod tls;
pub mod turn;
pub mod web;

use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::ops::Deref;
use std::sync::Arc;
use std::time::{Instant, SystemTime};

use axum::extract::ws::{rejection::WebSocketUpgradeRejection, WebSocketUpgrade};
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use meshcall_protocol::is_valid_room_name;
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::client_ip::{ClientIp, PerIp};
use crate::socket::Admission;

pub use config::{Config, ConfigError, IceTransportPolicy, Limits, TurnConfig};
pub use tls::TlsSetup;

/// Where the WebSocket lives; the room name is the segment after it.
pub const WS_PATH: &str = "/ws/";

/// What every handler and socket shares.
#[derive(Clone)]
pub struct AppState(Arc<Shared>);

pub struct Shared {
    pub config: Config,
    pub rooms: Arc<rooms::Rooms>,
    /// This node's cluster (`--redis`); `None` for one node alone.
    pub cluster: Option<cluster::Cluster>,
    /// One permit per open WebSocket.
    pub connections: Arc<Semaphore>,
    /// Open WebSockets per client address.
    pub per_ip: PerIp,
    /// `/config.json` requests per client address.
    pub config_rate: rate::PerKey<Option<IpAddr>>,
    /// The pages that may use us.
    pub origins: origin::Origins,
    /// Cancelled on shutdown: every socket closes with 1001.
    pub shutdown: CancellationToken,
    /// The socket tasks, so shutdown can wait for their close frames.
    pub tracker: TaskTracker,
}

impl Deref for AppState {
    type Target = Shared;
    fn deref(&self) -> &Shared {
        &self.0
    }
}

impl AppState {
    /// With `config.redis`, spawns the cluster's tasks on the current tokio runtime.
    pub fn new(config: Config) -> Self {
        let connections = Arc::new(Semaphore::new(config.limits.max_connections));
        let limits = &config.limits;
        let config_rate = rate::PerKey::new(
            limits.config_rate_burst,
            limits.config_rate_per_min,
            limits::MAX_TRACKED_ADDRESSES,
        );
        let origins = origin::Origins::new(&config.allowed_origins, config.tls.is_some());
        let rooms = Arc::new(rooms::Rooms::default());
        let cluster = config.redis.as_deref().and_then(|url| {
            cluster::Cluster::start(url, rooms.clone())
                .map_err(|err| tracing::error!(%err, "cluster: cannot start; serving alone"))
                .ok()
        });
        AppState(Arc::new(Shared {
            config,
            rooms,
            cluster,
            connections,
            per_ip: PerIp::default(),
            config_rate,
            origins,
            shutdown: CancellationToken::new(),
            tracker: TaskTracker::new(),
        }))
    }

    /// A place for one more socket from `ip`, if the server and the address have one.
    pub fn admit(&self, ip: ClientIp) -> Admission {
        let max = self.config.limits.max_connections_per_ip;
        let Some(slot) = self.per_ip.try_acquire(ip, max) else {
            return Admission::AddressFull { max };
        };
        match self.connections.clone().try_acquire_owned() {
            Ok(permit) => Admission::Admitted(permit, slot),
            Err(_) => Admission::ServerFull,
        }
    }
}

/// Every route: `/ws/<room>`, `/healthz`, `/config.json`, and the app.
pub fn build_app(state: AppState) -> Router {
    let api = Router::new()
        .route("/ws", get(missing_room))
        .route("/ws/", get(missing_room))
        .route("/ws/{*room}", get(websocket))
        .route("/healthz", get(healthz))
        .route("/config.json", get(client_config))
        .with_state(state.clone());
    api.merge(web::router(state.config.static_dir.clone()))
}

async fn missing_room() -> Response {
    (
        StatusCode::BAD_REQUEST,
        "The WebSocket URL needs a room: /ws/<room>.\n",
    )
        .into_response()
}

async fn websocket(
    State(state): State<AppState>,
    Path(room): Path<String>,
    ip: ClientIp,
    headers: HeaderMap,
    upgrade: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
) -> Response {
    if !is_valid_room_name(&room) {
        let msg = "Room names are 1 to 64 characters of A-Z, a-z, 0-9, _ and -.\n";
        return (StatusCode::BAD_REQUEST, msg).into_response();
    }
    if !state.origins.websocket(&headers) {
        let origin = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok());
        let room = state.rooms.log_tag(&room);
        tracing::info!(%room, origin = origin.unwrap_or(""), "refused: foreign origin");
        return (
            StatusCode::FORBIDDEN,
            "This origin may not use this server.\n",
        )
            .into_response();
    }
    let upgrade = match upgrade {
        Ok(upgrade) => upgrade,
        Err(rejection) => return rejection.into_response(),
    };
    // Taken before the upgrade so no count overshoots; without a place the socket is told why.
    let admission = state.admit(ip);
    let max = state.config.limits.max_message_bytes;
    upgrade
        .max_message_size(max)
        .max_frame_size(max)
        // Signaling messages are small: a 4 KiB read buffer (tungstenite's default is 128 KiB per
        // socket) grows only for the rare big one.
        .read_buffer_size(limits::READ_BUFFER_BYTES)
        .on_upgrade(move |ws| {
            let tracker = state.tracker.clone();
            tracker.track_future(socket::run(ws, state, room, admission))
        })
}

async fn healthz(State(state): State<AppState>) -> Response {
    let stats = state.rooms.stats();
    let open = state.config.limits.max_connections - state.connections.available_permits();
    let mut body = serde_json::json!({"status": "ok", "rooms": stats.rooms, "peers": stats.peers, "connections": open});
    let mut status = StatusCode::OK;
    if let Some(cluster) = &state.cluster {
        body["cluster"] = cluster.health();
        if !cluster.is_up() {
            // A load balancer takes the node out until it reaches Redis again.
            body["status"] = "degraded: Redis unavailable".into();
            status = StatusCode::SERVICE_UNAVAILABLE;
        }
    }
    let headers = [(header::CACHE_CONTROL, "no-store")];
    (status, headers, Json(body)).into_response()
}

/// The app's configuration, with TURN credentials: only for our own page (see
/// [`origin::Origins::page_fetch`]) and a few times a minute per address, so that neither another
/// site's page nor a script in a loop can mint them in bulk.
async fn client_config(
    State(state): State<AppState>,
    ip: ClientIp,
    headers: HeaderMap,
) -> Response {
    if let Err(why) = state.origins.page_fetch(&headers) {
        tracing::info!("refused /config.json: not our page");
        return (
            StatusCode::FORBIDDEN,
            [(header::CACHE_CONTROL, "no-store")],
            why,
        )
            .into_response();
    }
    if !state.config_rate.take(ip.0, Instant::now()) {
        let limits = &state.config.limits;
        let wait = 60 / limits.config_rate_per_min.max(1) + 1;
        let msg = format!(
            "Too many requests for the configuration from your address ({} a minute). Wait a minute.\n",
            limits.config_rate_per_min
        );
        let headers = [
            (header::RETRY_AFTER, wait.to_string()),
            (header::CACHE_CONTROL, "no-store".to_owned()),
        ];
        return (StatusCode::TOO_MANY_REQUESTS, headers, msg).into_response();
    }
    let body = turn::client_config(&state.config, SystemTime::now());
    // Fresh TURN credentials per page: never cache.
    ([(header::CACHE_CONTROL, "no-store")], Json(body)).into_response()
}

#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error("server I/O: {0}")]
    Io(#[from] std::io::Error),
}

/// Serves on `listener` (HTTPS if `config.tls` is set) until `shutdown` resolves; then closes every
/// socket with 1001, lets requests finish within [`limits::SHUTDOWN_GRACE`] and returns.
pub async fn serve(
    listener: std::net::TcpListener,
    config: Config,
    shutdown: impl Future<Output = ()> + Send,
) -> Result<(), ServeError> {
    config.validate()?;
    let state = AppState::new(config);
    if let Some(cluster) = &state.cluster {
        if !cluster.ready(cluster::JOIN_TIMEOUT).await {
            tracing::warn!(
                "cluster: Redis unavailable at start; serving, refusing joins until it answers"
            );
        }
    }
    // The peer address feeds the per-address limits (`client_ip`).
    let app = build_app(state.clone()).into_make_service_with_connect_info::<SocketAddr>();
    let handle = axum_server::Handle::new();
    // TCP_NODELAY: signaling is many small messages that must not wait for Nagle.
    let nodelay = axum_server::accept::NoDelayAcceptor::new();
    let server = axum_server::from_tcp(listener)?
        .handle(handle.clone())
        .first_request_timeout(limits::FIRST_REQUEST_TIMEOUT);
    let server = match state.config.tls.clone() {
        None => tokio::spawn(server.acceptor(nodelay).serve(app)),
        Some(tls) => {
            let rustls =
                axum_server::tls_rustls::RustlsConfig::from_config(tls.server_config.clone());
            let acceptor = axum_server::tls_rustls::RustlsAcceptor::new(rustls).acceptor(nodelay);
            tokio::spawn(server.acceptor(acceptor).serve(app))
        }
    };
    tokio::pin!(server);
    tokio::select! {
        result = &mut server => return joined(result),
        () = shutdown => {}
    }
    if let Some(cluster) = &state.cluster {
        cluster.hand_over().await;
    }
    tracing::info!("shutting down: closing sockets with 1001");
    state.shutdown.cancel();
    state.tracker.close();
    handle.graceful_shutdown(Some(limits::SHUTDOWN_GRACE));
    let _ = tokio::time::timeout(limits::SHUTDOWN_GRACE, state.tracker.wait()).await;
    if let Some(cluster) = &state.cluster {
        cluster.stop();
    }
    joined(server.await)
}

fn joined(result: Result<std::io::Result<()>, tokio::task::JoinError>) -> Result<(), ServeError> {
    match result {
        Ok(result) => Ok(result?),
        Err(join) => Err(std::io::Error::other(join).into()),
    }
}
