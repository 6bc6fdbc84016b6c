//! The room table: who is in which room and how to reach them. One `std` mutex, held only for
//! map updates and non-blocking `try_send`s, never across an `.await`; so a slow or flooding peer
//! can never make another peer's relay wait.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use axum::extract::ws::Utf8Bytes;
use meshcall_protocol::{PeerId, ServerMessage};
use serde_json::Value;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

/// How the room table reaches one peer's socket task.
#[derive(Clone)]
pub struct PeerHandle {
    /// Serialized messages for the socket, bounded in number...
    pub tx: mpsc::Sender<Utf8Bytes>,
    /// ...and in bytes: the socket task subtracts what it has written.
    pub queued: QueuedBytes,
    /// Cancelled when the peer's queue overflowed: its task closes it with `TOO_SLOW`.
    pub too_slow: CancellationToken,
}

/// Bytes queued for one socket and the most it may hold.
#[derive(Clone)]
pub struct QueuedBytes {
    bytes: Arc<AtomicUsize>,
    max: usize,
}

impl QueuedBytes {
    pub fn new(max: usize) -> Self {
        Self {
            bytes: Arc::new(AtomicUsize::new(0)),
            max,
        }
    }

    /// Reserves `n` bytes; `false` (and nothing reserved) if that would pass the maximum.
    fn reserve(&self, n: usize) -> bool {
        let before = self.bytes.fetch_add(n, Ordering::Relaxed);
        if before + n > self.max {
            self.bytes.fetch_sub(n, Ordering::Relaxed);
            return false;
        }
        true
    }

    /// Called by the socket task once a message is written (or dropped).
    pub fn release(&self, n: usize) {
        self.bytes.fetch_sub(n, Ordering::Relaxed);
    }
}

impl PeerHandle {
    /// Queue a message without waiting; a full queue marks the peer too slow.
    fn deliver(&self, text: Utf8Bytes) -> bool {
        let len = text.len();
        if !self.queued.reserve(len) {
            self.too_slow.cancel();
            return false;
        }
        match self.tx.try_send(text) {
            Ok(()) => true,
            Err(err) => {
                self.queued.release(len);
                if matches!(err, mpsc::error::TrySendError::Full(_)) {
                    self.too_slow.cancel();
                }
                // Closed: its task is already ending and will leave the room itself.
                false
            }
        }
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
    /// The receiver's queue was full: it is being dropped, the message with it.
    ReceiverTooSlow,
    /// Handed to the cluster, which delivers it wherever the receiver is (or drops it).
    Forwarded,
}

#[derive(Default)]
pub struct Rooms {
    rooms: Mutex<HashMap<String, HashMap<PeerId, PeerHandle>>>,
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
        handle.deliver(text(&ServerMessage::IdAssigned(id.clone())));
        let new_peer = text(&ServerMessage::NewPeer(id.clone()));
        for peer in peers.values() {
            peer.deliver(new_peer.clone());
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
            peer.deliver(left.clone());
        }
        let remaining = peers.len();
        if remaining == 0 {
            rooms.remove(room);
        }
        remaining
    }

    /// Relays `data` to `receiver` if it is in `room`, stamped with the real sender.
    pub fn relay(&self, room: &str, sender: &PeerId, receiver: &str, data: Value) -> Relay {
        // Serialize outside the lock: it is the only costly part.
        let msg = text(&ServerMessage::Signal {
            sender: sender.clone(),
            data,
        });
        let rooms = self.lock();
        match rooms.get(room).and_then(|peers| peers.get(receiver)) {
            None => Relay::UnknownReceiver,
            Some(peer) if peer.deliver(msg) => Relay::Delivered,
            Some(_) => Relay::ReceiverTooSlow,
        }
    }

    /// Sends `msg` to every peer of `room` on this node (the cluster's news of peers elsewhere).
    pub fn broadcast(&self, room: &str, msg: &ServerMessage) {
        let msg = text(msg);
        if let Some(peers) = self.lock().get(room) {
            for peer in peers.values() {
                peer.deliver(msg.clone());
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
mod tests {
    use super::*;
    use serde_json::json;

    fn peer(capacity: usize) -> (PeerHandle, mpsc::Receiver<Utf8Bytes>) {
        let (tx, rx) = mpsc::channel(capacity);
        let queued = QueuedBytes::new(1000);
        (
            PeerHandle {
                tx,
                queued,
                too_slow: CancellationToken::new(),
            },
            rx,
        )
    }

    fn drain(rx: &mut mpsc::Receiver<Utf8Bytes>) -> Vec<String> {
        let mut out = Vec::new();
        while let Ok(m) = rx.try_recv() {
            out.push(m.as_str().to_owned());
        }
        out
    }

    #[test]
    fn join_relay_leave() {
        let rooms = Rooms::default();
        let (a, mut ra) = peer(8);
        let (b, mut rb) = peer(8);
        assert_eq!(rooms.join("r", &"a".into(), a, 12), Ok(1));
        assert_eq!(rooms.join("r", &"b".into(), b, 12), Ok(2));
        assert_eq!(
            drain(&mut ra),
            [r#"{"IdAssigned":"a"}"#, r#"{"NewPeer":"b"}"#]
        );
        assert_eq!(drain(&mut rb), [r#"{"IdAssigned":"b"}"#]);

        assert_eq!(
            rooms.relay("r", &"b".into(), "a", json!(1)),
            Relay::Delivered
        );
        assert_eq!(drain(&mut ra), [r#"{"Signal":{"sender":"b","data":1}}"#]);
        assert_eq!(
            rooms.relay("r", &"b".into(), "zz", json!(1)),
            Relay::UnknownReceiver
        );
        assert_eq!(
            rooms.relay("other", &"b".into(), "a", json!(1)),
            Relay::UnknownReceiver
        );

        assert_eq!(rooms.leave("r", &"b".into()), 1);
        assert_eq!(drain(&mut ra), [r#"{"PeerLeft":"b"}"#]);
        assert_eq!(rooms.leave("r", &"a".into()), 0);
        assert_eq!(rooms.stats(), Stats { rooms: 0, peers: 0 });
    }

    #[test]
    fn full_room_refuses_and_full_queue_marks_slow() {
        let rooms = Rooms::default();
        let (a, _ra) = peer(1);
        let slow = a.too_slow.clone();
        rooms.join("r", &"a".into(), a, 1).unwrap();
        let (b, _rb) = peer(1);
        assert_eq!(
            rooms.join("r", &"b".into(), b, 1),
            Err(JoinError::RoomFull { max: 1 })
        );
        // a's queue holds IdAssigned already: the next message overflows it.
        assert_eq!(
            rooms.relay("r", &"x".into(), "a", json!(1)),
            Relay::ReceiverTooSlow
        );
        assert!(slow.is_cancelled());
    }

    #[test]
    fn too_many_queued_bytes_mark_slow() {
        let rooms = Rooms::default();
        let (a, mut ra) = peer(100);
        let (queued, slow) = (a.queued.clone(), a.too_slow.clone());
        rooms.join("r", &"a".into(), a, 12).unwrap();
        let id_assigned = drain(&mut ra)[0].len();
        queued.release(id_assigned);
        // 1000 bytes may wait; a ~600-byte message fits once, not twice.
        let big = json!("x".repeat(560));
        assert_eq!(
            rooms.relay("r", &"x".into(), "a", big.clone()),
            Relay::Delivered
        );
        assert!(!slow.is_cancelled());
        assert_eq!(
            rooms.relay("r", &"x".into(), "a", big.clone()),
            Relay::ReceiverTooSlow
        );
        assert!(slow.is_cancelled());
        // Once written, the bytes are free again.
        let written = drain(&mut ra);
        queued.release(written[0].len());
        assert_eq!(rooms.relay("r", &"x".into(), "a", big), Relay::Delivered);
    }
}
