//! The wire format, with literal JSON: matchbox's messages as its server sends and reads them,
//! and what our peers put in a signal's `data` and on the data channel.

use super::*;
use serde_json::json;

#[test]
fn server_messages_match_matchbox_json() {
    let cases = [
        (
            ServerMessage::IdAssigned("a".into()),
            r#"{"IdAssigned":"a"}"#,
        ),
        (ServerMessage::NewPeer("b".into()), r#"{"NewPeer":"b"}"#),
        (ServerMessage::PeerLeft("c".into()), r#"{"PeerLeft":"c"}"#),
        (
            ServerMessage::Signal {
                sender: "d".into(),
                data: json!({"Offer":"v=0"}),
            },
            r#"{"Signal":{"sender":"d","data":{"Offer":"v=0"}}}"#,
        ),
    ];
    for (msg, text) in cases {
        assert_eq!(serde_json::to_string(&msg).unwrap(), text);
        assert_eq!(serde_json::from_str::<ServerMessage>(text).unwrap(), msg);
    }
}

#[test]
fn client_messages_match_matchbox_json() {
    let cases = [
        (ClientMessage::KeepAlive, r#""KeepAlive""#),
        (
            ClientMessage::Signal {
                receiver: "e".into(),
                data: json!(42),
            },
            r#"{"Signal":{"receiver":"e","data":42}}"#,
        ),
    ];
    for (msg, text) in cases {
        assert_eq!(serde_json::to_string(&msg).unwrap(), text);
        assert_eq!(serde_json::from_str::<ClientMessage>(text).unwrap(), msg);
    }
}

#[test]
fn peer_signals_match_matchbox_json() {
    let cases = [
        (PeerSignal::Offer("o".into()), r#"{"Offer":"o"}"#),
        (PeerSignal::Answer("a".into()), r#"{"Answer":"a"}"#),
        (
            PeerSignal::IceCandidate(r#"{"candidate":"c"}"#.into()),
            r#"{"IceCandidate":"{\"candidate\":\"c\"}"}"#,
        ),
        (PeerSignal::Rebind("ab12".into()), r#"{"Rebind":"ab12"}"#),
        (PeerSignal::Probe, r#""Probe""#),
        (PeerSignal::Here, r#""Here""#),
    ];
    for (sig, text) in cases {
        assert_eq!(serde_json::to_string(&sig).unwrap(), text);
        let value: Value = serde_json::from_str(text).unwrap();
        assert_eq!(PeerSignal::from_value(value).unwrap(), sig);
    }
}

#[test]
fn malformed_input_is_an_error() {
    for text in [
        r#"{"Nope":1}"#,
        r#"{"Signal":{"receiver":1,"data":2}}"#,
        "[]",
        "",
        "{",
    ] {
        assert!(
            serde_json::from_str::<ClientMessage>(text).is_err(),
            "{text}"
        );
    }
    assert!(PeerSignal::from_value(json!({"Offer": 3})).is_err());
}

#[test]
fn peer_messages_are_tagged() {
    let msg = PeerMessage::Media {
        mic: false,
        cam: true,
    };
    let text = r#"{"type":"media","mic":false,"cam":true}"#;
    assert_eq!(serde_json::to_string(&msg).unwrap(), text);
    assert_eq!(serde_json::from_str::<PeerMessage>(text).unwrap(), msg);
    assert_eq!(
        serde_json::to_string(&PeerMessage::Ping).unwrap(),
        r#"{"type":"ping"}"#
    );
    assert_eq!(
        serde_json::from_str::<PeerMessage>(r#"{"type":"pong"}"#).unwrap(),
        PeerMessage::Pong
    );
    let proof = r#"{"type":"proof","token":"t","key_id":"k","mac":"m"}"#;
    assert_eq!(
        serde_json::from_str::<PeerMessage>(proof).unwrap(),
        PeerMessage::Proof {
            token: "t".into(),
            key_id: Some("k".into()),
            mac: Some("m".into())
        }
    );
    assert_eq!(
        serde_json::from_str::<PeerMessage>(r#"{"type":"proof","token":"t"}"#).unwrap(),
        PeerMessage::Proof {
            token: "t".into(),
            key_id: None,
            mac: None
        }
    );
    let hello = r#"{"type":"hello","name":"Ada","mic":true,"cam":false,"signaling_id":null}"#;
    assert_eq!(
        serde_json::from_str::<PeerMessage>(hello).unwrap(),
        PeerMessage::Hello {
            name: "Ada".into(),
            mic: true,
            cam: false,
            signaling_id: None,
            hand: None,
            share: None,
        }
    );
    let hand =
        r#"{"type":"hello","name":"Ada","mic":true,"cam":false,"signaling_id":null,"hand":1500}"#;
    assert_eq!(
        serde_json::from_str::<PeerMessage>(hand).unwrap(),
        PeerMessage::Hello {
            name: "Ada".into(),
            mic: true,
            cam: false,
            signaling_id: None,
            hand: Some(1500),
            share: None,
        }
    );
    for bad in [r#"-1"#, r#"1.5"#, r#""1""#] {
        let text = hand.replace("1500", bad);
        assert!(
            serde_json::from_str::<PeerMessage>(&text).is_err(),
            "{text}"
        );
    }
    let up = PeerMessage::Hand { up: true };
    assert_eq!(
        serde_json::to_string(&up).unwrap(),
        r#"{"type":"hand","up":true}"#
    );
    assert_eq!(
        serde_json::from_str::<PeerMessage>(r#"{"type":"hand","up":true}"#).unwrap(),
        up
    );
}

#[test]
fn client_config_is_camel_case_and_optional() {
    let cfg: ClientConfig = serde_json::from_str("{}").unwrap();
    assert_eq!(cfg, ClientConfig::default());
    let cfg = ClientConfig {
        signaling_url: Some("/ws/".into()),
        ice_servers: vec![IceServer {
            urls: vec!["turn:t.example:3478".into()],
            username: Some("1:x".into()),
            credential: Some("p".into()),
        }],
        ice_transport_policy: None,
        upload_kbps: None,
        max_file_mb: None,
    };
    assert_eq!(
        serde_json::to_string(&cfg).unwrap(),
        r#"{"signalingUrl":"/ws/","iceServers":[{"urls":["turn:t.example:3478"],"username":"1:x","credential":"p"}]}"#
    );
    assert!(!cfg.relay_only());
    let relay: ClientConfig =
        serde_json::from_str(r#"{"iceServers":[],"iceTransportPolicy":"relay"}"#).unwrap();
    assert!(relay.relay_only());
    let budget: ClientConfig = serde_json::from_str(r#"{"uploadKbps":800}"#).unwrap();
    assert_eq!(budget.upload_kbps, Some(800));
    let files: ClientConfig = serde_json::from_str(r#"{"maxFileMb":5}"#).unwrap();
    assert_eq!(files.max_file_mb, Some(5));
    assert_eq!(
        serde_json::to_string(&relay).unwrap(),
        r#"{"iceServers":[],"iceTransportPolicy":"relay"}"#
    );
    // A policy this app does not know reads as the default, and the rest still counts.
    let other: ClientConfig =
        serde_json::from_str(r#"{"signalingUrl":"/x/","iceTransportPolicy":"nohost"}"#).unwrap();
    assert!(!other.relay_only());
    assert_eq!(other.signaling_url.as_deref(), Some("/x/"));
}

#[test]
fn room_names() {
    assert!(is_valid_room_name("a"));
    assert!(is_valid_room_name("Team_standup-42"));
    assert!(is_valid_room_name(&"x".repeat(64)));
    for bad in ["", "a b", "a/b", "é", &"x".repeat(65)] {
        assert!(!is_valid_room_name(bad), "{bad}");
    }
}
