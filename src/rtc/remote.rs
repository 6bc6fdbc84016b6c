//! What one peer sends us, sorted into the streams its tiles show: the camera stream (its newest
//! audio and video track outside any screen share) and the share stream (the tracks of the stream
//! it announced as its screen). Tracks may arrive before or after the announcement (media is
//! negotiated through signaling, the announcement comes over the data channel), so every arrival
//! and every announcement sorts again.

use wasm_bindgen::JsCast;
use web_sys::{MediaStream, MediaStreamTrack, MediaStreamTrackState};

/// Tracks remembered per peer: a few per share, one per device kind; ended ones go first.
const MAX_TRACKS: usize = 16;
/// Share stream ids remembered per peer (so the tracks of an earlier share never show as its camera).
const MAX_SHARES: usize = 8;

pub struct Received {
    camera: MediaStream,
    share: MediaStream,
    /// Every track that arrived, oldest first, with the id of the stream it came in.
    tracks: Vec<(String, MediaStreamTrack)>,
    /// Stream ids the peer ever announced as a share.
    shares: Vec<String>,
    sharing: Option<String>,
}

impl Received {
    pub fn new() -> Result<Self, wasm_bindgen::JsValue> {
        Ok(Received {
            camera: MediaStream::new()?,
            share: MediaStream::new()?,
            tracks: Vec::new(),
            shares: Vec::new(),
            sharing: None,
        })
    }

    pub fn camera(&self) -> &MediaStream {
        &self.camera
    }

    pub fn share(&self) -> &MediaStream {
        &self.share
    }

    /// A track arrived (`ontrack`) in the stream `stream_id` ("" for none).
    pub fn arrive(&mut self, stream_id: String, track: MediaStreamTrack) {
        self.tracks
            .retain(|(_, t)| t.ready_state() == MediaStreamTrackState::Live);
        if self.tracks.len() == MAX_TRACKS {
            self.tracks.remove(0);
        }
        self.tracks.push((stream_id, track));
        self.sort();
    }

    /// The peer's screen is the stream `id`, or it stopped sharing.
    pub fn set_share(&mut self, id: Option<String>) {
        if let Some(id) = id.as_ref().filter(|id| !self.shares.contains(id)) {
            if self.shares.len() == MAX_SHARES {
                self.shares.remove(0);
            }
            self.shares.push(id.clone());
        }
        self.sharing = id;
        self.sort();
    }

    fn sort(&self) {
        let mut camera: Vec<&MediaStreamTrack> = Vec::new();
        for (_, track) in self.tracks.iter().filter(|(s, _)| !self.shares.contains(s)) {
            // The newest of each kind: a device added later replaces what was there.
            camera.retain(|t| t.kind() != track.kind());
            camera.push(track);
        }
        let share: Vec<&MediaStreamTrack> = self
            .tracks
            .iter()
            .filter(|(s, _)| self.sharing.as_ref() == Some(s))
            .map(|(_, t)| t)
            .collect();
        hold(&self.camera, &camera);
        hold(&self.share, &share);
    }

    /// Every track, to stop when the connection goes.
    pub fn stop(&self) {
        for (_, t) in &self.tracks {
            t.stop();
        }
    }
}

/// Makes `stream` hold exactly `tracks` (a `<video>` showing it keeps playing what stays).
fn hold(stream: &MediaStream, tracks: &[&MediaStreamTrack]) {
    for old in stream.get_tracks().iter() {
        let old: MediaStreamTrack = old.unchecked_into();
        if !tracks.iter().any(|t| t.id() == old.id()) {
            stream.remove_track(&old);
        }
    }
    for t in tracks {
        if stream.get_track_by_id(&t.id()).is_none() {
            stream.add_track(t);
        }
    }
}
