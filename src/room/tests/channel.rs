//! The data channel: hello and media state, its closing, ping, and leaving.

use super::*;

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
            state: PeerState::Connected,
            hand: None,
            share: false,
            safety_code: Some(crate::trust::safety_code(&fingerprints("bbb"))),
            speaking: None,
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
    fresh.step(
        0,
        Event::LocalDescription {
            key: kd,
            kind: SdpKind::Offer,
            sdp: OFFER_A.into(),
        },
    );
    assert_eq!(
        fresh.step(1, Event::ChannelOpen(kd)),
        vec![
            Command::SendToPeer {
                key: kd,
                message: PeerMessage::Hello {
                    name: "me".into(),
                    mic: true,
                    cam: true,
                    signaling_id: Some("aaa".into()),
                    hand: None,
                    share: None,
                }
            },
            // Then whether we speak: from it on, the peer marks us from our word.
            Command::SendToPeer {
                key: kd,
                message: PeerMessage::Speaking { on: false }
            },
            Command::Secure { key: kd }
        ]
    );
    // Once the edge read the fingerprints: our token goes out (no key: an open room), and the
    // tile shows the safety code.
    assert_eq!(
        fresh.step(2, secured(kd, "ddd")),
        vec![
            Command::SendToPeer {
                key: kd,
                message: PeerMessage::Proof {
                    token: my_token("ddd"),
                    key_id: None,
                    mac: None
                }
            },
            Command::PeerUpdated { key: kd }
        ]
    );
    assert_eq!(
        fresh.peer(kd).unwrap().view().safety_code,
        Some(crate::trust::safety_code(&fingerprints("ddd")))
    );
}

#[test]
fn names_lose_what_could_spoof_them() {
    let mut a = room("aaa");
    let kb = connected(&mut a, "bbb");
    let cases = [
        // A right-to-left override would show "Ada" followed by a reversed tail.
        ("Ada\u{202E}nimda", "Adanimda"),
        // Zero-width characters make two names look alike.
        ("A\u{200B}d\u{200D}a\u{FEFF}", "Ada"),
        ("\u{2066}Grace\u{2069} \u{200F}", "Grace"),
        ("\u{E0041}Linus\u{00AD}", "Linus"),
        ("Zoë Ñandú 李", "Zoë Ñandú 李"),
    ];
    for (sent, shown) in cases {
        let hello = PeerMessage::Hello {
            name: sent.into(),
            mic: true,
            cam: true,
            signaling_id: None,
            hand: None,
            share: None,
        };
        a.step(1, message(kb, &hello));
        assert_eq!(a.peer(kb).unwrap().name, shown, "{sent:?}");
    }
}

#[test]
fn a_flooding_peer_is_dropped_then_cut_off_and_nobody_else_notices() {
    let mut a = room("aaa");
    let kb = connected(&mut a, "bbb");
    let kc = connected(&mut a, "ccc");
    let ping = message(kb, &PeerMessage::Ping);
    let pong = vec![Command::SendToPeer {
        key: kb,
        message: PeerMessage::Pong,
    }];
    // connected() spent one message (the proof): the rest of the burst is answered ...
    for _ in 1..CHANNEL_BURST {
        assert_eq!(a.step(10, ping.clone()), pong);
    }
    // ... then pings cost nothing but a counter ...
    for _ in 1..CHANNEL_CUT_AFTER {
        assert!(a.step(10, ping.clone()).is_empty());
    }
    // ... and the flood cuts the connection.
    assert_eq!(
        a.step(10, ping.clone()),
        vec![
            Command::ClosePeer {
                key: kb,
                why: Why::Flooding
            },
            Command::PeerUpdated { key: kb }
        ]
    );
    assert_eq!(a.peer(kb).unwrap().state, PeerState::Failed);
    assert!(a.step(10, ping).is_empty());
    // The others go on as before.
    assert_eq!(
        a.step(11, message(kc, &PeerMessage::Ping)),
        vec![Command::SendToPeer {
            key: kc,
            message: PeerMessage::Pong
        }]
    );
    assert_eq!(a.peer(kc).unwrap().state, PeerState::Connected);
}

#[test]
fn a_peer_within_its_budget_is_always_answered() {
    let mut a = room("aaa");
    let kb = connected(&mut a, "bbb");
    // Twenty messages a second, for a minute.
    for t in (0..60_000).step_by(1_000 / CHANNEL_PER_SEC as usize) {
        assert_eq!(
            a.step(t as u64, message(kb, &PeerMessage::Ping)).len(),
            1,
            "at {t} ms"
        );
    }
}

#[test]
fn closed_data_channel_removes_the_peer() {
    let mut a = room("aaa");
    let kb = connected(&mut a, "bbb");
    assert_eq!(
        a.step(1, Event::ChannelClosed(kb)),
        removal(kb, Why::HungUp)
    );
    assert!(a.peer(kb).is_none());
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
            Command::ClosePeer {
                key: kb,
                why: Why::Leaving
            },
            Command::PeerRemoved { key: kb },
            Command::ClosePeer {
                key: kc,
                why: Why::Leaving
            },
            Command::PeerRemoved { key: kc },
        ]
    );
    assert_eq!(a.peers().count(), 0);
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

/// A peer's word on its speaking reaches its tile (which checks it against the audio: see
/// `room::link`), once per change; ours goes to every peer once per change.
#[test]
fn speaking_is_told_once_per_change() {
    let mut a = room("aaa");
    let kb = connected(&mut a, "bbb");
    assert_eq!(a.peer(kb).unwrap().view().speaking, None, "not said yet");
    let said = |on: bool| Event::ChannelMessage {
        key: kb,
        text: format!(r#"{{"type":"speaking","on":{on}}}"#),
    };
    assert_eq!(
        a.step(1, said(true)),
        vec![Command::PeerUpdated { key: kb }]
    );
    assert_eq!(a.peer(kb).unwrap().view().speaking, Some(true));
    assert!(a.step(2, said(true)).is_empty());
    assert_eq!(
        a.step(3, said(false)),
        vec![Command::PeerUpdated { key: kb }]
    );
    assert_eq!(a.peer(kb).unwrap().view().speaking, Some(false));
    let ours = |on| {
        vec![Command::SendToPeer {
            key: kb,
            message: PeerMessage::Speaking { on },
        }]
    };
    assert_eq!(a.step(4, Event::LocalSpeaking(true)), ours(true));
    assert!(a.step(5, Event::LocalSpeaking(true)).is_empty());
    assert_eq!(a.step(6, Event::LocalSpeaking(false)), ours(false));
}
