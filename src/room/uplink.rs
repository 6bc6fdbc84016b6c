//! Uplink: what each of our senders may send, so that the whole mesh fits one upload budget. A
//! mesh of N sends N-1 copies of our video up one home uplink; without a budget each copy aims
//! for the browser's ~2.5 Mbit/s and the uplink drowns at four or five people. Audio comes first:
//! its share is set aside for every peer before video divides the rest. The budget counts what
//! goes on the wire, as a person's uplink (and the bench's `bytesSent`) sees it: besides each
//! video encoder's rate, the packets' headers, RTCP and the data channel. A peer that shows our
//! camera in a small tile says so (`shown`), and gets no more than that tile can show: what it
//! leaves goes to the others. Our screen share, while it runs, takes the largest part of each
//! connection's video. Every limit is applied with `setParameters` on the senders that exist
//! (`maxBitrate`, `scaleResolutionDownBy`), which never renegotiates. It owns each peer's applied
//! limit and its claimed tile size; the arithmetic is pure and testable.

use meshcall_protocol::PeerMessage;

use super::{Command, PeerKey, PeerState, Room};

/// The default total upload budget, in kbit/s: a modest home uplink.
pub const DEFAULT_UPLOAD_KBPS: u32 = 2_500;
/// Set aside per peer before any video, on the wire: Opus at Chromium's 32 kbit/s with the
/// headers of its 50 packets a second (IP, UDP, RTP with its extensions, SRTP: about 70 bytes
/// each, 28 kbit/s), and the connection's own traffic (RTCP, congestion feedback on what the
/// peer sends us, the data channel's heartbeats: about 10).
pub const RESERVED_KBPS: u32 = 70;
/// The share of a copy's part that its encoder is asked for (`maxBitrate`): headers take about
/// 6% of full video packets, and an encoder overshoots a hard picture by a few percent. Measured
/// with the bench's noise camera at N = 6: asking for all of it sent up to 2,874 kbit/s against
/// a 2,500 budget.
pub const ENCODER_PERCENT: u32 = 90;
/// One video copy never aims higher than this: a 640x480 camera looks no better above it.
pub const VIDEO_MAX_KBPS: u32 = 1_500;
/// ... nor lower: below this the picture stops being one (a tiny budget still moves).
pub const VIDEO_MIN_KBPS: u32 = 100;
/// One copy of a screen share never aims higher than this (text at 1080p, little motion).
pub const SCREEN_MAX_KBPS: u32 = 2_500;
/// A peer's tile claim counts up to this many device pixels a side (a 4K screen's width).
pub const MAX_TILE_SIDE: u32 = 4_096;
/// Tile sizes we tell a peer are rounded down to this many device pixels, so that a layout
/// that shifts by a few pixels sends nothing.
pub const SHOWN_STEP: u32 = 32;
/// A limit the browser refuses is set again at most this many times; a new limit starts afresh.
pub const LIMIT_RETRIES: u8 = 3;
/// The camera's width as Chromium opens it without constraints (640x480), which the resolution
/// steps below divide.
const CAMERA_WIDTH: u32 = 640;
/// Readings of our camera's encoder on a connection ([`Carried`]) that must all say it falls
/// short of its plan before its picture is sized from them: an estimate dips for a second now
/// and then, and each change of size costs the encoder a key frame.
pub const SHORT_READINGS: usize = 3;
/// The encoder falls short when it is allowed less than this share (percent) of the bitrate its
/// plan gives it...
pub const SHORT_PERCENT: u32 = 80;
/// ... and sends at least this share (percent) of what it is allowed: it is held back by the
/// link. A picture that needs less (a still room, the bench's bars) leaves the congestion
/// control's estimate where it started, 300 kbit/s on a good link, which says nothing of the
/// link (measured: `availableOutgoingBitrate` 294-306 kbit/s for 15 s on an idle veth).
pub const USED_PERCENT: u32 = 80;

/// What one connection's video senders may send.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SendLimit {
    /// The camera's `RTCRtpEncodingParameters.maxBitrate`, in bit/s.
    pub video_bps: u32,
    /// `scaleResolutionDownBy`: 1 sends the camera as it is, 2 half its width and height.
    pub scale_down: f32,
    /// Our screen share's `maxBitrate` on this connection (bit/s), while we share; always at
    /// full resolution (text must stay readable).
    pub screen_bps: Option<u32>,
}

/// What one peer we send to asks of our uplink.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Want {
    /// The size, in device pixels, at which it says it shows our camera (None: it did not say).
    pub tile: Option<(u32, u32)>,
}

/// The most camera video a tile of `width` x `height` device pixels shows well, in kbit/s: the
/// top of the resolution step (below) whose picture still fills it. The tile covers its box with
/// a 4:3 picture (`object-fit: cover`), so it shows as many pixels across as the larger of its
/// width and 4/3 of its height. A side beyond [`MAX_TILE_SIDE`] counts as that, so no number a
/// peer sends can overflow; none gives less than the floor or more than the cap.
pub fn tile_kbps(width: u32, height: u32) -> u32 {
    let across = width
        .min(MAX_TILE_SIDE)
        .max(height.min(MAX_TILE_SIDE) * 4 / 3);
    match across {
        a if a >= CAMERA_WIDTH => VIDEO_MAX_KBPS,
        a if a * 3 >= CAMERA_WIDTH * 2 => 999, // sent 1.5 times smaller: 427 across
        a if a * 2 >= CAMERA_WIDTH => 499,     // half: 320
        a if a * 4 >= CAMERA_WIDTH => 249,     // a quarter: 160
        _ => VIDEO_MIN_KBPS,
    }
}

/// The resolution a camera bitrate carries (VP8, moderate motion).
fn scale_for(kbps: u32) -> f32 {
    match kbps {
        1_000.. => 1.0,
        500.. => 1.5,
        250.. => 2.0,
        _ => 4.0,
    }
}

/// `scaleResolutionDownBy` for a camera `width` pixels across (its longer side) under a limit
/// planned with `scale`, on a connection that carries its plan. The plan's steps are widths of a 640-wide picture
/// (Chromium opens a camera at 640x480 without constraints); a smaller camera is scaled only down
/// to that width, never below it: a 320x240 one under the step that halves 640 goes out whole
/// instead of at 160x120. A wider camera is scaled as planned, and an unknown width (0) too.
pub fn camera_scale(scale: f32, width: u32) -> f32 {
    if width == 0 {
        return scale;
    }
    let step_width = CAMERA_WIDTH as f32 / scale;
    scale.min(width as f32 / step_width).max(1.0)
}

/// What our camera's encoder on one connection said in a reading (`outbound-rtp`): the bitrate
/// it may use now (`targetBitrate`: the congestion control's share for it, within `maxBitrate`),
/// and the bytes it has sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Encoder {
    pub target_kbps: u32,
    pub bytes_sent: u64,
}

/// The last readings of our camera's encoder on one connection, newest first: what it was
/// allowed and what it sent (kbit/s), each over the time since the reading before; the part
/// they are judged against, whether they last said the connection falls short of it, and the
/// size it was given meanwhile.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub(crate) struct Carried {
    last: Option<(u64, u64)>,
    readings: [Option<(u32, u32)>; SHORT_READINGS],
    plan: u32,
    short: bool,
    scale: Option<f32>,
}

/// What one reading says of the link.
#[derive(PartialEq)]
enum Said {
    /// The encoder was allowed under [`SHORT_PERCENT`] of its part and sent at least
    /// [`USED_PERCENT`] of that: the link holds it back.
    Short,
    /// It was allowed [`SHORT_PERCENT`] of its part or more.
    Carries,
    /// Allowed less, but it sent less still: its picture needs less, and an estimate nobody
    /// uses is not raised, so this says nothing of the link.
    Nothing,
}

/// What one reading (allowed, sent) says against the part `planned_kbps`.
fn said((target, sent): (u32, u32), planned_kbps: u32) -> Said {
    let percent = |part: u32, of: u32| u64::from(part) * 100 / u64::from(of.max(1));
    if percent(target, planned_kbps) >= u64::from(SHORT_PERCENT) {
        Said::Carries
    } else if percent(sent, target) >= u64::from(USED_PERCENT) {
        Said::Short
    } else {
        Said::Nothing
    }
}

impl Carried {
    fn push(&mut self, now: u64, e: Encoder) {
        if let Some((then, bytes)) = self.last.filter(|(then, _)| now > *then) {
            let sent = e.bytes_sent.saturating_sub(bytes) * 8 / (now - then);
            self.readings.rotate_right(1);
            self.readings[0] = Some((e.target_kbps, sent.min(u64::from(u32::MAX)) as u32));
        }
        self.last = Some((now, e.bytes_sent));
    }

    /// Whether the connection falls short of `planned_kbps`, and if so the least and the most
    /// its encoder was allowed over the last [`SHORT_READINGS`]. It becomes short when every
    /// one of them says [`Said::Short`] and stops when every one says [`Said::Carries`]: an
    /// encoder held by the link sends less than it is allowed for a second now and then, as it
    /// drops frames, and a picture made smaller sends less than it is allowed while the link
    /// may still be short. A new part starts the readings afresh: those taken under the old
    /// limit say nothing of the new one.
    fn judge(&mut self, planned_kbps: u32) -> Option<(u32, u32)> {
        if planned_kbps != self.plan {
            *self = Carried {
                last: self.last,
                plan: planned_kbps,
                ..Carried::default()
            };
        }
        let said = |r| said(r, planned_kbps);
        let readings: Option<Vec<(u32, u32)>> = self.readings.iter().copied().collect();
        let readings = readings.unwrap_or_default();
        let every = |s: Said| !readings.is_empty() && readings.iter().all(|&r| said(r) == s);
        if (!self.short && every(Said::Short)) || (self.short && every(Said::Carries)) {
            self.short = !self.short;
            self.scale = None;
        }
        let allowed = readings.iter().map(|&(target, _)| target);
        let band = allowed.clone().min().zip(allowed.max());
        band.filter(|_| self.short)
    }

    /// Whether its readings have nothing left to decide, so the connection may be read at rest
    /// (`room::link::RESTING_READ_MS`): no encoder read yet (no camera going to it), or not
    /// short and none of the last [`SHORT_READINGS`] says it is. A short link, or one whose
    /// readings start to say so, is read each second.
    pub(crate) fn settled(&self) -> bool {
        if self.last.is_none() {
            return true;
        }
        !self.short
            && self.plan > 0
            && self
                .readings
                .iter()
                .all(|r| r.is_some_and(|r| said(r, self.plan) != Said::Short))
    }

    /// Forgets every reading: our camera or screen share changed, so the encoders read are
    /// not the ones that will send.
    pub(crate) fn reset(&mut self) {
        *self = Carried::default();
    }
}

/// `limit` with its picture's size fitted to what the connection carries and to our camera
/// (`camera_side` pixels along its longer side, 0 if unknown). Where the encoder falls short of its plan
/// (`short`: the least and the most it was allowed lately, from [`Carried`]), the step is taken
/// from what it is allowed: on a short link, frames before pixels (a 320x240 camera of noise
/// on a third of a 1 Mbit/s uplink moved at 3.4 frames a second whole, 8 or more at 160x120:
/// `uplink-throttled.spec.ts`). It starts at the band's smallest picture; within the band the
/// size stays as it is (`current`), so an estimate that wavers across a step does not change
/// it each second. The step's width then applies to the camera as it is: a camera smaller than
/// the 640 the steps assume keeps the width its step leaves ([`camera_scale`]).
pub fn sized(
    limit: SendLimit,
    short: Option<(u32, u32)>,
    camera_side: u32,
    current: Option<f32>,
) -> SendLimit {
    let fit = |kbps: u32| camera_scale(scale_for(kbps).max(limit.scale_down), camera_side);
    let scale_down = match short {
        Some((low, high)) => {
            let (smallest, largest) = (fit(low), fit(high));
            current.map_or(smallest, |c| c.clamp(largest, smallest))
        }
        None => camera_scale(limit.scale_down, camera_side),
    };
    SendLimit {
        scale_down,
        ..limit
    }
}

/// The limits for each of `wants` under a `budget_kbps` upload budget, in the same order: audio's
/// share first ([`RESERVED_KBPS`]); of the rest, what encoders may use ([`ENCODER_PERCENT`])
/// divided evenly, except that a peer whose tile needs less gets only that
/// and leaves the difference to the others (water-filling); with a screen share (`sharing`), each
/// connection's part goes first to the screen, the camera keeping a third and at least the floor.
pub fn plan(wants: &[Want], budget_kbps: u32, sharing: bool) -> Vec<SendLimit> {
    let n = wants.len() as u32;
    let mut pool = (u64::from(budget_kbps.saturating_sub(n.saturating_mul(RESERVED_KBPS)))
        * u64::from(ENCODER_PERCENT)
        / 100) as u32;
    let screen_want = if sharing { SCREEN_MAX_KBPS } else { 0 };
    let demand = |w: &Want| w.tile.map_or(VIDEO_MAX_KBPS, |(x, y)| tile_kbps(x, y)) + screen_want;
    // Smallest demand first: each takes what it needs while that is below an even part of what
    // is left; from the first that needs more on, all get that same even part.
    let mut order: Vec<usize> = (0..wants.len()).collect();
    order.sort_by_key(|&i| demand(&wants[i]));
    let mut parts = vec![0; wants.len()];
    let mut level: Option<u32> = None;
    for (done, &i) in order.iter().enumerate() {
        let need = demand(&wants[i]);
        let even = level.unwrap_or(pool / (n - done as u32));
        if need < even && level.is_none() {
            pool -= need;
            parts[i] = need;
        } else {
            level = Some(even);
            parts[i] = even;
        }
    }
    wants
        .iter()
        .zip(parts)
        .map(|(w, part)| {
            let camera_want = demand(w) - screen_want;
            let (camera, screen) = if sharing {
                // The screen first: the camera keeps what it needs up to a third of the part.
                let camera = camera_want.min(part / 3).max(VIDEO_MIN_KBPS);
                let screen = part.saturating_sub(camera).max(VIDEO_MIN_KBPS);
                (camera, Some(screen * 1_000))
            } else {
                (part.clamp(VIDEO_MIN_KBPS, VIDEO_MAX_KBPS), None)
            };
            SendLimit {
                video_bps: camera * 1_000,
                scale_down: scale_for(camera),
                screen_bps: screen,
            }
        })
        .collect()
}

/// The limit for each of `peers` senders when none said how large it shows us and we share no
/// screen: the budget after audio divided evenly.
pub fn limit_for(peers: usize, budget_kbps: u32) -> SendLimit {
    let wants = vec![Want::default(); peers.max(1)];
    plan(&wants, budget_kbps, false)[0]
}

impl Room {
    /// The total upload budget in kbit/s (the operator's `uploadKbps`, else the default).
    pub fn upload_kbps(mut self, kbps: u32) -> Self {
        self.upload_kbps = kbps;
        self
    }

    /// Our camera's picture is now `long_side` pixels along its longer side (0: none); the
    /// next fit sizes by it, and the readings of the camera before it are forgotten.
    pub(super) fn on_camera(&mut self, long_side: u32) {
        self.camera_side = long_side;
        self.forget_encoders();
    }

    /// Every connection's encoder readings start afresh (another camera, a screen share begun
    /// or ended).
    pub(super) fn forget_encoders(&mut self) {
        for (_, p) in self.peers.iter_mut() {
            p.carried.reset();
        }
    }

    /// A reading of our camera's encoder on the connection to `key` (None: we send no camera
    /// there, or share our screen beside it). Our own browser's figures, not the peer's word. A
    /// reading without them changes nothing: the ones before it stand.
    pub(super) fn on_encoder(&mut self, key: PeerKey, encoder: Option<Encoder>) {
        let now = self.now;
        if let (Some(p), Some(e)) = (self.peers.get_mut(&key), encoder) {
            p.carried.push(now, e);
        }
    }

    /// The peer behind `key` says it shows our camera at `width` x `height` device pixels. A
    /// claim: it can only lower what we send to that peer (to what such a tile shows, never
    /// below the floor), so any number is taken, bounded.
    pub(super) fn on_shown(&mut self, key: PeerKey, width: u32, height: u32) {
        if let Some(p) = self.peers.get_mut(&key) {
            p.want.tile = Some((width.min(MAX_TILE_SIDE), height.min(MAX_TILE_SIDE)));
        }
    }

    /// Setting the peer's limit on its senders failed (a sender mid-change, a closing
    /// connection): forget it was set, so the next fit sends it again, up to [`LIMIT_RETRIES`]
    /// times for one limit (a browser that keeps refusing is not asked at every step).
    pub(super) fn on_limit_failed(&mut self, key: PeerKey) {
        if let Some(p) = self.peers.get_mut(&key) {
            if p.limit_refusals < LIMIT_RETRIES {
                p.limit_refusals += 1;
                p.send_limit = None;
            }
        }
    }

    /// We show the camera of the peer behind `key` at `width` x `height` device pixels: tell it,
    /// if that changed by a step or more since we last did (it may then send us less).
    pub(super) fn tell_shown(
        &mut self,
        key: PeerKey,
        width: u32,
        height: u32,
        out: &mut Vec<Command>,
    ) {
        let size = (
            width / SHOWN_STEP * SHOWN_STEP,
            height / SHOWN_STEP * SHOWN_STEP,
        );
        let Some(p) = self
            .peers
            .get_mut(&key)
            .filter(|p| p.channel_open && p.admission.admitted() && p.told_shown != Some(size))
        else {
            return;
        };
        p.told_shown = Some(size);
        out.push(Command::SendToPeer {
            key,
            message: PeerMessage::Shown {
                width: size.0,
                height: size.1,
            },
        });
    }

    /// Asked once a second, at each tick (apart from the steps, so that what a peer makes us do
    /// and what the mesh as a whole needs stay separate): divide the budget over the peers we
    /// send to now (not failed, and in a keyed room admitted: a peer held back gets nothing), and
    /// give every connection that is up its new limit if it changed. A connection that has not
    /// connected yet gets its limit at the first tick after it does (its senders' parameters
    /// exist by then).
    pub fn fit_uplink(&mut self) -> Vec<Command> {
        let mut out = Vec::new();
        let sending: Vec<PeerKey> = self
            .peers
            .values()
            .filter(|p| p.state != PeerState::Failed && p.admission.admitted())
            .map(|p| p.key)
            .collect();
        let wants: Vec<Want> = sending.iter().map(|k| self.peers[k].want).collect();
        let sharing = self.share.is_some();
        let limits = plan(&wants, self.upload_kbps, sharing);
        for (key, planned) in sending.into_iter().zip(limits) {
            let Some(p) = self.peers.get_mut(&key) else {
                continue;
            };
            // While we share our screen, the plan alone: its encoder and the camera's share
            // the connection, and their readings are not told apart.
            let short = if sharing {
                None
            } else {
                p.carried.judge(planned.video_bps / 1_000)
            };
            let limit = sized(planned, short, self.camera_side, p.carried.scale);
            if short.is_some() {
                p.carried.scale = Some(limit.scale_down);
            }
            if p.ever_connected() && p.send_limit != Some(limit) {
                if p.send_limit.is_some() {
                    // A new limit, not the refused one again: it gets its own retries.
                    p.limit_refusals = 0;
                }
                p.send_limit = Some(limit);
                out.push(Command::LimitSend { key, limit });
            }
        }
        out
    }
}
