//! Several meshcall-server nodes behaving as one server, through Redis (`--redis`).
//!
//! Each room is one Redis channel that carries its membership changes and signals, published by
//! whichever node holds the peer and delivered by every node holding a member to its own sockets
//! (through the local [`Rooms`] table). Redis orders a channel, so every node sees one order: the
//! single node's promises hold across nodes (`IdAssigned` first, `NewPeer` before that peer's
//! signals, `PeerLeft` after them). Membership lives in Redis hashes changed by Lua scripts
//! ([`lua`]), which makes the room cap one atomic check however many nodes join at once.
//!
//! A node beats every [`BEAT_EVERY`]; one that stops (killed, cut off) has its peers announced as
//! left by the others within [`LEFT_WITHIN`]. When Redis is unreachable the node says so
//! (`/healthz` answers 503), keeps its sockets, refuses new joins with 1013, and when Redis
//! returns it subscribes again and puts its members back ([`lua::reconcile`]), without a restart.
//! On SIGTERM a node hands over ([`Cluster::hand_over`]): its members leave Redis unannounced and
//! its sockets close with 1001, so the clients come back through other nodes and rebind their calls
//! while nobody sees them leave.

mod bus;
mod lua;
mod presence;

use std::collections::HashMap;
use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use meshcall_protocol::PeerId;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use serde_json::Value;
use tokio::sync::{mpsc, oneshot};
use tokio::time::timeout;
use tokio_util::sync::CancellationToken;

use crate::rooms::{JoinError, PeerHandle, Relay, Rooms};
use crate::AppState;

/// How long a node's presence lasts without a beat...
pub const PRESENCE_TTL: Duration = Duration::from_secs(5);
/// ...how often it beats...
pub const BEAT_EVERY: Duration = Duration::from_secs(1);
/// ...and how often every node looks for nodes whose presence expired.
pub const SWEEP_EVERY: Duration = Duration::from_secs(1);
/// The peers of a node that dies without a goodbye are announced as `PeerLeft` this long after its
/// last beat at the latest (plus delivery).
pub const LEFT_WITHIN: Duration = PRESENCE_TTL.saturating_add(SWEEP_EVERY);

/// Longest a single Redis command may take before the node counts Redis as unreachable.
pub const REDIS_TIMEOUT: Duration = Duration::from_secs(2);
/// Longest a join waits for its own announcement to come back through Redis.
pub const JOIN_TIMEOUT: Duration = Duration::from_secs(5);
/// Signals and leaves waiting to be published; beyond this, signals are dropped.
const PUBLISH_QUEUE: usize = 65_536;

/// What travels on a room's channel.
#[derive(Debug, serde::Serialize, serde::Deserialize)]
enum Event {
    Joined {
        peer: PeerId,
        node: String,
    },
    Left {
        peer: PeerId,
        node: String,
    },
    Signal {
        sender: PeerId,
        node: String,
        receiver: PeerId,
        data: Value,
    },
}

enum Outgoing {
    Signal { room: String, event: String },
    Leave { room: String, peer: PeerId },
}

/// A local peer whose join is in Redis but whose own `Joined` has not come back yet: it gets
/// nothing of the room before that, so it never hears of peers that were there before it.
struct Pending {
    room: String,
    handle: PeerHandle,
    active: oneshot::Sender<()>,
}

#[derive(Debug, thiserror::Error)]
pub enum ClusterError {
    #[error("--redis {0}")]
    Url(redis::RedisError),
}

/// This node's membership in a cluster. Cheap to clone.
#[derive(Clone)]
pub struct Cluster(Arc<Inner>);

struct Inner {
    node: String,
    client: redis::Client,
    conn: ConnectionManager,
    rooms: Arc<Rooms>,
    pending: Mutex<HashMap<PeerId, Pending>>,
    /// Local peers (joining or joined) per room: the rooms this node must be subscribed to.
    members: Mutex<HashMap<String, usize>>,
    subs: tokio::sync::Mutex<bus::Subs>,
    outgoing: mpsc::Sender<Outgoing>,
    scripts: Scripts,
    subscribed: AtomicBool,
    beating: AtomicBool,
    /// Set when something may have been lost in Redis: the next good beat reconciles.
    dirty: AtomicBool,
    /// Shutting down gracefully: leaves are not announced, the beat has stopped.
    handing_over: AtomicBool,
    stop: CancellationToken,
}

struct Scripts {
    join: redis::Script,
    reap: redis::Script,
    reconcile: redis::Script,
    hand_over: redis::Script,
}

/// Checks a `--redis` URL without connecting.
pub fn check_url(url: &str) -> Result<(), ClusterError> {
    redis::Client::open(url)
        .map(drop)
        .map_err(ClusterError::Url)
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // Every update under these locks is a single insert or remove: a poisoned lock is consistent.
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Cluster {
    /// Joins the cluster at `url`: spawns the subscriber, the beat and the publisher (on the current
    /// tokio runtime), which run until [`Cluster::stop`]. Never waits for Redis: see [`Cluster::ready`].
    pub fn start(url: &str, rooms: Arc<Rooms>) -> Result<Self, ClusterError> {
        let client = redis::Client::open(url).map_err(ClusterError::Url)?;
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(REDIS_TIMEOUT))
            .set_response_timeout(Some(REDIS_TIMEOUT))
            .set_number_of_retries(1)
            .set_max_delay(Duration::from_millis(500));
        let conn = ConnectionManager::new_lazy_with_config(client.clone(), config)
            .map_err(ClusterError::Url)?;
        let (outgoing, queue) = mpsc::channel(PUBLISH_QUEUE);
        let inner = Arc::new(Inner {
            node: uuid::Uuid::new_v4().to_string(),
            client,
            conn,
            rooms,
            pending: Mutex::default(),
            members: Mutex::default(),
            subs: tokio::sync::Mutex::default(),
            outgoing,
            scripts: Scripts {
                join: lua::join(),
                reap: lua::reap(),
                reconcile: lua::reconcile(),
                hand_over: lua::hand_over(),
            },
            subscribed: AtomicBool::new(false),
            beating: AtomicBool::new(false),
            dirty: AtomicBool::new(false),
            handing_over: AtomicBool::new(false),
            stop: CancellationToken::new(),
        });
        tracing::info!(node = %inner.node, "cluster: joining through Redis");
        tokio::spawn(bus::run(inner.clone()));
        tokio::spawn(presence::run(inner.clone()));
        tokio::spawn(presence::publish(inner.clone(), queue));
        Ok(Cluster(inner))
    }

    /// This node's id in the cluster.
    pub fn node(&self) -> &str {
        &self.0.node
    }

    /// Whether this node reaches Redis: beating, subscribed, and its members known to be in Redis
    /// (false from a lost connection until the next beat has reconciled).
    pub fn is_up(&self) -> bool {
        let inner = &self.0;
        inner.beating.load(Ordering::Relaxed)
            && inner.subscribed.load(Ordering::Relaxed)
            && !inner.dirty.load(Ordering::Relaxed)
    }

    /// Waits up to `wait` for the node to reach Redis; `false` if it has not.
    pub async fn ready(&self, wait: Duration) -> bool {
        let deadline = tokio::time::Instant::now() + wait;
        while !self.is_up() {
            if tokio::time::Instant::now() >= deadline {
                return false;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        true
    }

    /// For `/healthz`.
    pub fn health(&self) -> Value {
        serde_json::json!({
            "node": self.0.node,
            "redis": if self.is_up() { "up" } else { "unavailable" },
        })
    }

    /// The graceful shutdown's first step, before the sockets close: takes this node's members out
    /// of Redis without a `PeerLeft` to anyone, so their clients can reconnect through another node
    /// and rebind their calls unseen. Their leaves are then not announced, here or elsewhere.
    pub async fn hand_over(&self) {
        let inner = &self.0;
        inner.handing_over.store(true, Ordering::Relaxed);
        let invocation = &inner.scripts.hand_over.arg(&inner.node);
        let handed = inner
            .call(|mut conn| async move { invocation.invoke_async::<i64>(&mut conn).await })
            .await;
        match handed {
            Ok(peers) => tracing::info!(peers, "cluster: handed over; closing sockets"),
            // Redis away: the others' sweep announces them as left instead.
            _ => tracing::warn!(
                "cluster: could not hand over; the others will see these peers leave"
            ),
        }
    }

    /// Stops the background tasks once what is queued is published (after the sockets left).
    pub fn stop(&self) {
        self.0.stop.cancel();
    }

    fn relay(&self, room: &str, sender: &Arc<str>, receiver: &str, data: Value) -> Relay {
        let event = Event::Signal {
            sender: sender.to_string(),
            node: self.0.node.clone(),
            receiver: receiver.to_owned(),
            data,
        };
        let event = serde_json::to_string(&event).unwrap_or_default();
        let room = room.to_owned();
        if self
            .0
            .outgoing
            .try_send(Outgoing::Signal { room, event })
            .is_err()
        {
            tracing::debug!("cluster: publish queue full, signal dropped");
        }
        Relay::Forwarded
    }

    /// The local room hears of it at once; the others after the peer's last signals.
    fn leave(&self, room: &str, id: &PeerId) -> usize {
        if self.0.handing_over.load(Ordering::Relaxed) {
            // Everyone here is closing too, and the others must not see it: tell no one.
            self.forget(room);
            return 0;
        }
        let remaining = self.0.rooms.leave(room, id);
        self.0.publish_leave(room, id);
        self.forget(room);
        remaining
    }

    fn forget(&self, room: &str) {
        self.0.forget(room);
    }
}

impl Inner {
    /// One local member of `room` fewer; the last one unsubscribes the node.
    fn forget(self: &Arc<Self>, room: &str) {
        let mut members = lock(&self.members);
        let Some(count) = members.get_mut(room) else {
            return;
        };
        *count -= 1;
        if *count == 0 {
            members.remove(room);
            let inner = self.clone();
            let room = room.to_owned();
            tokio::spawn(async move { inner.unsubscribe_if_empty(&room).await });
        }
    }

    /// Admits `id` to `room` if the cluster-wide cap allows: subscribed first, so nothing of the
    /// room is missed; answered once its own `Joined` came back through Redis.
    async fn join(
        self: &Arc<Self>,
        room: &str,
        id: &PeerId,
        handle: PeerHandle,
        max: usize,
    ) -> Result<usize, JoinError> {
        *lock(&self.members).entry(room.to_owned()).or_default() += 1;
        let joined = self.enter(room, id, handle, max).await;
        if joined.is_err() {
            self.forget(room);
        }
        joined
    }

    async fn enter(
        &self,
        room: &str,
        id: &PeerId,
        handle: PeerHandle,
        max: usize,
    ) -> Result<usize, JoinError> {
        if let Err(err) = self.subscribe(room).await {
            tracing::warn!(room = %self.rooms.log_tag(room), %err, "cluster: cannot subscribe to the room");
            return Err(JoinError::ClusterUnavailable);
        }
        let (active, activated) = oneshot::channel();
        let pending = Pending {
            room: room.to_owned(),
            handle,
            active,
        };
        lock(&self.pending).insert(id.clone(), pending);
        let mut invocation = self.scripts.join.prepare_invoke();
        invocation
            .key(lua::room_key(room))
            .key(lua::peers_key(&self.node))
            .key(lua::alive_key(&self.node))
            .arg(id)
            .arg(&self.node)
            .arg(max)
            .arg(room)
            .arg(PRESENCE_TTL.as_millis() as u64);
        let invocation = &invocation;
        let count = self
            .call(|mut conn| async move { invocation.invoke_async::<i64>(&mut conn).await })
            .await;
        let failure = match count {
            Ok(-1) => {
                lock(&self.pending).remove(id);
                return Err(JoinError::RoomFull { max });
            }
            Ok(count) => match timeout(JOIN_TIMEOUT, activated).await {
                Ok(Ok(())) => return Ok(usize::try_from(count).unwrap_or(0)),
                _ => "its announcement did not come back".to_owned(),
            },
            Err(err) => err.to_string(),
        };
        tracing::warn!(room = %self.rooms.log_tag(room), peer = %id, %failure, "cluster: join failed");
        // It may be in Redis (or even activated just now): take it out everywhere.
        if lock(&self.pending).remove(id).is_none() {
            self.rooms.leave(room, id);
        }
        self.publish_leave(room, id);
        Err(JoinError::ClusterUnavailable)
    }

    /// Queues `id`'s leave behind its signals; the others hear `PeerLeft` once it is published.
    fn publish_leave(&self, room: &str, id: &PeerId) {
        let leave = Outgoing::Leave {
            room: room.to_owned(),
            peer: id.clone(),
        };
        if self.outgoing.try_send(leave).is_err() {
            // Reconciling removes it from Redis (and tells the others) once there is room.
            self.dirty.store(true, Ordering::Relaxed);
        }
    }

    /// Runs `op` on the node's connection within [`REDIS_TIMEOUT`], and once more if the connection
    /// had dropped: after a Redis restart the first command finds the old connection broken (and
    /// was not executed); the connection manager has reconnected for the second.
    async fn call<T, F, Fut>(&self, op: F) -> redis::RedisResult<T>
    where
        F: Fn(ConnectionManager) -> Fut,
        Fut: Future<Output = redis::RedisResult<T>>,
    {
        let mut retried = false;
        loop {
            match timeout(REDIS_TIMEOUT, op(self.conn.clone())).await {
                Ok(Err(err)) if !retried && err.is_connection_dropped() => retried = true,
                Ok(result) => return result,
                Err(_) => {
                    let timed_out = std::io::Error::new(
                        std::io::ErrorKind::TimedOut,
                        "Redis did not answer in time",
                    );
                    return Err(timed_out.into());
                }
            }
        }
    }
}

/// The calls `socket.rs` makes: one node alone, or this node of a cluster.
impl AppState {
    pub async fn join_room(
        &self,
        room: &str,
        id: &PeerId,
        handle: PeerHandle,
        max: usize,
    ) -> Result<usize, JoinError> {
        match &self.cluster {
            None => self.rooms.join(room, id, handle, max),
            Some(cluster) => cluster.0.join(room, id, handle, max).await,
        }
    }

    pub fn relay(&self, room: &str, sender: &Arc<str>, receiver: &str, data: Value) -> Relay {
        match &self.cluster {
            None => self.rooms.relay(room, sender, receiver, data),
            Some(cluster) => cluster.relay(room, sender, receiver, data),
        }
    }

    /// Returns the peers left in the room on this node.
    pub fn leave_room(&self, room: &str, id: &PeerId) -> usize {
        match &self.cluster {
            None => self.rooms.leave(room, id),
            Some(cluster) => cluster.leave(room, id),
        }
    }
}
