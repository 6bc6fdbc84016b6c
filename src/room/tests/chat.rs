//! Chat: our lines go to every admitted peer; a peer's lines are cleaned, bounded and counted
//! against its budget like every other message; the log the call keeps is bounded.

use super::*;

fn chat(text: &str) -> PeerMessage {
    PeerMessage::Chat { text: text.into() }
}

fn line(from: Option<PeerKey>, text: &str) -> ChatLine {
    ChatLine {
        from,
        name: "n".into(),
        time: "12:00".into(),
        text: text.into(),
    }
}

#[test]
fn our_line_goes_to_every_peer_with_an_open_channel_and_shows_once() {
    let mut a = room("aaa");
    let kb = connected(&mut a, "bbb");
    let kc = connected(&mut a, "ccc");
    // Joined, channel not open yet: it would not get the line.
    a.step(0, Event::PeerJoined("ddd".into()));
    let out = a.step(1, Event::SendChat("  hi\tthere \n".into()));
    assert_eq!(
        out,
        vec![
            Command::SendToPeer {
                key: kb,
                message: chat("hithere")
            },
            Command::SendToPeer {
                key: kc,
                message: chat("hithere")
            },
            Command::Chat {
                from: None,
                name: "me".into(),
                text: "hithere".into()
            },
        ]
    );
    // What the view refuses goes nowhere, should it get through.
    for refused in [
        "".to_owned(),
        " \n ".to_owned(),
        "x".repeat(MAX_CHAT_CHARS + 1),
    ] {
        assert!(a.step(2, Event::SendChat(refused)).is_empty());
    }
    assert_eq!(
        a.step(3, Event::SendChat("x".repeat(MAX_CHAT_CHARS))).len(),
        3
    );
}

#[test]
fn a_peers_line_shows_with_its_name_and_bad_ones_change_nothing() {
    let mut a = room("aaa");
    let kb = connected(&mut a, "bbb");
    let hello = PeerMessage::Hello {
        name: "Bob".into(),
        mic: true,
        cam: true,
        signaling_id: None,
        hand: None,
        share: None,
    };
    a.step(0, message(kb, &hello));
    assert_eq!(
        a.step(1, message(kb, &chat("<b>hi</b> \u{202E}olleh"))),
        vec![Command::Chat {
            from: Some(kb),
            name: "Bob".into(),
            text: "<b>hi</b> olleh".into()
        }]
    );
    let oversized = serde_json::to_string(&chat(&"y".repeat(MAX_CHAT_CHARS + 1))).unwrap();
    for bad in [
        oversized.as_str(),
        r#"{"type":"chat","text":42}"#,
        r#"{"type":"chat"}"#,
        "{\"type\":\"chat\",\"text\":\" \\u0000\\u202e \"}",
        r#"{"type":"chat","text":"#,
        "",
    ] {
        let out = a.step(
            2,
            Event::ChannelMessage {
                key: kb,
                text: bad.into(),
            },
        );
        assert!(out.is_empty(), "{bad}: {out:?}");
    }
    // Still in the call, and its next good line arrives.
    assert_eq!(a.peer(kb).unwrap().state, PeerState::Connected);
    assert_eq!(a.step(3, message(kb, &chat("ok"))).len(), 1);
}

#[test]
fn a_peer_that_has_not_proven_the_room_key_is_not_heard_or_told() {
    let key = crate::trust::RoomKey::from_fragment("#the-room-key-0123456789")
        .unwrap()
        .unwrap();
    let mut a = Room::new("me", true, true).with_key(Some(key));
    a.step(0, Event::IdAssigned("aaa".into()));
    a.step(0, Event::PeerJoined("bbb".into()));
    let kb = a.key_of("bbb").unwrap();
    a.step(0, Event::ChannelOpen(kb));
    a.step(0, secured(kb, "bbb"));
    assert!(a.step(1, message(kb, &chat("let me in"))).is_empty());
    // Our line goes to nobody but ourselves.
    assert_eq!(
        a.step(2, Event::SendChat("hello".into())),
        vec![Command::Chat {
            from: None,
            name: "me".into(),
            text: "hello".into()
        }]
    );
}

#[test]
fn a_chat_flood_is_cut_like_any_other() {
    let mut a = room("aaa");
    let kb = connected(&mut a, "bbb");
    let flood = message(kb, &chat("spam"));
    let mut shown = 0;
    for _ in 0..200 {
        let out = a.step(5, flood.clone());
        shown += out
            .iter()
            .filter(|c| matches!(c, Command::Chat { .. }))
            .count();
        if out.contains(&Command::ClosePeer {
            key: kb,
            why: Why::Flooding,
        }) {
            break;
        }
    }
    // The proof was one message of its burst.
    assert_eq!(shown as u64, CHANNEL_BURST - 1);
    assert_eq!(a.peer(kb).unwrap().state, PeerState::Failed);
}

#[test]
fn the_log_is_bounded_and_counts_what_came_while_closed() {
    let mut log = ChatLog::default();
    log.push(line(None, "mine"));
    assert_eq!(log.unread(), 0, "our own lines are read");
    log.push(line(Some(1), "a"));
    log.push(line(Some(2), "b"));
    assert_eq!(log.unread(), 2);
    log.set_open(true);
    assert_eq!(log.unread(), 0);
    log.push(line(Some(1), "seen"));
    assert_eq!(log.unread(), 0, "the panel is open");
    log.set_open(false);
    for i in 0..CHAT_HISTORY + 50 {
        log.push(line(Some(1), &i.to_string()));
    }
    assert_eq!(log.unread() as usize, CHAT_HISTORY + 50);
    let kept: Vec<_> = log.lines().collect();
    assert_eq!(kept.len(), CHAT_HISTORY);
    // Oldest gone, newest last, numbers never reused.
    assert_eq!(kept[0].1.text, "50");
    assert_eq!(
        kept[CHAT_HISTORY - 1].1.text,
        (CHAT_HISTORY + 49).to_string()
    );
    assert_eq!(kept[0].0, 54);
    assert!(kept.windows(2).all(|w| w[1].0 == w[0].0 + 1));
}

#[test]
fn clean_chat_keeps_text_and_line_breaks_only() {
    let cases = [
        ("hi", Some("hi")),
        ("  two\nlines  ", Some("two\nlines")),
        ("<script>x</script>", Some("<script>x</script>")),
        ("a\u{0}b\u{7}c\u{1b}[31m", Some("abc[31m")),
        ("\u{202E}evil\u{2066}", Some("evil")),
        ("👩‍💻 ok", Some("👩‍💻 ok")),
        ("\u{200F}\u{202E} \n", None),
        ("", None),
    ];
    for (text, want) in cases {
        assert_eq!(clean_chat(text).as_deref(), want, "{text:?}");
    }
    assert!(clean_chat(&"é".repeat(MAX_CHAT_CHARS)).is_some());
    assert!(clean_chat(&"é".repeat(MAX_CHAT_CHARS + 1)).is_none());
}
