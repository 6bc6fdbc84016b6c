//! The browser side of files: one transfer's data channel ([`FileChannel`], which owns its
//! listeners and closes the channel when dropped), reading a picked file, SHA-256 by WebCrypto
//! (off the page's thread: hashing 100 MB in the wasm stalled the call), and the `Blob` a
//! received file is saved from. It decides nothing: the session's `files` module does.

use futures::channel::mpsc::UnboundedSender;
use gloo_events::EventListener;
use js_sys::{ArrayBuffer, Uint8Array};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{RtcDataChannel, RtcDataChannelState, RtcDataChannelType, RtcPeerConnection};

use crate::room::PeerKey;

/// Sending waits while more than this is queued on a channel...
const HIGH_WATER: u32 = 1 << 20;
/// ...until it drains to this (`bufferedamountlow`).
const LOW_WATER: u32 = 256 << 10;

/// What a transfer's channel did, for the session's files loop. `id` names the transfer (one
/// per file we send, one per file arriving), `key` the peer.
pub enum FileEvent {
    /// The peer opened a channel: a file it sends us, announced in the label.
    Offered(FileChannel),
    /// Our channel opened, or its queue drained: send more.
    Ready {
        id: u32,
        key: PeerKey,
    },
    Message {
        id: u32,
        key: PeerKey,
        data: JsValue,
    },
    Closed {
        id: u32,
        key: PeerKey,
    },
    /// The SHA-256 of a file that arrived whole (`None`: it could not be computed).
    Checked {
        id: u32,
        hash: Option<String>,
    },
    /// A second went by (stalled transfers).
    Tick,
}

/// One transfer's data channel to or from one peer.
pub struct FileChannel {
    pub id: u32,
    pub key: PeerKey,
    channel: RtcDataChannel,
    _listeners: [EventListener; 4],
}

impl FileChannel {
    /// A new channel for a file we send (`label`: its announcement). On a connection that has
    /// its negotiated channel already, this needs no new offer.
    pub fn open(
        pc: &RtcPeerConnection,
        label: &str,
        id: u32,
        key: PeerKey,
        events: &UnboundedSender<FileEvent>,
    ) -> FileChannel {
        FileChannel::new(pc.create_data_channel(label), id, key, events)
    }

    /// Takes over `channel` (ours, or one the peer opened) and reports what it does.
    pub fn new(
        channel: RtcDataChannel,
        id: u32,
        key: PeerKey,
        events: &UnboundedSender<FileEvent>,
    ) -> FileChannel {
        channel.set_binary_type(RtcDataChannelType::Arraybuffer);
        channel.set_buffered_amount_low_threshold(LOW_WATER);
        let on = |name: &'static str, make: fn(u32, PeerKey, JsValue) -> FileEvent| {
            let events = events.clone();
            EventListener::new(&channel, name, move |e| {
                let data = e
                    .dyn_ref::<web_sys::MessageEvent>()
                    .map(|m| m.data())
                    .unwrap_or_default();
                let _ = events.unbounded_send(make(id, key, data));
            })
        };
        let listeners = [
            on("open", |id, key, _| FileEvent::Ready { id, key }),
            on("bufferedamountlow", |id, key, _| FileEvent::Ready {
                id,
                key,
            }),
            on("message", |id, key, data| FileEvent::Message {
                id,
                key,
                data,
            }),
            on("close", |id, key, _| FileEvent::Closed { id, key }),
        ];
        FileChannel {
            id,
            key,
            channel,
            _listeners: listeners,
        }
    }

    pub fn label(&self) -> String {
        self.channel.label()
    }

    /// Bytes `from..from + len` of `bytes`, if the channel takes more now (`Some(false)`: wait for
    /// [`FileEvent::Ready`]); `None` if it is closed or refuses.
    pub fn send(&self, bytes: &Uint8Array, from: u64, len: u64) -> Option<bool> {
        if self.channel.ready_state() != RtcDataChannelState::Open {
            return None;
        }
        if self.channel.buffered_amount() > HIGH_WATER {
            return Some(false);
        }
        let piece = bytes.subarray(from as u32, (from + len) as u32);
        self.channel.send_with_array_buffer_view(&piece).ok()?;
        Some(true)
    }

    pub fn say(&self, text: &str) {
        let _ = self.channel.send_with_str(text);
    }
}

impl Drop for FileChannel {
    fn drop(&mut self) {
        // The listeners go with the struct; queued bytes are dropped, the peer sees it close.
        self.channel.close();
    }
}

/// The bytes of a picked file.
pub async fn read(file: &web_sys::File) -> Option<Uint8Array> {
    let buffer = JsFuture::from(file.array_buffer()).await.ok()?;
    Some(Uint8Array::new(&buffer))
}

/// SHA-256 of `bytes`, lowercase hex, as announced.
pub async fn sha256(bytes: &Uint8Array) -> Option<String> {
    let subtle = web_sys::window()?.crypto().ok()?.subtle();
    let promise = subtle
        .digest_with_str_and_js_u8_array("SHA-256", bytes)
        .ok()?;
    let digest = JsFuture::from(promise).await.ok()?;
    Some(crate::trust::hex(&Uint8Array::new(&digest).to_vec()))
}

/// The received bytes as a `Blob`, and the object URL that saves it; its owner revokes it with
/// [`forget_url`].
pub fn blob_url(bytes: &Uint8Array) -> Option<String> {
    let blob = web_sys::Blob::new_with_u8_array_sequence(&js_sys::Array::of1(bytes)).ok()?;
    web_sys::Url::create_object_url_with_blob(&blob).ok()
}

pub fn forget_url(url: &str) {
    let _ = web_sys::Url::revoke_object_url(url);
}

/// A message's bytes, if it is binary.
pub fn bytes_of(data: &JsValue) -> Option<ArrayBuffer> {
    data.dyn_ref::<ArrayBuffer>().cloned()
}
