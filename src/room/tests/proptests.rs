//! Property tests of the room brain: random sequences of what a server, the browser and other
//! peers can throw at it (joins, leaves, valid and garbage signals from known and unknown ids,
//! connection-state changes, data-channel traffic, socket drops and reconnects, time passing).
//! `step` must never panic and the edge must never be told to act on a connection it does not
//! have; bad input from one peer must leave every other peer as it was.
//! Modest case count for `make test`; `PROPTEST_CASES=20000 cargo test -p meshcall proptests` digs.

use std::collections::BTreeSet;

use proptest::prelude::*;
use serde_json::{json, Value};

use super::*;
use crate::room::negotiation::{MAX_ORPHAN_SENDERS, MAX_QUEUED_CANDIDATES};

fn config() -> ProptestConfig {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(256);
    ProptestConfig {
        cases,
        ..ProptestConfig::default()
    }
}

/// What happens next, with targets picked by index among what exists at that moment, so most
/// events hit real peers while some hit unknown ids and stale keys.
#[derive(Debug, Clone)]
enum Action {
    /// `NewPeer` of a fresh id.
    Join,
    /// `PeerLeft` of a known remote id (which is then never used again, as a server would).
    Leave(usize),
    /// A signal from a known id (or, for a large index, from an id we never heard of).
    Signal(usize, Payload),
    Local(usize, LocalKind),
    Conn(usize, ConnState),
    ChannelOpen(usize),
    ChannelClosed(usize),
    Channel(usize, ChannelText),
    NegotiationFailed(usize),
    /// Our socket dropped; `reconnect` also gives us a fresh id.
    SocketDrop {
        reconnect: bool,
    },
    Media(bool, bool),
    Tick(u64),
}

#[derive(Debug, Clone)]
enum Payload {
    Offer(u8),
    Answer(u8),
    Candidate,
    Garbage(Value),
}

#[derive(Debug, Clone, Copy)]
enum LocalKind {
    Offer,
    Answer,
    Candidate,
    NegotiationNeeded,
}

#[derive(Debug, Clone)]
enum ChannelText {
    Hello(String, bool),
    Media(bool, bool),
    /// The remote's socket reconnected: a fresh id.
    RebindFresh,
    Ping,
    Pong,
    Garbage(String),
}

fn garbage_json() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<i64>().prop_map(Value::from),
        any::<String>().prop_map(Value::String),
        Just(json!({"Offer": 3})),
        Just(json!({"Answer": null})),
        Just(json!({"IceCandidate": ["x"]})),
        Just(json!({"Bogus": "v=0"})),
        Just(json!([{"Offer": "v=0"}])),
        any::<String>().prop_map(|s| json!({ "Offer": s, "Answer": s })),
    ]
}

fn conn_state() -> impl Strategy<Value = ConnState> {
    prop::sample::select(vec![
        ConnState::New,
        ConnState::Connecting,
        ConnState::Connected,
        ConnState::Connected,
        ConnState::Disconnected,
        ConnState::Failed,
        ConnState::Closed,
    ])
}

fn action() -> impl Strategy<Value = Action> {
    let i = 0usize..10;
    prop_oneof![
        4 => Just(Action::Join),
        1 => i.clone().prop_map(Action::Leave),
        6 => (i.clone(), prop_oneof![
            (0u8..3).prop_map(Payload::Offer),
            (0u8..3).prop_map(Payload::Answer),
            Just(Payload::Candidate),
            garbage_json().prop_map(Payload::Garbage),
        ]).prop_map(|(i, p)| Action::Signal(i, p)),
        5 => (i.clone(), prop::sample::select(vec![
            LocalKind::Offer, LocalKind::Answer, LocalKind::Candidate, LocalKind::NegotiationNeeded,
        ])).prop_map(|(i, k)| Action::Local(i, k)),
        5 => (i.clone(), conn_state()).prop_map(|(i, s)| Action::Conn(i, s)),
        2 => i.clone().prop_map(Action::ChannelOpen),
        1 => i.clone().prop_map(Action::ChannelClosed),
        3 => (i.clone(), prop_oneof![
            (any::<String>(), any::<bool>()).prop_map(|(n, with_id)| ChannelText::Hello(n, with_id)),
            (any::<bool>(), any::<bool>()).prop_map(|(m, c)| ChannelText::Media(m, c)),
            Just(ChannelText::RebindFresh),
            Just(ChannelText::Ping),
            Just(ChannelText::Pong),
            any::<String>().prop_map(ChannelText::Garbage),
        ]).prop_map(|(i, t)| Action::Channel(i, t)),
        1 => i.clone().prop_map(Action::NegotiationFailed),
        1 => any::<bool>().prop_map(|reconnect| Action::SocketDrop { reconnect }),
        1 => (any::<bool>(), any::<bool>()).prop_map(|(m, c)| Action::Media(m, c)),
        4 => prop_oneof![0u64..1_500, 1_000u64..8_000, Just(30_000u64)].prop_map(Action::Tick),
    ]
}

/// The room plus what its edge would hold: the connections it was told to create and not yet
/// told to close. Interprets actions against the current state and checks every step.
struct World {
    room: Room,
    now: u64,
    fresh: u32,
    /// Remote ids the server would still relay from (not yet `PeerLeft`).
    live_ids: Vec<PeerId>,
    /// Every key the room ever used, so stale keys get events too.
    keys_seen: Vec<PeerKey>,
    edges: BTreeSet<PeerKey>,
}

impl World {
    fn new() -> Self {
        let mut w = World {
            room: Room::new("me", true, true),
            now: 0,
            fresh: 0,
            live_ids: Vec::new(),
            keys_seen: Vec::new(),
            edges: BTreeSet::new(),
        };
        let id = w.fresh_id("me");
        w.apply_event(Event::IdAssigned(id)).expect("first id");
        w
    }

    fn fresh_id(&mut self, tag: &str) -> PeerId {
        self.fresh += 1;
        // Ids from a server compare in any order against ours: mix the prefix.
        format!(
            "{}{tag}-{}",
            ["a", "m", "z"][self.fresh as usize % 3],
            self.fresh
        )
    }

    fn id_at(&mut self, i: usize) -> PeerId {
        match self.live_ids.len() {
            n if i < n => self.live_ids[i].clone(),
            _ => self.fresh_id("stranger"),
        }
    }

    fn key_at(&self, i: usize) -> PeerKey {
        let keys: Vec<PeerKey> = self.room.peers.keys().copied().collect();
        if i < keys.len() {
            keys[i]
        } else if !self.keys_seen.is_empty() {
            self.keys_seen[i % self.keys_seen.len()]
        } else {
            1_000 + i as PeerKey
        }
    }

    fn event_for(&mut self, action: Action) -> Event {
        match action {
            Action::Join => {
                let id = self.fresh_id("peer");
                self.live_ids.push(id.clone());
                Event::PeerJoined(id)
            }
            Action::Leave(i) => {
                let id = self.id_at(i);
                self.live_ids.retain(|x| *x != id);
                Event::PeerLeft(id)
            }
            Action::Signal(i, payload) => {
                let from = self.id_at(i);
                let data = match payload {
                    Payload::Offer(s) => PeerSignal::Offer(sdp(s)).to_value(),
                    Payload::Answer(s) => PeerSignal::Answer(sdp(10 + s)).to_value(),
                    Payload::Candidate => PeerSignal::IceCandidate(candidate(i)).to_value(),
                    Payload::Garbage(v) => v,
                };
                Event::Signal { from, data }
            }
            Action::Local(i, kind) => {
                let key = self.key_at(i);
                match kind {
                    LocalKind::Offer => Event::LocalDescription {
                        key,
                        kind: SdpKind::Offer,
                        sdp: sdp(20),
                    },
                    LocalKind::Answer => Event::LocalDescription {
                        key,
                        kind: SdpKind::Answer,
                        sdp: sdp(21),
                    },
                    LocalKind::Candidate => Event::LocalCandidate {
                        key,
                        candidate: candidate(i),
                    },
                    LocalKind::NegotiationNeeded => Event::NegotiationNeeded(key),
                }
            }
            Action::Conn(i, state) => Event::ConnectionState {
                key: self.key_at(i),
                state,
            },
            Action::ChannelOpen(i) => Event::ChannelOpen(self.key_at(i)),
            Action::ChannelClosed(i) => Event::ChannelClosed(self.key_at(i)),
            Action::Channel(i, text) => {
                let key = self.key_at(i);
                let message = match text {
                    ChannelText::Hello(name, with_id) => {
                        let signaling_id = with_id
                            .then(|| self.room.peers.get(&key).map(|p| p.signaling_id.clone()))
                            .flatten();
                        PeerMessage::Hello {
                            name,
                            mic: true,
                            cam: false,
                            signaling_id,
                        }
                    }
                    ChannelText::Media(mic, cam) => PeerMessage::Media { mic, cam },
                    ChannelText::RebindFresh => {
                        // The remote reconnected: its old id is gone, a new one is live (and the
                        // server will announce it to us as a NewPeer, which a later Join may not be).
                        let id = self.fresh_id("again");
                        if let Some(old) = self.room.peers.get(&key).map(|p| p.signaling_id.clone())
                        {
                            self.live_ids.retain(|x| *x != old);
                        }
                        self.live_ids.push(id.clone());
                        PeerMessage::Rebind { signaling_id: id }
                    }
                    ChannelText::Ping => PeerMessage::Ping,
                    ChannelText::Pong => PeerMessage::Pong,
                    ChannelText::Garbage(text) => return Event::ChannelMessage { key, text },
                };
                Event::ChannelMessage {
                    key,
                    text: serde_json::to_string(&message).expect("serializable"),
                }
            }
            Action::NegotiationFailed(i) => Event::NegotiationFailed {
                key: self.key_at(i),
                error: "bad sdp".into(),
            },
            Action::SocketDrop { reconnect } => {
                if reconnect {
                    Event::IdAssigned(self.fresh_id("me"))
                } else {
                    Event::SignalingLost
                }
            }
            Action::Media(mic, cam) => Event::LocalMedia { mic, cam },
            Action::Tick(ms) => {
                self.now += ms;
                Event::Tick
            }
        }
    }

    fn apply(&mut self, action: Action) -> Result<Vec<Command>, TestCaseError> {
        let event = self.event_for(action);
        self.apply_event(event)
    }

    /// One step, then every invariant.
    fn apply_event(&mut self, event: Event) -> Result<Vec<Command>, TestCaseError> {
        let before: BTreeSet<PeerKey> = self.room.peers.keys().copied().collect();
        let ids_before: BTreeSet<PeerId> = self
            .room
            .peers
            .values()
            .map(|p| p.signaling_id.clone())
            .collect();
        let shown = format!("{event:?}");
        let out = self.room.step(self.now, event);
        let after: BTreeSet<PeerKey> = self.room.peers.keys().copied().collect();
        for &k in &after {
            if !self.keys_seen.contains(&k) {
                self.keys_seen.push(k);
            }
        }
        for command in &out {
            let ctx = || format!("{command:?} after {shown}; all: {out:?}");
            match command {
                Command::CreatePeer { key, .. } => {
                    prop_assert!(
                        self.edges.insert(*key),
                        "a second connection for one key: {}",
                        ctx()
                    );
                }
                Command::MakeOffer { key, .. }
                | Command::AcceptOffer { key, .. }
                | Command::AcceptAnswer { key, .. }
                | Command::AddCandidate { key, .. }
                | Command::SendToPeer { key, .. } => {
                    prop_assert!(
                        self.edges.contains(key),
                        "a command for a closed or unknown connection: {}",
                        ctx()
                    );
                }
                Command::ClosePeer { key } => {
                    prop_assert!(
                        self.edges.remove(key),
                        "closing a connection that is not open: {}",
                        ctx()
                    );
                }
                Command::PeerUpdated { key } => {
                    prop_assert!(
                        after.contains(key),
                        "a tile update for a peer that is gone: {}",
                        ctx()
                    );
                }
                Command::PeerRemoved { key } => {
                    prop_assert!(
                        before.contains(key) && !after.contains(key),
                        "removed a peer we did not have: {}",
                        ctx()
                    );
                }
                Command::SendSignal { to, .. } => {
                    let ids_after: BTreeSet<&PeerId> =
                        self.room.peers.values().map(|p| &p.signaling_id).collect();
                    prop_assert!(
                        ids_before.contains(to) || ids_after.contains(to),
                        "a signal to an id that is no peer of ours: {}",
                        ctx()
                    );
                }
            }
        }
        for &k in before.difference(&after) {
            prop_assert!(
                out.contains(&Command::PeerRemoved { key: k }),
                "peer {k} vanished without its tile being removed, after {shown}"
            );
        }
        // Every resource has one owner: the edge holds exactly the connections of live peers.
        let live: BTreeSet<PeerKey> = self
            .room
            .peers
            .values()
            .filter(|p| p.state != PeerState::Failed)
            .map(|p| p.key)
            .collect();
        prop_assert_eq!(
            &self.edges,
            &live,
            "connections held vs live peers, after {}",
            shown
        );
        // The id table points at the right peers, and no remote has two live connections.
        for (id, key) in &self.room.by_signaling_id {
            let p = self.room.peers.get(key);
            prop_assert!(
                p.is_some_and(|p| &p.signaling_id == id),
                "id {} maps to stale key {}",
                id,
                key
            );
        }
        let mut ids = BTreeSet::new();
        for p in self
            .room
            .peers
            .values()
            .filter(|p| p.state != PeerState::Failed)
        {
            prop_assert!(
                ids.insert(p.signaling_id.clone()),
                "two live connections to {}, after {}",
                p.signaling_id,
                shown
            );
            prop_assert!(
                Some(p.signaling_id.as_str()) != self.room.my_id(),
                "a connection to ourselves"
            );
            prop_assert!(p.name.chars().count() <= MAX_NAME_CHARS);
        }
        prop_assert!(self.room.orphan_candidates.len() <= MAX_ORPHAN_SENDERS);
        Ok(out)
    }
}

fn sdp(session: u8) -> String {
    format!("v=0\r\no=- {session} 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n")
}

fn candidate(n: usize) -> String {
    format!(r#"{{"candidate":"candidate:{n} 1 udp 1 10.77.0.1 {n} typ host","sdpMid":"0"}}"#)
}

/// Everything a peer keeps, for comparing before and after.
fn snapshot(p: &Peer) -> String {
    format!("{p:?}")
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn random_event_sequences_keep_the_invariants(actions in prop::collection::vec(action(), 1..80)) {
        let mut world = World::new();
        for action in actions {
            world.apply(action)?;
        }
        // Leaving releases every connection.
        let out = world.room.close_all();
        for command in &out {
            if let Command::ClosePeer { key } = command {
                prop_assert!(world.edges.remove(key), "leave closed a connection twice: {:?}", out);
            }
        }
        prop_assert!(world.edges.is_empty(), "leave left connections open: {:?}", world.edges);
        prop_assert_eq!(world.room.peers().count(), 0);
    }

    /// A peer that sends garbage, or whose SDP the browser rejects, or whose data channel says
    /// nonsense, fails alone: every other peer stays exactly as it was and gets no command.
    #[test]
    fn a_bad_peer_never_touches_the_others(
        setup in prop::collection::vec(action(), 0..60),
        victim in 0usize..10,
        bad in prop_oneof![
            garbage_json().prop_map(Some),
            Just(None),
        ],
        junk_text in any::<String>(),
    ) {
        let mut world = World::new();
        for action in setup {
            world.apply(action)?;
        }
        let Some(key) = world.room.peers.keys().copied().nth(victim % world.room.peers.len().max(1)) else {
            return Ok(());
        };
        let id = world.room.peers[&key].signaling_id.clone();
        // Signals from an id that the server reported gone cannot arrive; only a mapped id can.
        let addressable = world.room.key_of(&id) == Some(key);
        let others: Vec<(PeerKey, String)> =
            world.room.peers.values().filter(|p| p.key != key).map(|p| (p.key, snapshot(p))).collect();
        let events = match bad {
            Some(data) => vec![Event::Signal { from: id.clone(), data }],
            None => vec![
                Event::ChannelMessage { key, text: junk_text },
                Event::NegotiationFailed { key, error: "Failed to parse SessionDescription".into() },
            ],
        };
        for event in events {
            let out = world.apply_event(event)?;
            for command in &out {
                let target_ok = match command {
                    Command::SendSignal { to, .. } => *to == id,
                    Command::CreatePeer { key: k, .. }
                    | Command::MakeOffer { key: k, .. }
                    | Command::AcceptOffer { key: k, .. }
                    | Command::AcceptAnswer { key: k, .. }
                    | Command::AddCandidate { key: k, .. }
                    | Command::SendToPeer { key: k, .. }
                    | Command::ClosePeer { key: k }
                    | Command::PeerUpdated { key: k }
                    | Command::PeerRemoved { key: k } => *k == key,
                };
                prop_assert!(target_ok, "bad input from {} reached another peer: {:?}", id, command);
            }
        }
        for (k, before) in others {
            let now = world.room.peers.get(&k).map(snapshot);
            prop_assert_eq!(now.as_deref(), Some(before.as_str()), "peer {} changed", k);
        }
        // The bad peer's connection is gone if it sent garbage signaling or SDP.
        if let Some(p) = world.room.peers.get(&key).filter(|_| addressable) {
            prop_assert!(
                p.state == PeerState::Failed || !world.edges.contains(&key),
                "the bad peer still has a live connection: {:?}", p.state
            );
        }
    }

    /// A flood of signals from one id (thousands of candidates, offers, garbage) stays bounded:
    /// queued candidates are capped and nothing panics.
    #[test]
    fn a_signal_flood_stays_bounded(n in 300usize..1_200, known in any::<bool>()) {
        let mut world = World::new();
        if known {
            world.apply(Action::Join)?;
        }
        let from = if known { world.live_ids[0].clone() } else { "zz-flooder".to_owned() };
        for i in 0..n {
            let data = match i % 5 {
                0 => json!({"Nope": i}),
                1..=3 => PeerSignal::IceCandidate(candidate(i)).to_value(),
                _ => PeerSignal::Answer(sdp(1)).to_value(),
            };
            world.apply_event(Event::Signal { from: from.clone(), data })?;
        }
        for p in world.room.peers() {
            prop_assert!(p.negotiation.queued() <= MAX_QUEUED_CANDIDATES);
        }
        for q in world.room.orphan_candidates.values() {
            prop_assert!(q.len() <= MAX_QUEUED_CANDIDATES);
        }
    }
}
