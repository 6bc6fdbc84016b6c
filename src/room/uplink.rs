//! Uplink: what each of our senders may send, so that the whole mesh fits one upload budget. A
//! mesh of N sends N-1 copies of our video up one home uplink; without a budget each copy aims
//! for the browser's ~2.5 Mbit/s and the uplink drowns at four or five people. Audio comes first:
//! its share is set aside for every peer before video divides the rest. Every limit is applied
//! with `setParameters` on the senders that exist (`maxBitrate`, `scaleResolutionDownBy`), which
//! never renegotiates. It owns each peer's applied limit; the arithmetic is pure and testable.

use super::{Command, PeerState, Room};

/// The default total upload budget, in kbit/s: a modest home uplink.
pub const DEFAULT_UPLOAD_KBPS: u32 = 2_500;
/// Set aside per peer for audio (Opus at its default rate, with packet overhead).
pub const AUDIO_KBPS: u32 = 40;
/// One video copy never aims higher than this: a 640x480 camera looks no better above it.
pub const VIDEO_MAX_KBPS: u32 = 1_500;
/// ... nor lower: below this the picture stops being one (a tiny budget still moves).
pub const VIDEO_MIN_KBPS: u32 = 100;

/// What one connection's video sender may send.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SendLimit {
    /// `RTCRtpEncodingParameters.maxBitrate`, in bit/s.
    pub video_bps: u32,
    /// `scaleResolutionDownBy`: 1 sends the camera as it is, 2 half its width and height.
    pub scale_down: f32,
}

/// The video limit for each of `peers` senders under a `budget_kbps` upload budget: audio's share
/// first, the rest divided evenly, the resolution lowered where the bitrate cannot carry it.
pub fn limit_for(peers: usize, budget_kbps: u32) -> SendLimit {
    let n = peers.max(1) as u32;
    let video = budget_kbps.saturating_sub(n * AUDIO_KBPS) / n;
    let video = video.clamp(VIDEO_MIN_KBPS, VIDEO_MAX_KBPS);
    // About what each resolution needs to look sharp (VP8, moderate motion).
    let scale_down = match video {
        1_000.. => 1.0,
        500.. => 1.5,
        250.. => 2.0,
        _ => 4.0,
    };
    SendLimit {
        video_bps: video * 1_000,
        scale_down,
    }
}

impl Room {
    /// The total upload budget in kbit/s (the operator's `uploadKbps`, else the default).
    pub fn upload_kbps(mut self, kbps: u32) -> Self {
        self.upload_kbps = kbps;
        self
    }

    /// Asked after every step (apart from it, so that what a peer makes us do and what the mesh
    /// as a whole needs stay separate): divide the budget over the peers we send to now (not
    /// failed, and in a keyed room admitted: a peer held back gets nothing), and give every
    /// connection that is up its new limit if it changed. A connection that has not connected
    /// yet gets its limit when it does (its senders' parameters exist by then).
    pub fn fit_uplink(&mut self) -> Vec<Command> {
        let mut out = Vec::new();
        let sending = self
            .peers
            .values()
            .filter(|p| p.state != PeerState::Failed && p.admission.admitted())
            .count();
        let limit = limit_for(sending, self.upload_kbps);
        for p in self.peers.iter_mut().map(|(_, p)| p) {
            if p.ever_connected() && p.admission.admitted() && p.send_limit != Some(limit) {
                p.send_limit = Some(limit);
                out.push(Command::LimitSend { key: p.key, limit });
            }
        }
        out
    }
}
