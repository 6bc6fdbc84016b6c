//! Files in a call: each file we send goes to every peer in it over a channel of its own per
//! peer, piece by piece as fast as each channel drains; each file a peer sends is held to the
//! room brain's rules (`room/files.rs`) piece by piece and offered for saving once its SHA-256
//! matches. [`Files`] owns every transfer's channel, the bytes on their way and each received
//! file's object URL, and releases each when its transfer or entry ends.

use std::cell::Cell;
use std::rc::Rc;

use futures::channel::mpsc::UnboundedSender;
use js_sys::Uint8Array;
use leptos::prelude::*;
use web_sys::RtcPeerConnection;

use super::{Inner, Session};
use crate::room::{
    admit, clean_file_name, mb, sent, Announce, Arriving, FileEntry, FileState, Leg, PeerKey,
    Refusal, CHUNK, KEEP_FILES, RECEIVED,
};
use crate::rtc::files::{blob_url, bytes_of, forget_url, read, sha256, FileChannel, FileEvent};
use crate::rtc::now_ms;

/// A file we send, to one peer.
struct Out {
    key: PeerKey,
    channel: Option<FileChannel>,
    leg: Leg,
}

struct Sending {
    id: u32,
    bytes: Uint8Array,
    size: u64,
    legs: Vec<Out>,
    /// The percentage the list shows.
    shown: u64,
}

struct Receiving {
    channel: FileChannel,
    arriving: Arriving,
    size: u64,
    sha256: String,
    /// The bytes so far, in a buffer of the announced size (the cap bounds them all).
    bytes: Uint8Array,
    shown: u64,
}

pub(super) struct Files {
    /// The largest file, and the most bytes arriving at once.
    cap: u64,
    /// Transfer ids, drawn here and where a peer's channel arrives.
    pub(super) ids: Rc<Cell<u32>>,
    sending: Vec<Sending>,
    receiving: Vec<Receiving>,
    list: ArcRwSignal<Vec<FileEntry>>,
    /// Where hashes computed off the page's thread come back.
    events: UnboundedSender<FileEvent>,
}

pub(super) fn next_id(ids: &Cell<u32>) -> u32 {
    ids.set(ids.get() + 1);
    ids.get()
}

impl Files {
    pub(super) fn new(
        cap_mb: u32,
        list: ArcRwSignal<Vec<FileEntry>>,
        events: UnboundedSender<FileEvent>,
    ) -> Files {
        Files {
            // A typed array holds at most 4 GiB; a browser tab, less.
            cap: u64::from(cap_mb.min(2_047)) << 20,
            events,
            ids: Rc::default(),
            sending: Vec::new(),
            receiving: Vec::new(),
            list,
        }
    }

    /// A new entry; past [`KEEP_FILES`] the oldest finished one goes, and its saved file.
    fn add(&self, entry: FileEntry) {
        self.list.update(|l| {
            l.push(entry);
            while l.len() > KEEP_FILES {
                let Some(i) = l.iter().position(|e| !e.busy()) else {
                    break;
                };
                release(&l.remove(i));
            }
        });
    }

    /// A running transfer moves on. One that ended stays as it ended (a late cancel never
    /// hides a saved file, whose URL would then have no owner).
    fn set(&self, id: u32, done: u64, state: FileState) {
        self.list.update(|l| {
            if let Some(e) = l.iter_mut().find(|e| e.id == id && e.busy()) {
                e.done = done;
                e.state = state;
            }
        });
    }

    /// The person picked a file to send: its entry, unless it cannot go at all.
    fn pick(&mut self, name: &str, size: u64) -> Option<u32> {
        let id = next_id(&self.ids);
        let refusal = if size == 0 {
            Some("The file is empty.".to_owned())
        } else {
            (size > self.cap).then(|| Refusal::TooBig(mb(self.cap)).sentence())
        };
        self.add(FileEntry {
            id,
            from: None,
            name: Some(clean_file_name(name))
                .filter(|n| !n.is_empty())
                .unwrap_or_else(|| "file".into()),
            size,
            done: 0,
            state: refusal
                .clone()
                .map_or(FileState::Sending, FileState::Failed),
        });
        refusal.is_none().then_some(id)
    }

    /// The file is read and hashed: announce it to every peer on a channel of its own.
    fn launch(
        &mut self,
        id: u32,
        file: Option<(Uint8Array, String)>,
        peers: Vec<(PeerKey, RtcPeerConnection)>,
    ) {
        // Cancelled while it was read.
        let Some(name) = self.list.with_untracked(|l| {
            l.iter()
                .find(|e| e.id == id && e.busy())
                .map(|e| e.name.clone())
        }) else {
            return;
        };
        let Some((bytes, sha256)) = file else {
            return self.set(
                id,
                0,
                FileState::Failed("The file could not be read.".into()),
            );
        };
        if peers.is_empty() {
            return self.set(
                id,
                0,
                FileState::Failed("Nobody else is in the call.".into()),
            );
        }
        let size = u64::from(bytes.length());
        let label = Announce { size, sha256, name }.label();
        let legs = peers
            .iter()
            .map(|(key, pc)| Out {
                key: *key,
                channel: Some(FileChannel::open(pc, &label, id, *key, &self.events)),
                leg: Leg::Sending(0),
            })
            .collect();
        self.sending.push(Sending {
            id,
            bytes,
            size,
            legs,
            shown: 0,
        });
    }

    /// A channel opened or drained: send it what it takes now.
    fn ready(&mut self, id: u32, key: PeerKey) {
        let Some(s) = self.sending.iter_mut().find(|s| s.id == id) else {
            return;
        };
        let Some(out) = s.legs.iter_mut().find(|o| o.key == key) else {
            return;
        };
        let (Leg::Sending(mut at), Some(channel)) = (out.leg, out.channel.as_ref()) else {
            return;
        };
        let mut open = true;
        while at < s.size {
            let n = CHUNK.min(s.size - at);
            match channel.send(&s.bytes, at, n) {
                Some(true) => at += n,
                Some(false) => break,
                None => {
                    open = false;
                    break;
                }
            }
        }
        out.leg = Leg::Sending(at);
        if !open {
            stop(out);
        }
        self.show_sending(id);
    }

    /// The bar and state of a file we send; once no peer is being sent it, it is done with.
    fn show_sending(&mut self, id: u32) {
        let Some(i) = self.sending.iter().position(|s| s.id == id) else {
            return;
        };
        let s = &mut self.sending[i];
        let legs: Vec<Leg> = s.legs.iter().map(|o| o.leg).collect();
        let (done, state) = sent(s.size, &legs);
        let percent = done * 100 / s.size;
        let over = state != FileState::Sending;
        if percent != s.shown || over {
            s.shown = percent;
            self.set(id, done, state);
        }
        if over {
            self.sending.remove(i);
        }
    }

    /// A peer opened a channel: a file `from` (an admitted peer's name; `None`: nobody we take
    /// files from) announced in its label. Returns the file's name if it may come.
    fn offered(&mut self, channel: FileChannel, from: Option<String>, now: u64) -> Option<String> {
        let from = from?; // dropping the channel closes it
        let label = channel.label();
        let busy = self
            .receiving
            .iter()
            .filter(|r| r.channel.key == channel.key)
            .count();
        let arriving = self.receiving.iter().map(|r| r.size).sum();
        let (name, size, state) = match admit(&label, self.cap, busy, arriving) {
            Ok(file) => (file.name, file.size, FileState::Receiving),
            Err(refusal) => {
                let file = Announce::parse(&label);
                (
                    file.as_ref()
                        .map_or_else(|| "a file".into(), |f| f.name.clone()),
                    file.map_or(0, |f| f.size),
                    FileState::Failed(refusal.sentence()),
                )
            }
        };
        self.add(FileEntry {
            id: channel.id,
            from: Some(from),
            name: name.clone(),
            size,
            done: 0,
            state: state.clone(),
        });
        if state != FileState::Receiving {
            return None;
        }
        self.receiving.push(Receiving {
            arriving: Arriving::new(size, now),
            size,
            sha256: Announce::parse(&label)
                .map(|f| f.sha256)
                .unwrap_or_default(),
            bytes: Uint8Array::new_with_length(size as u32),
            shown: 0,
            channel,
        });
        Some(name)
    }

    fn message(&mut self, id: u32, key: PeerKey, data: wasm_bindgen::JsValue, now: u64) {
        if let Some(i) = self.receiving.iter().position(|r| r.channel.id == id) {
            let r = &mut self.receiving[i];
            let at = r.arriving.received();
            let bytes = bytes_of(&data);
            let len = bytes.as_ref().map(|b| u64::from(b.byte_length()));
            match (r.arriving.piece(len, now), bytes) {
                (Ok(last), Some(bytes)) => {
                    r.bytes.set(&Uint8Array::new(&bytes), at as u32);
                    if last {
                        // Hashed off the page's thread; `checked` goes on.
                        let (bytes, events) = (r.bytes.clone(), self.events.clone());
                        wasm_bindgen_futures::spawn_local(async move {
                            let hash = sha256(&bytes).await;
                            let _ = events.unbounded_send(FileEvent::Checked { id, hash });
                        });
                    }
                    let done = r.arriving.received();
                    let percent = done * 100 / r.size;
                    if percent != r.shown {
                        r.shown = percent;
                        self.set(id, done, FileState::Receiving);
                    }
                }
                (Err(refusal), _) => self.end(i, FileState::Failed(refusal.sentence())),
                (Ok(_), None) => self.end(i, FileState::Failed(Refusal::BadPiece.sentence())),
            }
        } else if data.as_string().as_deref() == Some(RECEIVED) {
            self.leg_ends(id, key, Leg::Received);
        }
    }

    /// The hash of a file that arrived whole (unless it was cancelled or broke meanwhile): offer
    /// it if it is the one announced.
    fn checked(&mut self, id: u32, hash: Option<String>) {
        let Some(i) = self.receiving.iter().position(|r| r.channel.id == id) else {
            return;
        };
        let r = self.receiving.remove(i);
        let state = if hash.as_deref() != Some(r.sha256.as_str()) {
            FileState::Failed(Refusal::Corrupt.sentence())
        } else if let Some(url) = blob_url(&r.bytes) {
            r.channel.say(RECEIVED);
            FileState::Ready(url)
        } else {
            FileState::Failed("The file could not be kept.".into())
        };
        self.set(id, r.size, state);
    }

    /// A file arriving ends before it is there (its channel closes as it goes).
    fn end(&mut self, i: usize, state: FileState) {
        let r = self.receiving.remove(i);
        self.set(r.channel.id, r.arriving.received(), state);
    }

    /// One leg of a file we send is over: `leg` is `Received` or `Stopped`.
    fn leg_ends(&mut self, id: u32, key: PeerKey, leg: Leg) {
        if let Some(out) = self
            .sending
            .iter_mut()
            .find(|s| s.id == id)
            .and_then(|s| s.legs.iter_mut().find(|o| o.key == key))
        {
            if matches!(out.leg, Leg::Sending(_)) {
                out.leg = leg;
                out.channel = None;
            }
        }
        self.show_sending(id);
    }

    fn closed(&mut self, id: u32, key: PeerKey) {
        match self.receiving.iter().position(|r| r.channel.id == id) {
            Some(i) => self.end(i, FileState::Cancelled),
            None => self.leg_ends(id, key, Leg::Stopped),
        }
    }

    /// The person cancels a transfer: every channel of it closes.
    fn cancel(&mut self, id: u32) {
        if let Some(i) = self.receiving.iter().position(|r| r.channel.id == id) {
            return self.end(i, FileState::Cancelled);
        }
        match self.sending.iter_mut().find(|s| s.id == id) {
            Some(s) => s.legs.iter_mut().for_each(stop),
            // Still being read: `launch` sees it cancelled.
            None => self.set(id, 0, FileState::Cancelled),
        }
        self.show_sending(id);
    }

    /// The peer is gone: what it was sending us, and what we were sending it, stop.
    fn peer_gone(&mut self, key: PeerKey) {
        while let Some(i) = self.receiving.iter().position(|r| r.channel.key == key) {
            self.end(i, FileState::Cancelled);
        }
        let ids: Vec<u32> = self.sending.iter().map(|s| s.id).collect();
        for id in ids {
            self.leg_ends(id, key, Leg::Stopped);
        }
    }

    fn tick(&mut self, now: u64) {
        while let Some(i) = self.receiving.iter().position(|r| r.arriving.stalled(now)) {
            self.end(i, FileState::Failed(Refusal::Stalled.sentence()));
        }
    }
}

impl Files {
    /// The call ends: every transfer stops (its channels close), saved files go.
    pub(super) fn clear(&mut self) {
        self.sending.clear();
        self.receiving.clear();
        self.list
            .try_update(|l| l.drain(..).for_each(|e| release(&e)));
    }
}

impl Drop for Files {
    fn drop(&mut self) {
        self.clear();
    }
}

fn stop(out: &mut Out) {
    if matches!(out.leg, Leg::Sending(_)) {
        out.leg = Leg::Stopped;
    }
    out.channel = None;
}

/// An entry goes: so does its saved file.
fn release(entry: &FileEntry) {
    if let FileState::Ready(url) = &entry.state {
        forget_url(url);
    }
}

impl Inner {
    pub(super) fn on_file(&self, event: FileEvent) {
        let now = now_ms();
        let mut files = self.files.borrow_mut();
        match event {
            FileEvent::Offered(channel) => {
                let key = channel.key;
                let from = self.room.borrow_mut().file_sender(key, now);
                if let (Some(name), Some(from)) = (files.offered(channel, from.clone(), now), from)
                {
                    self.chat_line(Some(key), from, "Sends a file: ".to_owned() + &name);
                }
            }
            FileEvent::Ready { id, key } => files.ready(id, key),
            FileEvent::Message { id, key, data } => files.message(id, key, data, now),
            FileEvent::Closed { id, key } => files.closed(id, key),
            FileEvent::Checked { id, hash } => files.checked(id, hash),
            FileEvent::Tick => files.tick(now),
        }
    }

    pub(super) fn files_peer_gone(&self, key: PeerKey) {
        self.files.borrow_mut().peer_gone(key);
    }

    /// Hands the channels `key`'s peer opens to the files loop, each with an id of its own.
    pub(super) fn take_offers(&self, key: PeerKey, edge: &crate::rtc::peer::PeerEdge) {
        let events = self.file_events.clone();
        let ids = self.files.borrow().ids.clone();
        edge.on_offer(move |channel| {
            let channel = FileChannel::new(channel, next_id(&ids), key, &events);
            let _ = events.unbounded_send(FileEvent::Offered(channel));
        });
    }
}

impl Session {
    /// Sends each of `files` to everyone in the call (read and hashed first).
    pub fn send_files(&self, files: Vec<web_sys::File>) {
        for file in files {
            let size = file.size() as u64;
            let Some(id) = self.0.files.borrow_mut().pick(&file.name(), size) else {
                continue;
            };
            let weak = Rc::downgrade(&self.0);
            wasm_bindgen_futures::spawn_local(async move {
                let file = match read(&file).await {
                    Some(bytes) => sha256(&bytes).await.map(|hash| (bytes, hash)),
                    None => None,
                };
                let Some(inner) = weak.upgrade() else {
                    return;
                };
                let peers = {
                    let edges = inner.edges.borrow();
                    let keys = inner.room.borrow().file_peers();
                    keys.into_iter()
                        .filter_map(|k| edges.get(&k).map(|e| (k, e.connection().clone())))
                        .collect()
                };
                inner.files.borrow_mut().launch(id, file, peers);
            });
        }
    }

    /// Cancels a file we send or one arriving.
    pub fn cancel_file(&self, id: u32) {
        self.0.files.borrow_mut().cancel(id);
    }
}
