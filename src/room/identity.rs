//! Identity: signaling ids and the stable keys behind them. Our own id (and a new one after a
//! reconnect, announced with `Rebind`), peers whose socket left while their connection still
//! works, `NewPeer`s held back while a rebind may claim them. It owns each peer's [`Socket`] and
//! the id tables; it never negotiates.
//!
//! A rebind is proven, never claimed (issue 11): over its own channel a peer can say anything,
//! even another peer's id. What moves a connection to a new id is a `Rebind` signal *from* that
//! id (the server stamps senders) carrying an HMAC, over that id, of the token we gave the peer
//! over that very connection's DTLS. A channel's `rebind` is only a hint of where to send ours.

use meshcall_protocol::{PeerId, PeerMessage, PeerSignal};

use super::{Command, Peer, PeerKey, PeerState, Room, Why};
use crate::trust::{rebind_holds, rebind_mac};

/// A connected peer whose socket left gets this long to come back with `Rebind`.
pub const REBIND_GRACE_MS: u64 = 15_000;
/// ... provided it answers our ping within this long: a closed tab does not, and its tile must go
/// well before ICE would notice.
pub const PONG_TIMEOUT_MS: u64 = 2_000;
/// After a signaling reconnect a `NewPeer` may be someone we are still connected to, back under a
/// new id, whose `Rebind` is on its way over the data channel: wait this long for it before
/// building a second connection to that id.
pub const REBIND_WAIT_MS: u64 = 3_000;

/// Where the peer's signaling socket is, as far as we know.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Socket {
    /// In the room.
    Present,
    /// The server said it left while our connection still worked: it may be reconnecting its
    /// signaling and `Rebind` shortly. We asked "still there?" and have no answer yet.
    Asked { left_at: u64 },
    /// ... and it answered: it lives, and gets the rebind grace.
    Answered { left_at: u64 },
}

impl Socket {
    pub(crate) fn left_at(self) -> Option<u64> {
        match self {
            Socket::Present => None,
            Socket::Asked { left_at } | Socket::Answered { left_at } => Some(left_at),
        }
    }

    /// The peer whose socket left has had its time: no pong, or no rebind within the grace.
    pub(crate) fn expired(self, now: u64) -> bool {
        match self {
            Socket::Present => false,
            Socket::Asked { left_at } => {
                now >= left_at + PONG_TIMEOUT_MS || now >= left_at + REBIND_GRACE_MS
            }
            Socket::Answered { left_at } => now >= left_at + REBIND_GRACE_MS,
        }
    }

    pub(crate) fn pong(self) -> Socket {
        match self {
            Socket::Asked { left_at } => Socket::Answered { left_at },
            other => other,
        }
    }
}

impl Room {
    pub(super) fn new_peer(&mut self, signaling_id: PeerId) -> PeerKey {
        self.next_key += 1;
        let key = self.next_key;
        // Both sides compute the same answer from the two ids: the smaller id is polite.
        let polite = self
            .my_id
            .as_deref()
            .is_none_or(|me| me < signaling_id.as_str());
        self.by_signaling_id.insert(signaling_id.clone(), key);
        let keyed = self.key.is_some();
        self.peers
            .insert(key, Peer::new(key, signaling_id, polite, keyed, self.now));
        key
    }

    pub(super) fn on_id_assigned(&mut self, id: PeerId, out: &mut Vec<Command>) {
        self.signaling_up_since = Some(self.now);
        let previous = self.my_id.replace(id.clone());
        if previous.is_none() || previous.as_deref() == Some(id.as_str()) {
            return;
        }
        // Our socket reconnected under a new id. Established peers learn it over their data
        // channel and keep their connection; half-negotiated ones sent their answers to an id
        // that is gone, and will call our new id (NewPeer) anyway.
        let keys: Vec<PeerKey> = self.peers.keys().copied().collect();
        for key in keys {
            let p = &self.peers[&key];
            if p.channel_open && p.admission.admitted() {
                // The proof, from our new id to the one we know for the peer (sent once its token
                // is in, if it is not yet). If the server restarted, its id changed too: the hint
                // over the channel lets it send its own proof to us, and we answer that with ours.
                self.prove_rebind(key, out);
                self.unconfirmed.insert(key, self.now);
                out.push(Command::SendToPeer {
                    key,
                    message: PeerMessage::Rebind {
                        signaling_id: id.clone(),
                    },
                });
                // An offer still waiting was sent from our old id, or answered to it: lost.
                // Again, after the proof, so that the peer knows our new id when it comes.
                self.peers[&key].resend_offer(out);
            } else if p.state != PeerState::Failed {
                self.remove(key, Why::Rebound, out);
            }
        }
    }

    /// Our signaling socket dropped: the peers we are connected to hear it over their channels,
    /// so that when our `NewPeer` reaches them before our `Rebind` (a server that cannot tell at
    /// once that our socket left), they hold it back rather than build a second connection.
    pub(super) fn on_signaling_lost(&mut self, out: &mut Vec<Command>) {
        let was_up = self.signaling_up_since.take().is_some();
        if !was_up {
            return;
        }
        for p in self.peers.values() {
            if p.channel_open && p.admission.admitted() && p.state == PeerState::Connected {
                out.push(Command::SendToPeer {
                    key: p.key,
                    message: PeerMessage::SignalingLost,
                });
            }
        }
    }

    /// The peer behind `key` says its signaling dropped. A claim, so it buys no more than what a
    /// reconnect of our own does: `NewPeer`s wait up to [`REBIND_WAIT_MS`] for a rebind, for at
    /// most [`REBIND_GRACE_MS`] after the claim, and only while its connection is up.
    pub(super) fn on_peer_signaling_lost(&mut self, key: PeerKey) {
        if self
            .peers
            .get(&key)
            .is_some_and(|p| p.state == PeerState::Connected)
        {
            self.moving.insert(key, self.now);
        }
    }

    pub(super) fn on_peer_left(&mut self, id: PeerId, out: &mut Vec<Command>) {
        self.orphan_candidates.remove(&id);
        self.deferred_joins.retain(|(d, _)| *d != id);
        let Some(key) = self.key_of(&id) else { return };
        let now = self.now;
        match self.peers.get_mut(&key) {
            // The connection looks up: maybe only its signaling socket dropped, maybe the tab
            // closed and ICE has not noticed yet. Ask over the channel; only a live peer answers.
            Some(p) if p.channel_open && p.state == PeerState::Connected => {
                p.socket = Socket::Asked { left_at: now };
                self.by_signaling_id.remove(&id);
                out.push(Command::SendToPeer {
                    key,
                    message: PeerMessage::Ping,
                });
            }
            _ => self.remove(key, Why::Left, out),
        }
    }

    /// The peer answered our "still there?" after its socket left.
    pub(super) fn on_pong(&mut self, key: PeerKey) {
        if let Some(p) = self.peers.get_mut(&key) {
            p.socket = p.socket.pong();
        }
    }

    /// A peer we are connected to may be about to announce a new signaling id.
    fn rebind_expected(&self) -> bool {
        let now = self.now;
        let live = |key: &PeerKey| {
            self.peers
                .get(key)
                .is_some_and(|p| p.state != PeerState::Failed && p.channel_open)
        };
        let recent = |(key, &since): (&PeerKey, &u64)| now < since + REBIND_GRACE_MS && live(key);
        self.unconfirmed.iter().any(recent)
            || self.moving.iter().any(recent)
            || self
                .peers
                .values()
                .any(|p| p.socket.left_at().is_some() && live(&p.key))
    }

    pub(super) fn on_peer_joined(&mut self, id: PeerId, out: &mut Vec<Command>) {
        if self.my_id.as_deref() == Some(id.as_str())
            || self.by_signaling_id.contains_key(&id)
            || self.refused(&id)
        {
            return;
        }
        if self.rebind_expected() {
            // Maybe someone we already have, back with a new id: give its Rebind a moment
            // rather than build a connection that the Rebind would then throw away.
            if !self.deferred_joins.iter().any(|(d, _)| *d == id) {
                self.offer_proofs(&id, out);
                self.deferred_joins.push((id, self.now));
            }
            return;
        }
        self.call(id, out);
    }

    /// A `NewPeer` that may be one of the peers we wait to hear from again, under a new id: send
    /// it our proof for each of them, through signaling. After a server restart every id changed
    /// and, when the network went with it, no data channel carries the hints that tell each side
    /// where the other is now; the one who was in the room first hears of the other's new id here.
    /// Each proof is a MAC, with the token one peer gave us, over our own id (which the server
    /// stamps): only that peer can check it, it moves only our own connection, and anyone else
    /// learns nothing it could use.
    fn offer_proofs(&self, to: &PeerId, out: &mut Vec<Command>) {
        let Some(me) = &self.my_id else { return };
        let now = self.now;
        for p in self.peers.values() {
            let waiting = self
                .unconfirmed
                .get(&p.key)
                .is_some_and(|&since| now < since + REBIND_GRACE_MS)
                || p.socket.left_at().is_some();
            if !waiting || !p.channel_open || p.state == PeerState::Failed {
                continue;
            }
            if let Some(token) = &p.admission.their_token {
                out.push(Command::SendSignal {
                    to: to.clone(),
                    signal: PeerSignal::Rebind(rebind_mac(token, me)),
                });
            }
        }
    }

    /// Calls the `NewPeer`s held back whose wait is over, or all of them once no rebind is
    /// expected any more.
    pub(super) fn run_deferred_joins(&mut self, out: &mut Vec<Command>) {
        if self.deferred_joins.is_empty() {
            return;
        }
        let now = self.now;
        let expected = self.rebind_expected();
        let (due, wait): (Vec<_>, Vec<_>) = std::mem::take(&mut self.deferred_joins)
            .into_iter()
            .partition(|(_, at)| !expected || now >= at + REBIND_WAIT_MS);
        self.deferred_joins = wait;
        for (id, _) in due {
            self.call(id, out);
        }
    }

    /// The peer behind `key` says, over its own channel, that its signaling id is `id`. That is
    /// no proof: the id we know for it is confirmed; any other gets our own proof sent to it, so
    /// that if this peer is really there it can move us (after a server restart neither side
    /// knows where the other is). Never to an id another open connection holds: that claim is an
    /// attack, not a reconnect. Its proof, from `id`, is what would move it.
    pub(super) fn on_rebind_hint(&mut self, key: PeerKey, id: PeerId, out: &mut Vec<Command>) {
        let Some(p) = self.peers.get(&key) else {
            return;
        };
        if p.signaling_id == id {
            self.unconfirmed.remove(&key);
            return;
        }
        let taken = self
            .key_of(&id)
            .filter(|&k| k != key)
            .and_then(|k| self.peers.get(&k))
            .is_some_and(|other| other.channel_open);
        if taken || p.hinted.as_ref() == Some(&id) || self.my_id.as_ref() == Some(&id) {
            return;
        }
        let (Some(me), Some(token)) = (&self.my_id, &p.admission.their_token) else {
            return;
        };
        out.push(Command::SendSignal {
            to: id.clone(),
            signal: PeerSignal::Rebind(rebind_mac(token, me)),
        });
        if let Some(p) = self.peers.get_mut(&key) {
            p.hinted = Some(id);
        }
    }

    /// A `Rebind` signal from `from`: the server stamped the sender, so only the socket holding
    /// `from` sent it, and its MAC shows the sender knows the token we gave one of our peers over
    /// that peer's connection. That peer now has id `from`; anything else changes nothing.
    pub(super) fn on_rebind_proof(&mut self, from: PeerId, mac: &str, out: &mut Vec<Command>) {
        let proven = self
            .peers
            .values()
            .filter(|p| p.channel_open && p.state != PeerState::Failed)
            .find(|p| {
                p.admission
                    .my_token
                    .as_deref()
                    .is_some_and(|token| rebind_holds(token, &from, mac))
            })
            .map(|p| (p.key, p.signaling_id != from));
        let Some((key, moved)) = proven else {
            return;
        };
        // It moved, or we did and have not heard it confirm: in case it does not know where we
        // are, our proof goes back (it answers a proof with one only if something moved).
        let answer = moved || self.unconfirmed.contains_key(&key);
        self.last_heard.insert(key, self.now);
        self.rebind(key, from, out);
        if answer {
            self.prove_rebind(key, out);
        }
        // An offer still waiting went to its old id, which is gone (after our proof, so that it
        // knows where the offer comes from).
        if let Some(p) = self.peers.get(&key) {
            p.resend_offer(out);
        }
    }

    /// Our proof, to the id we know for the peer: we have our current id (our socket may have
    /// reconnected since it knew us).
    pub(super) fn prove_rebind(&self, key: PeerKey, out: &mut Vec<Command>) {
        let Some(p) = self.peers.get(&key) else {
            return;
        };
        if let (Some(me), Some(token)) = (&self.my_id, &p.admission.their_token) {
            out.push(Command::SendSignal {
                to: p.signaling_id.clone(),
                signal: PeerSignal::Rebind(rebind_mac(token, me)),
            });
        }
    }

    /// The peer behind `key` now has signaling id `id` (proven). A connection we made towards
    /// that id in the meantime (we saw it as a NewPeer) is a duplicate of this one and goes.
    fn rebind(&mut self, key: PeerKey, id: PeerId, out: &mut Vec<Command>) {
        let Some(current) = self.peers.get(&key).map(|p| p.signaling_id.clone()) else {
            return;
        };
        if current == id {
            self.unconfirmed.remove(&key);
        }
        if current == id || self.my_id.as_deref() == Some(id.as_str()) {
            return;
        }
        if let Some(duplicate) = self.key_of(&id).filter(|&k| k != key) {
            self.remove(duplicate, Why::Replaced, out);
        }
        self.orphan_candidates.remove(&id);
        self.unconfirmed.remove(&key);
        self.moving.remove(&key);
        // The NewPeer we held back for this id was this peer: no second connection.
        self.deferred_joins.retain(|(d, _)| *d != id);
        if self.by_signaling_id.get(&current) == Some(&key) {
            self.by_signaling_id.remove(&current);
        }
        self.by_signaling_id.insert(id.clone(), key);
        if let Some(p) = self.peers.get_mut(&key) {
            p.signaling_id = id;
            p.socket = Socket::Present;
        }
    }
}
