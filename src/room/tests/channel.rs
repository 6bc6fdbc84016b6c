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
