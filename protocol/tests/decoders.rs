//! Property tests of the wire decoders: whatever a server or a peer sends (random bytes, random
//! JSON, valid messages cut short or with a part swapped for garbage), decoding returns a value or
//! an error and never panics; every message we can build survives encode → decode unchanged.
//! The case count is modest so `make test` stays fast; `PROPTEST_CASES=100000` digs deeper.

use meshcall_protocol::{
    is_valid_room_name, ClientConfig, ClientMessage, IceServer, PeerMessage, PeerSignal,
    ServerMessage,
};
use proptest::prelude::*;
use serde_json::{json, Map, Value};

fn config() -> ProptestConfig {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(512);
    ProptestConfig {
        cases,
        ..ProptestConfig::default()
    }
}

/// Strings that look like the protocol's own words often enough to reach deep into the decoders.
fn word() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => any::<String>(),
        2 => prop::sample::select(vec![
            "IdAssigned", "NewPeer", "PeerLeft", "Signal", "KeepAlive", "sender", "receiver", "data",
            "Offer", "Answer", "IceCandidate", "type", "hello", "media", "rebind", "chat", "ping", "pong", "hand", "up", "share", "stream", "shown", "width", "height",
            "proof", "token", "key_id", "mac", "Rebind", "Probe", "Here", "name", "mic", "cam", "signaling_id", "text", "signalingUrl", "iceServers", "urls",
            "username", "credential", "v=0\r\no=- 1 2 IN IP4 0.0.0.0\r\n", "",
        ])
        .prop_map(str::to_owned),
    ]
}

/// Arbitrary JSON trees, biased towards the keys the decoders look for.
fn json_tree() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>()
            .prop_map(|f| serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)),
        word().prop_map(Value::String),
    ];
    leaf.prop_recursive(5, 64, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::vec((word(), inner), 0..6)
                .prop_map(|kv| Value::Object(kv.into_iter().collect::<Map<String, Value>>())),
        ]
    })
}

fn id() -> impl Strategy<Value = String> {
    // Our server hands out UUIDs; other servers may send anything.
    prop_oneof![
        any::<String>(),
        any::<u128>().prop_map(|n| format!("{n:032x}"))
    ]
}

fn data() -> impl Strategy<Value = Value> {
    // Floats are left out: JSON text does not round-trip every f64 bit for bit, and `data` is
    // never read by anyone but the peers.
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<String>().prop_map(Value::String),
    ];
    leaf.prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map(any::<String>(), inner, 0..4)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

fn server_message() -> impl Strategy<Value = ServerMessage> {
    prop_oneof![
        id().prop_map(ServerMessage::IdAssigned),
        id().prop_map(ServerMessage::NewPeer),
        id().prop_map(ServerMessage::PeerLeft),
        (id(), data()).prop_map(|(sender, data)| ServerMessage::Signal { sender, data }),
    ]
}

fn client_message() -> impl Strategy<Value = ClientMessage> {
    prop_oneof![
        Just(ClientMessage::KeepAlive),
        (id(), data()).prop_map(|(receiver, data)| ClientMessage::Signal { receiver, data }),
    ]
}

fn peer_signal() -> impl Strategy<Value = PeerSignal> {
    prop_oneof![
        any::<String>().prop_map(PeerSignal::Offer),
        any::<String>().prop_map(PeerSignal::Answer),
        any::<String>().prop_map(PeerSignal::IceCandidate),
        any::<String>().prop_map(PeerSignal::Rebind),
        Just(PeerSignal::Probe),
        Just(PeerSignal::Here),
    ]
}

fn peer_message() -> impl Strategy<Value = PeerMessage> {
    prop_oneof![
        (
            any::<String>(),
            any::<bool>(),
            any::<bool>(),
            prop::option::of(id()),
            prop::option::of(any::<u64>()),
            prop::option::of(any::<String>())
        )
            .prop_map(
                |(name, mic, cam, signaling_id, hand, share)| PeerMessage::Hello {
                    name,
                    mic,
                    cam,
                    signaling_id,
                    hand,
                    share
                }
            ),
        prop::option::of(any::<String>()).prop_map(|stream| PeerMessage::Share { stream }),
        any::<bool>().prop_map(|up| PeerMessage::Hand { up }),
        any::<bool>().prop_map(|on| PeerMessage::Speaking { on }),
        (any::<bool>(), any::<bool>()).prop_map(|(mic, cam)| PeerMessage::Media { mic, cam }),
        id().prop_map(|signaling_id| PeerMessage::Rebind { signaling_id }),
        (
            any::<String>(),
            prop::option::of(any::<String>()),
            prop::option::of(any::<String>())
        )
            .prop_map(|(token, key_id, mac)| PeerMessage::Proof { token, key_id, mac }),
        any::<String>().prop_map(|text| PeerMessage::Chat { text }),
        (any::<u32>(), any::<u32>())
            .prop_map(|(width, height)| PeerMessage::Shown { width, height }),
        Just(PeerMessage::SignalingLost),
        Just(PeerMessage::Ping),
        Just(PeerMessage::Pong),
        Just(PeerMessage::Beat),
    ]
}

fn client_config() -> impl Strategy<Value = ClientConfig> {
    let server = (
        prop::collection::vec(any::<String>(), 0..3),
        prop::option::of(any::<String>()),
        prop::option::of(any::<String>()),
    )
        .prop_map(|(urls, username, credential)| IceServer {
            urls,
            username,
            credential,
        });
    (
        prop::option::of(any::<String>()),
        prop::collection::vec(server, 0..3),
        prop::option::of(any::<String>()),
        prop::option::of(any::<u32>()),
        prop::option::of(any::<u32>()),
    )
        .prop_map(
            |(signaling_url, ice_servers, ice_transport_policy, upload_kbps, max_file_mb)| {
                ClientConfig {
                    signaling_url,
                    ice_servers,
                    ice_transport_policy,
                    upload_kbps,
                    max_file_mb,
                }
            },
        )
}

/// Every decoder the app and the server run on input from the network.
fn decode_everything(text: &str) {
    let _ = serde_json::from_str::<ServerMessage>(text);
    let _ = serde_json::from_str::<ClientMessage>(text);
    let _ = serde_json::from_str::<PeerMessage>(text);
    let _ = serde_json::from_str::<ClientConfig>(text);
    if let Ok(value) = serde_json::from_str::<Value>(text) {
        decode_value(value);
    }
}

fn decode_value(value: Value) {
    let _ = serde_json::from_value::<ServerMessage>(value.clone());
    let _ = serde_json::from_value::<ClientMessage>(value.clone());
    let _ = serde_json::from_value::<PeerMessage>(value.clone());
    let _ = serde_json::from_value::<ClientConfig>(value.clone());
    // A relayed signal's data goes through PeerSignal, also when nested as a server would relay it.
    let _ = PeerSignal::from_value(value.clone());
    if let Ok(ServerMessage::Signal { data, .. }) =
        serde_json::from_value::<ServerMessage>(json!({"Signal": {"sender": "x", "data": value}}))
    {
        let _ = PeerSignal::from_value(data);
    }
}

/// Replace the subtree at a pseudo-random position of `tree` with `graft`.
fn graft(tree: &mut Value, pick: usize, graft: Value) {
    let len = match &*tree {
        Value::Array(items) => items.len(),
        Value::Object(map) => map.len(),
        _ => 0,
    };
    if len == 0 || pick.is_multiple_of(3) {
        *tree = graft;
        return;
    }
    let child = match tree {
        Value::Array(items) => items.get_mut(pick % len),
        Value::Object(map) => map.values_mut().nth(pick % len),
        _ => None,
    };
    if let Some(child) = child {
        self::graft(child, pick / 3, graft);
    }
}

/// `PeerMessage` as serde's derive for internally tagged enums decodes it; the real one reads it
/// through `Value` (smaller wasm) and must decide every JSON object the same way.
#[derive(serde::Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum DerivedPeerMessage {
    Hello {
        name: String,
        mic: bool,
        cam: bool,
        signaling_id: Option<String>,
        #[serde(default)]
        hand: Option<u64>,
        #[serde(default)]
        share: Option<String>,
    },
    Share {
        #[serde(default)]
        stream: Option<String>,
    },
    Hand {
        up: bool,
    },
    Speaking {
        on: bool,
    },
    Media {
        mic: bool,
        cam: bool,
    },
    Rebind {
        signaling_id: String,
    },
    Proof {
        token: String,
        key_id: Option<String>,
        mac: Option<String>,
    },
    Chat {
        text: String,
    },
    Shown {
        width: u32,
        height: u32,
    },
    SignalingLost,
    Ping,
    Pong,
    Beat,
}

impl From<DerivedPeerMessage> for PeerMessage {
    fn from(m: DerivedPeerMessage) -> Self {
        match m {
            DerivedPeerMessage::Hello {
                name,
                mic,
                cam,
                signaling_id,
                hand,
                share,
            } => PeerMessage::Hello {
                name,
                mic,
                cam,
                signaling_id,
                hand,
                share,
            },
            DerivedPeerMessage::Share { stream } => PeerMessage::Share { stream },
            DerivedPeerMessage::Hand { up } => PeerMessage::Hand { up },
            DerivedPeerMessage::Speaking { on } => PeerMessage::Speaking { on },
            DerivedPeerMessage::Media { mic, cam } => PeerMessage::Media { mic, cam },
            DerivedPeerMessage::Rebind { signaling_id } => PeerMessage::Rebind { signaling_id },
            DerivedPeerMessage::Proof { token, key_id, mac } => {
                PeerMessage::Proof { token, key_id, mac }
            }
            DerivedPeerMessage::Chat { text } => PeerMessage::Chat { text },
            DerivedPeerMessage::Shown { width, height } => PeerMessage::Shown { width, height },
            DerivedPeerMessage::SignalingLost => PeerMessage::SignalingLost,
            DerivedPeerMessage::Ping => PeerMessage::Ping,
            DerivedPeerMessage::Beat => PeerMessage::Beat,
            DerivedPeerMessage::Pong => PeerMessage::Pong,
        }
    }
}

/// Objects shaped like peer messages: a `type`, then each of the fields some message has holding a
/// value of its type (most often), null, a value of another type, or missing; sometimes other keys.
fn peer_message_like() -> impl Strategy<Value = Value> {
    fn field(right: BoxedStrategy<Value>) -> impl Strategy<Value = Option<Value>> {
        prop_oneof![
            4 => right.prop_map(Some),
            1 => Just(None),
            1 => Just(Some(Value::Null)),
            1 => prop_oneof![
                any::<bool>().prop_map(Value::Bool),
                any::<i64>().prop_map(Value::from),
                word().prop_map(Value::String),
                Just(json!([])),
                Just(json!({})),
            ]
            .prop_map(Some),
        ]
    }
    let string = || word().prop_map(Value::String).boxed();
    let flag = || any::<bool>().prop_map(Value::Bool).boxed();
    // Tile sides: mostly ones a u32 holds, sometimes larger.
    let size = || {
        prop_oneof![
            3 => any::<u32>().prop_map(Value::from),
            1 => any::<u64>().prop_map(Value::from),
        ]
        .boxed()
    };
    let kind = prop_oneof![
        8 => prop::sample::select(vec!["hello", "media", "rebind", "proof", "chat", "hand", "share", "shown", "ping", "pong"])
            .prop_map(|k| Some(Value::String(k.to_owned()))),
        1 => field(word().prop_map(Value::String).boxed()),
    ];
    let fields = (
        field(string()),
        field(flag()),
        field(flag()),
        field(string()),
        field(string()),
        (field(string()), field(string()), field(string())),
        (
            field(any::<u64>().prop_map(Value::from).boxed()),
            field(flag()),
        ),
        (
            field(string()),
            field(string()),
            field(size()),
            field(size()),
        ),
    )
        // On the heap: this many fields' value trees overflow a test thread's stack in a debug build.
        .boxed();
    let extra = prop::collection::vec((word(), any::<bool>().prop_map(Value::Bool)), 0..2);
    (kind, fields, extra).prop_map(
        |(
            kind,
            (
                name,
                mic,
                cam,
                signaling_id,
                text,
                (token, key_id, mac),
                (hand, up),
                (share, stream, width, height),
            ),
            extra,
        )| {
            let mut map: Map<String, Value> = extra.into_iter().collect();
            let named = [("type", kind), ("name", name), ("mic", mic), ("cam", cam)];
            let named = named
                .into_iter()
                .chain([("signaling_id", signaling_id), ("text", text)])
                .chain([("token", token), ("key_id", key_id), ("mac", mac)])
                .chain([
                    ("hand", hand),
                    ("up", up),
                    ("share", share),
                    ("stream", stream),
                    ("width", width),
                    ("height", height),
                ]);
            for (key, value) in named {
                match value {
                    Some(value) => map.insert(key.to_owned(), value),
                    None => map.remove(key),
                };
            }
            Value::Object(map)
        },
    )
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn random_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..256)) {
        let _ = serde_json::from_slice::<ServerMessage>(&bytes);
        let _ = serde_json::from_slice::<ClientMessage>(&bytes);
        let _ = serde_json::from_slice::<PeerMessage>(&bytes);
        if let Ok(text) = std::str::from_utf8(&bytes) {
            decode_everything(text);
        }
    }

    #[test]
    fn random_strings_never_panic(text in any::<String>()) {
        decode_everything(&text);
        let _ = is_valid_room_name(&text);
    }

    #[test]
    fn random_json_trees_never_panic(tree in json_tree()) {
        decode_everything(&tree.to_string());
        decode_value(tree);
    }

    #[test]
    fn valid_messages_with_garbage_grafted_in_never_panic(
        msg in server_message(), peer in peer_message(), pick in any::<usize>(), junk in json_tree(),
    ) {
        for mut tree in [serde_json::to_value(&msg).unwrap(), serde_json::to_value(&peer).unwrap()] {
            graft(&mut tree, pick, junk.clone());
            decode_everything(&tree.to_string());
        }
    }

    #[test]
    fn valid_messages_cut_short_never_panic(msg in server_message(), cut in any::<usize>()) {
        let text = serde_json::to_string(&msg).unwrap();
        let end = (0..=cut % (text.len() + 1)).rev().find(|&i| text.is_char_boundary(i)).unwrap_or(0);
        decode_everything(&text[..end]);
    }

    #[test]
    fn server_messages_round_trip(msg in server_message()) {
        let text = serde_json::to_string(&msg).unwrap();
        prop_assert_eq!(serde_json::from_str::<ServerMessage>(&text).unwrap(), msg);
    }

    #[test]
    fn client_messages_round_trip(msg in client_message()) {
        let text = serde_json::to_string(&msg).unwrap();
        prop_assert_eq!(serde_json::from_str::<ClientMessage>(&text).unwrap(), msg);
    }

    #[test]
    fn peer_signals_round_trip_through_a_relay(signal in peer_signal(), sender in id()) {
        // As the app sends it, as the server relays it, as the other app reads it.
        let sent = serde_json::to_string(&ClientMessage::Signal { receiver: "r".into(), data: signal.to_value() }).unwrap();
        let Ok(ClientMessage::Signal { data, .. }) = serde_json::from_str::<ClientMessage>(&sent) else {
            return Err(TestCaseError::fail("client message did not decode"));
        };
        let relayed = serde_json::to_string(&ServerMessage::Signal { sender, data }).unwrap();
        let Ok(ServerMessage::Signal { data, .. }) = serde_json::from_str::<ServerMessage>(&relayed) else {
            return Err(TestCaseError::fail("server message did not decode"));
        };
        prop_assert_eq!(PeerSignal::from_value(data).unwrap(), signal);
    }

    #[test]
    fn peer_messages_round_trip(msg in peer_message()) {
        let text = serde_json::to_string(&msg).unwrap();
        prop_assert_eq!(serde_json::from_str::<PeerMessage>(&text).unwrap(), msg);
    }

    #[test]
    fn client_configs_round_trip(cfg in client_config()) {
        let text = serde_json::to_string(&cfg).unwrap();
        prop_assert_eq!(serde_json::from_str::<ClientConfig>(&text).unwrap(), cfg);
    }

    #[test]
    fn peer_messages_decode_as_the_serde_derive_did(
        object in peer_message_like(), tree in json_tree(), pick in any::<usize>(), junk in json_tree(),
    ) {
        let mut grafted = object.clone();
        graft(&mut grafted, pick, junk);
        for value in [object, tree, grafted] {
            let text = value.to_string();
            let ours = serde_json::from_str::<PeerMessage>(&text).ok();
            let derived = serde_json::from_str::<DerivedPeerMessage>(&text).ok().map(PeerMessage::from);
            // The derive also reads an array as a message; no peer sends one, and ours refuses it.
            if !value.is_array() {
                prop_assert_eq!(ours, derived, "{}", text);
            }
        }
    }
}
