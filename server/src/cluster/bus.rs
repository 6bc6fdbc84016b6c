//! The subscriber: one Redis pub/sub connection per node, subscribed to the channel of every room
//! with a local member, delivering each event to the local sockets in the channel's order.

use std::collections::HashSet;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt;
use meshcall_protocol::ServerMessage;
use redis::aio::PubSubSink;
use tokio::time::timeout;

use super::{lock, lua, Event, Inner, REDIS_TIMEOUT};

/// The subscription connection and the rooms it is subscribed to. Behind an async mutex so that
/// deciding and (un)subscribing are one step: a join and the last leave of a room cannot cross.
#[derive(Default)]
pub(super) struct Subs {
    sink: Option<PubSubSink>,
    rooms: HashSet<String>,
}

#[derive(Debug, thiserror::Error)]
pub(super) enum SubscribeError {
    #[error("no connection to Redis")]
    Disconnected,
    #[error("Redis did not answer")]
    Timeout,
    #[error(transparent)]
    Redis(#[from] redis::RedisError),
}

/// Subscribing to this many channels at once on (re)connection.
const RESUBSCRIBE_BATCH: usize = 500;
const MAX_BACKOFF: Duration = Duration::from_secs(2);

impl Inner {
    /// Subscribes to `room`'s channel unless already; returns once Redis confirmed it.
    pub(super) async fn subscribe(&self, room: &str) -> Result<(), SubscribeError> {
        let mut subs = self.subs.lock().await;
        if subs.rooms.contains(room) {
            return Ok(());
        }
        let sink = subs.sink.as_mut().ok_or(SubscribeError::Disconnected)?;
        timeout(REDIS_TIMEOUT, sink.subscribe(lua::channel(room)))
            .await
            .map_err(|_| SubscribeError::Timeout)??;
        subs.rooms.insert(room.to_owned());
        Ok(())
    }

    pub(super) async fn unsubscribe_if_empty(&self, room: &str) {
        let mut subs = self.subs.lock().await;
        if lock(&self.members).contains_key(room) || !subs.rooms.remove(room) {
            return;
        }
        if let Some(sink) = subs.sink.as_mut() {
            let _ = timeout(REDIS_TIMEOUT, sink.unsubscribe(lua::channel(room))).await;
        }
    }

    /// One event of `room`'s channel, delivered to this node's sockets.
    fn dispatch(&self, channel: &str, payload: &[u8]) {
        let Some(room) = channel.strip_prefix(lua::CHANNEL_PREFIX) else {
            return;
        };
        let event = match serde_json::from_slice::<Event>(payload) {
            Ok(event) => event,
            Err(err) => {
                tracing::warn!(%channel, %err, "cluster: unreadable event ignored");
                return;
            }
        };
        match event {
            Event::Joined { peer, node } if node == self.node => {
                let pending = {
                    let mut pending = lock(&self.pending);
                    match pending.get(&peer) {
                        Some(p) if p.room == room => pending.remove(&peer),
                        _ => None,
                    }
                };
                // Not pending: put back after Redis lost it; the local room knows it already.
                if let Some(p) = pending {
                    // The cap was checked in Redis: here it only may not refuse.
                    if self.rooms.join(room, &peer, p.handle, usize::MAX).is_ok() {
                        let _ = p.active.send(());
                    }
                }
            }
            Event::Joined { peer, .. } => {
                self.rooms.broadcast(room, &ServerMessage::NewPeer(peer));
            }
            // Our own leaves were told to the local room when they happened.
            Event::Left { node, .. } if node == self.node => {}
            Event::Left { peer, .. } => {
                self.rooms.broadcast(room, &ServerMessage::PeerLeft(peer));
            }
            Event::Signal {
                sender,
                node,
                receiver,
                data,
            } => {
                // A local sender that has left since: its room already heard PeerLeft.
                if node == self.node && !self.rooms.has(room, &sender) {
                    return;
                }
                // Stamped with the sender, so its share of the receiver's queue applies here too.
                self.rooms.relay(
                    room,
                    &std::sync::Arc::from(sender.as_str()),
                    &receiver,
                    data,
                );
            }
        }
    }
}

/// Keeps the node subscribed: connects, subscribes to every room with a local member, delivers
/// events; on a lost connection marks the node unavailable and starts over with a backoff.
pub(super) async fn run(inner: Arc<Inner>) {
    let mut backoff = Duration::from_millis(100);
    while !inner.stop.is_cancelled() {
        if let Ok(Ok(pubsub)) = timeout(REDIS_TIMEOUT, inner.client.get_async_pubsub()).await {
            let (sink, mut stream) = pubsub.split();
            if resubscribe(&inner, sink).await {
                backoff = Duration::from_millis(100);
                inner.subscribed.store(true, Ordering::Relaxed);
                // Events may have been missed while away: let the next beat check the members.
                inner.dirty.store(true, Ordering::Relaxed);
                tracing::info!("cluster: subscribed to Redis");
                loop {
                    tokio::select! {
                        _ = inner.stop.cancelled() => return,
                        msg = stream.next() => match msg {
                            Some(msg) => inner.dispatch(msg.get_channel_name(), msg.get_payload_bytes()),
                            None => break,
                        },
                    }
                }
                inner.subscribed.store(false, Ordering::Relaxed);
                tracing::warn!("cluster: lost the Redis subscription; reconnecting");
            }
            *inner.subs.lock().await = Subs::default();
        }
        tokio::select! {
            _ = inner.stop.cancelled() => return,
            _ = tokio::time::sleep(backoff) => {}
        }
        backoff = (backoff * 2).min(MAX_BACKOFF);
    }
}

/// Subscribes a fresh connection to every room with a local member and makes it the node's.
async fn resubscribe(inner: &Inner, mut sink: PubSubSink) -> bool {
    let mut subs = inner.subs.lock().await;
    let rooms: Vec<String> = lock(&inner.members).keys().cloned().collect();
    for batch in rooms.chunks(RESUBSCRIBE_BATCH) {
        let channels: Vec<String> = batch.iter().map(|r| lua::channel(r)).collect();
        match timeout(REDIS_TIMEOUT, sink.subscribe(channels)).await {
            Ok(Ok(())) => {}
            _ => return false,
        }
    }
    *subs = Subs {
        sink: Some(sink),
        rooms: rooms.into_iter().collect(),
    };
    true
}
