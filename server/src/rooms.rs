//! The room table: who is in which room and how to reach them. One `std` mutex, held only for
//! map updates and non-blocking `try_send`s, never across an `.await`; so a slow or flooding peer
//! can never make another peer's relay wait. Each sender has a share of each receiver's queue, so
//! whoever floods loses its own messages, never the receiver its socket.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::extract::ws::Utf8Bytes;
use meshcall_protocol::{PeerId, ServerMessage};
use serde_json::Value;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

/// One message waiting for a socket, and whose share of the queue it takes: the peer that sent it,
/// or `None` for the server's own (`IdAssigned`, `NewPeer`, `PeerLeft`).
#[derive(Debug)]
pub struct Outbound {
    pub text: Utf8Bytes,
    pub from: Option<Arc<str>>,
}

/// How the room table reaches one peer's socket task.
#[derive(Clone)]
pub struct PeerHandle {
    /// Serialized messages for the socket...
    pub tx: mpsc::Sender<Outbound>,
    /// ...counted per sender: the socket task releases what it has written.
    pub backlog: Backlog,
    /// Cancelled when the server's own messages no longer fit: the socket has stopped reading, and
    /// its task closes it with `TOO_SLOW`.
    pub too_slow: CancellationToken,
}

/// How much may wait for one socket: in total, for all peers' signals together, and per sender.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shares {
    pub messages: usize,
    pub bytes: usize,
    pub per_sender_messages: usize,
    pub per_sender_bytes: usize,
    pub signal_messages: usize,
    pub signal_bytes: usize,
}

impl Shares {
    /// Each of the other `max_peers - 1` peers gets a 1/`max_peers` share (in bytes at least one
    /// message of `max_message_bytes`); what is left is kept for the server's own messages.
    pub fn new(
        queue: usize,
        queue_bytes: usize,
        max_peers: usize,
        max_message_bytes: usize,
    ) -> Self {
        let max_peers = max_peers.max(1);
        let per_sender_messages = (queue / max_peers).max(1);
        let per_sender_bytes =
            (queue_bytes / max_peers).max(max_message_bytes + crate::limits::SIGNAL_ENVELOPE_BYTES);
        let others = (max_peers - 1).max(1);
        Self {
            messages: queue.max(per_sender_messages * max_peers),
            bytes: queue_bytes.max(per_sender_bytes * max_peers),
            per_sender_messages,
            per_sender_bytes,
            signal_messages: per_sender_messages * others,
            signal_bytes: per_sender_bytes * others,
        }
    }
}

/// What waits in one socket's queue, in total, from peers, and per sender.
#[derive(Clone)]
pub struct Backlog(Arc<Mutex<Waiting>>);

struct Waiting {
    shares: Shares,
    messages: usize,
    bytes: usize,
    signal_messages: usize,
    signal_bytes: usize,
    /// Messages and bytes per sender; a sender with nothing waiting has no entry.
    by_sender: HashMap<Arc<str>, (usize, usize)>,
}

/// Why a message was not queued.
#[derive(Debug, PartialEq, Eq)]
enum Full {
    /// The sender used up its share (or the peers all theirs): its message is dropped.
    Sender,
    /// Not even the server's own messages fit: the socket is not reading.
    Receiver,
}

impl Backlog {
    pub fn new(shares: Shares) -> Self {
        Self(Arc::new(Mutex::new(Waiting {
            shares,
            messages: 0,
            bytes: 0,
            signal_messages: 0,
            signal_bytes: 0,
            by_sender: HashMap::new(),
        })))
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Waiting> {
        // Counters only: a poisoned lock still holds numbers that were each updated whole.
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn reserve(&self, from: Option<&Arc<str>>, n: usize) -> Result<(), Full> {
        let mut w = self.lock();
        let s = w.shares;
        if let Some(from) = from {
            let (messages, bytes) = w.by_sender.get(from).copied().unwrap_or((0, 0));
            if messages + 1 > s.per_sender_messages
                || bytes + n > s.per_sender_bytes
                || w.signal_messages + 1 > s.signal_messages
                || w.signal_bytes + n > s.signal_bytes
            {
                return Err(Full::Sender);
            }
            w.by_sender.insert(from.clone(), (messages + 1, bytes + n));
            w.signal_messages += 1;
            w.signal_bytes += n;
        } else if w.messages + 1 > s.messages || w.bytes + n > s.bytes {
            return Err(Full::Receiver);
        }
        w.messages += 1;
        w.bytes += n;
        Ok(())
    }

    /// Called by the socket task once a message is written (or dropped).
    pub fn release(&self, from: Option<&Arc<str>>, n: usize) {
        let mut w = self.lock();
        w.messages -= 1;
        w.bytes -= n;
        if let Some(from) = from {
            w.signal_messages -= 1;
            w.signal_bytes -= n;
            if let Some((messages, bytes)) = w.by_sender.get_mut(from) {
                *messages -= 1;
                *bytes -= n;
                if *messages == 0 {
                    w.by_sender.remove(from);
                }
            }
        }
    }
}

impl PeerHandle {
    /// Queues a message without waiting. A sender over its share loses the message; a socket that
    /// cannot take even the server's own is marked too slow.
    fn deliver(&self, text: Utf8Bytes, from: Option<&Arc<str>>) -> Result<(), Full> {
        let len = text.len();
        if let Err(full) = self.backlog.reserve(from, len) {
            if full == Full::Receiver {
                self.too_slow.cancel();
            }
            return Err(full);
        }
        let from = from.cloned();
        self.tx.try_send(Outbound { text, from }).map_err(|err| {
            let Outbound { text, from } = err.into_inner();
            self.backlog.release(from.as_ref(), text.len());
            // The channel holds `Shares::messages`, which the backlog never passes: it is closed,
            // and its task is already ending and will leave the room itself.
            Full::Receiver
        })
    }
}

#[derive(Debug, PartialEq, Eq)]
pub enum JoinError {
    RoomFull {
        max: usize,
    },
    /// A cluster node cannot reach Redis, so it cannot know who else is in the room.
    ClusterUnavailable,
}

impl JoinError {
    /// The close code and reason the refused socket gets.
    pub fn close(&self) -> (u16, String) {
        match self {
            JoinError::RoomFull { max } => (
                meshcall_protocol::close_code::ROOM_FULL,
                format!("This room is full ({max} people)."),
            ),
            JoinError::ClusterUnavailable => (
                crate::socket::std_code::TRY_AGAIN_LATER,
                "This server cannot reach the others right now. Try again in a moment.".into(),
            ),
        }
    }
}

#[derive(Debug, PartialEq, Eq)]
pub enum Relay {
    Delivered,
    UnknownReceiver,
    /// The sender has its whole share of the receiver's queue waiting already: this one is dropped.
    /// The receiver keeps its socket; it never pays for what others send.
    OverShare,
    /// Handed to the cluster, which delivers it wherever the receiver is (or drops it).
    Forwarded,
}

pub struct Rooms {
    rooms: Mutex<HashMap<String, HashMap<PeerId, PeerHandle>>>,
    /// Keys the room tags in logs: random per process, so a tag cannot be checked against guessed
    /// names, and lines of one run still group by room.
    tag_key: ring::hmac::Key,
}

impl Default for Rooms {
    fn default() -> Self {
        Self {
            rooms: Mutex::default(),
            tag_key: ring::hmac::Key::new(ring::hmac::HMAC_SHA256, uuid::Uuid::new_v4().as_bytes()),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct Stats {
    pub rooms: usize,
    pub peers: usize,
}

fn text(msg: &ServerMessage) -> Utf8Bytes {
    // Our own enum of strings and an already-parsed JSON value: serializing cannot fail.
    Utf8Bytes::from(serde_json::to_string(msg).unwrap_or_default())
}

impl Rooms {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, HashMap<PeerId, PeerHandle>>> {
        // A panic while holding the lock cannot leave the maps half-updated (every update is a
        // single insert or remove), so a poisoned lock is still consistent.
        self.rooms.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Adds `id` to `room`: it gets `IdAssigned` first, then every peer already there gets
    /// `NewPeer`. Returns the number of peers now in the room.
    pub fn join(
        &self,
        room: &str,
        id: &PeerId,
        handle: PeerHandle,
        max_peers: usize,
    ) -> Result<usize, JoinError> {
        let mut rooms = self.lock();
        let peers = rooms.entry(room.to_owned()).or_default();
        if peers.len() >= max_peers {
            if peers.is_empty() {
                rooms.remove(room);
            }
            return Err(JoinError::RoomFull { max: max_peers });
        }
        let _ = handle.deliver(text(&ServerMessage::IdAssigned(id.clone())), None);
        let new_peer = text(&ServerMessage::NewPeer(id.clone()));
        for peer in peers.values() {
            let _ = peer.deliver(new_peer.clone(), None);
        }
        peers.insert(id.clone(), handle);
        Ok(peers.len())
    }

    /// Removes `id`; the rest get `PeerLeft`. An empty room is forgotten. Returns the peers left.
    pub fn leave(&self, room: &str, id: &PeerId) -> usize {
        let mut rooms = self.lock();
        let Some(peers) = rooms.get_mut(room) else {
            return 0;
        };
        if peers.remove(id).is_none() {
            return peers.len();
        }
        let left = text(&ServerMessage::PeerLeft(id.clone()));
        for peer in peers.values() {
            let _ = peer.deliver(left.clone(), None);
        }
        let remaining = peers.len();
        if remaining == 0 {
            rooms.remove(room);
        }
        remaining
    }

    /// Relays `data` to `receiver` if it is in `room`, stamped with the real sender.
    pub fn relay(&self, room: &str, sender: &Arc<str>, receiver: &str, data: Value) -> Relay {
        // Serialize outside the lock: it is the only costly part.
        let msg = text(&ServerMessage::Signal {
            sender: sender.to_string(),
            data,
        });
        let rooms = self.lock();
        match rooms.get(room).and_then(|peers| peers.get(receiver)) {
            None => Relay::UnknownReceiver,
            Some(peer) => match peer.deliver(msg, Some(sender)) {
                Ok(()) => Relay::Delivered,
                Err(_) => Relay::OverShare,
            },
        }
    }

    /// What logs say instead of a room's name (the name is what lets people in): 8 hex digits of a
    /// keyed hash, the same for one room during one run.
    pub fn log_tag(&self, room: &str) -> String {
        let tag = ring::hmac::sign(&self.tag_key, room.as_bytes());
        tag.as_ref()[..4]
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    }

    /// Sends `msg` to every peer of `room` on this node (the cluster's news of peers elsewhere).
    pub fn broadcast(&self, room: &str, msg: &ServerMessage) {
        let msg = text(msg);
        if let Some(peers) = self.lock().get(room) {
            for peer in peers.values() {
                let _ = peer.deliver(msg.clone(), None);
            }
        }
    }

    /// Whether `id` is in `room` on this node.
    pub fn has(&self, room: &str, id: &str) -> bool {
        self.lock()
            .get(room)
            .is_some_and(|peers| peers.contains_key(id))
    }

    /// Every (room, peer) on this node.
    pub fn members(&self) -> Vec<(String, PeerId)> {
        let rooms = self.lock();
        let each = rooms
            .iter()
            .flat_map(|(room, peers)| peers.keys().map(move |peer| (room.clone(), peer.clone())));
        each.collect()
    }

    pub fn stats(&self) -> Stats {
        let rooms = self.lock();
        Stats {
            rooms: rooms.len(),
            peers: rooms.values().map(HashMap::len).sum(),
        }
    }
}

#[cfg(test)]
mod tests;
