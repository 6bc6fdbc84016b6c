use super::*;
use serde_json::json;

const OFFER_A: &str = "v=0\r\no=- 111 2 IN IP4 127.0.0.1\r\ns=-\r\n";
const OFFER_A2: &str = "v=0\r\no=- 111 3 IN IP4 127.0.0.1\r\ns=-\r\n";
const OFFER_OTHER_PC: &str = "v=0\r\no=- 999 2 IN IP4 127.0.0.1\r\ns=-\r\n";
const ANSWER_B: &str = "v=0\r\no=- 222 2 IN IP4 127.0.0.1\r\ns=-\r\n";

fn room(id: &str) -> Room {
    let mut r = Room::new("me", true, true);
    assert!(r.step(0, Event::IdAssigned(id.into())).is_empty());
    r
}

fn signal(from: &str, s: PeerSignal) -> Event {
    Event::Signal {
        from: from.into(),
        data: s.to_value(),
    }
}

fn cand(n: u32) -> String {
    format!(r#"{{"candidate":"candidate:{n} 1 udp 1 10.0.0.1 {n} typ host","sdpMid":"0"}}"#)
}

/// What the room commands when a peer goes: its connection closed, its tile removed.
fn removal(key: PeerKey) -> Vec<Command> {
    vec![Command::ClosePeer { key }, Command::PeerRemoved { key }]
}

/// Nothing happens a millisecond before `at`; at `at` the peer `key` goes.
fn gone_exactly_at(r: &mut Room, at: u64, key: PeerKey) {
    assert!(
        r.step(at - 1, Event::Tick).is_empty(),
        "{key} went before {at}"
    );
    assert_eq!(r.step(at, Event::Tick), removal(key), "{key} goes at {at}");
}

/// An existing peer `me` and newcomer `them` complete a first negotiation; returns the key.
fn connected(r: &mut Room, them: &str) -> PeerKey {
    r.step(0, Event::PeerJoined(them.into()));
    let key = r.key_of(them).unwrap();
    r.step(
        0,
        Event::LocalDescription {
            key,
            kind: SdpKind::Offer,
            sdp: OFFER_A.into(),
        },
    );
    r.step(0, signal(them, PeerSignal::Answer(ANSWER_B.into())));
    r.step(
        0,
        Event::ConnectionState {
            key,
            state: ConnState::Connected,
        },
    );
    r.step(0, Event::ChannelOpen(key));
    key
}

#[test]
fn existing_peer_calls_the_newcomer() {
    let mut a = room("aaa");
    let out = a.step(1, Event::PeerJoined("bbb".into()));
    let key = a.key_of("bbb").unwrap();
    assert_eq!(
        out,
        vec![
            Command::CreatePeer { key, offerer: true },
            Command::MakeOffer {
                key,
                ice_restart: false
            },
            Command::PeerUpdated { key },
        ]
    );
    let out = a.step(
        2,
        Event::LocalDescription {
            key,
            kind: SdpKind::Offer,
            sdp: OFFER_A.into(),
        },
    );
    assert_eq!(
        out,
        vec![Command::SendSignal {
            to: "bbb".into(),
            signal: PeerSignal::Offer(OFFER_A.into())
        }]
    );
}

#[test]
fn newcomer_answers_the_caller() {
    let mut b = room("bbb");
    let out = b.step(1, signal("aaa", PeerSignal::Offer(OFFER_A.into())));
    let key = b.key_of("aaa").unwrap();
    assert_eq!(
        out,
        vec![
            Command::CreatePeer {
                key,
                offerer: false
            },
            Command::PeerUpdated { key },
            Command::AcceptOffer {
                key,
                sdp: OFFER_A.into()
            },
        ]
    );
    let out = b.step(
        2,
        Event::LocalDescription {
            key,
            kind: SdpKind::Answer,
            sdp: ANSWER_B.into(),
        },
    );
    assert_eq!(
        out,
        vec![Command::SendSignal {
            to: "aaa".into(),
            signal: PeerSignal::Answer(ANSWER_B.into())
        }]
    );
    assert_eq!(b.peer(key).unwrap().signaling, Signaling::Stable);
}

#[test]
fn roles_are_opposite_and_agreed_from_ids() {
    let pairs = [
        ("a", "b"),
        ("b", "a"),
        ("0f3e", "0f3d"),
        ("x-1", "x-10"),
        ("Z", "a"),
    ];
    for (me, them) in pairs {
        let mut mine = room(me);
        mine.step(0, Event::PeerJoined(them.into()));
        let mut theirs = room(them);
        theirs.step(0, signal(me, PeerSignal::Offer(OFFER_A.into())));
        let p1 = mine.peer(mine.key_of(them).unwrap()).unwrap().polite;
        let p2 = theirs.peer(theirs.key_of(me).unwrap()).unwrap().polite;
        assert_ne!(p1, p2, "{me} vs {them}: exactly one side is polite");
    }
}

#[test]
fn joined_peer_is_never_ourselves_or_twice() {
    let mut a = room("aaa");
    assert!(a.step(0, Event::PeerJoined("aaa".into())).is_empty());
    a.step(0, Event::PeerJoined("bbb".into()));
    assert!(a.step(0, Event::PeerJoined("bbb".into())).is_empty());
    assert_eq!(a.peers().count(), 1);
}

/// Both sides renegotiate at once. Table: whether the polite side's own offer was already set
/// locally when the impolite offer reached it.
#[test]
fn glare_resolves_with_polite_rolling_back() {
    for polite_offer_already_set in [true, false] {
        // "aaa" < "bbb": aaa is polite.
        let mut a = room("aaa");
        let mut b = room("bbb");
        let ka = connected(&mut a, "bbb");
        let kb = {
            b.step(0, signal("aaa", PeerSignal::Offer(OFFER_A.into())));
            let k = b.key_of("aaa").unwrap();
            b.step(
                0,
                Event::LocalDescription {
                    key: k,
                    kind: SdpKind::Answer,
                    sdp: ANSWER_B.into(),
                },
            );
            b.step(
                0,
                Event::ConnectionState {
                    key: k,
                    state: ConnState::Connected,
                },
            );
            k
        };
        assert!(a.peer(ka).unwrap().polite && !b.peer(kb).unwrap().polite);

        assert_eq!(
            a.step(5, Event::NegotiationNeeded(ka)),
            vec![Command::MakeOffer {
                key: ka,
                ice_restart: false
            }]
        );
        assert_eq!(
            b.step(5, Event::NegotiationNeeded(kb)),
            vec![Command::MakeOffer {
                key: kb,
                ice_restart: false
            }]
        );
        let b_offer = b.step(
            6,
            Event::LocalDescription {
                key: kb,
                kind: SdpKind::Offer,
                sdp: ANSWER_B.into(),
            },
        );
        assert_eq!(b_offer.len(), 1);

        if polite_offer_already_set {
            let sent = a.step(
                6,
                Event::LocalDescription {
                    key: ka,
                    kind: SdpKind::Offer,
                    sdp: OFFER_A2.into(),
                },
            );
            assert_eq!(
                sent,
                vec![Command::SendSignal {
                    to: "bbb".into(),
                    signal: PeerSignal::Offer(OFFER_A2.into())
                }]
            );
            // The impolite side ignores the colliding offer.
            assert!(b
                .step(7, signal("aaa", PeerSignal::Offer(OFFER_A2.into())))
                .is_empty());
        }
        // The polite side accepts the impolite offer (implicit rollback).
        let out = a.step(7, signal("bbb", PeerSignal::Offer(ANSWER_B.into())));
        assert_eq!(
            out,
            vec![Command::AcceptOffer {
                key: ka,
                sdp: ANSWER_B.into()
            }]
        );
        if !polite_offer_already_set {
            // Its own offer finishes after the decision: it is rolled back, never sent.
            assert!(a
                .step(
                    8,
                    Event::LocalDescription {
                        key: ka,
                        kind: SdpKind::Offer,
                        sdp: OFFER_A2.into()
                    }
                )
                .is_empty());
        }
        let answer = a.step(
            9,
            Event::LocalDescription {
                key: ka,
                kind: SdpKind::Answer,
                sdp: OFFER_A2.into(),
            },
        );
        assert_eq!(
            answer,
            vec![Command::SendSignal {
                to: "bbb".into(),
                signal: PeerSignal::Answer(OFFER_A2.into())
            }]
        );
        let out = b.step(10, signal("aaa", PeerSignal::Answer(OFFER_A2.into())));
        assert_eq!(
            out,
            vec![Command::AcceptAnswer {
                key: kb,
                sdp: OFFER_A2.into()
            }]
        );
        for p in [a.peer(ka).unwrap(), b.peer(kb).unwrap()] {
            assert_eq!(p.signaling, Signaling::Stable);
            assert!(!p.making_offer);
            assert_eq!(p.state, PeerState::Connected);
        }
    }
}

#[test]
fn candidates_before_the_remote_description_are_queued_in_order() {
    // Caller side: candidates overtake the answer.
    let mut a = room("aaa");
    a.step(0, Event::PeerJoined("bbb".into()));
    let key = a.key_of("bbb").unwrap();
    a.step(
        0,
        Event::LocalDescription {
            key,
            kind: SdpKind::Offer,
            sdp: OFFER_A.into(),
        },
    );
    for n in 1..=2 {
        assert!(a
            .step(1, signal("bbb", PeerSignal::IceCandidate(cand(n))))
            .is_empty());
    }
    let out = a.step(2, signal("bbb", PeerSignal::Answer(ANSWER_B.into())));
    assert_eq!(
        out,
        vec![
            Command::AcceptAnswer {
                key,
                sdp: ANSWER_B.into()
            },
            Command::AddCandidate {
                key,
                candidate: cand(1)
            },
            Command::AddCandidate {
                key,
                candidate: cand(2)
            },
        ]
    );
    assert_eq!(
        a.step(3, signal("bbb", PeerSignal::IceCandidate(cand(3)))),
        vec![Command::AddCandidate {
            key,
            candidate: cand(3)
        }]
    );

    // Newcomer side: candidates from a sender we do not know yet, then its offer.
    let mut b = room("bbb");
    assert!(b
        .step(1, signal("aaa", PeerSignal::IceCandidate(cand(7))))
        .is_empty());
    let out = b.step(2, signal("aaa", PeerSignal::Offer(OFFER_A.into())));
    let key = b.key_of("aaa").unwrap();
    assert_eq!(
        out.last(),
        Some(&Command::AddCandidate {
            key,
            candidate: cand(7)
        })
    );
}

#[test]
fn peer_leaving_mid_negotiation_is_released_and_late_events_do_nothing() {
    let mut a = room("aaa");
    a.step(0, Event::PeerJoined("bbb".into()));
    a.step(0, Event::PeerJoined("ccc".into()));
    let kb = a.key_of("bbb").unwrap();
    let out = a.step(1, Event::PeerLeft("bbb".into()));
    assert_eq!(out, removal(kb));
    // The browser finishes what was in flight; nothing may reach the gone peer.
    let late = [
        Event::LocalDescription {
            key: kb,
            kind: SdpKind::Offer,
            sdp: OFFER_A.into(),
        },
        Event::LocalCandidate {
            key: kb,
            candidate: cand(1),
        },
        Event::ConnectionState {
            key: kb,
            state: ConnState::Closed,
        },
        Event::ChannelClosed(kb),
        Event::NegotiationFailed {
            key: kb,
            error: "closed".into(),
        },
        signal("bbb", PeerSignal::Answer(ANSWER_B.into())),
        Event::PeerLeft("bbb".into()),
    ];
    for event in late {
        assert!(a.step(2, event.clone()).is_empty(), "{event:?}");
    }
    assert_eq!(
        a.peers()
            .map(|p| p.signaling_id.as_str())
            .collect::<Vec<_>>(),
        ["ccc"]
    );
}

#[test]
fn a_peer_sending_garbage_fails_alone() {
    let garbage = [
        json!("nonsense"),
        json!({"Offer": 5}),
        json!({"Bogus": "x"}),
        json!(null),
    ];
    for data in garbage {
        let mut a = room("aaa");
        let kb = connected(&mut a, "bbb");
        let kc = connected(&mut a, "ccc");
        let out = a.step(
            10,
            Event::Signal {
                from: "bbb".into(),
                data: data.clone(),
            },
        );
        assert_eq!(
            out,
            vec![
                Command::ClosePeer { key: kb },
                Command::PeerUpdated { key: kb }
            ],
            "{data}"
        );
        assert_eq!(a.peer(kb).unwrap().state, PeerState::Failed);
        assert_eq!(a.peer(kc).unwrap().state, PeerState::Connected);
        // Still-usable peer keeps working.
        assert_eq!(
            a.step(11, signal("ccc", PeerSignal::IceCandidate(cand(1)))),
            vec![Command::AddCandidate {
                key: kc,
                candidate: cand(1)
            }]
        );
        // The failed tile goes after a moment; nothing is closed twice.
        assert!(a.step(10 + FAILED_TILE_MS - 1, Event::Tick).is_empty());
        assert_eq!(
            a.step(10 + FAILED_TILE_MS, Event::Tick),
            vec![Command::PeerRemoved { key: kb }]
        );
        assert!(a.peer(kc).is_some());
    }
    // Garbage from an unknown sender touches nobody.
    let mut a = room("aaa");
    let kc = connected(&mut a, "ccc");
    assert!(a
        .step(
            1,
            Event::Signal {
                from: "zzz".into(),
                data: json!([1, 2])
            }
        )
        .is_empty());
    assert_eq!(a.peer(kc).unwrap().state, PeerState::Connected);
}

#[test]
fn an_sdp_the_browser_rejects_fails_that_peer() {
    let mut a = room("aaa");
    let kb = connected(&mut a, "bbb");
    let kc = connected(&mut a, "ccc");
    let out = a.step(
        1,
        Event::NegotiationFailed {
            key: kb,
            error: "bad sdp".into(),
        },
    );
    assert_eq!(
        out,
        vec![
            Command::ClosePeer { key: kb },
            Command::PeerUpdated { key: kb }
        ]
    );
    assert_eq!(a.peer(kc).unwrap().state, PeerState::Connected);
}

#[test]
fn data_channel_carries_name_and_media_state() {
    let mut a = room("aaa");
    let kb = connected(&mut a, "bbb");
    let hello =
        r#"{"type":"hello","name":" Ada\u0007 ","mic":false,"cam":true,"signaling_id":"bbb"}"#;
    assert_eq!(
        a.step(
            1,
            Event::ChannelMessage {
                key: kb,
                text: hello.into()
            }
        ),
        vec![Command::PeerUpdated { key: kb }]
    );
    assert_eq!(
        a.peer(kb).unwrap().view(),
        PeerView {
            name: "Ada".into(),
            mic: false,
            cam: true,
            state: PeerState::Connected
        }
    );
    let media = r#"{"type":"media","mic":true,"cam":false}"#;
    a.step(
        2,
        Event::ChannelMessage {
            key: kb,
            text: media.into(),
        },
    );
    assert_eq!(
        (a.peer(kb).unwrap().mic, a.peer(kb).unwrap().cam),
        (true, false)
    );
    for junk in ["", "{", r#"{"type":"nope"}"#] {
        assert!(a
            .step(
                3,
                Event::ChannelMessage {
                    key: kb,
                    text: junk.into()
                }
            )
            .is_empty());
    }
    // Our own toggles go to every peer with an open channel.
    let out = a.step(
        4,
        Event::LocalMedia {
            mic: false,
            cam: false,
        },
    );
    assert_eq!(
        out,
        vec![Command::SendToPeer {
            key: kb,
            message: PeerMessage::Media {
                mic: false,
                cam: false
            }
        }]
    );
    // A new channel gets our hello with the current state.
    let kc = connected(&mut a, "ccc");
    let _ = kc;
    let mut fresh = room("aaa");
    fresh.step(0, Event::PeerJoined("ddd".into()));
    let kd = fresh.key_of("ddd").unwrap();
    assert_eq!(
        fresh.step(1, Event::ChannelOpen(kd)),
        vec![Command::SendToPeer {
            key: kd,
            message: PeerMessage::Hello {
                name: "me".into(),
                mic: true,
                cam: true,
                signaling_id: Some("aaa".into())
            }
        }]
    );
}

#[test]
fn closed_data_channel_removes_the_peer() {
    let mut a = room("aaa");
    let kb = connected(&mut a, "bbb");
    assert_eq!(a.step(1, Event::ChannelClosed(kb)), removal(kb));
    assert!(a.peer(kb).is_none());
}

#[test]
fn ice_failure_restarts_on_the_impolite_side_then_gives_up() {
    // "zzz" > "aaa": zzz is impolite towards aaa.
    let mut z = room("zzz");
    let k = connected(&mut z, "aaa");
    let out = z.step(
        100,
        Event::ConnectionState {
            key: k,
            state: ConnState::Failed,
        },
    );
    assert_eq!(
        out,
        vec![
            Command::MakeOffer {
                key: k,
                ice_restart: true
            },
            Command::PeerUpdated { key: k }
        ]
    );
    assert_eq!(z.peer(k).unwrap().state, PeerState::Reconnecting);
    z.step(
        101,
        Event::LocalDescription {
            key: k,
            kind: SdpKind::Offer,
            sdp: OFFER_A2.into(),
        },
    );
    z.step(102, signal("aaa", PeerSignal::Answer(ANSWER_B.into())));
    let out = z.step(
        200,
        Event::ConnectionState {
            key: k,
            state: ConnState::Connected,
        },
    );
    assert_eq!(out, vec![Command::PeerUpdated { key: k }]);

    // The polite side waits for the impolite one, then steps in.
    let mut a = room("aaa");
    let k = connected(&mut a, "zzz");
    let out = a.step(
        1_000,
        Event::ConnectionState {
            key: k,
            state: ConnState::Failed,
        },
    );
    assert_eq!(out, vec![Command::PeerUpdated { key: k }]);
    // It is alive (its signals still arrive) but does not restart.
    a.step(1_001, signal("zzz", PeerSignal::IceCandidate(cand(1))));
    assert!(a
        .step(1_000 + POLITE_RESTART_MS - 1, Event::Tick)
        .is_empty());
    assert_eq!(
        a.step(1_000 + POLITE_RESTART_MS, Event::Tick),
        vec![Command::MakeOffer {
            key: k,
            ice_restart: true
        }]
    );
    a.step(
        1_000 + POLITE_RESTART_MS,
        Event::LocalDescription {
            key: k,
            kind: SdpKind::Offer,
            sdp: OFFER_A2.into(),
        },
    );
    a.step(
        1_000 + POLITE_RESTART_MS,
        signal("zzz", PeerSignal::Answer(ANSWER_B.into())),
    );
    // Never comes back: the peer fails, and its tile goes.
    let out = a.step(1_000 + GIVE_UP_MS, Event::Tick);
    assert_eq!(
        out,
        vec![
            Command::ClosePeer { key: k },
            Command::PeerUpdated { key: k }
        ]
    );
    let out = a.step(1_000 + GIVE_UP_MS + FAILED_TILE_MS, Event::Tick);
    assert_eq!(out, vec![Command::PeerRemoved { key: k }]);
}

#[test]
fn disconnected_for_a_while_counts_as_lost() {
    let mut z = room("zzz");
    let k = connected(&mut z, "aaa");
    z.step(
        0,
        Event::ConnectionState {
            key: k,
            state: ConnState::Disconnected,
        },
    );
    assert!(z.step(DISCONNECTED_RESTART_MS - 1, Event::Tick).is_empty());
    assert_eq!(
        z.step(DISCONNECTED_RESTART_MS, Event::Tick),
        vec![Command::MakeOffer {
            key: k,
            ice_restart: true
        }]
    );
}

#[test]
fn signaling_reconnect_rebinds_established_peers_and_drops_half_negotiated_ones() {
    let mut a = room("aaa");
    let kb = connected(&mut a, "bbb");
    a.step(0, Event::PeerJoined("ccc".into()));
    let kc = a.key_of("ccc").unwrap();
    assert!(a.step(1, Event::SignalingLost).is_empty());
    let out = a.step(2, Event::IdAssigned("aaa2".into()));
    assert_eq!(
        out,
        vec![
            Command::SendToPeer {
                key: kb,
                message: PeerMessage::Rebind {
                    signaling_id: "aaa2".into()
                }
            },
            Command::ClosePeer { key: kc },
            Command::PeerRemoved { key: kc },
        ]
    );
    // bbb saw us as a new peer and called our new id from a second connection: ignored.
    assert!(a
        .step(3, signal("bbb", PeerSignal::Offer(OFFER_OTHER_PC.into())))
        .is_empty());
    // A renegotiation of the existing connection is still answered.
    assert_eq!(
        a.step(4, signal("bbb", PeerSignal::Offer(ANSWER_B.into()))),
        vec![Command::AcceptOffer {
            key: kb,
            sdp: ANSWER_B.into()
        }]
    );
}

#[test]
fn rebind_replaces_the_duplicate_connection() {
    let mut b = room("bbb");
    let ka = connected(&mut b, "aaa");
    // aaa's socket reconnected as aaa2: the server announces it as new and we call it ...
    b.step(1, Event::PeerJoined("aaa2".into()));
    let dup = b.key_of("aaa2").unwrap();
    // ... until its rebind over the old connection arrives.
    let out = b.step(
        2,
        Event::ChannelMessage {
            key: ka,
            text: r#"{"type":"rebind","signaling_id":"aaa2"}"#.into(),
        },
    );
    assert_eq!(out, removal(dup));
    assert_eq!(b.key_of("aaa2"), Some(ka));
    assert_eq!(b.key_of("aaa"), None);
    let out = b.step(
        3,
        Event::LocalCandidate {
            key: ka,
            candidate: cand(1),
        },
    );
    assert_eq!(
        out,
        vec![Command::SendSignal {
            to: "aaa2".into(),
            signal: PeerSignal::IceCandidate(cand(1))
        }]
    );
}

#[test]
fn first_negotiation_that_never_connects_fails() {
    let mut a = room("aaa");
    a.step(0, Event::PeerJoined("bbb".into()));
    let k = a.key_of("bbb").unwrap();
    assert!(a.step(CONNECT_TIMEOUT_MS - 1, Event::Tick).is_empty());
    assert_eq!(
        a.step(CONNECT_TIMEOUT_MS, Event::Tick),
        vec![
            Command::ClosePeer { key: k },
            Command::PeerUpdated { key: k }
        ]
    );
}

#[test]
fn leave_closes_everything() {
    let mut a = room("aaa");
    let kb = connected(&mut a, "bbb");
    a.step(0, Event::PeerJoined("ccc".into()));
    let kc = a.key_of("ccc").unwrap();
    let out = a.close_all();
    assert_eq!(
        out,
        vec![
            Command::ClosePeer { key: kb },
            Command::PeerRemoved { key: kb },
            Command::ClosePeer { key: kc },
            Command::PeerRemoved { key: kc },
        ]
    );
    assert_eq!(a.peers().count(), 0);
}

#[test]
fn peer_left_with_a_live_connection_waits_for_its_rebind() {
    let ping = |key| {
        vec![Command::SendToPeer {
            key,
            message: PeerMessage::Ping,
        }]
    };
    let pong = r#"{"type":"pong"}"#;
    // Signaling socket of a connected peer dropped: we ask whether it is still there ...
    let mut b = room("bbb");
    let ka = connected(&mut b, "aaa");
    assert_eq!(b.step(100, Event::PeerLeft("aaa".into())), ping(ka));
    assert!(b
        .step(
            101,
            Event::ChannelMessage {
                key: ka,
                text: pong.into()
            }
        )
        .is_empty());
    assert!(
        b.step(100 + PONG_TIMEOUT_MS, Event::Tick).is_empty(),
        "it answered: the call goes on"
    );
    assert_eq!(b.peer(ka).unwrap().state, PeerState::Connected);
    // ... it comes back under a new id: the server's NewPeer waits for its rebind over the
    // channel, which re-keys the connection we have, so no second one is ever built.
    assert!(b.step(200, Event::PeerJoined("aaa2".into())).is_empty());
    let out = b.step(
        300,
        Event::ChannelMessage {
            key: ka,
            text: r#"{"type":"rebind","signaling_id":"aaa2"}"#.into(),
        },
    );
    assert_eq!(out, vec![]);
    assert_eq!(b.key_of("aaa2"), Some(ka));
    assert!(
        b.step(100 + REBIND_GRACE_MS, Event::Tick).is_empty(),
        "rebound: no longer on the clock"
    );

    // One that answers but never comes back goes after the grace period.
    let mut b = room("bbb");
    let ka = connected(&mut b, "aaa");
    b.step(100, Event::PeerLeft("aaa".into()));
    b.step(
        150,
        Event::ChannelMessage {
            key: ka,
            text: pong.into(),
        },
    );
    gone_exactly_at(&mut b, 100 + REBIND_GRACE_MS, ka);

    // A closed tab never answers: its tile goes quickly.
    let mut b = room("bbb");
    let ka = connected(&mut b, "aaa");
    b.step(100, Event::PeerLeft("aaa".into()));
    gone_exactly_at(&mut b, 100 + PONG_TIMEOUT_MS, ka);

    // A peer still negotiating goes at once.
    let mut b = room("bbb");
    b.step(0, Event::PeerJoined("ccc".into()));
    let kc = b.key_of("ccc").unwrap();
    assert_eq!(b.step(1, Event::PeerLeft("ccc".into())), removal(kc));
}

#[test]
fn ping_is_answered() {
    let mut a = room("aaa");
    let kb = connected(&mut a, "bbb");
    let out = a.step(
        1,
        Event::ChannelMessage {
            key: kb,
            text: r#"{"type":"ping"}"#.into(),
        },
    );
    assert_eq!(
        out,
        vec![Command::SendToPeer {
            key: kb,
            message: PeerMessage::Pong
        }]
    );
}

#[test]
fn after_a_server_restart_a_rebinding_peer_gets_no_second_connection() {
    let mut a = room("aaa");
    let kb = connected(&mut a, "bbb");
    let kc = connected(&mut a, "ccc");
    a.step(1, Event::SignalingLost);
    a.step(2, Event::IdAssigned("aaa2".into()));
    // The restarted server announces bbb under its new id before bbb's rebind reaches us: wait.
    assert!(a.step(3, Event::PeerJoined("bbb2".into())).is_empty());
    let rebind = |id: &str| Event::ChannelMessage {
        key: kb,
        text: format!(r#"{{"type":"rebind","signaling_id":"{id}"}}"#),
    };
    assert!(
        a.step(4, rebind("bbb2")).is_empty(),
        "no duplicate to build or drop"
    );
    assert_eq!(a.key_of("bbb2"), Some(kb));
    assert!(a.step(5 + REBIND_WAIT_MS, Event::Tick).is_empty());
    // A real newcomer while ccc has not rebound yet is called once the wait is over.
    assert!(a
        .step(6 + REBIND_WAIT_MS, Event::PeerJoined("ddd".into()))
        .is_empty());
    let out = a.step(7 + 2 * REBIND_WAIT_MS, Event::Tick);
    let kd = a.key_of("ddd").expect("ddd called");
    assert_eq!(
        out[..2],
        [
            Command::CreatePeer {
                key: kd,
                offerer: true
            },
            Command::MakeOffer {
                key: kd,
                ice_restart: false
            }
        ]
    );
    // Once everyone has rebound, newcomers are called at once.
    a.step(
        8 + 2 * REBIND_WAIT_MS,
        Event::ChannelMessage {
            key: kc,
            text: r#"{"type":"rebind","signaling_id":"ccc2"}"#.into(),
        },
    );
    let out = a.step(9 + 2 * REBIND_WAIT_MS, Event::PeerJoined("eee".into()));
    assert!(matches!(out[0], Command::CreatePeer { offerer: true, .. }));
}

#[test]
fn a_peer_silent_since_its_connection_went_bad_is_gone() {
    // Frozen or cut off: no answer to our ICE restart, nothing else either, while our own
    // signaling is up. Its tile goes without waiting out the give-up time.
    let mut z = room("zzz");
    let k = connected(&mut z, "aaa");
    z.step(
        1_000,
        Event::ConnectionState {
            key: k,
            state: ConnState::Disconnected,
        },
    );
    assert_eq!(
        z.step(1_000 + DISCONNECTED_RESTART_MS, Event::Tick),
        vec![Command::MakeOffer {
            key: k,
            ice_restart: true
        }]
    );
    gone_exactly_at(&mut z, 1_000 + SILENT_PEER_MS, k);
    // An answer (the media path is cut, the peer is fine) keeps it.
    let mut z = room("zzz");
    let k = connected(&mut z, "aaa");
    z.step(
        1_000,
        Event::ConnectionState {
            key: k,
            state: ConnState::Disconnected,
        },
    );
    z.step(1_000 + DISCONNECTED_RESTART_MS, Event::Tick);
    z.step(
        1_000 + DISCONNECTED_RESTART_MS,
        Event::LocalDescription {
            key: k,
            kind: SdpKind::Offer,
            sdp: OFFER_A2.into(),
        },
    );
    z.step(
        1_000 + DISCONNECTED_RESTART_MS + 1,
        signal("aaa", PeerSignal::Answer(ANSWER_B.into())),
    );
    assert!(z.step(1_000 + SILENT_PEER_MS + 1, Event::Tick).is_empty());
    assert_eq!(z.peer(k).unwrap().state, PeerState::Reconnecting);
    // While our own socket is down we cannot hear anyone: nobody is judged silent.
    let mut z = room("zzz");
    let k = connected(&mut z, "aaa");
    z.step(900, Event::SignalingLost);
    z.step(
        1_000,
        Event::ConnectionState {
            key: k,
            state: ConnState::Disconnected,
        },
    );
    z.step(1_000 + SILENT_PEER_MS, Event::Tick);
    assert!(z.peer(k).is_some());
}

/// A connected peer that heartbeats over the data channel and then falls silent (a frozen tab)
/// goes `SILENT_PEER_MS` after its last word, long before Chromium calls its ICE `disconnected`.
#[test]
fn a_heartbeating_peer_that_falls_silent_goes_within_the_silence_bounds() {
    let mut z = room("zzz");
    let k = connected(&mut z, "aaa");
    let ping = |at: u64, z: &mut Room| {
        z.step(
            at,
            Event::ChannelMessage {
                key: k,
                text: r#"{"type":"ping"}"#.into(),
            },
        )
    };
    // We heartbeat on every open channel.
    assert_eq!(
        z.step(500, Event::Heartbeat),
        vec![Command::SendToPeer {
            key: k,
            message: PeerMessage::Ping
        }]
    );
    assert_eq!(
        ping(1_000, &mut z),
        vec![Command::SendToPeer {
            key: k,
            message: PeerMessage::Pong
        }]
    );
    // Quiet for less than the silence bound: nothing happens.
    assert!(z
        .step(1_000 + CHANNEL_SILENCE_MS - 1, Event::Tick)
        .is_empty());
    // Silent past it: the tile shows reconnecting and the impolite side restarts ICE.
    let out = z.step(1_000 + CHANNEL_SILENCE_MS, Event::Tick);
    assert_eq!(z.peer(k).unwrap().state, PeerState::Reconnecting);
    assert!(out.contains(&Command::PeerUpdated { key: k }), "{out:?}");
    assert!(
        out.contains(&Command::MakeOffer {
            key: k,
            ice_restart: true
        }),
        "{out:?}"
    );
    // Nothing heard over signaling either: gone SILENT_PEER_MS after its last word.
    assert!(z.peer(k).is_some());
    let out = z.step(1_000 + SILENT_PEER_MS, Event::Tick);
    assert!(out.contains(&Command::PeerRemoved { key: k }), "{out:?}");
    assert!(z.peer(k).is_none());
}

/// A silent channel whose peer still answers over signaling (the media path is cut) is kept, and
/// the tile is connected again as soon as the channel speaks.
#[test]
fn a_silent_channel_whose_peer_answers_over_signaling_is_kept() {
    let mut z = room("zzz");
    let k = connected(&mut z, "aaa");
    z.step(
        1_000,
        Event::ChannelMessage {
            key: k,
            text: r#"{"type":"ping"}"#.into(),
        },
    );
    z.step(1_000 + CHANNEL_SILENCE_MS, Event::Tick);
    z.step(
        1_000 + CHANNEL_SILENCE_MS,
        Event::LocalDescription {
            key: k,
            kind: SdpKind::Offer,
            sdp: OFFER_A2.into(),
        },
    );
    z.step(
        1_000 + CHANNEL_SILENCE_MS + 1,
        signal("aaa", PeerSignal::Answer(ANSWER_B.into())),
    );
    z.step(1_000 + SILENT_PEER_MS + 1_000, Event::Tick);
    assert_eq!(z.peer(k).unwrap().state, PeerState::Reconnecting);
    let out = z.step(
        1_000 + SILENT_PEER_MS + 1_500,
        Event::ChannelMessage {
            key: k,
            text: r#"{"type":"pong"}"#.into(),
        },
    );
    assert!(out.contains(&Command::PeerUpdated { key: k }), "{out:?}");
    assert_eq!(z.peer(k).unwrap().state, PeerState::Connected);
}

/// A peer that never heartbeats (an older client) is not judged by its channel's silence.
#[test]
fn a_peer_without_heartbeats_is_not_judged_by_silence() {
    let mut z = room("zzz");
    let k = connected(&mut z, "aaa");
    z.step(
        1_000,
        Event::ChannelMessage {
            key: k,
            text: r#"{"type":"media","mic":true,"cam":true}"#.into(),
        },
    );
    assert!(z.step(1_000 + GIVE_UP_MS, Event::Tick).is_empty());
    assert_eq!(z.peer(k).unwrap().state, PeerState::Connected);
}
