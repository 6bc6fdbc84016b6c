//! Raised hands: ours goes to every admitted peer, and rides in our hello as how long ago it went
//! up, so someone who joins later puts it in the order it was raised. A peer's hand is kept as the
//! time on our own clock it went up, before our page loaded if need be (so negative: our clock
//! starts at zero with the page); the view orders hands by it.

use meshcall_protocol::PeerMessage;

use super::{Command, PeerKey, Room};

impl Room {
    /// The person raised or lowered their hand.
    pub(super) fn on_raise_hand(&mut self, up: bool, out: &mut Vec<Command>) {
        if up == self.hand.is_some() {
            return;
        }
        self.hand = up.then_some(self.now);
        self.broadcast(&PeerMessage::Hand { up }, out);
    }

    /// How long ago our hand went up, for our hello.
    pub(super) fn hand_age(&self) -> Option<u64> {
        self.hand.map(|at| self.now.saturating_sub(at))
    }

    /// A peer's hand went up or down (`Hand`), or its hello says how long ago it went up. A hand
    /// already up keeps its place.
    pub(super) fn on_hand(&mut self, key: PeerKey, age: Option<u64>, out: &mut Vec<Command>) {
        let now = self.now;
        let Some(p) = self.peers.get_mut(&key) else {
            return;
        };
        let hand = match (p.hand, age) {
            (Some(at), Some(_)) => Some(at),
            (None, Some(age)) => {
                let age = i64::try_from(age).unwrap_or(i64::MAX);
                Some(i64::try_from(now).unwrap_or(i64::MAX).saturating_sub(age))
            }
            (_, None) => None,
        };
        if hand != p.hand {
            p.hand = hand;
            out.push(Command::PeerUpdated { key });
        }
    }
}
