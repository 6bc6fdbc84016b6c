//! Identity: ids that join and leave, our reconnect under a new id, peers that rebind.

use super::*;

#[test]
fn joined_peer_is_never_ourselves_or_twice() {
    let mut a = room("aaa");
    assert!(a.step(0, Event::PeerJoined("aaa".into())).is_empty());
    a.step(0, Event::PeerJoined("bbb".into()));
    assert!(a.step(0, Event::PeerJoined("bbb".into())).is_empty());
    assert_eq!(a.peers().count(), 1);
}

#[test]
fn peer_leaving_mid_negotiation_is_released_and_late_events_do_nothing() {
    let mut a = room("aaa");
    a.step(0, Event::PeerJoined("bbb".into()));
    a.step(0, Event::PeerJoined("ccc".into()));
    let kb = a.key_of("bbb").unwrap();
    let out = a.step(1, Event::PeerLeft("bbb".into()));
    assert_eq!(out, removal(kb, Why::Left));
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
fn signaling_reconnect_rebinds_established_peers_and_drops_half_negotiated_ones() {
    let mut a = room("aaa");
    let kb = connected(&mut a, "bbb");
    a.step(0, Event::PeerJoined("ccc".into()));
    let kc = a.key_of("ccc").unwrap();
    // Connected peers hear that our socket dropped (once, however many attempts follow).
    assert_eq!(
        a.step(1, Event::SignalingLost),
        vec![Command::SendToPeer {
            key: kb,
            message: PeerMessage::SignalingLost
        }]
    );
    assert!(a.step(1, Event::SignalingLost).is_empty());
    let out = a.step(2, Event::IdAssigned("aaa2".into()));
    assert_eq!(
        out,
        vec![
            // The proof, from our new id, made with the token bbb gave us ...
            Command::SendSignal {
                to: "bbb".into(),
                signal: PeerSignal::Rebind(crate::trust::rebind_mac(&their_token("bbb"), "aaa2"))
            },
            // ... and the hint, over the channel, in case bbb's id changed too.
            Command::SendToPeer {
                key: kb,
                message: PeerMessage::Rebind {
                    signaling_id: "aaa2".into()
                }
            },
            Command::ClosePeer {
                key: kc,
                why: Why::Rebound
            },
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
    // ... its hint over the old connection moves nothing: we answer with our own proof ...
    let ours = Command::SendSignal {
        to: "aaa2".into(),
        signal: PeerSignal::Rebind(crate::trust::rebind_mac(&their_token("aaa"), "bbb")),
    };
    let hint = message(
        ka,
        &PeerMessage::Rebind {
            signaling_id: "aaa2".into(),
        },
    );
    assert_eq!(b.step(2, hint.clone()), vec![ours.clone()]);
    assert_eq!(b.key_of("aaa2"), Some(dup));
    assert!(b.step(2, hint).is_empty(), "answered once");
    // ... until its proof arrives through signaling, from the new id.
    let out = b.step(2, rebind_proof("aaa2", &my_token("aaa")));
    assert_eq!(out, [removal(dup, Why::Replaced), vec![ours]].concat());
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
    // ... it comes back under a new id: the server's NewPeer waits for its rebind, which re-keys
    // the connection we have, so no second one is ever built. Meanwhile the newcomer gets our
    // proof through signaling, in case it is aaa and no channel can tell it where we are.
    assert_eq!(
        b.step(200, Event::PeerJoined("aaa2".into())),
        vec![Command::SendSignal {
            to: "aaa2".into(),
            signal: PeerSignal::Rebind(crate::trust::rebind_mac(&their_token("aaa"), "bbb"))
        }]
    );
    let out = b.step(300, rebind_proof("aaa2", &my_token("aaa")));
    assert_eq!(
        out,
        vec![Command::SendSignal {
            to: "aaa2".into(),
            signal: PeerSignal::Rebind(crate::trust::rebind_mac(&their_token("aaa"), "bbb"))
        }]
    );
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
    gone_exactly_at(&mut b, 100 + REBIND_GRACE_MS, ka, Why::Left);

    // A closed tab never answers: its tile goes quickly.
    let mut b = room("bbb");
    let ka = connected(&mut b, "aaa");
    b.step(100, Event::PeerLeft("aaa".into()));
    gone_exactly_at(&mut b, 100 + PONG_TIMEOUT_MS, ka, Why::Left);

    // A peer still negotiating goes at once.
    let mut b = room("bbb");
    b.step(0, Event::PeerJoined("ccc".into()));
    let kc = b.key_of("ccc").unwrap();
    assert_eq!(
        b.step(1, Event::PeerLeft("ccc".into())),
        removal(kc, Why::Left)
    );
}

#[test]
fn after_a_server_restart_a_rebinding_peer_gets_no_second_connection() {
    let mut a = room("aaa");
    let kb = connected(&mut a, "bbb");
    connected(&mut a, "ccc");
    a.step(1, Event::SignalingLost);
    a.step(2, Event::IdAssigned("aaa2".into()));
    // The restarted server announces bbb under its new id before bbb's rebind reaches us: wait,
    // and send the newcomer our proofs for both peers we wait for, through signaling (no data
    // channel may be up to carry the hints): whichever it is can move us.
    assert_eq!(
        a.step(3, Event::PeerJoined("bbb2".into())),
        ["bbb", "ccc"].map(|them| Command::SendSignal {
            to: "bbb2".into(),
            signal: PeerSignal::Rebind(crate::trust::rebind_mac(&their_token(them), "aaa2")),
        })
    );
    // Its hint tells us where to send our proof; its proof from there moves the connection.
    let hint = message(
        kb,
        &PeerMessage::Rebind {
            signaling_id: "bbb2".into(),
        },
    );
    let ours = Command::SendSignal {
        to: "bbb2".into(),
        signal: PeerSignal::Rebind(crate::trust::rebind_mac(&their_token("bbb"), "aaa2")),
    };
    assert_eq!(a.step(4, hint), vec![ours.clone()]);
    assert_eq!(
        a.step(4, rebind_proof("bbb2", &my_token("bbb"))),
        vec![ours],
        "no duplicate to build or drop"
    );
    assert_eq!(a.key_of("bbb2"), Some(kb));
    assert!(a.step(5 + REBIND_WAIT_MS, Event::Tick).is_empty());
    // A real newcomer while ccc has not rebound yet is called once the wait is over (it gets our
    // proof for ccc meanwhile, which it can do nothing with).
    assert_eq!(
        a.step(6 + REBIND_WAIT_MS, Event::PeerJoined("ddd".into())),
        vec![Command::SendSignal {
            to: "ddd".into(),
            signal: PeerSignal::Rebind(crate::trust::rebind_mac(&their_token("ccc"), "aaa2")),
        }]
    );
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
        rebind_proof("ccc2", &my_token("ccc")),
    );
    let out = a.step(9 + 2 * REBIND_WAIT_MS, Event::PeerJoined("eee".into()));
    assert!(matches!(out[0], Command::CreatePeer { offerer: true, .. }));
}

/// Issue 11, hole 1: a participant says, over its own channel, that it is another participant (or
/// a newcomer we are calling). Nobody's connection moves or drops; the real peers keep theirs.
#[test]
fn a_participant_claiming_another_ids_moves_nothing() {
    let mut a = room("aaa");
    let kb = connected(&mut a, "bbb");
    let km = connected(&mut a, "mmm");
    a.step(1, Event::PeerJoined("ccc".into()));
    let kc = a.key_of("ccc").unwrap();
    for claimed in ["bbb", "ccc"] {
        for claim in [
            PeerMessage::Rebind {
                signaling_id: claimed.into(),
            },
            PeerMessage::Hello {
                name: "Bob".into(),
                mic: true,
                cam: true,
                signaling_id: Some(claimed.into()),
                hand: None,
                share: None,
            },
        ] {
            let out = a.step(2, message(km, &claim));
            assert!(
                out.iter().all(|c| matches!(
                    c,
                    Command::PeerUpdated { key } if *key == km
                ) || matches!(
                    c,
                    // Our proof, made with the token mmm gave us: meaningless to anyone else.
                    Command::SendSignal { to, signal: PeerSignal::Rebind(_) } if to == "ccc"
                )),
                "{claim:?}: {out:?}"
            );
        }
    }
    // A rebind signal mmm can make (from its own id, with the token we gave it, over any id)
    // proves only that mmm is mmm.
    for over in ["bbb", "ccc", "mmm"] {
        let mac = crate::trust::rebind_mac(&my_token("mmm"), over);
        let out = a.step(3, signal("mmm", PeerSignal::Rebind(mac)));
        assert!(out.is_empty(), "{over}: {out:?}");
    }
    // Nor can it forge one for bbb's connection without bbb's token.
    let forged = crate::trust::rebind_mac(&their_token("bbb"), "mmm");
    assert!(a
        .step(3, signal("mmm", PeerSignal::Rebind(forged)))
        .is_empty());
    assert_eq!(
        (a.key_of("bbb"), a.key_of("ccc"), a.key_of("mmm")),
        (Some(kb), Some(kc), Some(km))
    );
    for key in [kb, km] {
        assert_eq!(a.peer(key).unwrap().state, PeerState::Connected);
    }
    // bbb itself, reconnected as bbb2, still moves its connection with a real proof.
    a.step(4, Event::PeerLeft("bbb".into()));
    a.step(4, message(kb, &PeerMessage::Pong));
    // The newcomer gets only the proof for bbb, the one peer whose socket left.
    assert_eq!(
        a.step(5, Event::PeerJoined("bbb2".into())),
        vec![Command::SendSignal {
            to: "bbb2".into(),
            signal: PeerSignal::Rebind(crate::trust::rebind_mac(&their_token("bbb"), "aaa"))
        }]
    );
    a.step(6, rebind_proof("bbb2", &my_token("bbb")));
    assert_eq!(a.key_of("bbb2"), Some(kb));
}

/// Our socket reconnects before the peer's token has reached us (right after the connection came
/// up): the proof we owe it goes as soon as the token arrives.
#[test]
fn a_proof_owed_before_the_token_came_goes_when_it_does() {
    let mut a = room("aaa");
    a.step(0, Event::PeerJoined("bbb".into()));
    let kb = a.key_of("bbb").unwrap();
    for event in [
        Event::LocalDescription {
            key: kb,
            kind: SdpKind::Offer,
            sdp: OFFER_A.into(),
        },
        signal("bbb", PeerSignal::Answer(ANSWER_B.into())),
        Event::ConnectionState {
            key: kb,
            state: ConnState::Connected,
        },
        Event::ChannelOpen(kb),
        secured(kb, "bbb"),
    ] {
        a.step(0, event);
    }
    a.step(1, Event::SignalingLost);
    assert_eq!(
        a.step(2, Event::IdAssigned("aaa2".into())),
        vec![Command::SendToPeer {
            key: kb,
            message: PeerMessage::Rebind {
                signaling_id: "aaa2".into()
            }
        }],
        "no token yet: only the hint"
    );
    let token = PeerMessage::Proof {
        token: their_token("bbb"),
        key_id: None,
        mac: None,
    };
    assert_eq!(
        a.step(3, message(kb, &token)),
        vec![Command::SendSignal {
            to: "bbb".into(),
            signal: PeerSignal::Rebind(crate::trust::rebind_mac(&their_token("bbb"), "aaa2"))
        }]
    );
}

/// A cluster node dies: its peers' sockets are gone, but the others' nodes say so only when
/// presence expires, so the reconnected peer's `NewPeer` comes before anything says it left.
#[test]
fn a_peer_that_says_its_signaling_dropped_gets_no_second_connection_when_its_new_id_joins() {
    let mut b = room("bbb");
    let ka = connected(&mut b, "aaa");
    assert!(b
        .step(1, message(ka, &PeerMessage::SignalingLost))
        .is_empty());
    // Its new id joins before its proof comes: held back, no connection built ...
    assert!(b.step(2, Event::PeerJoined("aaa2".into())).is_empty());
    assert_eq!(b.key_of("aaa2"), None);
    // ... and its proof moves the connection it has; the held-back join is dropped.
    let out = b.step(3, rebind_proof("aaa2", &my_token("aaa")));
    assert!(
        !out.iter()
            .any(|c| matches!(c, Command::CreatePeer { .. } | Command::ClosePeer { .. })),
        "{out:?}"
    );
    assert_eq!(b.key_of("aaa2"), Some(ka));
    assert_eq!(b.peers().count(), 1);
    assert!(b.step(3 + REBIND_WAIT_MS, Event::Tick).is_empty());
    assert_eq!(b.peers().count(), 1);
}

/// The hint is a claim: a peer that says it but never rebinds delays a stranger's join by
/// [`REBIND_WAIT_MS`] at most, and only for [`REBIND_GRACE_MS`] after saying it.
#[test]
fn a_false_signaling_lost_only_delays_joins_briefly_and_lapses() {
    let mut b = room("bbb");
    let ka = connected(&mut b, "aaa");
    b.step(10, message(ka, &PeerMessage::SignalingLost));
    assert!(b.step(20, Event::PeerJoined("ccc".into())).is_empty());
    assert!(b.step(20 + REBIND_WAIT_MS - 1, Event::Tick).is_empty());
    let out = b.step(20 + REBIND_WAIT_MS, Event::Tick);
    let kc = b.key_of("ccc").expect("ccc called once the wait is over");
    assert!(out.contains(&Command::CreatePeer {
        key: kc,
        offerer: true
    }));
    // The liar keeps its connection: the claim harms no one but the wait.
    assert!(b.peer(ka).is_some());
    // Once the grace is over, a join is called at once.
    let later = 10 + REBIND_GRACE_MS;
    let out = b.step(later, Event::PeerJoined("ddd".into()));
    let kd = b.key_of("ddd").expect("ddd called at once");
    assert!(out.contains(&Command::CreatePeer {
        key: kd,
        offerer: true
    }));
}

#[test]
fn signaling_lost_from_a_peer_not_yet_connected_changes_nothing() {
    let mut b = room("bbb");
    b.step(0, Event::PeerJoined("aaa".into()));
    let ka = b.key_of("aaa").unwrap();
    b.step(1, message(ka, &PeerMessage::SignalingLost));
    let out = b.step(2, Event::PeerJoined("ccc".into()));
    assert!(
        out.iter().any(|c| matches!(c, Command::CreatePeer { .. })),
        "{out:?}"
    );
}
