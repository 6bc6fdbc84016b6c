//! Negotiation: who offers, MDN's perfect negotiation (the polite side yields on glare, the
//! impolite one ignores the colliding offer), early candidates, ICE restarts. It owns each peer's
//! [`Negotiation`] and the candidates of senders we do not know yet; it never decides whether a
//! peer is alive (liveness) or who it is (identity).

use meshcall_protocol::{PeerId, PeerSignal};
use serde_json::Value;

use super::{Command, Peer, PeerKey, PeerState, Room, SdpKind, Why};

/// Minimum gap between two ICE restarts of one peer.
pub const RESTART_GAP_MS: u64 = 5_000;
/// Candidates kept per peer (or per unknown sender) before a description arrives.
pub(crate) const MAX_QUEUED_CANDIDATES: usize = 256;
/// Unknown senders whose early candidates we keep.
pub(crate) const MAX_ORPHAN_SENDERS: usize = 32;

/// Where the offer/answer exchange stands: perfect negotiation's `makingOffer` flag and our view
/// of the signaling state in one value, so that no impossible pair can be written. The answering
/// phase is entered as soon as we decide to accept an offer (the edge runs operations in order,
/// so nothing can overtake it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// Nothing in flight.
    Stable,
    /// We asked the edge for an offer; its local description is not set yet.
    MakingOffer,
    /// Our offer is set and sent: we wait for the answer.
    OfferSent,
    /// We accepted their offer and answer it. `rolling_back`: an offer of ours was still being
    /// made when theirs came; it is rolled back and must not go out.
    Answering { rolling_back: bool },
}

impl Phase {
    /// An offer of ours is being made (perfect negotiation's `makingOffer`).
    fn making_offer(self) -> bool {
        matches!(
            self,
            Phase::MakingOffer | Phase::Answering { rolling_back: true }
        )
    }

    /// The offer we were making is dropped (the peer failed): nothing else changes.
    fn stop_making(self) -> Phase {
        match self {
            Phase::MakingOffer => Phase::Stable,
            Phase::Answering { .. } => Phase::Answering {
                rolling_back: false,
            },
            other => other,
        }
    }
}

/// Remote candidates: queued, in order, until the remote description is set; then added at once.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Candidates {
    Queued(Vec<String>),
    Direct,
}

/// One peer's negotiation state.
#[derive(Debug, Clone)]
pub struct Negotiation {
    pub(crate) phase: Phase,
    candidates: Candidates,
    /// A first offer/answer exchange has completed.
    pub(crate) negotiated_once: bool,
    /// `o=` session id of the remote SDP: a different one means a different remote connection.
    remote_session: Option<String>,
    /// Our offer while it waits for its answer ([`Phase::OfferSent`]), to send again if lost.
    offer: Option<String>,
}

impl Negotiation {
    /// `early`: candidates that came from the peer before we knew it.
    pub(crate) fn new(early: Vec<String>) -> Self {
        Negotiation {
            phase: Phase::Stable,
            candidates: Candidates::Queued(early),
            negotiated_once: false,
            remote_session: None,
            offer: None,
        }
    }

    /// Candidates waiting for the remote description (for the native-only property tests).
    #[cfg(all(test, not(target_arch = "wasm32")))]
    pub(crate) fn queued(&self) -> usize {
        match &self.candidates {
            Candidates::Queued(queue) => queue.len(),
            Candidates::Direct => 0,
        }
    }

    /// The remote description is being set: what was queued goes in now, in order.
    fn remote_description_set(&mut self, key: PeerKey, out: &mut Vec<Command>) {
        if let Candidates::Queued(queue) =
            std::mem::replace(&mut self.candidates, Candidates::Direct)
        {
            out.extend(
                queue
                    .into_iter()
                    .map(|candidate| Command::AddCandidate { key, candidate }),
            );
        }
    }

    /// The peer failed: no offer of ours is in flight any more, nothing queued is worth keeping.
    pub(crate) fn stop(&mut self) {
        self.phase = self.phase.stop_making();
        if let Candidates::Queued(queue) = &mut self.candidates {
            queue.clear();
        }
    }
}

impl Peer {
    /// Ready to start an offer right now (nothing in flight).
    pub(crate) fn can_offer(&self) -> bool {
        self.negotiation.phase == Phase::Stable && self.state != PeerState::Failed
    }

    /// Our offer, or the answer to it, went to a signaling id that is gone (our socket was down,
    /// or the peer's moved): nobody would ever answer it, and while it waits no ICE restart can
    /// start (the connection would sit in `have-local-offer` until given up). Send it again, to
    /// where the peer is now. Not rolled back: Chromium rebuilds a connection's media streams on
    /// a rollback, and the `<video>` showing a receiver's track then stays frozen. A peer that
    /// had answered it already answers the same offer again.
    pub(crate) fn resend_offer(&self, out: &mut Vec<Command>) {
        if self.negotiation.phase != Phase::OfferSent || self.state == PeerState::Failed {
            return;
        }
        if let Some(sdp) = &self.negotiation.offer {
            out.push(Command::SendSignal {
                to: self.signaling_id.clone(),
                signal: PeerSignal::Offer(sdp.clone()),
            });
        }
    }

    /// Restart ICE with a new offer, unless one is in flight or the last restart was too recent.
    pub(crate) fn restart_ice(&mut self, now: u64, out: &mut Vec<Command>) {
        if !self.can_offer()
            || self
                .liveness
                .last_restart
                .is_some_and(|t| now < t + RESTART_GAP_MS)
        {
            return;
        }
        self.liveness.last_restart = Some(now);
        self.negotiation.phase = Phase::MakingOffer;
        out.push(Command::MakeOffer {
            key: self.key,
            ice_restart: true,
        });
    }
}

impl Room {
    /// Classic flow: whoever is already in the room calls the newcomer.
    pub(super) fn call(&mut self, id: PeerId, out: &mut Vec<Command>) {
        if self.my_id.as_deref() == Some(id.as_str()) || self.by_signaling_id.contains_key(&id) {
            return;
        }
        let key = self.new_peer(id);
        if let Some(p) = self.peers.get_mut(&key) {
            p.negotiation.phase = Phase::MakingOffer;
        }
        out.push(Command::CreatePeer { key, offerer: true });
        out.push(Command::MakeOffer {
            key,
            ice_restart: false,
        });
        out.push(Command::PeerUpdated { key });
    }

    pub(super) fn on_negotiation_needed(&mut self, key: PeerKey, out: &mut Vec<Command>) {
        // Before the first exchange completes, the initial offer/answer already covers every
        // track and the channel; the browser fires again once stable if not.
        if let Some(p) = self.peers.get_mut(&key) {
            if p.negotiation.negotiated_once && p.can_offer() {
                p.negotiation.phase = Phase::MakingOffer;
                out.push(Command::MakeOffer {
                    key,
                    ice_restart: false,
                });
            }
        }
    }

    pub(super) fn on_local_candidate(
        &mut self,
        key: PeerKey,
        candidate: String,
        out: &mut Vec<Command>,
    ) {
        if only_reaches_a_server(&candidate) {
            return;
        }
        if let Some(p) = self.live_peer(key) {
            out.push(Command::SendSignal {
                to: p.signaling_id.clone(),
                signal: PeerSignal::IceCandidate(candidate),
            });
        }
    }

    pub(super) fn on_signal(&mut self, from: PeerId, data: Value, out: &mut Vec<Command>) {
        if self.refused(&from) {
            return; // turned away: nothing it sends is answered
        }
        let known = self.key_of(&from);
        let signal = match PeerSignal::from_value(data) {
            Ok(signal) => signal,
            Err(_) => {
                // Garbage costs the sender its connection and nothing else.
                if let Some(key) = known {
                    self.fail(key, Why::Garbage, out);
                }
                return;
            }
        };
        if let PeerSignal::Rebind(mac) = &signal {
            return self.on_rebind_proof(from, mac, out);
        }
        let key = match (known, &signal) {
            (Some(key), _) => key,
            (None, PeerSignal::Offer(_)) => {
                if self.my_id.as_deref() == Some(from.as_str()) {
                    return;
                }
                // Someone already in the room calls us (we are the newcomer).
                let early = self.orphan_candidates.remove(&from).unwrap_or_default();
                let key = self.new_peer(from);
                if let Some(p) = self.peers.get_mut(&key) {
                    p.negotiation = Negotiation::new(early);
                }
                out.push(Command::CreatePeer {
                    key,
                    offerer: false,
                });
                out.push(Command::PeerUpdated { key });
                key
            }
            (None, PeerSignal::IceCandidate(c)) => {
                if self.orphan_candidates.len() < MAX_ORPHAN_SENDERS
                    || self.orphan_candidates.contains_key(&from)
                {
                    let queue = self.orphan_candidates.entry(from).or_default();
                    if queue.len() < MAX_QUEUED_CANDIDATES {
                        queue.push(c.clone());
                    }
                }
                return;
            }
            (
                None,
                PeerSignal::Answer(_)
                | PeerSignal::Rebind(_)
                | PeerSignal::Probe
                | PeerSignal::Here,
            ) => return,
        };
        self.last_heard.insert(key, self.now);
        match signal {
            PeerSignal::Probe => return self.on_probe(key, out),
            // Heard, which is all it says.
            PeerSignal::Here => return,
            _ => {}
        }
        let Some(p) = self.peers.get_mut(&key) else {
            return;
        };
        if p.state == PeerState::Failed {
            return;
        }
        let n = &mut p.negotiation;
        match signal {
            PeerSignal::Offer(sdp) => {
                let session = sdp_session_id(&sdp).map(str::to_owned);
                if n.negotiated_once
                    && session.is_some()
                    && n.remote_session.is_some()
                    && session != n.remote_session
                {
                    // A second connection from a peer we are already connected to: it called our
                    // new id after our socket reconnected. Our Rebind tells it to drop that one.
                    return;
                }
                let collision = n.phase != Phase::Stable;
                if !p.polite && collision {
                    return; // impolite: ours wins, theirs is ignored
                }
                n.remote_session = session;
                n.phase = Phase::Answering {
                    rolling_back: n.phase.making_offer(),
                };
                out.push(Command::AcceptOffer { key, sdp });
                n.remote_description_set(key, out);
            }
            PeerSignal::Answer(sdp) => {
                if n.phase != Phase::OfferSent {
                    return; // stale: our offer was rolled back or already answered
                }
                n.remote_session = sdp_session_id(&sdp).map(str::to_owned);
                n.phase = Phase::Stable;
                n.negotiated_once = true;
                // Senders added since (our screen share) have their parameters now: the
                // uplink gives the connection its limit again.
                p.send_limit = None;
                out.push(Command::AcceptAnswer { key, sdp });
                n.remote_description_set(key, out);
            }
            // Handled above: by identity, by liveness.
            PeerSignal::Rebind(_) | PeerSignal::Probe | PeerSignal::Here => {}
            PeerSignal::IceCandidate(candidate) => match &mut n.candidates {
                Candidates::Direct => out.push(Command::AddCandidate { key, candidate }),
                Candidates::Queued(queue) => {
                    if queue.len() < MAX_QUEUED_CANDIDATES {
                        queue.push(candidate);
                    }
                }
            },
        }
    }

    pub(super) fn on_local_description(
        &mut self,
        key: PeerKey,
        kind: SdpKind,
        sdp: String,
        out: &mut Vec<Command>,
    ) {
        let Some(p) = self.peers.get_mut(&key) else {
            return;
        };
        if p.state == PeerState::Failed {
            return;
        }
        let n = &mut p.negotiation;
        let signal = match kind {
            SdpKind::Offer => {
                if let Phase::Answering { .. } = n.phase {
                    // We accepted their offer meanwhile (we are polite): ours is being rolled
                    // back, so it must not go out.
                    n.phase = Phase::Answering {
                        rolling_back: false,
                    };
                    return;
                }
                n.phase = Phase::OfferSent;
                n.offer = Some(sdp.clone());
                PeerSignal::Offer(sdp)
            }
            SdpKind::Answer => {
                n.phase = if n.phase.making_offer() {
                    Phase::MakingOffer
                } else {
                    Phase::Stable
                };
                n.negotiated_once = true;
                p.send_limit = None; // as for an answer accepted: limits again
                PeerSignal::Answer(sdp)
            }
        };
        out.push(Command::SendSignal {
            to: p.signaling_id.clone(),
            signal,
        });
    }
}

/// The session id of an SDP's `o=` line (`o=- <sess-id> <sess-version> IN IP4 ...`).
fn sdp_session_id(sdp: &str) -> Option<&str> {
    sdp.lines()
        .find_map(|line| line.trim().strip_prefix("o="))
        .and_then(|origin| origin.split_whitespace().nth(1))
}

/// An active ICE-TCP candidate (`tcptype active`, our browser's `RTCIceCandidateInit` JSON):
/// it only ever connects to a passive one, and browsers gather none ("the user agent will
/// typically only gather active ICE TCP candidates", webrtc-pc), while every peer of ours is a
/// browser. Sent, it would be a signal through the server and an `addIceCandidate` on the
/// peer's page for nothing: Chromium gathers one for each interface, half of what it gathers.
/// TURN over TCP is unaffected: its relay candidates are UDP towards the peer.
pub(super) fn only_reaches_a_server(candidate: &str) -> bool {
    candidate.contains(" tcptype active")
}
