//! Who gets our media, per peer: in a room with a key, the proof that the peer knows it, bound to
//! both DTLS fingerprints of our connection; in every room, the pair tokens that later prove a
//! rebind, and the safety code its tile shows. It decides; it never sends a frame or a message
//! itself (the room turns its verdicts into commands).

use meshcall_protocol::PeerMessage;

use super::{Command, PeerKey, PeerState, Room, Why};
use crate::trust::{my_proof, proof_holds, safety_code, Fingerprints, RoomKey};

/// A peer that has said nothing about the key this long after its channel opened is judged to
/// have none.
pub const ADMISSION_TIMEOUT_MS: u64 = 10_000;

/// Ids we turned away, remembered so that what else they send is not answered.
const MAX_REFUSED: usize = 64;

/// What the person is told about the room as a whole (one line for the room, no tile): someone
/// turned away here, a relay that fails us in [`super::relay`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Notice {
    /// Someone without the room key, or with another one, tried to join.
    NoKey,
    /// Someone with the key connected to us through something that replaced the DTLS
    /// fingerprints: the signaling path is intercepting the call.
    Mismatch,
    /// The TURN server refused our credentials (wrong secret, or expired), and the connection
    /// needed it.
    RelayRefused,
    /// The TURN server gave us no relay address for another reason (unreachable, overloaded),
    /// and the connection needed it.
    RelayUnreachable,
}

/// Where a peer stands with the room key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// A keyed room, and the proof is not in or not checked yet: nothing goes to the peer.
    Pending,
    /// An open room, or its proof checked: it gets our media, our name, a tile.
    Admitted,
    /// It has no key, or another one.
    NoKey,
    /// It has our key, yet its proof fails: the two ends of the connection see different
    /// fingerprints, so something in the signaling path replaced them (a man in the middle).
    Mismatch,
}

/// What a peer's `Proof` said about the key.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Claim {
    key_id: Option<String>,
    mac: Option<String>,
}

#[derive(Debug, Clone)]
pub struct Admission {
    verdict: Verdict,
    /// The fingerprints of our connection, once the edge read them.
    fingerprints: Option<Fingerprints>,
    /// The token we gave the peer: a rebind it proves with it is its.
    pub(crate) my_token: Option<String>,
    /// The token the peer gave us: we prove our own rebinds with it.
    pub(crate) their_token: Option<String>,
    /// A proof that came before our fingerprints did.
    claim: Option<Claim>,
    /// When the data channel opened (the admission clock).
    opened_at: Option<u64>,
    pub(crate) safety_code: Option<String>,
}

impl Admission {
    pub fn new(keyed: bool) -> Admission {
        Admission {
            verdict: if keyed {
                Verdict::Pending
            } else {
                Verdict::Admitted
            },
            fingerprints: None,
            my_token: None,
            their_token: None,
            claim: None,
            opened_at: None,
            safety_code: None,
        }
    }

    #[cfg(test)]
    pub fn verdict(&self) -> Verdict {
        self.verdict
    }

    pub fn admitted(&self) -> bool {
        self.verdict == Verdict::Admitted
    }

    pub fn channel_opened(&mut self, now: u64) {
        self.opened_at.get_or_insert(now);
    }

    /// The edge read our connection's fingerprints and drew a fresh token: our `Proof` to send,
    /// and the verdict if the peer's proof was already waiting.
    pub fn secured(
        &mut self,
        key: Option<&RoomKey>,
        fingerprints: Fingerprints,
        token: String,
    ) -> (PeerMessage, Option<Verdict>) {
        self.safety_code = Some(safety_code(&fingerprints));
        let message = PeerMessage::Proof {
            token: token.clone(),
            key_id: key.map(RoomKey::id),
            mac: key.map(|k| my_proof(k, &fingerprints)),
        };
        self.my_token = Some(token);
        self.fingerprints = Some(fingerprints);
        (message, self.judge(key))
    }

    /// The peer's `Proof`: its token, and what it claims about the key. Only the first counts, so
    /// a peer cannot keep guessing.
    pub fn proof(
        &mut self,
        key: Option<&RoomKey>,
        token: String,
        key_id: Option<String>,
        mac: Option<String>,
    ) -> Option<Verdict> {
        if self.their_token.is_some() {
            return None;
        }
        self.their_token = Some(token);
        self.claim = Some(Claim { key_id, mac });
        self.judge(key)
    }

    /// The peer said hello. A keyed peer proves itself before it says anything else, so a hello
    /// with no proof before it comes from someone without the key.
    pub fn hello(&mut self) -> Option<Verdict> {
        if self.verdict == Verdict::Pending && self.claim.is_none() {
            return self.decide(Verdict::NoKey);
        }
        None
    }

    /// Silent for too long after its channel opened: it has no key to show.
    pub fn overdue(&mut self, now: u64) -> Option<Verdict> {
        let due = self
            .opened_at
            .is_some_and(|t| now >= t + ADMISSION_TIMEOUT_MS);
        if self.verdict == Verdict::Pending && due {
            return self.decide(Verdict::NoKey);
        }
        None
    }

    fn judge(&mut self, key: Option<&RoomKey>) -> Option<Verdict> {
        if self.verdict != Verdict::Pending {
            return None;
        }
        let (Some(key), Some(claim)) = (key, &self.claim) else {
            return None;
        };
        // No key or another one shows at once, without our fingerprints: judged before the peer,
        // which turns us away too, closes the connection.
        let (Some(id), Some(mac)) = (&claim.key_id, &claim.mac) else {
            return self.decide(Verdict::NoKey);
        };
        if *id != key.id() {
            return self.decide(Verdict::NoKey);
        }
        let fps = self.fingerprints.as_ref()?;
        let verdict = if proof_holds(key, fps, mac) {
            Verdict::Admitted
        } else {
            Verdict::Mismatch
        };
        self.decide(verdict)
    }

    fn decide(&mut self, verdict: Verdict) -> Option<Verdict> {
        self.verdict = verdict;
        Some(verdict)
    }
}

impl Room {
    /// The edge read this connection's fingerprints: our proof (and pair token) goes to the peer,
    /// the tile can show the safety code, and a proof that came first is judged now.
    pub(super) fn on_secured(
        &mut self,
        key: PeerKey,
        fingerprints: Fingerprints,
        token: String,
        out: &mut Vec<Command>,
    ) {
        let room_key = self.key.clone();
        let Some(p) = self
            .peers
            .get_mut(&key)
            .filter(|p| p.channel_open && p.state != PeerState::Failed)
        else {
            return;
        };
        let (message, verdict) = p.admission.secured(room_key.as_ref(), fingerprints, token);
        out.push(Command::SendToPeer { key, message });
        out.push(Command::PeerUpdated { key });
        if let Some(verdict) = verdict {
            self.settle(key, verdict, out);
        }
    }

    /// The peer's `Proof`.
    pub(super) fn on_proof(
        &mut self,
        key: PeerKey,
        token: String,
        key_id: Option<String>,
        mac: Option<String>,
        out: &mut Vec<Command>,
    ) {
        let room_key = self.key.clone();
        let Some(p) = self.peers.get_mut(&key) else {
            return;
        };
        let first_token = p.admission.their_token.is_none();
        let verdict = p.admission.proof(room_key.as_ref(), token, key_id, mac);
        if let Some(verdict) = verdict {
            self.settle(key, verdict, out);
        }
        // Our socket reconnected before its token came: the proof we owe it goes now.
        if first_token && self.unconfirmed.contains_key(&key) {
            self.prove_rebind(key, out);
        }
    }

    /// A hello from a peer we have not admitted yet: who it says it is waits for its proof, and
    /// a hello with no proof before it is from someone without the key.
    pub(super) fn on_early_hello(&mut self, key: PeerKey, out: &mut Vec<Command>) {
        if let Some(verdict) = self.peers.get_mut(&key).and_then(|p| p.admission.hello()) {
            self.settle(key, verdict, out);
        }
    }

    /// Peers that have had their channel open for long without a word about the key.
    pub(super) fn check_admissions(&mut self, out: &mut Vec<Command>) {
        let now = self.now;
        let overdue: Vec<(PeerKey, Verdict)> = self
            .peers
            .iter_mut()
            .map(|(_, p)| p)
            .filter(|p| p.state != PeerState::Failed)
            .filter_map(|p| p.admission.overdue(now).map(|v| (p.key, v)))
            .collect();
        for (key, verdict) in overdue {
            self.settle(key, verdict, out);
        }
    }

    /// Whether we turned this id away.
    pub(super) fn refused(&self, id: &str) -> bool {
        self.refused.iter().any(|r| r == id)
    }

    /// The verdict is in. Admitted: the peer gets our media, our hello and its tile. Otherwise it
    /// is turned away: its connection closes (it never had a tile) and the person is told.
    pub(super) fn settle(&mut self, key: PeerKey, verdict: Verdict, out: &mut Vec<Command>) {
        match verdict {
            Verdict::Pending => {}
            Verdict::Admitted => {
                out.push(Command::AllowMedia { key });
                out.push(Command::SendToPeer {
                    key,
                    message: self.hello(),
                });
                out.push(Command::SendToPeer {
                    key,
                    message: self.speaking_now(),
                });
                out.push(Command::PeerUpdated { key });
            }
            Verdict::NoKey | Verdict::Mismatch => {
                if let Some(id) = self.peers.get(&key).map(|p| p.signaling_id.clone()) {
                    if self.refused.len() >= MAX_REFUSED {
                        self.refused.remove(0);
                    }
                    self.refused.push(id);
                }
                self.remove(key, Why::Refused, out);
                out.push(Command::Notice(if verdict == Verdict::NoKey {
                    Notice::NoKey
                } else {
                    Notice::Mismatch
                }));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> RoomKey {
        RoomKey::from_fragment("#abcdefghijkmnpqrstuvwxyz2")
            .unwrap()
            .unwrap()
    }
    const ADA: (&str, &str) = ("sha-256", "AA:AA");
    const BOB: (&str, &str) = ("sha-256", "BB:BB");
    const EVE: (&str, &str) = ("sha-256", "EE:EE");

    /// Ada's and Bob's admissions of each other, both secured over connections with `ada_sees`
    /// and `bob_sees`; returns the messages each sent.
    fn pair(
        ada_key: Option<&RoomKey>,
        bob_key: Option<&RoomKey>,
        ada_sees: Fingerprints,
        bob_sees: Fingerprints,
    ) -> (Admission, Admission) {
        let mut ada = Admission::new(ada_key.is_some());
        let mut bob = Admission::new(bob_key.is_some());
        let (to_bob, _) = ada.secured(ada_key, ada_sees, "ta".into());
        let (to_ada, _) = bob.secured(bob_key, bob_sees, "tb".into());
        for (me, key, msg) in [(&mut ada, ada_key, to_ada), (&mut bob, bob_key, to_bob)] {
            let PeerMessage::Proof { token, key_id, mac } = msg else {
                panic!("a proof");
            };
            me.proof(key, token, key_id, mac);
        }
        (ada, bob)
    }

    /// [`pair`] over a connection with nothing in between.
    fn direct(ada_key: Option<&RoomKey>, bob_key: Option<&RoomKey>) -> (Admission, Admission) {
        pair(
            ada_key,
            bob_key,
            Fingerprints::new(ADA, BOB),
            Fingerprints::new(BOB, ADA),
        )
    }

    #[test]
    fn two_peers_with_the_key_admit_each_other_and_swap_tokens() {
        let k = key();
        let (ada, bob) = direct(Some(&k), Some(&k));
        assert_eq!(
            (ada.verdict(), bob.verdict()),
            (Verdict::Admitted, Verdict::Admitted)
        );
        assert_eq!(ada.their_token.as_deref(), Some("tb"));
        assert_eq!(bob.their_token.as_deref(), Some("ta"));
        assert_eq!(ada.safety_code, bob.safety_code);
    }

    #[test]
    fn a_peer_without_the_key_or_with_another_is_refused() {
        let k = key();
        let other = RoomKey::from_fragment("#zzzzzzzzzzzzzzzzzzzzzzzzzz")
            .unwrap()
            .unwrap();
        for theirs in [None, Some(&other)] {
            let (ada, _) = direct(Some(&k), theirs);
            assert_eq!(ada.verdict(), Verdict::NoKey);
        }
    }

    #[test]
    fn swapped_fingerprints_are_a_mismatch_on_both_sides() {
        // A signaling server in the middle: each side's DTLS ends at Eve.
        let k = key();
        let (ada, bob) = pair(
            Some(&k),
            Some(&k),
            Fingerprints::new(ADA, EVE),
            Fingerprints::new(BOB, EVE),
        );
        assert_eq!(
            (ada.verdict(), bob.verdict()),
            (Verdict::Mismatch, Verdict::Mismatch)
        );
        assert_ne!(ada.safety_code, bob.safety_code);
    }

    #[test]
    fn a_proof_that_arrives_first_waits_for_our_fingerprints() {
        let k = key();
        let mut bob = Admission::new(true);
        let (to_ada, _) = bob.secured(Some(&k), Fingerprints::new(BOB, ADA), "tb".into());
        let PeerMessage::Proof { token, key_id, mac } = to_ada else {
            panic!("a proof");
        };
        let mut ada = Admission::new(true);
        assert_eq!(ada.proof(Some(&k), token, key_id, mac), None);
        assert_eq!(ada.verdict(), Verdict::Pending);
        // Its hello comes before our fingerprints: it did prove first, so that is fine.
        assert_eq!(ada.hello(), None);
        let (_, verdict) = ada.secured(Some(&k), Fingerprints::new(ADA, BOB), "ta".into());
        assert_eq!(verdict, Some(Verdict::Admitted));
    }

    #[test]
    fn another_key_is_judged_before_our_fingerprints_are_in() {
        let mut ada = Admission::new(true);
        let other = RoomKey::from_fragment("#zzzzzzzzzzzzzzzzzzzzzzzzzz")
            .unwrap()
            .unwrap();
        let verdict = ada.proof(
            Some(&key()),
            "t".into(),
            Some(other.id()),
            Some("00".into()),
        );
        assert_eq!(verdict, Some(Verdict::NoKey));
        let mut bob = Admission::new(true);
        assert_eq!(
            bob.proof(Some(&key()), "t".into(), None, None),
            Some(Verdict::NoKey)
        );
    }

    #[test]
    fn a_hello_before_any_proof_or_silence_means_no_key() {
        let mut a = Admission::new(true);
        assert_eq!(a.hello(), Some(Verdict::NoKey));
        let mut b = Admission::new(true);
        b.channel_opened(1_000);
        assert_eq!(b.overdue(1_000 + ADMISSION_TIMEOUT_MS - 1), None);
        assert_eq!(
            b.overdue(1_000 + ADMISSION_TIMEOUT_MS),
            Some(Verdict::NoKey)
        );
        // In an open room everyone is in from the start, proof or not.
        let mut open = Admission::new(false);
        assert_eq!(open.hello(), None);
        assert!(open.admitted());
    }

    #[test]
    fn only_the_first_proof_counts() {
        let k = key();
        let mut ada = Admission::new(true);
        ada.secured(Some(&k), Fingerprints::new(ADA, BOB), "ta".into());
        assert_eq!(
            ada.proof(Some(&k), "t1".into(), Some(k.id()), Some("00".into())),
            Some(Verdict::Mismatch)
        );
        let mut bob = Admission::new(true);
        let (good, _) = bob.secured(Some(&k), Fingerprints::new(BOB, ADA), "tb".into());
        let PeerMessage::Proof { token, key_id, mac } = good else {
            panic!("a proof");
        };
        assert_eq!(ada.proof(Some(&k), token, key_id, mac), None);
        assert_eq!(ada.verdict(), Verdict::Mismatch);
        assert_eq!(ada.their_token.as_deref(), Some("t1"));
    }
}
