//! Our camera and microphone (and the speakers) as the lobby and the call show them: what can be picked, what is in
//! use and what went wrong with it, kept current as devices come and go and tracks end. Shared by
//! both screens; the browser calls themselves are in `rtc::media`.

use gloo_events::EventListener;
use leptos::prelude::*;

use crate::rtc::media::{
    list_devices, watch_devices, Device, DeviceTrouble, LocalMedia, MediaKind,
};

/// What can be picked, what is in use, and what went wrong with it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DeviceView {
    pub cameras: Vec<Device>,
    pub mics: Vec<Device>,
    /// Empty where the browser cannot choose one (no `setSinkId`).
    pub speakers: Vec<Device>,
    /// Device ids of the tracks we send (empty when none).
    pub camera: String,
    pub mic: String,
    /// A live track of the kind is being sent.
    pub has_cam: bool,
    pub has_mic: bool,
    pub cam_trouble: Option<DeviceTrouble>,
    pub mic_trouble: Option<DeviceTrouble>,
    /// Bumped whenever a local track is swapped, so the self view picks the new one up.
    pub swaps: u32,
}

impl DeviceView {
    /// The device to try again for `kind`: the one in use before if it is still listed, else
    /// the first one listed, else whichever the browser picks.
    pub fn retry_choice(&self, kind: MediaKind) -> Option<String> {
        let (id, list) = match kind {
            MediaKind::Video => (&self.camera, &self.cameras),
            MediaKind::Audio => (&self.mic, &self.mics),
        };
        list.iter()
            .find(|d| d.id == *id)
            .or_else(|| list.first())
            .map(|d| d.id.clone())
    }

    /// Records what `kind` has now; `device` is the id of a new track, `None` keeps the old one.
    pub fn set(
        &mut self,
        kind: MediaKind,
        live: bool,
        device: Option<String>,
        trouble: Option<DeviceTrouble>,
    ) {
        let id = match kind {
            MediaKind::Video => {
                (self.has_cam, self.cam_trouble) = (live, trouble);
                &mut self.camera
            }
            MediaKind::Audio => {
                (self.has_mic, self.mic_trouble) = (live, trouble);
                &mut self.mic
            }
        };
        if let Some(device) = device {
            *id = device;
        }
    }

    /// What went wrong with `kind`, if anything.
    pub fn trouble(&self, kind: MediaKind) -> Option<DeviceTrouble> {
        match kind {
            MediaKind::Video => self.cam_trouble,
            MediaKind::Audio => self.mic_trouble,
        }
    }

    /// A live track of `kind` is in use.
    pub fn has(&self, kind: MediaKind) -> bool {
        match kind {
            MediaKind::Video => self.has_cam,
            MediaKind::Audio => self.has_mic,
        }
    }

    /// Records the tracks `media` holds, in place of what was there. A track that already ended
    /// (while the lobby was open, say) is as lost as one that ends later.
    pub fn use_media(&mut self, media: &LocalMedia) {
        for kind in MediaKind::ALL {
            let live = media.has_live(kind);
            let trouble = (media.has(kind) && !live).then_some(DeviceTrouble::Stopped);
            self.set(
                kind,
                live,
                Some(media.device_id(kind).unwrap_or_default()),
                trouble,
            );
        }
    }
}

/// A [`DeviceView`] behind a signal and what keeps it current. Cheap to clone.
#[derive(Clone)]
pub struct Devices {
    pub view: ArcRwSignal<DeviceView>,
}

impl Devices {
    pub fn new(view: DeviceView) -> Self {
        Devices {
            view: ArcRwSignal::new(view),
        }
    }

    /// Reads the cameras and microphones for the pickers (labels only once permission is given).
    pub async fn read_lists(&self) {
        if let Ok((cameras, mics, speakers)) = list_devices().await {
            self.view.update(|d| {
                d.cameras = cameras;
                d.mics = mics;
                d.speakers = speakers;
            });
        }
    }

    /// [`Self::read_lists`] in the background.
    pub fn refresh(&self) {
        let this = self.clone();
        wasm_bindgen_futures::spawn_local(async move { this.read_lists().await });
    }

    /// Re-reads the lists whenever a device comes or goes, for as long as the returned listener
    /// lives (the caller owns it); `None` where the page has no `navigator.mediaDevices`.
    pub fn watch(&self) -> Option<EventListener> {
        let this = self.clone();
        watch_devices(move |_| this.refresh())
    }

    /// A track of `kind` ended without us stopping it (unplugged, permission taken back): say so,
    /// and re-read the lists, which an unplugged device leaves.
    pub fn stopped(&self, kind: MediaKind) {
        self.view
            .update(|d| d.set(kind, false, None, Some(DeviceTrouble::Stopped)));
        self.refresh();
    }
}

#[cfg(test)]
mod tests {
    use super::DeviceView;
    use crate::rtc::media::{Device, MediaKind};

    fn device(id: &str) -> Device {
        Device {
            id: id.into(),
            label: id.to_uppercase(),
        }
    }

    #[test]
    fn try_again_prefers_the_device_in_use_then_any_listed_one() {
        let mut d = DeviceView {
            cameras: vec![device("a"), device("b")],
            camera: "b".into(),
            ..DeviceView::default()
        };
        assert_eq!(d.retry_choice(MediaKind::Video).as_deref(), Some("b"));
        d.camera = "unplugged".into();
        assert_eq!(d.retry_choice(MediaKind::Video).as_deref(), Some("a"));
        // Nothing listed (e.g. permission gone hides the ids): let the browser choose.
        assert_eq!(d.retry_choice(MediaKind::Audio), None);
    }
}
