//! Liveness: lost connections, ICE restarts, silence, the timers that give up.

use super::*;

#[test]
fn ice_failure_restarts_on_the_impolite_side_then_gives_up() {
    // "zzz" > "aaa": zzz is impolite towards aaa.
    let mut z = room("zzz");
    let k = connected(&mut z, "aaa");
    let out = z.step(100, conn(k, ConnState::Failed));
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
    let out = z.step(200, conn(k, ConnState::Connected));
    assert_eq!(out, vec![Command::PeerUpdated { key: k }]);

    // The polite side waits for the impolite one, then steps in.
    let mut a = room("aaa");
    let k = connected(&mut a, "zzz");
    let out = a.step(1_000, conn(k, ConnState::Failed));
    assert_eq!(out, vec![Command::PeerUpdated { key: k }]);
    // It is alive (its signals still arrive) but does not restart: the wait counts from the
    // last signal heard from the impolite side.
    a.step(1_001, signal("zzz", PeerSignal::IceCandidate(cand(1))));
    assert!(a
        .step(1_001 + POLITE_RESTART_MS - 1, Event::Tick)
        .is_empty());
    assert_eq!(
        a.step(1_001 + POLITE_RESTART_MS, Event::Tick),
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
            Command::ClosePeer {
                key: k,
                why: Why::Lost
            },
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
    z.step(0, conn(k, ConnState::Disconnected));
    assert!(z.step(DISCONNECTED_RESTART_MS - 1, Event::Tick).is_empty());
    assert_eq!(
        z.step(DISCONNECTED_RESTART_MS, Event::Tick),
        vec![Command::MakeOffer {
            key: k,
            ice_restart: true
        }]
    );
}

/// `them` joined after us, and our offer to it is out.
fn offered(r: &mut Room, them: &str) -> PeerKey {
    r.step(0, Event::PeerJoined(them.into()));
    let k = r.key_of(them).unwrap();
    r.step(
        0,
        Event::LocalDescription {
            key: k,
            kind: SdpKind::Offer,
            sdp: OFFER_A.into(),
        },
    );
    k
}

/// `them` joined after us, and its answer to our offer is in: the browser can start connecting.
fn answered(r: &mut Room, them: &str) -> PeerKey {
    let k = offered(r, them);
    r.step(0, signal(them, PeerSignal::Answer(ANSWER_B.into())));
    k
}

/// What a first connection that never came up ends with: closed, its tile failed.
fn never_connected(key: PeerKey) -> Vec<Command> {
    vec![
        Command::ClosePeer {
            key,
            why: Why::NeverConnected,
        },
        Command::PeerUpdated { key },
    ]
}

#[test]
fn first_negotiation_that_never_connects_fails() {
    let mut a = room("aaa");
    // Our offer went out (and its tile came with it); no answer ever.
    let k = offered(&mut a, "bbb");
    assert!(a.step(CONNECT_TIMEOUT_MS - 1, Event::Tick).is_empty());
    assert_eq!(a.step(CONNECT_TIMEOUT_MS, Event::Tick), never_connected(k));
}

/// The browser still at it (`connecting`: checks or the handshake running, slow on a machine
/// eight pages share) is given longer than a negotiation that never got that far; it is still
/// given up in the end.
#[test]
fn a_first_connection_the_browser_is_still_making_gets_longer() {
    let mut a = room("aaa");
    let k = answered(&mut a, "bbb");
    a.step(200, conn(k, ConnState::Connecting));
    for t in (1_000..CONNECTING_CAP_MS).step_by(1_000) {
        assert!(a.step(t, Event::Tick).is_empty(), "closed at {t}");
    }
    assert_eq!(a.step(CONNECTING_CAP_MS, Event::Tick), never_connected(k));
}

/// Offer and answer exchanged, yet no `connecting` by the timeout (a machine eight pages share:
/// the browser gets to it late, or fails the checks and a restart is to come): the peer is asked
/// whether it is still there. A running page answers, and its connection gets as long as one
/// the browser is still making; one that does not answer is given up.
#[test]
fn a_negotiated_first_connection_whose_peer_answers_gets_longer() {
    for state in [ConnState::New, ConnState::Failed] {
        let mut a = room("aaa");
        let k = answered(&mut a, "bbb");
        a.step(200, conn(k, state));
        for t in (1_000..CONNECT_TIMEOUT_MS).step_by(1_000) {
            a.step(t, Event::Tick);
        }
        let out = a.step(CONNECT_TIMEOUT_MS, Event::Tick);
        assert!(out.contains(&probe("bbb")), "{state:?}: {out:?}");
        a.step(CONNECT_TIMEOUT_MS + 2_500, signal("bbb", PeerSignal::Here));
        for t in (CONNECT_TIMEOUT_MS + 1_000..CONNECTING_CAP_MS).step_by(1_000) {
            let out = a.step(t, Event::Tick);
            assert!(
                !out.iter().any(|c| matches!(c, Command::ClosePeer { .. })),
                "{state:?}: closed at {t}: {out:?}"
            );
        }
        assert_eq!(a.step(CONNECTING_CAP_MS, Event::Tick), never_connected(k));
        // No answer: given up PROBE_ANSWER_MS after the question.
        let mut a = room("aaa");
        let k = answered(&mut a, "bbb");
        a.step(200, conn(k, state));
        for t in (1_000..CONNECT_TIMEOUT_MS + PROBE_ANSWER_MS).step_by(1_000) {
            let out = a.step(t, Event::Tick);
            assert!(
                out.is_empty() || out == vec![probe("bbb")] || restarts(&out) > 0,
                "{state:?} at {t}: {out:?}"
            );
        }
        assert!(
            a.step(CONNECT_TIMEOUT_MS + PROBE_ANSWER_MS, Event::Tick)
                .contains(&Command::ClosePeer {
                    key: k,
                    why: Why::NeverConnected
                }),
            "{state:?}"
        );
    }
}

/// A first connection whose peer answered is not given up because our own socket then drops:
/// while it is down nobody can be asked or heard, and the cap still holds.
#[test]
fn an_answered_first_connection_waits_out_our_socket_being_down() {
    let mut a = room("aaa");
    let k = answered(&mut a, "bbb");
    a.step(200, conn(k, ConnState::New));
    for t in (1_000..CONNECT_TIMEOUT_MS).step_by(1_000) {
        a.step(t, Event::Tick);
    }
    assert!(a
        .step(CONNECT_TIMEOUT_MS, Event::Tick)
        .contains(&probe("bbb")));
    a.step(CONNECT_TIMEOUT_MS + 500, signal("bbb", PeerSignal::Here));
    a.step(CONNECT_TIMEOUT_MS + 10_100, Event::SignalingLost);
    for t in (CONNECT_TIMEOUT_MS + 1_000..CONNECTING_CAP_MS).step_by(1_000) {
        let out = a.step(t, Event::Tick);
        assert!(
            !out.iter().any(|c| matches!(c, Command::ClosePeer { .. })),
            "closed at {t}: {out:?}"
        );
    }
    assert_eq!(a.step(CONNECTING_CAP_MS, Event::Tick), never_connected(k));
}

/// On a starved page (twelve people on two cores) the handler of `connectionstatechange` can
/// read the state only after it has gone on from `connected` to `disconnected`: the room never
/// hears "connected", yet the channel opened and media arrived. Such a peer came up; the connect
/// timeout is not for it, and while its media flows it stays.
#[test]
fn a_first_connection_whose_channel_opened_or_media_arrived_is_not_timed_out() {
    for proof in ["channel", "media"] {
        let mut a = room("aaa");
        let k = answered(&mut a, "bbb");
        a.step(500, conn(k, ConnState::Disconnected));
        match proof {
            "channel" => a.step(600, Event::ChannelOpen(k)),
            _ => a.step(600, media(k, 1_000)),
        };
        let mut received = 1_000;
        for t in (1_000..=CONNECT_TIMEOUT_MS + 1_000).step_by(1_000) {
            received += 10_000;
            let out = a.step(t, media(k, received));
            assert!(
                !out.iter().any(|c| matches!(c, Command::ClosePeer { .. })),
                "{proof}: closed at {t}: {out:?}"
            );
            a.step(t, Event::Tick);
        }
        assert_ne!(a.peer(k).unwrap().state, PeerState::Failed, "{proof}");
    }
}

/// "Still there?" over signaling, to `them`.
fn probe(them: &str) -> Command {
    Command::SendSignal {
        to: them.into(),
        signal: PeerSignal::Probe,
    }
}

#[test]
fn a_peer_silent_since_its_connection_went_bad_is_gone() {
    // Frozen or cut off: asked over signaling whether it is there, it says nothing, nor answers
    // our ICE restart, while our own signaling is up. Its tile goes without waiting out the
    // give-up time.
    let mut z = room("zzz");
    let k = connected(&mut z, "aaa");
    z.step(1_000, conn(k, ConnState::Disconnected));
    assert_eq!(z.step(2_000, Event::Tick), vec![probe("aaa")]);
    assert_eq!(
        z.step(1_000 + DISCONNECTED_RESTART_MS, Event::Tick),
        vec![Command::MakeOffer {
            key: k,
            ice_restart: true
        }]
    );
    gone_exactly_at(&mut z, 2_000 + PROBE_ANSWER_MS, k, Why::Vanished);
    // An answer to the restart (the media path is cut, the peer is fine) keeps it.
    let mut z = room("zzz");
    let k = connected(&mut z, "aaa");
    z.step(1_000, conn(k, ConnState::Disconnected));
    z.step(2_000, Event::Tick);
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
    assert!(z.step(2_000 + PROBE_ANSWER_MS + 1, Event::Tick).is_empty());
    assert_eq!(z.peer(k).unwrap().state, PeerState::Reconnecting);
    // While our own socket is down we cannot hear anyone: nobody is asked, nobody is judged
    // silent.
    let mut z = room("zzz");
    let k = connected(&mut z, "aaa");
    z.step(900, Event::SignalingLost);
    z.step(1_000, conn(k, ConnState::Disconnected));
    for t in (2_000..=2_000 + PROBE_ANSWER_MS).step_by(1_000) {
        let out = z.step(t, Event::Tick);
        assert!(!out.contains(&probe("aaa")), "at {t}: {out:?}");
    }
    assert!(z.peer(k).is_some());
}

/// A connection that went quiet for us only (the peer's page starved, on a machine eight pages
/// share, while from its side all is well): the impolite peer never restarts ICE, so the polite
/// side hears nothing unless it asks. Asked, a running peer answers, and is kept; the polite
/// side restarts ICE itself once the impolite one has said nothing more for its wait.
#[test]
fn a_peer_that_answers_the_question_is_kept_though_it_never_restarts() {
    // "aaa" < "zzz": aaa is the polite side.
    let mut a = room("aaa");
    let k = connected(&mut a, "zzz");
    pinged(&mut a, k, 1_000);
    let out = a.step(1_000 + CHANNEL_SILENCE_MS, Event::Tick);
    assert!(out.contains(&probe("zzz")), "{out:?}");
    assert_eq!(restarts(&out), 0, "{out:?}");
    assert_eq!(a.peer(k).unwrap().state, PeerState::Reconnecting);
    let here_at = 1_000 + CHANNEL_SILENCE_MS + 3_000;
    a.step(here_at, signal("zzz", PeerSignal::Here));
    for t in (here_at..here_at + POLITE_RESTART_MS).step_by(500) {
        let out = a.step(t, Event::Tick);
        assert!(out.is_empty(), "at {t}: {out:?}");
    }
    let out = a.step(here_at + POLITE_RESTART_MS, Event::Tick);
    assert_eq!(restarts(&out), 1, "{out:?}");
    assert_eq!(a.peer(k).unwrap().state, PeerState::Reconnecting);
    // The same peer, frozen: no answer to the question nor to our own restart, gone.
    let mut a = room("aaa");
    let k = connected(&mut a, "zzz");
    pinged(&mut a, k, 1_000);
    for t in
        (1_000 + CHANNEL_SILENCE_MS..1_000 + CHANNEL_SILENCE_MS + PROBE_ANSWER_MS).step_by(1_000)
    {
        a.step(t, Event::Tick);
    }
    gone_exactly_at(
        &mut a,
        1_000 + CHANNEL_SILENCE_MS + PROBE_ANSWER_MS,
        k,
        Why::Vanished,
    );
}

/// A new bad spell right after an answer (ICE calls the path lost a moment later) asks again
/// the next tick; the peer answers that too, and is kept.
#[test]
fn a_second_question_the_next_tick_is_answered_and_the_peer_kept() {
    let mut a = room("aaa");
    let k = connected(&mut a, "zzz");
    pinged(&mut a, k, 1_000);
    a.step(2_000, Event::Tick);
    assert_eq!(
        a.step(1_000 + PROBE_QUIET_MS, Event::Tick),
        vec![probe("zzz")]
    );
    a.step(3_100, signal("zzz", PeerSignal::Here));
    a.step(3_500, conn(k, ConnState::Disconnected));
    let out = a.step(4_000, Event::Tick);
    assert!(out.contains(&probe("zzz")), "asked again: {out:?}");
    a.step(4_100, signal("zzz", PeerSignal::Here));
    for t in (5_000..=4_000 + 2 * PROBE_ANSWER_MS).step_by(1_000) {
        let out = a.step(t, Event::Tick);
        assert!(!loses_a_peer(&out), "at {t}: {out:?}");
    }
    // On the other side, the two questions a tick apart both get their answer.
    let mut z = room("zzz");
    let k = connected(&mut z, "aaa");
    let here = Command::SendSignal {
        to: "aaa".into(),
        signal: PeerSignal::Here,
    };
    assert_eq!(
        z.step(3_010, signal("aaa", PeerSignal::Probe)),
        vec![here.clone()]
    );
    assert_eq!(z.step(3_990, signal("aaa", PeerSignal::Probe)), vec![here]);
    assert!(z.peer(k).is_some());
}

/// Our own page stalls with a question out: the late tick does not judge the peer, whose answer
/// may wait in our queue behind it; the answer then keeps it.
#[test]
fn a_late_tick_of_ours_does_not_judge_an_unanswered_question() {
    let mut z = room("zzz");
    let k = connected(&mut z, "aaa");
    z.step(1_000, conn(k, ConnState::Disconnected));
    assert!(z.step(2_000, Event::Tick).contains(&probe("aaa")));
    // The next tick comes 7 s late, ahead of the answer queued meanwhile.
    let out = z.step(9_000, Event::Tick);
    assert!(!loses_a_peer(&out), "{out:?}");
    z.step(9_001, signal("aaa", PeerSignal::Here));
    let out = z.step(10_000, Event::Tick);
    assert!(!out.contains(&Command::PeerRemoved { key: k }), "{out:?}");
    assert!(z.peer(k).is_some());
}

/// Asking costs the asker as much as us: however often a peer asks, it gets one answer per
/// `PROBE_REPLY_MS`; a stranger, or a peer we gave up on, gets none.
#[test]
fn a_flood_of_questions_gets_one_answer_per_reply_interval() {
    let mut z = room("zzz");
    let k = connected(&mut z, "aaa");
    let here = Command::SendSignal {
        to: "aaa".into(),
        signal: PeerSignal::Here,
    };
    let mut answers = 0;
    for i in 0..100 {
        let out = z.step(1_000 + i * 10, signal("aaa", PeerSignal::Probe));
        answers += out.iter().filter(|c| **c == here).count();
    }
    assert_eq!(
        answers,
        (1_000 / PROBE_REPLY_MS) as usize,
        "100 questions in a second"
    );
    assert_eq!(z.step(2_000, signal("aaa", PeerSignal::Probe)), vec![here]);
    assert!(z
        .step(3_000, signal("mallory", PeerSignal::Probe))
        .is_empty());
    assert!(z
        .step(3_000, signal("mallory", PeerSignal::Here))
        .is_empty());
    assert!(z.key_of("mallory").is_none());
    // Garbage fails the peer: its questions go unanswered from then on.
    z.step(
        4_000,
        Event::Signal {
            from: "aaa".into(),
            data: serde_json::json!({"Offer": 5}),
        },
    );
    assert_eq!(z.peer(k).unwrap().state, PeerState::Failed);
    assert!(z.step(5_000, signal("aaa", PeerSignal::Probe)).is_empty());
}

/// Our own page reads the connections' counters one after another; on a starved machine each
/// read takes seconds, so a peer's next reading can come long after its last. Only a reading
/// says the media stopped: none coming is not one.
#[test]
fn media_counts_as_stopped_only_when_a_reading_says_so() {
    let mut z = room("zzz");
    let k = connected(&mut z, "aaa");
    pinged(&mut z, k, 1_000);
    z.step(2_000, media(k, 100));
    z.step(3_000, media(k, 200));
    // No word since 1 000, no reading since 3 000: kept until MEDIA_UNREAD_MS after it (it
    // may be asked whether it is there meanwhile, nothing more).
    for t in (4_000..3_000 + MEDIA_UNREAD_MS).step_by(500) {
        let out = z.step(t, Event::Tick);
        assert!(out.iter().all(|c| *c == probe("aaa")), "at {t}: {out:?}");
        if !out.is_empty() {
            // It answers: alive, only its channel and counters are late.
            z.step(t + 1, signal("aaa", PeerSignal::Here));
        }
        assert_eq!(z.peer(k).unwrap().state, PeerState::Connected, "at {t}");
    }
    z.step(3_000 + MEDIA_UNREAD_MS, Event::Tick);
    assert_eq!(z.peer(k).unwrap().state, PeerState::Reconnecting);
    // A reading that shows the counters standing still says it at once.
    let mut z = room("zzz");
    let k = connected(&mut z, "aaa");
    pinged(&mut z, k, 1_000);
    z.step(3_000, media(k, 200));
    z.step(6_000, media(k, 200));
    let out = z.step(6_000, Event::Tick);
    assert!(out.contains(&probe("aaa")), "{out:?}");
    assert_eq!(z.peer(k).unwrap().state, PeerState::Reconnecting);
}

/// `zzz` connected to `aaa`; signaling lost at 900, the connection at 1000; our socket back under
/// a new id at 5000, nothing heard from `aaa` since.
fn back_under_a_new_id_with_the_path_down() -> (Room, PeerKey) {
    let mut z = room("zzz");
    let k = connected(&mut z, "aaa");
    z.step(900, Event::SignalingLost);
    z.step(1_000, conn(k, ConnState::Disconnected));
    z.step(5_000, Event::IdAssigned("zzz2".into()));
    (z, k)
}

#[test]
fn after_our_socket_comes_back_a_silent_peer_gets_the_rebind_grace() {
    // Signaling and media lost together (a changed network, a restarted server): our socket is
    // back under a new id, the peer's may not be yet, and nothing can be heard from it until it
    // rebinds. It is not taken for a frozen machine while it has the rebind grace.
    let (mut z, k) = back_under_a_new_id_with_the_path_down();
    for t in (5_000..5_000 + REBIND_GRACE_MS).step_by(500) {
        let out = z.step(t, Event::Tick);
        assert!(
            !out.contains(&Command::PeerRemoved { key: k }),
            "kept at {t}: {out:?}"
        );
    }
    // Its proof, from its new id, late in the grace, re-keys the same connection.
    z.step(
        5_000 + REBIND_GRACE_MS - 1,
        rebind_proof("aaa2", &my_token("aaa")),
    );
    assert_eq!(z.key_of("aaa2"), Some(k));

    // One that never rebinds is asked once the grace is over, and judged as before.
    let (mut z, k) = back_under_a_new_id_with_the_path_down();
    for t in (5_000..5_000 + REBIND_GRACE_MS).step_by(1_000) {
        let out = z.step(t, Event::Tick);
        assert!(
            !out.contains(&probe("aaa")),
            "not asked in the grace, at {t}: {out:?}"
        );
    }
    let asked = 5_000 + REBIND_GRACE_MS;
    let out = z.step(asked, Event::Tick);
    assert!(out.contains(&probe("aaa")), "{out:?}");
    for t in (asked + 1_000..asked + PROBE_ANSWER_MS).step_by(1_000) {
        z.step(t, Event::Tick);
    }
    gone_exactly_at(&mut z, asked + PROBE_ANSWER_MS, k, Why::Vanished);
}

/// A connected peer that heartbeats over the data channel and then falls silent (a frozen tab)
/// is asked whether it is there `CHANNEL_SILENCE_MS` after its last word and goes
/// `PROBE_ANSWER_MS` later, before Chromium calls its ICE `disconnected`.
#[test]
fn a_heartbeating_peer_that_falls_silent_goes_within_the_silence_bounds() {
    let mut z = room("zzz");
    let k = connected(&mut z, "aaa");
    // We heartbeat on every open channel.
    assert_eq!(
        z.step(500, Event::Heartbeat),
        vec![Command::SendToPeer {
            key: k,
            message: PeerMessage::Beat
        }]
    );
    assert_eq!(
        pinged(&mut z, k, 1_000),
        vec![Command::SendToPeer {
            key: k,
            message: PeerMessage::Pong
        }]
    );
    // Quiet for a moment: nothing happens; quiet for PROBE_QUIET_MS: it is asked whether it is
    // there, nothing else yet.
    assert!(z.step(1_000 + PROBE_QUIET_MS - 1, Event::Tick).is_empty());
    assert_eq!(
        z.step(1_000 + PROBE_QUIET_MS, Event::Tick),
        vec![probe("aaa")]
    );
    assert!(z
        .step(1_000 + CHANNEL_SILENCE_MS - 1, Event::Tick)
        .is_empty());
    // Silent past the bound: the tile shows reconnecting and the impolite side restarts ICE.
    let out = z.step(1_000 + CHANNEL_SILENCE_MS, Event::Tick);
    assert_eq!(z.peer(k).unwrap().state, PeerState::Reconnecting);
    assert!(out.contains(&Command::PeerUpdated { key: k }), "{out:?}");
    assert!(!out.contains(&probe("aaa")), "asked once: {out:?}");
    assert!(
        out.contains(&Command::MakeOffer {
            key: k,
            ice_restart: true
        }),
        "{out:?}"
    );
    // Nothing heard over signaling: gone PROBE_ANSWER_MS after the question.
    let asked = 1_000 + PROBE_QUIET_MS;
    for t in (1_000 + CHANNEL_SILENCE_MS + 1_000..asked + PROBE_ANSWER_MS).step_by(1_000) {
        z.step(t, Event::Tick);
    }
    assert!(z.step(asked + PROBE_ANSWER_MS - 1, Event::Tick).is_empty());
    let out = z.step(asked + PROBE_ANSWER_MS, Event::Tick);
    assert!(out.contains(&Command::PeerRemoved { key: k }), "{out:?}");
    assert!(z.peer(k).is_none());
}

/// A silent channel whose peer still answers over signaling (the media path is cut) is kept, and
/// the tile is connected again as soon as the channel speaks.
#[test]
fn a_silent_channel_whose_peer_answers_over_signaling_is_kept() {
    let mut z = room("zzz");
    let k = connected(&mut z, "aaa");
    pinged(&mut z, k, 1_000);
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
    z.step(1_000 + CHANNEL_SILENCE_MS + PROBE_ANSWER_MS, Event::Tick);
    assert_eq!(z.peer(k).unwrap().state, PeerState::Reconnecting);
    let out = z.step(
        1_000 + CHANNEL_SILENCE_MS + PROBE_ANSWER_MS + 500,
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

/// `me` connected to `them`; both sockets and the media path lost at 900-1000 (a changed network,
/// or the server killed while the path is cut); our socket back as `me2` at 10 000.
fn network_changed(me: &str, them: &str) -> (Room, PeerKey) {
    let mut r = room(me);
    let k = connected(&mut r, them);
    r.step(900, Event::SignalingLost);
    r.step(1_000, conn(k, ConnState::Failed));
    (r, k)
}

fn restarts(out: &[Command]) -> usize {
    out.iter()
        .filter(|c| matches!(c, Command::MakeOffer { .. }))
        .count()
}

#[test]
fn no_restart_is_offered_before_the_peer_can_be_reached_again() {
    // zzz is impolite towards aaa: it restarts, but only once its offer can arrive.
    let (mut z, k) = network_changed("zzz", "aaa");
    for t in (1_000..10_000).step_by(500) {
        assert_eq!(restarts(&z.step(t, Event::Tick)), 0, "socket down at {t}");
    }
    z.step(10_000, Event::IdAssigned("zzz2".into()));
    assert_eq!(
        restarts(&z.step(10_500, Event::Tick)),
        0,
        "aaa's id unknown"
    );
    z.step(11_000, rebind_proof("aaa2", &my_token("aaa")));
    assert_eq!(
        z.step(11_200, Event::Tick),
        vec![Command::MakeOffer {
            key: k,
            ice_restart: true
        }]
    );
    let out = z.step(
        11_300,
        Event::LocalDescription {
            key: k,
            kind: SdpKind::Offer,
            sdp: OFFER_A2.into(),
        },
    );
    assert_eq!(
        out,
        vec![Command::SendSignal {
            to: "aaa2".into(),
            signal: PeerSignal::Offer(OFFER_A2.into())
        }]
    );
}

#[test]
fn after_a_changed_network_the_polite_side_answers_the_restart_instead_of_crossing_it() {
    // aaa is polite towards zzz. Its restart would have been due 6 s after the connection
    // failed, long before the network came back: it waits for zzz to be reachable and then
    // gives zzz's restart the time to come, which it answers with nothing to roll back.
    let (mut a, k) = network_changed("aaa", "zzz");
    for t in (1_000..10_000).step_by(500) {
        assert_eq!(restarts(&a.step(t, Event::Tick)), 0, "socket down at {t}");
    }
    a.step(10_000, Event::IdAssigned("aaa2".into()));
    a.step(11_000, rebind_proof("zzz2", &my_token("zzz")));
    for t in (11_000..11_000 + POLITE_RESTART_MS).step_by(500) {
        assert_eq!(restarts(&a.step(t, Event::Tick)), 0, "at {t}");
    }
    // zzz's restart: an offer from the connection whose answer we had (the same o= session).
    let restart = ANSWER_B.replace(" 2 IN ", " 3 IN ");
    let late = 11_000 + POLITE_RESTART_MS - 1;
    let out = a.step(late, signal("zzz2", PeerSignal::Offer(restart.clone())));
    assert_eq!(
        out,
        vec![Command::AcceptOffer {
            key: k,
            sdp: restart
        }]
    );
    assert_eq!(
        a.peer(k).unwrap().negotiation.phase,
        crate::room::negotiation::Phase::Answering {
            rolling_back: false
        }
    );

    // zzz's restart never comes: aaa steps in, POLITE_RESTART_MS after it last heard from zzz.
    let (mut a, k) = network_changed("aaa", "zzz");
    a.step(10_000, Event::IdAssigned("aaa2".into()));
    a.step(11_000, rebind_proof("zzz2", &my_token("zzz")));
    assert_eq!(
        restarts(&a.step(11_000 + POLITE_RESTART_MS - 1, Event::Tick)),
        0
    );
    assert_eq!(
        a.step(11_000 + POLITE_RESTART_MS, Event::Tick),
        vec![Command::MakeOffer {
            key: k,
            ice_restart: true
        }]
    );
}

/// `k` pings at `at` (it heartbeats).
fn pinged(z: &mut Room, k: PeerKey, at: u64) -> Vec<Command> {
    z.step(
        at,
        Event::ChannelMessage {
            key: k,
            text: r#"{"type":"ping"}"#.into(),
        },
    )
}

fn media(k: PeerKey, received: u64) -> Event {
    Event::Flow {
        key: k,
        received,
        media_age: None,
        encoder: None,
    }
}

/// A peer whose page is starved (a busy machine) sends no heartbeat for seconds, while its
/// browser still sends its media: the connection works, so it is kept as it is. Once its media
/// stops too (frozen, cut off), the silence counts as before.
#[test]
fn a_silent_channel_whose_media_still_arrives_is_kept_until_the_media_stops() {
    let mut z = room("zzz");
    let k = connected(&mut z, "aaa");
    pinged(&mut z, k, 1_000);
    for t in (2_000..=10_000).step_by(1_000) {
        z.step(t, media(k, t));
        let out = z.step(t, Event::Tick);
        assert!(out.is_empty(), "at {t}: {out:?}");
        assert_eq!(z.peer(k).unwrap().state, PeerState::Connected, "at {t}");
    }
    // The counters stop growing at 10 000: it is judged silent MEDIA_FRESH_MS later ...
    let mut t = 11_000;
    while z.peer(k).unwrap().state == PeerState::Connected {
        z.step(t, media(k, 10_000));
        z.step(t, Event::Tick);
        t += 1_000;
    }
    assert_eq!(t - 1_000, 10_000 + MEDIA_FRESH_MS);
    assert_eq!(z.peer(k).unwrap().state, PeerState::Reconnecting);
    // ... asked then whether it is there, and, heard from nowhere, gone PROBE_ANSWER_MS later.
    let asked = t - 1_000;
    for t in (t..asked + PROBE_ANSWER_MS).step_by(1_000) {
        z.step(t, Event::Tick);
    }
    assert!(z.peer(k).is_some());
    z.step(asked + PROBE_ANSWER_MS, Event::Tick);
    assert!(z.peer(k).is_none());
    // A counter that went back (a new receiver) is no sign of life.
    let mut y = room("zzz");
    let k = connected(&mut y, "aaa");
    y.step(900, media(k, 5_000));
    pinged(&mut y, k, 1_000);
    y.step(2_000, media(k, 10));
    y.step(1_000 + CHANNEL_SILENCE_MS, Event::Tick);
    assert_eq!(y.peer(k).unwrap().state, PeerState::Reconnecting);
}

/// Our own page stalls (starved for 5 s): the ticks stop, and the peer's words wait in the
/// queue. The time we could not listen is not its silence.
#[test]
fn the_time_our_own_page_stalled_is_not_a_peers_silence() {
    let mut z = room("zzz");
    let k = connected(&mut z, "aaa");
    pinged(&mut z, k, 1_000);
    z.step(2_000, Event::Tick);
    // The next tick comes 5 s late: only the one second of it we count, and the one before,
    // are its silence. It may be asked whether it is there; nothing else happens.
    let out = z.step(7_000, Event::Tick);
    assert!(out.iter().all(|c| *c == probe("aaa")), "{out:?}");
    assert_eq!(z.peer(k).unwrap().state, PeerState::Connected);
    // Its heartbeats, queued, arrive now: connected as ever.
    pinged(&mut z, k, 7_001);
    for t in (8_000..=9_000).step_by(1_000) {
        assert!(z.step(t, Event::Tick).is_empty());
    }
    // Ticks on time again: silence counts from the last word as before.
    z.step(10_000, Event::Tick);
    assert_eq!(z.peer(k).unwrap().state, PeerState::Connected);
    z.step(10_001, Event::Tick);
    assert_eq!(z.peer(k).unwrap().state, PeerState::Reconnecting);
    // A stall with nothing queued: its silence counts, minus the time we were away (one tick's
    // worth of the stall counts: 1 s before it, 1 s of it, 1 s after).
    let mut y = room("zzz");
    let k = connected(&mut y, "aaa");
    pinged(&mut y, k, 1_000);
    y.step(2_000, Event::Tick);
    y.step(7_000, Event::Tick);
    assert_eq!(y.peer(k).unwrap().state, PeerState::Connected);
    y.step(8_000, Event::Tick);
    assert_eq!(y.peer(k).unwrap().state, PeerState::Reconnecting);
}

/// An overloaded machine answers its ICE consent checks late and Chromium calls the connection
/// `disconnected` while its media still arrives: no restart, no tile gone. Once the media stops
/// as well, the usual rules apply.
#[test]
fn a_disconnected_connection_whose_media_flows_is_neither_restarted_nor_dropped() {
    let mut z = room("zzz");
    let k = connected(&mut z, "aaa");
    z.step(1_000, conn(k, ConnState::Disconnected));
    for t in (1_000..=30_000).step_by(1_000) {
        z.step(t, media(k, t));
        let out = z.step(t, Event::Tick);
        assert!(restarts(&out) == 0, "at {t}: {out:?}");
        assert!(
            z.peer(k).is_some_and(|p| p.state != PeerState::Failed),
            "at {t}"
        );
    }
    // The media stops at 30 000: a restart follows, and with no word from the peer it goes.
    let mut out = Vec::new();
    for t in (31_000..=40_000).step_by(1_000) {
        z.step(t, media(k, 30_000));
        out.extend(z.step(t, Event::Tick));
    }
    assert!(
        restarts(&out) > 0 || out.contains(&Command::PeerRemoved { key: k }),
        "{out:?}"
    );
    assert!(z.peer(k).is_none_or(|p| p.state == PeerState::Failed));
}

/// The browser reports the connection to `key` in `state`.
fn conn(key: PeerKey, state: ConnState) -> Event {
    Event::ConnectionState { key, state }
}

fn aged(k: PeerKey, received: u64, age: u64) -> Event {
    Event::Flow {
        key: k,
        received,
        media_age: Some(age),
        encoder: None,
    }
}

/// A connection at rest is read every few seconds: the reading's age of the last packet, not
/// the reading's own time, says when a frozen peer's media stopped, so its tile goes as soon as
/// with a reading each second.
#[test]
fn a_peer_read_at_rest_counts_from_its_last_packet() {
    let mut z = room("zzz");
    let k = connected(&mut z, "aaa");
    z.step(500, aged(k, 1_000, 10));
    pinged(&mut z, k, 1_000);
    assert!(!z.wants_reading(k), "a healthy peer is read at rest");
    // It froze at 1 000 (its last word and packet). Quiet past QUIET_READ_MS: read each second.
    z.step(1_000 + QUIET_READ_MS, Event::Tick);
    assert!(z.wants_reading(k));
    // The first reading after the freeze sees bytes that came since the last one; its packets'
    // age says they stopped at 1 000. Judged as a reading each second would have it: silent at
    // CHANNEL_SILENCE_MS, asked, gone PROBE_ANSWER_MS after the question.
    z.step(2_500, aged(k, 5_000, 1_500));
    let mut t = 3_000;
    let mut asked = None;
    while z.peer(k).is_some() {
        z.step(t, aged(k, 5_000, t - 1_000));
        let out = z.step(t, Event::Tick);
        if out.contains(&probe("aaa")) {
            asked.get_or_insert(t);
        }
        t += 1_000;
        assert!(t < 20_000, "never gone");
    }
    assert_eq!(asked, Some(1_000 + PROBE_QUIET_MS.max(MEDIA_FRESH_MS)));
    assert!(t - 1_000 <= asked.unwrap() + PROBE_ANSWER_MS + 1_000);
    // Where the browser says no age, bytes that grew mean media now, as before.
    let mut y = room("zzz");
    let k = connected(&mut y, "aaa");
    pinged(&mut y, k, 1_000);
    y.step(3_500, media(k, 5_000));
    y.step(1_000 + CHANNEL_SILENCE_MS, Event::Tick);
    assert_eq!(y.peer(k).unwrap().state, PeerState::Connected);
}

/// A healthy peer's media read every 5 s counts as arriving in between (the last reading found
/// it arriving), so a starved page's late heartbeats alone change nothing.
#[test]
fn media_read_at_rest_counts_until_the_next_reading() {
    let mut z = room("zzz");
    let k = connected(&mut z, "aaa");
    pinged(&mut z, k, 1_000);
    z.step(1_000, aged(k, 1_000, 20));
    // No word for 4 s and no reading since: its media counted as arriving, it stays connected.
    z.step(5_000, Event::Tick);
    assert_eq!(z.peer(k).unwrap().state, PeerState::Connected);
    // A reading that finds the last packet a second old ends that.
    z.step(5_500, aged(k, 2_000, 1_500));
    z.step(6_000, Event::Tick);
    assert_eq!(z.peer(k).unwrap().state, PeerState::Reconnecting);
}

/// What the room needs read each second: a connection not up, one whose peer went quiet, one
/// asked whether it is there; not a healthy one, nor a peer gone.
#[test]
fn the_room_wants_readings_only_where_it_judges_something() {
    let mut z = room("zzz");
    z.step(0, Event::PeerJoined("aaa".into()));
    let k = z.key_of("aaa").unwrap();
    assert!(z.wants_reading(k), "not connected yet");
    let mut z = room("zzz");
    let k = connected(&mut z, "aaa");
    assert!(z.wants_reading(k), "no media read yet");
    z.step(100, aged(k, 1_000, 10));
    assert!(!z.wants_reading(k));
    pinged(&mut z, k, 1_000);
    z.step(1_000 + QUIET_READ_MS - 1, Event::Tick);
    assert!(!z.wants_reading(k));
    z.step(1_000 + QUIET_READ_MS, Event::Tick);
    assert!(z.wants_reading(k), "quiet");
    pinged(&mut z, k, 2_300);
    assert!(!z.wants_reading(k));
    z.step(2_400, conn(k, ConnState::Disconnected));
    assert!(z.wants_reading(k), "ICE says disconnected");
    z.step(2_500, conn(k, ConnState::Connected));
    assert!(!z.wants_reading(k));
    z.step(2_600, Event::PeerLeft("aaa".into()));
    z.step(60_000, Event::Tick);
    assert!(!z.wants_reading(k), "gone");
}

/// A heartbeat (`Beat`) is never answered: each side sends its own, one message a second each
/// way instead of a `Ping` and its `Pong` both ways. It makes the peer's silence count as a
/// `Ping` from an older version does (which is still answered: it may be a question).
#[test]
fn a_beat_is_a_heartbeat_that_is_never_answered() {
    let mut z = room("zzz");
    let k = connected(&mut z, "aaa");
    let beat = |z: &mut Room, at: u64| {
        z.step(
            at,
            Event::ChannelMessage {
                key: k,
                text: r#"{"type":"beat"}"#.into(),
            },
        )
    };
    assert!(beat(&mut z, 1_000).is_empty(), "not answered");
    // Silent past CHANNEL_SILENCE_MS after it (no media either): reconnecting, as after pings.
    z.step(1_000 + CHANNEL_SILENCE_MS - 1, Event::Tick);
    assert_eq!(z.peer(k).unwrap().state, PeerState::Connected);
    z.step(1_000 + CHANNEL_SILENCE_MS, Event::Tick);
    assert_eq!(z.peer(k).unwrap().state, PeerState::Reconnecting);
}

/// An older version heartbeats with a `Ping` and reads only a `Ping` as ours: it gets ours as a
/// `Ping` (so it can tell our silence), until it sends a `Beat`.
#[test]
fn an_older_peer_that_pings_gets_pings() {
    let mut z = room("zzz");
    let k = connected(&mut z, "aaa");
    pinged(&mut z, k, 1_000);
    let ours = |message| vec![Command::SendToPeer { key: k, message }];
    assert_eq!(z.step(1_100, Event::Heartbeat), ours(PeerMessage::Ping));
    z.step(
        1_200,
        Event::ChannelMessage {
            key: k,
            text: r#"{"type":"beat"}"#.into(),
        },
    );
    assert_eq!(z.step(2_100, Event::Heartbeat), ours(PeerMessage::Beat));
    // A peer that beats and then asks (its server said we left) stays on beats.
    pinged(&mut z, k, 2_200);
    assert_eq!(z.step(3_100, Event::Heartbeat), ours(PeerMessage::Beat));
}
