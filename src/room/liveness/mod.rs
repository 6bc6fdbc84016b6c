//! Liveness: connection states, data channel heartbeats and silence, ICE restarts when the path is
//! lost, and the timers that give up on a peer. It owns each peer's [`Liveness`]; it never
//! negotiates itself (a restart goes through [`Peer::restart_ice`]).

use meshcall_protocol::{PeerId, PeerMessage, PeerSignal};

use super::{Command, ConnState, PeerKey, PeerState, Room, Why, REBIND_GRACE_MS};

mod media;
pub use media::{MEDIA_ARRIVING_MS, MEDIA_FRESH_MS, MEDIA_UNREAD_MS, QUIET_READ_MS};

/// A failed tile stays this long so people see what happened, then goes.
pub const FAILED_TILE_MS: u64 = 4_000;
/// `disconnected` for this long counts as lost: restart ICE.
pub const DISCONNECTED_RESTART_MS: u64 = 3_000;
/// The polite side restarts ICE itself if the impolite side has not within this long.
pub const POLITE_RESTART_MS: u64 = 6_000;
/// A connection that went bad (no word on its data channel, no media, or ICE lost) is asked over
/// signaling whether its peer is still there ([`PeerSignal::Probe`]); a peer we have heard nothing
/// from over signaling since its connection went bad, this long after we asked while our socket
/// was up, has vanished: a frozen or cut-off machine whose socket the server has not noticed yet.
/// Its tile goes. A running page answers at once, however starved its connections are (eight
/// pages on two cores): the question, not the peer's own initiative, is what its silence answers;
/// the impolite side restarts ICE only when it sees the path bad itself, which it may not.
pub const PROBE_ANSWER_MS: u64 = 4_000;
/// A heartbeating peer quiet this long (no word on its channel, no media) is asked already,
/// before its silence is judged at [`CHANNEL_SILENCE_MS`].
pub const PROBE_QUIET_MS: u64 = 2_000;
/// A peer gets at most one [`PeerSignal::Here`] from us this often, however often it asks: well
/// under a tick, so that an honest peer's second question (a new bad spell the next tick) is
/// always answered, and still no more than one answer per question.
pub const PROBE_REPLY_MS: u64 = 200;
/// A connection that stays lost this long cannot be restored: drop the peer.
pub const GIVE_UP_MS: u64 = 25_000;
/// A first negotiation that has not connected by then will not: no `connected`, no open data
/// channel, no media. Any of those says the path came up (a starved page can read the state
/// only after it has already gone from `connected` to `disconnected`), and then the rules of a
/// lost path apply instead.
pub const CONNECT_TIMEOUT_MS: u64 = 30_000;
/// ... unless the browser is still at it (`connecting`: ICE checks or the DTLS handshake under
/// way, which it ends with `failed` itself when they cannot succeed), or the offer and answer
/// were exchanged and the peer answers whether it is still there ([`PeerSignal::Probe`]): then
/// this long. Eight people joining at once on two cores took over 30 s for some pairs (their
/// connections came up in the end where nothing gave up on them).
pub const CONNECTING_CAP_MS: u64 = 90_000;
/// A connected peer that has shown it heartbeats (sent us a `Beat`, or an older version's
/// `Ping`) and then goes this long without a word on its data channel has lost its path, whatever
/// ICE says yet: Chromium takes close to 10 s to call a frozen or cut-off peer `disconnected`,
/// and a vanished tile must go within 10 s.
pub const CHANNEL_SILENCE_MS: u64 = 3_000;
/// How often the edge sends [`Event::Tick`](super::Event::Tick).
pub const TICK_MS: u32 = 1_000;
/// A tick this late means our own page could not run (starved, suspended): the time it could
/// not listen is not the peers' silence.
pub const TICK_LATE_MS: u64 = 2_000;

/// What the peer's data channel has told us about it being there.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Voice {
    /// Not a word yet.
    Silent,
    /// It spoke last at `at`.
    Heard { at: u64 },
    /// It sends heartbeats (it sent a `Ping`), so its silence means something; last word at `at`.
    Heartbeats { at: u64 },
}

impl Voice {
    fn heard_at(self) -> Option<u64> {
        match self {
            Voice::Silent => None,
            Voice::Heard { at } | Voice::Heartbeats { at } => Some(at),
        }
    }

    /// The same word, heard `ms` later.
    fn later(self, ms: u64) -> Voice {
        match self {
            Voice::Silent => Voice::Silent,
            Voice::Heard { at } => Voice::Heard { at: at + ms },
            Voice::Heartbeats { at } => Voice::Heartbeats { at: at + ms },
        }
    }
}

/// The heartbeat a peer takes from us.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Heartbeat {
    /// Nothing from it yet to tell: ours, a `Beat`.
    Unknown,
    /// It has sent a `Beat`: it reads ours.
    Beat,
    /// It sent a `Ping` and never a `Beat`: an older version, which heartbeats with a `Ping`
    /// and reads only a `Ping` as ours.
    Ping,
}

/// One peer's liveness state.
#[derive(Debug, Clone)]
pub struct Liveness {
    conn: ConnState,
    created_at: u64,
    /// Since when the connection looks lost.
    bad_since: Option<u64>,
    pub(crate) last_restart: Option<u64>,
    pub(crate) failed_at: Option<u64>,
    voice: Voice,
    /// Which heartbeat it takes from us.
    heartbeat: Heartbeat,
    /// The media bytes received from the peer at the last reading, when its last packet came
    /// (or, where the browser does not say, the reading that found the bytes grown), and when
    /// the last reading came.
    received: u64,
    media_at: Option<u64>,
    read_at: Option<u64>,
    /// When we asked the peer over signaling whether it is there ([`PeerSignal::Probe`]).
    probed_at: Option<u64>,
    /// When we last answered its own question.
    answered_at: Option<u64>,
}

impl Liveness {
    pub(crate) fn new(now: u64) -> Self {
        Liveness {
            conn: ConnState::New,
            created_at: now,
            bad_since: None,
            last_restart: None,
            failed_at: None,
            voice: Voice::Silent,
            heartbeat: Heartbeat::Unknown,
            received: 0,
            media_at: None,
            read_at: None,
            probed_at: None,
            answered_at: None,
        }
    }

    /// It heartbeats: its silence will mean something.
    fn heartbeats(&mut self) {
        if let Voice::Heard { at } = self.voice {
            self.voice = Voice::Heartbeats { at };
        }
    }
}

impl Room {
    pub(super) fn on_connection_state(
        &mut self,
        key: PeerKey,
        state: ConnState,
        out: &mut Vec<Command>,
    ) {
        let now = self.now;
        let reachable = self.reachable(key);
        let Some(p) = self.peers.get_mut(&key) else {
            return;
        };
        if p.state == PeerState::Failed {
            return;
        }
        p.liveness.conn = state;
        let before = p.state;
        match state {
            ConnState::Connected => {
                p.liveness.bad_since = None;
                p.state = PeerState::Connected;
            }
            ConnState::Disconnected | ConnState::Failed => {
                p.liveness.bad_since.get_or_insert(now);
                if p.ever_connected() {
                    p.state = PeerState::Reconnecting;
                }
            }
            ConnState::New | ConnState::Connecting | ConnState::Closed => {}
        }
        if state == ConnState::Failed && !p.polite && reachable {
            p.restart_ice(now, out);
        }
        if p.state != before {
            out.push(Command::PeerUpdated { key });
        }
    }

    /// Signals to the peer arrive: our socket is up, and the id we know for it is current (it did
    /// not leave, and it is not one we wait to hear from again after our own reconnect).
    fn reachable(&self, key: PeerKey) -> bool {
        let rebinding = self
            .unconfirmed
            .get(&key)
            .is_some_and(|&t| self.now < t + REBIND_GRACE_MS);
        self.signaling_up_since.is_some()
            && !rebinding
            && self
                .peers
                .get(&key)
                .is_some_and(|p| p.socket.left_at().is_none())
    }

    /// Any message on the channel is a sign of life: a tile made reconnecting by the channel's
    /// silence alone is connected again.
    pub(super) fn channel_heard(&mut self, key: PeerKey, out: &mut Vec<Command>) {
        let now = self.now;
        let Some(p) = self.peers.get_mut(&key) else {
            return;
        };
        let l = &mut p.liveness;
        l.voice = match l.voice {
            Voice::Heartbeats { .. } => Voice::Heartbeats { at: now },
            _ => Voice::Heard { at: now },
        };
        if l.conn == ConnState::Connected && l.bad_since.is_some() {
            l.bad_since = None;
            if p.state == PeerState::Reconnecting {
                p.state = PeerState::Connected;
                out.push(Command::PeerUpdated { key });
            }
        }
    }

    /// A `Beat` from the peer's data channel: it heartbeats, so its silence will mean something.
    pub(super) fn on_beat(&mut self, key: PeerKey) {
        if let Some(p) = self.peers.get_mut(&key) {
            p.liveness.heartbeat = Heartbeat::Beat;
            p.liveness.heartbeats();
        }
    }

    /// A `Ping` from the peer's data channel: a question, answered; and from an older version,
    /// its heartbeat.
    pub(super) fn on_ping(&mut self, key: PeerKey, out: &mut Vec<Command>) {
        if let Some(p) = self.peers.get_mut(&key) {
            // A peer that has sent a `Beat` pings only to ask; one that never has is an older
            // version, which gets our heartbeat as a `Ping` too.
            if p.liveness.heartbeat == Heartbeat::Unknown {
                p.liveness.heartbeat = Heartbeat::Ping;
            }
            p.liveness.heartbeats();
            out.push(Command::SendToPeer {
                key,
                message: PeerMessage::Pong,
            });
        }
    }

    /// A tick arrives: if it comes [`TICK_LATE_MS`] or more after the last, our page could not run in
    /// between, and what the peers said then may still wait in its queue. Every peer is heard
    /// that much later, so no silence is counted for time we were not listening. Returns whether
    /// it came late.
    pub(super) fn on_tick_time(&mut self) -> bool {
        let now = self.now;
        let gap = self.last_tick.map_or(0, |t| now.saturating_sub(t));
        self.last_tick = Some(now);
        if gap < TICK_LATE_MS {
            return false;
        }
        let deaf = gap - u64::from(TICK_MS);
        for (_, p) in self.peers.iter_mut() {
            let l = &mut p.liveness;
            l.voice = l.voice.later(deaf);
            l.media_at = l.media_at.map(|t| t + deaf);
            l.read_at = l.read_at.map(|t| t + deaf);
        }
        true
    }

    /// The peer asks over signaling whether we are there: we are. At most one answer per
    /// [`PROBE_REPLY_MS`], so asking cannot make us send more than it sends.
    pub(super) fn on_probe(&mut self, key: PeerKey, out: &mut Vec<Command>) {
        let now = self.now;
        let Some(p) = self.live_peer_mut(key) else {
            return;
        };
        if p.liveness
            .answered_at
            .is_some_and(|t| now < t + PROBE_REPLY_MS)
        {
            return;
        }
        p.liveness.answered_at = Some(now);
        out.push(Command::SendSignal {
            to: p.signaling_id.clone(),
            signal: PeerSignal::Here,
        });
    }

    pub(super) fn on_heartbeat(&self, out: &mut Vec<Command>) {
        for p in self
            .peers
            .values()
            .filter(|p| p.channel_open && p.state != PeerState::Failed && p.admission.admitted())
        {
            let message = match p.liveness.heartbeat {
                Heartbeat::Ping => PeerMessage::Ping,
                Heartbeat::Unknown | Heartbeat::Beat => PeerMessage::Beat,
            };
            out.push(Command::SendToPeer {
                key: p.key,
                message,
            });
        }
    }

    /// Every peer's timers: failed tiles that have been shown long enough, sockets gone for good,
    /// first connections that never came, silent channels, lost paths to restart or give up.
    /// `tick_late`: this tick came late, so answers may still wait in our queue behind it: no
    /// peer is judged for not answering until the next.
    pub(super) fn check_peers(&mut self, tick_late: bool, out: &mut Vec<Command>) {
        let now = self.now;
        let mut fail = Vec::new();
        let mut remove = Vec::new();
        let mut updated = Vec::new();
        for p in self.peers.iter_mut().map(|(_, p)| p) {
            if p.state == PeerState::Failed {
                if p.liveness
                    .failed_at
                    .is_some_and(|t| now >= t + FAILED_TILE_MS)
                {
                    // Closed when it failed: no `ClosePeer` again, the reason is moot.
                    remove.push((p.key, Why::Lost));
                }
                continue;
            }
            if p.socket.expired(now) {
                remove.push((p.key, Why::Left));
                continue;
            }
            // Our socket came back under a new id (a server restart, a changed network): the
            // peer may be reconnecting too, and has the rebind grace to say where it is now.
            let rebinding = self
                .unconfirmed
                .get(&p.key)
                .is_some_and(|&t| now < t + REBIND_GRACE_MS);
            let up = self.signaling_up_since;
            let reachable = up.is_some() && !rebinding && p.socket.left_at().is_none();
            let came_up = p.ever_connected() || p.channel_open || p.liveness.media_at.is_some();
            if !came_up {
                let l = &mut p.liveness;
                let timed_out = l.created_at + CONNECT_TIMEOUT_MS;
                if now >= l.created_at + CONNECTING_CAP_MS {
                    fail.push((p.key, Why::NeverConnected));
                    continue;
                }
                if now >= timed_out && l.conn != ConnState::Connecting {
                    // Negotiated, yet the browser is not at it (`new`, or `failed` with a restart
                    // to come): ask the peer whether it is there. A running page answers (its
                    // browser slow, not stuck: on a machine eight pages share, pairs took over
                    // 30 s) and gets up to CONNECTING_CAP_MS; one that never completed an
                    // exchange, or does not answer, is given up.
                    // While our socket is down (or the peer's id unsure) nobody can be asked or
                    // heard: the question waits, up to the cap.
                    let asked = l.probed_at.filter(|&t| t >= timed_out);
                    let answered =
                        asked.is_some_and(|t| self.last_heard.get(&p.key).is_some_and(|&h| h >= t));
                    let pending = asked.filter(|&t| up.is_some_and(|u| t >= u));
                    match pending {
                        _ if answered => {}
                        _ if !p.negotiation.negotiated_once => {
                            fail.push((p.key, Why::NeverConnected));
                            continue;
                        }
                        Some(t) if now >= t + PROBE_ANSWER_MS && !tick_late => {
                            fail.push((p.key, Why::NeverConnected));
                            continue;
                        }
                        Some(_) => {}
                        None if reachable => ask(l, &p.signaling_id, now, out),
                        None => {}
                    }
                }
            }
            let ever_connected = p.ever_connected();
            let l = &mut p.liveness;
            let media_flows = l.media_flows(now);
            let channel_silent = matches!(l.voice, Voice::Heartbeats { at } if now >= at + CHANNEL_SILENCE_MS)
                && !media_flows
                && ever_connected
                && p.channel_open;
            if channel_silent && l.bad_since.is_none() {
                // Bad since the last sign of life (a word, media arriving), so a peer that
                // answers over signaling after that (an ICE restart) counts as heard, and a
                // frozen one does not.
                l.bad_since = l.voice.heard_at().max(l.media_at);
                p.state = PeerState::Reconnecting;
                updated.push(p.key);
            }
            // Ask whether it is there once its connection went bad, or already once a
            // heartbeating peer has been quiet (no word, no media) for PROBE_QUIET_MS: the wait
            // for the answer then runs while its silence is still being judged. Once in each
            // bad spell, again after our socket came back (a question asked before may be lost).
            // (Media counts here only when fresh: asking costs a message, and the lenient
            // reading of late counters would hold the question back past the 10 s a frozen
            // peer's tile may take.)
            let quiet_since = match l.voice {
                _ if l.media_fresh(now) || !ever_connected => None,
                _ if l.bad_since.is_some() => l.bad_since,
                Voice::Heartbeats { at } if p.channel_open && now >= at + PROBE_QUIET_MS => {
                    Some(at.max(l.media_at.unwrap_or(0)))
                }
                _ => None,
            };
            if let Some(q) = quiet_since {
                let heard = self.last_heard.get(&p.key).is_some_and(|&t| t >= q);
                let asked = l
                    .probed_at
                    .is_some_and(|t| t >= q && up.is_some_and(|u| t >= u));
                if !heard && !asked && reachable {
                    ask(l, &p.signaling_id, now, out);
                }
            }
            let Some(since) = l.bad_since else { continue };
            // Media still arriving: the path works and the peer's browser runs, whatever ICE
            // says yet (a machine too busy to answer its consent checks in time is called
            // `disconnected` while its media flows). Nothing to restart, nothing to give up.
            // Its clocks count from the last media, should that stop too.
            if media_flows {
                l.bad_since = l.media_at;
                continue;
            }
            // Heard over signaling, or a word on its channel (ICE may still call the path lost).
            let heard = self.last_heard.get(&p.key).is_some_and(|&t| t >= since)
                || l.voice.heard_at().is_some_and(|t| t > since);
            let listening = up.map(|t| t.max(since));
            // Asked in this bad spell while our socket was up as it is now, and no answer (not
            // judged on a late tick of ours: the answer may wait in our queue).
            let unanswered = !tick_late
                && l.probed_at.is_some_and(|t| {
                    listening.is_some_and(|u| t >= u) && now >= t + PROBE_ANSWER_MS
                });
            if ever_connected && !heard && !rebinding && unanswered {
                remove.push((p.key, Why::Vanished));
                continue;
            }
            // A first connection is given up by the rules above instead.
            if came_up && now >= since + GIVE_UP_MS {
                fail.push((p.key, Why::Lost));
                continue;
            }
            let lost = match l.conn {
                ConnState::Failed => true,
                ConnState::Disconnected => now >= since + DISCONNECTED_RESTART_MS,
                _ => channel_silent,
            };
            // A restart offer goes out only where it can arrive (`reachable`): our socket is up
            // and the id we know for the peer is its current one. One made while not would be
            // lost, and sent again later it crosses the peer's own: the polite side then rolls
            // its offer back, on which Chromium rebuilds the connection's media streams and a
            // tile can freeze.
            // The impolite side restarts first; the polite one steps in if that never came
            // while the impolite side could reach us: counted from when we last heard it, so
            // after a changed network the two do not restart at once once they find each other.
            let heard_at = self.last_heard.get(&p.key).copied().unwrap_or(0);
            let unheard_since = since.max(heard_at).max(up.unwrap_or(0));
            let our_turn = !p.polite || now >= unheard_since + POLITE_RESTART_MS;
            if lost && our_turn && reachable {
                p.restart_ice(now, out);
            }
        }
        // A tile that fails or goes in this same tick gets no separate update.
        for key in updated {
            if !fail.iter().chain(&remove).any(|&(k, _)| k == key) {
                out.push(Command::PeerUpdated { key });
            }
        }
        for (key, why) in fail {
            self.fail(key, why, out);
        }
        for (key, why) in remove {
            self.remove(key, why, out);
        }
    }
}

/// Ask the peer over signaling whether it is still there.
fn ask(l: &mut Liveness, to: &PeerId, now: u64, out: &mut Vec<Command>) {
    l.probed_at = Some(now);
    out.push(Command::SendSignal {
        to: to.clone(),
        signal: PeerSignal::Probe,
    });
}
