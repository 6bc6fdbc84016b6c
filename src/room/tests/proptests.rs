//! Property tests of the room brain: random sequences of what a server, the browser and other
//! peers can throw at it (joins, leaves, valid and garbage signals from known and unknown ids,
//! connection-state changes, data-channel traffic, socket drops and reconnects, proofs good and
//! bad, claims of other peers' ids, time passing), in open rooms and rooms with a key. `step`
//! must never panic and the edge must never be told to act on a connection it does not have; bad
//! input from one peer must leave every other peer as it was.
//! Modest case count for `make test`; `PROPTEST_CASES=20000 cargo test -p meshcall proptests` digs.

use std::collections::BTreeSet;

use proptest::prelude::*;
use serde_json::{json, Value};

use super::*;
use crate::room::negotiation::{MAX_ORPHAN_SENDERS, MAX_QUEUED_CANDIDATES};
use crate::trust::{my_proof, rebind_mac, Fingerprints, RoomKey};

/// The key of the rooms that have one, and what every connection's fingerprints look like (ours,
/// then the peer's); the peers' view is the reverse.
fn room_key() -> RoomKey {
    RoomKey::from_fragment("#proptest-room-key-000000")
        .expect("a key")
        .expect("a key")
}
fn ours() -> Fingerprints {
    Fingerprints::new(("sha-256", "AA"), ("sha-256", "BB"))
}
fn theirs() -> Fingerprints {
    Fingerprints::new(("sha-256", "BB"), ("sha-256", "AA"))
}
/// The token we draw for connection `key` (the edge's random), which only its peer learns.
fn token_for(key: PeerKey) -> String {
    format!("token-{key}")
}

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
    /// The edge read the fingerprints of a connection and drew its token.
    Secured(usize),
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
    /// A rebind proof from the sender's id: made with the token we gave it (valid for its own
    /// connection) or with a guess.
    Rebind {
        valid: bool,
    },
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
    /// The remote's socket reconnected: a fresh id (a hint; its proof comes as a signal).
    RebindFresh,
    /// The peer claims the id of the live peer at this index, in a rebind or in a hello.
    Claim(usize, bool),
    /// Its proof: with the room key and the fingerprints as they are, or a wrong one.
    Proof(bool),
    Ping,
    Pong,
    /// "My signaling dropped": true or not, it may delay joins but touch no other peer.
    SignalingLost,
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
            any::<bool>().prop_map(|valid| Payload::Rebind { valid }),
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
            (0usize..10, any::<bool>()).prop_map(|(i, hello)| ChannelText::Claim(i, hello)),
            any::<bool>().prop_map(ChannelText::Proof),
            Just(ChannelText::Ping),
            Just(ChannelText::SignalingLost),
            Just(ChannelText::Pong),
            any::<String>().prop_map(ChannelText::Garbage),
        ]).prop_map(|(i, t)| Action::Channel(i, t)),
        2 => i.clone().prop_map(Action::Secured),
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
    /// Fresh ids peers announced over their channel, and whose they are: their proofs from there
    /// are made with the right token.
    moved: Vec<(PeerId, PeerKey)>,
}

impl World {
    fn new() -> Self {
        Self::with_key(false)
    }

    /// `keyed`: the room has a key, so peers go through admission.
    fn with_key(keyed: bool) -> Self {
        let mut w = World {
            room: Room::new("me", true, true).with_key(keyed.then(room_key)),
            now: 0,
            fresh: 0,
            live_ids: Vec::new(),
            keys_seen: Vec::new(),
            edges: BTreeSet::new(),
            moved: Vec::new(),
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
                    Payload::Rebind { valid } => {
                        let owner = self.room.key_of(&from).or_else(|| {
                            self.moved
                                .iter()
                                .find(|(id, _)| *id == from)
                                .map(|&(_, k)| k)
                        });
                        let token = match owner {
                            Some(key) if valid => token_for(key),
                            _ => "a guess".to_owned(),
                        };
                        PeerSignal::Rebind(rebind_mac(&token, &from)).to_value()
                    }
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
                            hand: None,
                            share: None,
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
                        self.moved.push((id.clone(), key));
                        PeerMessage::Rebind { signaling_id: id }
                    }
                    ChannelText::Claim(i, hello) => {
                        let claimed = self.id_at(i);
                        if hello {
                            PeerMessage::Hello {
                                name: "someone else".into(),
                                mic: true,
                                cam: true,
                                signaling_id: Some(claimed),
                                hand: None,
                                share: None,
                            }
                        } else {
                            PeerMessage::Rebind {
                                signaling_id: claimed,
                            }
                        }
                    }
                    ChannelText::Proof(good) => {
                        let key = room_key();
                        PeerMessage::Proof {
                            token: "their token".to_owned(),
                            key_id: Some(key.id()),
                            mac: Some(if good {
                                my_proof(&key, &theirs())
                            } else {
                                my_proof(&key, &ours())
                            }),
                        }
                    }
                    ChannelText::Ping => PeerMessage::Ping,
                    ChannelText::SignalingLost => PeerMessage::SignalingLost,
                    ChannelText::Pong => PeerMessage::Pong,
                    ChannelText::Garbage(text) => return Event::ChannelMessage { key, text },
                };
                Event::ChannelMessage {
                    key,
                    text: serde_json::to_string(&message).expect("serializable"),
                }
            }
            Action::Secured(i) => {
                let key = self.key_at(i);
                Event::Secured {
                    key,
                    fingerprints: ours(),
                    token: token_for(key),
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
                | Command::LimitSend { key, .. }
                | Command::AddCandidate { key, .. }
                | Command::SendToPeer { key, .. } => {
                    prop_assert!(
                        self.edges.contains(key),
                        "a command for a closed or unknown connection: {}",
                        ctx()
                    );
                }
                Command::ClosePeer { key, .. } => {
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
                // Our rebind proof goes where a peer's hint says it now is, maybe an id we do not
                // know; made with that peer's token, it proves nothing to anyone else.
                Command::SendSignal {
                    signal: PeerSignal::Rebind(_),
                    ..
                } => {}
                Command::SendSignal { to, .. } => {
                    let ids_after: BTreeSet<&PeerId> =
                        self.room.peers.values().map(|p| &p.signaling_id).collect();
                    prop_assert!(
                        ids_before.contains(to) || ids_after.contains(to),
                        "a signal to an id that is no peer of ours: {}",
                        ctx()
                    );
                }
                Command::Secure { key } | Command::AllowMedia { key } => {
                    prop_assert!(
                        self.edges.contains(key),
                        "a command for a closed or unknown connection: {}",
                        ctx()
                    );
                }
                Command::Notice(_) => {}
                // A peer's chat line is shown only while it is one of ours, admitted.
                Command::Chat {
                    from: Some(key), ..
                } => {
                    prop_assert!(
                        self.room
                            .peers
                            .get(key)
                            .is_some_and(|p| p.admission.admitted()),
                        "a chat line from a peer that is not in: {}",
                        ctx()
                    );
                }
                Command::Chat { from: None, .. } => {}
                Command::RemoteShare { key, .. } => {
                    prop_assert!(
                        self.edges.contains(key),
                        "a share for a closed or unknown connection: {}",
                        ctx()
                    );
                }
            }
        }
        // A tile only for a peer that is in: admitted (always so in an open room).
        for command in &out {
            if let Command::PeerUpdated { key } = command {
                prop_assert!(
                    self.room.peers[key].admission.admitted(),
                    "a tile for a peer that has not proven the key, after {}",
                    shown
                );
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

/// What a bad peer does in `a_bad_peer_never_touches_the_others`.
#[derive(Debug, Clone)]
enum Bad {
    /// A signal that is no signal.
    Garbage(Value),
    /// A channel message that reads as nothing, then SDP the browser rejects.
    Junk,
    /// Claims the id of another peer (by index) over its channel: in a rebind, or in a hello.
    Claim { other: usize, hello: bool },
    /// Sends rebind proofs through signaling with the one token it has (ours for it), over
    /// another peer's id (by index) and over its own.
    Forged { over: usize },
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
    fn random_event_sequences_keep_the_invariants(
        actions in prop::collection::vec(action(), 1..80),
        keyed in any::<bool>(),
    ) {
        let mut world = World::with_key(keyed);
        for action in actions {
            world.apply(action)?;
        }
        // Leaving releases every connection.
        let out = world.room.close_all();
        for command in &out {
            if let Command::ClosePeer { key, .. } = command {
                prop_assert!(world.edges.remove(key), "leave closed a connection twice: {:?}", out);
            }
        }
        prop_assert!(world.edges.is_empty(), "leave left connections open: {:?}", world.edges);
        prop_assert_eq!(world.room.peers().count(), 0);
    }

    /// A peer that sends garbage, or whose SDP the browser rejects, or whose data channel says
    /// nonsense, fails alone: every other peer stays exactly as it was and gets no command. One
    /// that claims another peer's id (over its channel, in a rebind or a hello, or through
    /// signaling with the only token it has) moves and drops nobody (issue 11, hole 1).
    #[test]
    fn a_bad_peer_never_touches_the_others(
        setup in prop::collection::vec(action(), 0..60),
        keyed in any::<bool>(),
        victim in 0usize..10,
        bad in prop_oneof![
            garbage_json().prop_map(Bad::Garbage),
            Just(Bad::Junk),
            (0usize..10, any::<bool>()).prop_map(|(other, hello)| Bad::Claim { other, hello }),
            (0usize..10).prop_map(|over| Bad::Forged { over }),
        ],
        junk_text in any::<String>(),
    ) {
        let mut world = World::with_key(keyed);
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
        // An id that exists: another peer's, most of the time.
        let other_id = |i: usize| {
            let ids: Vec<PeerId> = others.iter().map(|(k, _)| world.room.peers[k].signaling_id.clone()).collect();
            ids.get(i % ids.len().max(1)).cloned().unwrap_or_else(|| "nobody".to_owned())
        };
        let fails = matches!(bad, Bad::Garbage(_) | Bad::Junk);
        let events = match bad {
            Bad::Garbage(data) => vec![Event::Signal { from: id.clone(), data }],
            Bad::Junk => vec![
                Event::ChannelMessage { key, text: junk_text },
                Event::NegotiationFailed { key, error: "Failed to parse SessionDescription".into() },
            ],
            Bad::Claim { other, hello } => {
                let claimed = other_id(other);
                let message = if hello {
                    PeerMessage::Hello { name: "Bob".into(), mic: true, cam: true, signaling_id: Some(claimed) , hand: None, share: None }
                } else {
                    PeerMessage::Rebind { signaling_id: claimed }
                };
                vec![Event::ChannelMessage { key, text: serde_json::to_string(&message).expect("json") }]
            }
            Bad::Forged { over } => {
                // It knows only the token we gave it: a MAC over another's id, and over its own.
                let token = token_for(key);
                vec![
                    Event::Signal { from: id.clone(), data: PeerSignal::Rebind(rebind_mac(&token, &other_id(over))).to_value() },
                    Event::Signal { from: id.clone(), data: PeerSignal::Rebind(rebind_mac(&token, &id)).to_value() },
                ]
            }
        };
        for event in events {
            let out = world.apply_event(event)?;
            for command in &out {
                let target_ok = match command {
                    // Our rebind proof, made with the bad peer's token, means nothing elsewhere.
                    Command::SendSignal { signal: PeerSignal::Rebind(_), .. } => true,
                    Command::SendSignal { to, .. } => *to == id,
                    // Turning the bad peer away tells the person so.
                    Command::Notice(_) => true,
                    Command::Chat { from, .. } => *from == Some(key),
                    Command::LimitSend { key: k, .. } => *k == key,
                    Command::CreatePeer { key: k, .. }
                    | Command::MakeOffer { key: k, .. }
                    | Command::AcceptOffer { key: k, .. }
                    | Command::AcceptAnswer { key: k, .. }
                    | Command::AddCandidate { key: k, .. }
                    | Command::SendToPeer { key: k, .. }
                    | Command::Secure { key: k }
                    | Command::AllowMedia { key: k }
                    | Command::RemoteShare { key: k, .. }
                    | Command::ClosePeer { key: k, .. }
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
        if let Some(p) = world.room.peers.get(&key).filter(|_| addressable && fails) {
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
