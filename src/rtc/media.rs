//! Local media: `getUserMedia` with fallbacks down to nothing (the first request taken from
//! `index.html`), device listing and swapping one device for another; the mic level meter is
//! [`super::meter`]. `LocalMedia` owns its tracks (and their `ended`
//! listeners) and stops them when dropped; it never decides what the call does about a lost one.

use std::rc::Rc;

use gloo_events::EventListener;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use web_sys::{
    MediaDeviceInfo, MediaDeviceKind, MediaStream, MediaStreamConstraints, MediaStreamTrack,
    MediaTrackConstraints,
};

use super::JsError;

/// A camera or a microphone track. The browser's strings ("video", "audio") appear only where
/// web-sys wants them: [`MediaKind::as_str`] and [`MediaKind::of`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MediaKind {
    // Discriminants index per-kind arrays: [audio, video].
    Audio = 0,
    Video = 1,
}

impl MediaKind {
    pub const ALL: [MediaKind; 2] = [MediaKind::Audio, MediaKind::Video];

    /// `MediaStreamTrack.kind` and `addTransceiver`'s kind.
    pub fn as_str(self) -> &'static str {
        match self {
            MediaKind::Audio => "audio",
            MediaKind::Video => "video",
        }
    }

    pub fn of(track: &MediaStreamTrack) -> Option<MediaKind> {
        match track.kind().as_str() {
            "audio" => Some(MediaKind::Audio),
            "video" => Some(MediaKind::Video),
            _ => None,
        }
    }

    /// The device's name in a sentence.
    pub fn noun(self) -> &'static str {
        match self {
            MediaKind::Audio => "microphone",
            MediaKind::Video => "camera",
        }
    }
}

/// Why the lobby could not get everything, in terms a person can act on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MediaProblem {
    /// The person or the browser refused permission.
    Blocked,
    NoCamera,
    NoMicrophone,
    /// A device exists but another app holds it.
    CameraBusy,
    MicrophoneBusy,
    /// No `navigator.mediaDevices` (insecure origin).
    Unsupported,
}

impl MediaProblem {
    pub fn sentence(self) -> &'static str {
        match self {
            MediaProblem::Blocked => "Camera and microphone are blocked. Allow them in the address bar and reload, or join to watch and listen only.",
            MediaProblem::NoCamera => "No camera found. You can join with your microphone only.",
            MediaProblem::NoMicrophone => "No microphone found. You can join with your camera only.",
            MediaProblem::CameraBusy => "Your camera is in use by another app. Close it and reload, or join without video.",
            MediaProblem::MicrophoneBusy => "Your microphone is in use by another app. Close it and reload, or join without sound.",
            MediaProblem::Unsupported => "This page cannot use a camera or microphone here (it needs https). You can still join to watch and listen.",
        }
    }
}

/// What went wrong with one device while the person is already in the lobby or the call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeviceTrouble {
    /// The track ended under us: unplugged, or permission taken back.
    Stopped,
    Blocked,
    Missing,
    Busy,
    Unsupported,
}

impl DeviceTrouble {
    /// A sentence for `kind` that says what to do next.
    pub fn sentence(self, kind: MediaKind) -> String {
        let noun = kind.noun();
        match self {
            DeviceTrouble::Stopped => format!("Your {noun} stopped: it was unplugged, or the browser took back permission. Pick one or try again."),
            DeviceTrouble::Blocked => format!("The {noun} is blocked. Allow it in the address bar, then try again."),
            DeviceTrouble::Missing => format!("No {noun} found. Plug one in and pick it here."),
            DeviceTrouble::Busy => format!("Another app is using that {noun}. Close it, then try again."),
            DeviceTrouble::Unsupported => format!("This page cannot use a {noun} here (it needs https)."),
        }
    }

    /// The one reading of getUserMedia's DOMException names, for the lobby and the call alike.
    fn of(error: &JsError) -> DeviceTrouble {
        match error.name.as_str() {
            "NotAllowedError" | "SecurityError" => DeviceTrouble::Blocked,
            "NotReadableError" | "AbortError" => DeviceTrouble::Busy,
            "NotSupportedError" | "TypeError" => DeviceTrouble::Unsupported,
            _ => DeviceTrouble::Missing,
        }
    }
}

type OnEnded = Rc<dyn Fn(MediaKind)>;

/// The part of a track's `getSettings()` we use.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct Settings {
    device_id: Option<String>,
    width: f64,
    height: f64,
}

/// The camera and microphone tracks this page holds. Dropping it stops them.
pub struct LocalMedia {
    stream: MediaStream,
    on_ended: Option<OnEnded>,
    /// One `ended` listener per track; replaced with the track, removed on drop.
    ended: Vec<EventListener>,
}

impl std::fmt::Debug for LocalMedia {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LocalMedia")
            .field("stream", &self.stream)
            .finish_non_exhaustive()
    }
}

impl LocalMedia {
    fn of(stream: MediaStream) -> Self {
        LocalMedia {
            stream,
            on_ended: None,
            ended: Vec::new(),
        }
    }

    /// Receive-only: no tracks at all.
    pub fn none() -> Result<Self, JsError> {
        Ok(LocalMedia::of(MediaStream::new()?))
    }

    /// Calls `f` with the kind when a track ends without us stopping it: the device was
    /// unplugged or the permission taken back. Replaces an earlier callback.
    pub fn on_ended(&mut self, f: impl Fn(MediaKind) + 'static) {
        self.on_ended = Some(Rc::new(f));
        self.listen();
    }

    fn listen(&mut self) {
        self.ended.clear();
        let Some(f) = &self.on_ended else { return };
        for track in self.tracks() {
            let Some(kind) = MediaKind::of(&track) else {
                continue;
            };
            let f = Rc::clone(f);
            self.ended
                .push(EventListener::new(&track, "ended", move |_| f(kind)));
        }
    }

    /// Puts `track` in place of the one of its kind (stopped first); returns nothing to undo.
    pub fn replace(&mut self, track: MediaStreamTrack) {
        for old in self.tracks() {
            if old.kind() == track.kind() {
                old.stop();
                self.stream.remove_track(&old);
            }
        }
        self.stream.add_track(&track);
        self.listen();
    }

    /// A track of `kind` that still delivers (not ended).
    pub fn has_live(&self, kind: MediaKind) -> bool {
        self.track(kind)
            .is_some_and(|t| t.ready_state() == web_sys::MediaStreamTrackState::Live)
    }

    /// Borrow it; to keep a handle use `Clone::clone`, never `.clone()`, which on a
    /// `MediaStream` is the JS method that copies every track (and those copies never stop).
    pub fn stream(&self) -> &MediaStream {
        &self.stream
    }

    fn tracks(&self) -> Vec<MediaStreamTrack> {
        self.stream
            .get_tracks()
            .iter()
            .map(|t| t.unchecked_into())
            .collect()
    }

    pub fn track(&self, kind: MediaKind) -> Option<MediaStreamTrack> {
        self.tracks()
            .into_iter()
            .find(|t| MediaKind::of(t) == Some(kind))
    }

    pub fn has(&self, kind: MediaKind) -> bool {
        self.track(kind).is_some()
    }

    /// `track.enabled` is what peers expect: silence/black frames, the sender stays.
    pub fn set_enabled(&self, kind: MediaKind, on: bool) {
        if let Some(t) = self.track(kind) {
            t.set_enabled(on);
        }
    }

    pub fn device_id(&self, kind: MediaKind) -> Option<String> {
        self.settings(kind)?.device_id
    }

    /// The longer side of the picture our camera captures now, in pixels (0: no camera, or it
    /// does not say): a phone held upright gives 480x640, which the uplink's steps must read as
    /// the 640 across they assume.
    pub fn camera_long_side(&self) -> u32 {
        self.settings(MediaKind::Video)
            .map_or(0, |s| s.width.max(s.height) as u32)
    }

    fn settings(&self, kind: MediaKind) -> Option<Settings> {
        serde_wasm_bindgen::from_value(self.track(kind)?.get_settings().into()).ok()
    }

    /// Stop every track now (also done on drop).
    pub fn stop(&self) {
        for t in self.tracks() {
            t.stop();
            self.stream.remove_track(&t);
        }
    }
}

impl Drop for LocalMedia {
    fn drop(&mut self) {
        self.ended.clear();
        self.stop();
    }
}

/// What the lobby got: the media and, if short of camera+mic, why.
pub struct Acquired {
    pub media: LocalMedia,
    pub problems: Vec<MediaProblem>,
}

fn constraint(device: Option<&str>) -> JsValue {
    match device {
        Some(id) if !id.is_empty() => {
            let c = MediaTrackConstraints::new();
            let exact = js_sys::Object::new();
            let _ = js_sys::Reflect::set(&exact, &"exact".into(), &JsValue::from_str(id));
            c.set_device_id(&exact);
            c.into()
        }
        _ => JsValue::TRUE,
    }
}

/// `navigator.mediaDevices`, absent outside a secure context.
fn media_devices() -> Result<web_sys::MediaDevices, JsError> {
    web_sys::window()
        .ok_or_else(|| JsError {
            name: "NotSupportedError".into(),
            message: "no window".into(),
        })?
        .navigator()
        .media_devices()
        .map_err(|_| JsError {
            name: "NotSupportedError".into(),
            message: "no mediaDevices".into(),
        })
}

async fn get_user_media(
    audio: Option<Option<&str>>,
    video: Option<Option<&str>>,
) -> Result<MediaStream, JsError> {
    let devices = media_devices()?;
    let c = MediaStreamConstraints::new();
    c.set_audio(&audio.map(constraint).unwrap_or(JsValue::FALSE));
    c.set_video(&video.map(constraint).unwrap_or(JsValue::FALSE));
    let stream = JsFuture::from(devices.get_user_media_with_constraints(&c)?).await?;
    Ok(stream.unchecked_into())
}

/// Where index.html's inline script leaves its `getUserMedia({audio: true, video: true})` promise,
/// made while the app loads on a room link.
const EARLY_MEDIA: &str = "__meshcallMedia";

/// index.html's early request, taken at most once: the page's first lobby starts from it, a later
/// one (after Leave) asks the browser again.
fn take_early_media() -> Option<js_sys::Promise> {
    let window = web_sys::window()?;
    let key = JsValue::from_str(EARLY_MEDIA);
    let early = js_sys::Reflect::get(&window, &key).ok()?;
    let _ = js_sys::Reflect::delete_property(&window, &key);
    early.dyn_into::<js_sys::Promise>().ok()
}

/// A room page that shows no lobby (a bad name or key): the camera and microphone index.html
/// asked for are stopped as soon as they come.
pub fn discard_early_media() {
    let Some(early) = take_early_media() else {
        return;
    };
    wasm_bindgen_futures::spawn_local(async move {
        if let Ok(stream) = JsFuture::from(early).await {
            LocalMedia::of(stream.unchecked_into()).stop();
        }
    });
}

/// Camera and microphone, as many as can be had. Never fails: at worst, no tracks and a reason.
pub async fn acquire(camera: Option<&str>, microphone: Option<&str>) -> Acquired {
    let mut problems = Vec::new();
    // Any devices: the request index.html made while the app loaded, if it is still untaken.
    let early = match (camera, microphone) {
        (None, None) => take_early_media(),
        _ => None,
    };
    let first = match early {
        Some(early) => JsFuture::from(early)
            .await
            .map(|s| s.unchecked_into::<MediaStream>())
            .map_err(JsError::from),
        None => get_user_media(Some(microphone), Some(camera)).await,
    };
    let stream = match first.map_err(|e| DeviceTrouble::of(&e)) {
        Ok(stream) => Some(stream),
        Err(DeviceTrouble::Blocked) => {
            problems.push(MediaProblem::Blocked);
            None
        }
        Err(DeviceTrouble::Unsupported) => {
            problems.push(MediaProblem::Unsupported);
            None
        }
        Err(_) => {
            // One of the two is missing or busy: find out which by asking for each alone.
            let audio = get_user_media(Some(microphone), None).await;
            let video = get_user_media(None, Some(camera)).await;
            for (result, missing, busy) in [
                (
                    &audio,
                    MediaProblem::NoMicrophone,
                    MediaProblem::MicrophoneBusy,
                ),
                (&video, MediaProblem::NoCamera, MediaProblem::CameraBusy),
            ] {
                if let Err(e) = result {
                    problems.push(if DeviceTrouble::of(e) == DeviceTrouble::Busy {
                        busy
                    } else {
                        missing
                    });
                }
            }
            let merged = MediaStream::new().ok();
            if let Some(merged) = &merged {
                for s in [audio.ok(), video.ok()].into_iter().flatten() {
                    for t in s.get_tracks().iter() {
                        merged.add_track(&t.unchecked_into());
                    }
                }
            }
            merged
        }
    };
    let media = match stream {
        Some(stream) => LocalMedia::of(stream),
        None => {
            LocalMedia::none().unwrap_or_else(|_| LocalMedia::of(JsValue::NULL.unchecked_into()))
        }
    };
    Acquired { media, problems }
}

/// One new track of `kind` from `device` (or, if that one is gone, from any device of the kind),
/// to swap in during a call.
pub async fn acquire_track(
    kind: MediaKind,
    device: Option<&str>,
) -> Result<MediaStreamTrack, DeviceTrouble> {
    let ask = |device: Option<&str>| {
        let device = device.map(str::to_owned);
        let video = kind == MediaKind::Video;
        async move {
            let d = device.as_deref();
            if video {
                get_user_media(None, Some(d)).await
            } else {
                get_user_media(Some(d), None).await
            }
        }
    };
    let stream = match ask(device).await {
        Err(e) if device.is_some() && e.name == "OverconstrainedError" => ask(None).await,
        other => other,
    }
    .map_err(|e| DeviceTrouble::of(&e))?;
    let tracks = stream.get_tracks();
    let track: MediaStreamTrack = tracks.get(0).unchecked_into();
    // Anything else it returned is not wanted.
    for extra in tracks.iter().skip(1) {
        extra.unchecked_into::<MediaStreamTrack>().stop();
    }
    if track.is_undefined() {
        return Err(DeviceTrouble::Missing);
    }
    Ok(track)
}

/// Calls `f` whenever the set of cameras and microphones changes, for as long as the returned
/// listener lives; `None` where the page has no `navigator.mediaDevices`.
pub fn watch_devices(f: impl FnMut(&web_sys::Event) + 'static) -> Option<EventListener> {
    let devices = media_devices().ok()?;
    Some(EventListener::new(&devices, "devicechange", f))
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Device {
    pub id: String,
    pub label: String,
}

/// Cameras, microphones and speakers (only where a page can choose one: `setSinkId`); labels are
/// empty until permission was given, so number them then.
pub async fn list_devices() -> Result<(Vec<Device>, Vec<Device>, Vec<Device>), JsError> {
    let devices = media_devices()?;
    let list: js_sys::Array = JsFuture::from(devices.enumerate_devices()?)
        .await?
        .unchecked_into();
    let (mut cameras, mut mics, mut speakers) = (Vec::new(), Vec::new(), Vec::new());
    let sinks = super::speaker::can_choose_speaker();
    for info in list.iter() {
        let info: MediaDeviceInfo = info.unchecked_into();
        let (list, noun) = match info.kind() {
            MediaDeviceKind::Videoinput => (&mut cameras, "Camera"),
            MediaDeviceKind::Audioinput => (&mut mics, "Microphone"),
            MediaDeviceKind::Audiooutput if sinks => (&mut speakers, "Speaker"),
            _ => continue,
        };
        if info.device_id().is_empty() {
            continue; // before permission: ids are hidden too, nothing to pick
        }
        let label = match info.label() {
            l if l.is_empty() => format!("{noun} {}", list.len() + 1),
            l => l,
        };
        list.push(Device {
            id: info.device_id(),
            label,
        });
    }
    Ok((cameras, mics, speakers))
}
