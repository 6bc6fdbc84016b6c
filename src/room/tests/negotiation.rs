//! Negotiation: who calls whom, perfect negotiation on glare, early candidates, bad SDP.

use super::*;
use crate::room::negotiation::Phase;
use serde_json::json;

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
    // The tile after the offer: its render does not hold the offer back.
    assert_eq!(
        out,
        vec![
            Command::SendSignal {
                to: "bbb".into(),
                signal: PeerSignal::Offer(OFFER_A.into())
            },
            Command::PeerUpdated { key },
        ]
    );
}

#[test]
fn a_new_peers_tile_waits_for_our_description_or_the_next_tick() {
    let mut a = room("aaa");
    let out = a.step(1, Event::PeerJoined("bbb".into()));
    let kb = a.key_of("bbb").unwrap();
    assert!(!out.contains(&Command::PeerUpdated { key: kb }), "{out:?}");
    a.step(2, Event::PeerJoined("ccc".into()));
    let kc = a.key_of("ccc").unwrap();
    // Our offer to ccc goes out: ccc's tile, not bbb's.
    let out = a.step(
        4,
        Event::LocalDescription {
            key: kc,
            kind: SdpKind::Offer,
            sdp: OFFER_A.into(),
        },
    );
    assert!(out.contains(&Command::PeerUpdated { key: kc }), "{out:?}");
    assert!(!out.contains(&Command::PeerUpdated { key: kb }), "{out:?}");
    // bbb's offer never came back from the browser: the next tick shows its tile anyway, once.
    assert_eq!(
        a.step(5, Event::Tick),
        vec![Command::PeerUpdated { key: kb }]
    );
    assert!(a.step(6, Event::Tick).is_empty());
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
        vec![
            Command::SendSignal {
                to: "aaa".into(),
                signal: PeerSignal::Answer(ANSWER_B.into())
            },
            Command::PeerUpdated { key },
        ]
    );
    assert_eq!(b.peer(key).unwrap().negotiation.phase, Phase::Stable);
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
            assert_eq!(p.negotiation.phase, Phase::Stable);
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
                Command::ClosePeer {
                    key: kb,
                    why: Why::Garbage
                },
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
            Command::ClosePeer {
                key: kb,
                why: Why::NegotiationFailed
            },
            Command::PeerUpdated { key: kb }
        ]
    );
    assert_eq!(a.peer(kc).unwrap().state, PeerState::Connected);
}

/// `zzz` (impolite towards `aaa`) lost the path to `aaa` and sent its ICE restart offer while its
/// own socket was down: the edge dropped it. Returns the peer's key.
fn restart_offered_while_down(z: &mut Room) -> PeerKey {
    let k = connected(z, "aaa");
    z.step(
        100,
        Event::ConnectionState {
            key: k,
            state: ConnState::Failed,
        },
    );
    z.step(200, Event::SignalingLost);
    let out = z.step(
        300,
        Event::LocalDescription {
            key: k,
            kind: SdpKind::Offer,
            sdp: OFFER_A2.into(),
        },
    );
    assert!(matches!(out[..], [Command::SendSignal { .. }]), "{out:?}");
    k
}

/// Where in `out` the signal `signal` to `to` is.
fn position(out: &[Command], to: &str, signal: &PeerSignal) -> Option<usize> {
    out.iter().position(
        |c| matches!(c, Command::SendSignal { to: t, signal: s } if t == to && s == signal),
    )
}

#[test]
fn an_offer_lost_while_the_socket_was_down_is_sent_again_when_it_comes_back() {
    let mut z = room("zzz");
    let k = restart_offered_while_down(&mut z);
    // The socket is back (a new id): the offer went nowhere, or its answer went to our old id.
    let out = z.step(5_000, Event::IdAssigned("zzz2".into()));
    let offer = PeerSignal::Offer(OFFER_A2.into());
    let again = position(&out, "aaa", &offer).expect("the offer sent again");
    // After our rebind proof, so that aaa knows our new id when the offer comes from it.
    let proof = PeerSignal::Rebind(crate::trust::rebind_mac(&their_token("aaa"), "zzz2"));
    assert!(
        position(&out, "aaa", &proof).is_some_and(|p| p < again),
        "{out:?}"
    );
    // No rollback and no second offer: the same one is answered, and the connection comes back
    // long before it would have been given up.
    assert!(!out.iter().any(|c| matches!(c, Command::MakeOffer { .. })));
    assert_eq!(
        z.step(5_003, signal("aaa", PeerSignal::Answer(ANSWER_B.into()))),
        vec![Command::AcceptAnswer {
            key: k,
            sdp: ANSWER_B.into()
        }]
    );
    z.step(
        5_500,
        Event::ConnectionState {
            key: k,
            state: ConnState::Connected,
        },
    );
    assert_eq!(z.peer(k).unwrap().state, PeerState::Connected);
    assert!(!loses_a_peer(&z.step(100 + GIVE_UP_MS, Event::Tick)));
}

#[test]
fn while_the_socket_stays_down_the_waiting_offer_holds_restarts_until_the_peer_is_given_up() {
    // The rollback waits for the socket: while it is down no offer could go anyway, and a peer
    // whose path and signaling never come back is given up as before.
    let mut z = room("zzz");
    let k = restart_offered_while_down(&mut z);
    for t in (1_000..100 + GIVE_UP_MS).step_by(1_000) {
        let out = z.step(t, Event::Tick);
        assert!(
            !out.iter().any(|c| matches!(c, Command::MakeOffer { .. })),
            "no restart at {t} while the offer waits: {out:?}"
        );
    }
    assert!(z
        .step(100 + GIVE_UP_MS, Event::Tick)
        .contains(&Command::ClosePeer {
            key: k,
            why: Why::Lost
        }));
}

#[test]
fn an_offer_to_a_peer_that_moved_to_a_new_id_is_sent_there_again() {
    // Our socket stayed up, the peer's dropped: our restart offer went to its old id.
    let mut z = room("zzz");
    let k = connected(&mut z, "aaa");
    z.step(
        100,
        Event::ConnectionState {
            key: k,
            state: ConnState::Failed,
        },
    );
    z.step(
        200,
        Event::LocalDescription {
            key: k,
            kind: SdpKind::Offer,
            sdp: OFFER_A2.into(),
        },
    );
    let out = z.step(1_000, rebind_proof("aaa2", &my_token("aaa")));
    assert_eq!(z.key_of("aaa2"), Some(k));
    let offer = PeerSignal::Offer(OFFER_A2.into());
    let again = position(&out, "aaa2", &offer).expect("the offer sent to the new id");
    let proof = PeerSignal::Rebind(crate::trust::rebind_mac(&their_token("aaa"), "zzz"));
    assert!(
        position(&out, "aaa2", &proof).is_some_and(|p| p < again),
        "{out:?}"
    );
    // Its answer, from the new id, completes the restart on the same connection.
    assert_eq!(
        z.step(1_001, signal("aaa2", PeerSignal::Answer(ANSWER_B.into()))),
        vec![Command::AcceptAnswer {
            key: k,
            sdp: ANSWER_B.into()
        }]
    );
}

#[test]
fn a_reconnect_with_no_offer_waiting_sends_none() {
    let mut z = room("zzz");
    connected(&mut z, "aaa");
    z.step(1, Event::SignalingLost);
    let out = z.step(2, Event::IdAssigned("zzz2".into()));
    assert!(
        !out.iter().any(|c| matches!(
            c,
            Command::SendSignal {
                signal: PeerSignal::Offer(_),
                ..
            }
        )),
        "{out:?}"
    );
}

/// Our browser's active TCP candidates are not signalled: no browser gathers the passive ones
/// they need, so the peer would only spend an `addIceCandidate` on each.
#[test]
fn active_tcp_candidates_are_not_signalled() {
    let mut a = room("aaa");
    a.step(1, Event::PeerJoined("bbb".into()));
    let key = a.key_of("bbb").unwrap();
    let tcp = r#"{"candidate":"candidate:1334013654 1 tcp 1518280447 10.77.0.1 9 typ host tcptype active generation 0 ufrag CyZr network-id 1","sdpMid":"0","sdpMLineIndex":0,"usernameFragment":"CyZr"}"#;
    let udp = r#"{"candidate":"candidate:2972301890 1 udp 2122260223 10.77.0.1 38229 typ host generation 0 ufrag CyZr network-id 1","sdpMid":"0","sdpMLineIndex":0,"usernameFragment":"CyZr"}"#;
    let relay = r#"{"candidate":"candidate:9 1 udp 41885695 10.77.0.9 50000 typ relay raddr 10.77.0.1 rport 40000 generation 0","sdpMid":"0"}"#;
    let sent = |a: &mut Room, c: &str| {
        a.step(
            2,
            Event::LocalCandidate {
                key,
                candidate: c.into(),
            },
        )
    };
    assert!(sent(&mut a, tcp).is_empty());
    for c in [udp, relay] {
        assert_eq!(
            sent(&mut a, c),
            vec![Command::SendSignal {
                to: "bbb".into(),
                signal: PeerSignal::IceCandidate(c.into())
            }]
        );
    }
}
