//! Wire types of the matchbox signaling protocol, plus the payloads meshcall peers exchange.
//! Pure serde: no browser, no tokio. The server must never need to look inside [`PeerSignal`].

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// A peer id as the server assigns it (our server makes UUID v4s; other servers may not).
pub type PeerId = String;

/// server → client
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum ServerMessage {
    /// The id of the socket that receives it; sent once, first.
    IdAssigned(PeerId),
    /// Sent to the peers already in the room when another one joins.
    NewPeer(PeerId),
    /// Sent to the rest of the room when a peer's socket closes or times out.
    PeerLeft(PeerId),
    /// A relayed signal; `sender` is stamped by the server.
    Signal { sender: PeerId, data: Value },
}

/// client → server
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum ClientMessage {
    Signal { receiver: PeerId, data: Value },
    KeepAlive,
}

/// What meshcall peers put in `Signal.data`: shaped as matchbox peers shape theirs, so an offer,
/// answer or candidate from either reads the same.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum PeerSignal {
    /// SDP of an offer.
    Offer(String),
    /// SDP of an answer.
    Answer(String),
    /// A JSON-encoded `RTCIceCandidateInit` (as a string, like matchbox).
    IceCandidate(String),
    /// "The peer you know by our connection now has the id this signal comes from": the
    /// [`PeerMessage::Proof`] token the receiver gave us, as an HMAC over our new signaling id
    /// (hex). The server stamps the sender, so only the socket that holds the id can send it, and
    /// only the peer at the other end of that connection knows the token.
    Rebind(String),
    /// "Are you still there?": asked of a peer whose connection went quiet (no word on its data
    /// channel, no media). A running page answers [`PeerSignal::Here`] at once, however slow its
    /// connection; a frozen or cut-off machine cannot, and that silence is what removes it.
    Probe,
    /// The answer to a [`PeerSignal::Probe`].
    Here,
}

impl PeerSignal {
    /// Decode a relayed `data` value; anything else is a peer error, not ours.
    pub fn from_value(data: Value) -> Result<Self, serde_json::Error> {
        serde_json::from_value(data)
    }

    pub fn to_value(&self) -> Value {
        // Serializing a plain enum of strings cannot fail.
        serde_json::to_value(self).unwrap_or(Value::Null)
    }
}

/// Messages on the per-peer `RTCDataChannel` (label [`DATA_CHANNEL_LABEL`], negotiated id
/// [`DATA_CHANNEL_ID`]): everything between peers that is not media and not signaling.
///
/// Read through [`Value`] (`try_from`), not serde's derive for internally tagged enums: that one
/// buffers every message in serde's private `Content` tree and cost the app's wasm about 4 KB
/// gzipped, while `Value` is decoded for signaling anyway. Every JSON object decodes as before
/// (tests/decoders.rs checks it against the derive).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", try_from = "Value")]
pub enum PeerMessage {
    /// Who I am and what I send. Sent when the channel opens and whenever it changes.
    Hello {
        name: String,
        mic: bool,
        cam: bool,
        /// My current signaling id, so the other side can re-associate this connection after a
        /// signaling reconnect gave me a new one.
        signaling_id: Option<PeerId>,
        /// My hand is up, raised this many milliseconds ago (so someone who joins later puts it
        /// in the order it was raised); absent when it is down.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        hand: Option<u64>,
        /// The id of the stream my screen share's tracks come in, while I share.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        share: Option<String>,
    },
    /// I started sharing my screen (the id of the stream its tracks come in), or stopped (`None`).
    Share {
        stream: Option<String>,
    },
    /// I raised (`up`) or lowered my hand.
    Hand {
        up: bool,
    },
    /// I am speaking (`on`) or stopped: my microphone's level as I send it, judged each second
    /// with a hold. Sent when it changes, and once when the channel opens (after my hello), so a
    /// peer that never sends it (an older version) is judged from its audio alone. A claim: the
    /// receiver checks it against the audio that arrives.
    Speaking {
        on: bool,
    },
    /// Mic or camera turned on or off.
    Media {
        mic: bool,
        cam: bool,
    },
    /// My signaling id changed (the socket reconnected). Only a hint: the receiver answers with
    /// its own [`PeerSignal::Rebind`] to that id, and re-associates our connection only when mine
    /// comes through signaling, proven, from the new id.
    Rebind {
        signaling_id: PeerId,
    },
    /// Sent once the connection's DTLS fingerprints are known. `token`: a random secret of this
    /// pair, which later proves a rebind ([`PeerSignal::Rebind`]). In a room with a key, `key_id`
    /// names the key (so a wrong key tells apart from a man in the middle) and `mac` proves it,
    /// bound to both fingerprints of this very connection; without a key both are absent.
    Proof {
        token: String,
        key_id: Option<String>,
        mac: Option<String>,
    },
    /// A chat line.
    Chat {
        text: String,
    },
    /// My signaling socket dropped; I am reconnecting and will prove my next id with a
    /// [`PeerSignal::Rebind`]. Only a hint, with no effect but a short wait: the receiver holds
    /// back `NewPeer`s for a moment (as after its own reconnect) instead of building a second
    /// connection to me under that next id. It matters where the server cannot say at once that
    /// my socket left (a cluster node that died announces its peers gone only when their presence
    /// expires), so my `NewPeer` would otherwise beat my `Rebind`.
    SignalingLost,
    /// I show your camera at this size, in device pixels (0 x 0: not at all). A claim: the sender
    /// may send me less video for it, never more.
    Shown {
        width: u32,
        height: u32,
    },
    /// Are you still there? Sent when the server reports the peer gone while its connection still
    /// looks up; answered with [`PeerMessage::Pong`]. A closed tab never answers. (Older
    /// versions also sent it as their heartbeat, each second.)
    Ping,
    Pong,
    /// I am here: sent each second on every open channel, so the other side can tell silence
    /// from a quiet call. Never answered: each side sends its own.
    Beat,
}

impl TryFrom<Value> for PeerMessage {
    type Error = String;

    fn try_from(value: Value) -> Result<Self, String> {
        let Value::Object(mut fields) = value else {
            return Err("a peer message is a JSON object".into());
        };
        let mut take = |field: &str| fields.remove(field);
        let string = |v: Option<Value>, field: &str| match v {
            Some(Value::String(s)) => Ok(s),
            Some(_) => Err(format!("invalid type: `{field}` must be a string")),
            None => Err(format!("missing field `{field}`")),
        };
        let flag = |v: Option<Value>, field: &str| match v {
            Some(Value::Bool(b)) => Ok(b),
            Some(_) => Err(format!("invalid type: `{field}` must be true or false")),
            None => Err(format!("missing field `{field}`")),
        };
        let optional = |v: Option<Value>, field: &str| match v {
            None | Some(Value::Null) => Ok(None),
            v => string(v, field).map(Some),
        };
        let count = |v: Option<Value>, field: &str| match v {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Number(n)) if n.is_u64() => Ok(n.as_u64()),
            Some(_) => Err(format!("invalid type: `{field}` must be a whole number")),
        };
        let size = |v: Option<Value>, field: &str| match v {
            Some(Value::Number(n)) => n
                .as_u64()
                .and_then(|n| u32::try_from(n).ok())
                .ok_or_else(|| format!("invalid value: `{field}` must fit a u32")),
            Some(_) => Err(format!("invalid type: `{field}` must be a whole number")),
            None => Err(format!("missing field `{field}`")),
        };
        let kind = string(take("type"), "type")?;
        Ok(match kind.as_str() {
            "hello" => PeerMessage::Hello {
                name: string(take("name"), "name")?,
                mic: flag(take("mic"), "mic")?,
                cam: flag(take("cam"), "cam")?,
                signaling_id: optional(take("signaling_id"), "signaling_id")?,
                hand: count(take("hand"), "hand")?,
                share: optional(take("share"), "share")?,
            },
            "share" => PeerMessage::Share {
                stream: optional(take("stream"), "stream")?,
            },
            "hand" => PeerMessage::Hand {
                up: flag(take("up"), "up")?,
            },
            "speaking" => PeerMessage::Speaking {
                on: flag(take("on"), "on")?,
            },
            "media" => PeerMessage::Media {
                mic: flag(take("mic"), "mic")?,
                cam: flag(take("cam"), "cam")?,
            },
            "rebind" => PeerMessage::Rebind {
                signaling_id: string(take("signaling_id"), "signaling_id")?,
            },
            "proof" => PeerMessage::Proof {
                token: string(take("token"), "token")?,
                key_id: optional(take("key_id"), "key_id")?,
                mac: optional(take("mac"), "mac")?,
            },
            "chat" => PeerMessage::Chat {
                text: string(take("text"), "text")?,
            },
            "shown" => PeerMessage::Shown {
                width: size(take("width"), "width")?,
                height: size(take("height"), "height")?,
            },
            "signaling_lost" => PeerMessage::SignalingLost,
            "ping" => PeerMessage::Ping,
            "pong" => PeerMessage::Pong,
            "beat" => PeerMessage::Beat,
            other => return Err(format!("unknown variant `{other}`")),
        })
    }
}

pub const DATA_CHANNEL_LABEL: &str = "meshcall";
pub const DATA_CHANNEL_ID: u16 = 0;

/// `GET /config.json`, read by the app at start. Every field is optional so the app works where a
/// server serves none.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ClientConfig {
    /// Base URL the room name is appended to: absolute (`ws://host:3536/`) or a path (`/ws/`)
    /// resolved against the page's origin.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signaling_url: Option<String>,
    /// Passed to `RTCPeerConnection` as `iceServers`.
    #[serde(default)]
    pub ice_servers: Vec<IceServer>,
    /// `RTCPeerConnection`'s `iceTransportPolicy`: `"relay"` sends all media through the TURN
    /// servers (the operator's choice: hides addresses, or a network that allows nothing else);
    /// absent or anything else, every path the browser finds. A string, not an enum, so a value
    /// this app does not know never makes the whole file unreadable.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ice_transport_policy: Option<String>,
    /// The total upload budget of one page in kbit/s, divided over its senders as the mesh grows
    /// (absent: the app's default, 2500).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub upload_kbps: Option<u32>,
    /// The largest file a page accepts, in MB, which is also the most it lets arrive at once
    /// (absent: the app's default, 100).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_file_mb: Option<u32>,
}

impl ClientConfig {
    /// The policy value that forces relay.
    pub const RELAY: &'static str = "relay";

    /// Whether every connection must go through a TURN relay.
    pub fn relay_only(&self) -> bool {
        self.ice_transport_policy.as_deref() == Some(Self::RELAY)
    }
}

/// The shape of an `RTCIceServer`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IceServer {
    pub urls: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credential: Option<String>,
}

/// WebSocket close codes meshcall's server uses beyond the standard ones; the app shows `reason`.
pub mod close_code {
    /// The room has its maximum number of peers.
    pub const ROOM_FULL: u16 = 4001;
    /// The server holds its maximum number of connections.
    pub const SERVER_FULL: u16 = 4002;
    /// The socket sent messages faster than its rate limit.
    pub const RATE_LIMITED: u16 = 4003;
    /// The socket did not drain its outbound queue.
    pub const TOO_SLOW: u16 = 4004;
    /// Nothing heard within the heartbeat timeout.
    pub const TIMED_OUT: u16 = 4005;
}

/// Room names our server accepts: `[A-Za-z0-9_-]{1,64}`.
pub fn is_valid_room_name(name: &str) -> bool {
    (1..=64).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

#[cfg(test)]
mod tests;
