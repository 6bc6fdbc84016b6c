//! What the call screen renders: reference-counted signals the session writes and the views read.

use leptos::prelude::*;

use crate::devices::DeviceView;
use crate::room::{ChatLog, FileEntry, Link, Notice, PeerKey, PeerView};
use crate::rtc::screen::ShareTrouble;
use crate::signaling::LinkStatus;

/// One remote peer's tile: its stable key and its own signal, so it re-renders alone.
#[derive(Clone)]
pub struct Tile {
    pub key: PeerKey,
    pub view: ArcRwSignal<PeerView>,
    /// Who speaks and how good the connection is, from its stats each second.
    pub link: ArcRwSignal<Link>,
}

/// Everything the call screen renders. Reference-counted signals: they outlive whichever
/// component happened to create the session.
#[derive(Clone)]
pub struct CallView {
    pub tiles: ArcRwSignal<Vec<Tile>>,
    pub link: ArcRwSignal<LinkStatus>,
    /// What the person wants: mic and camera on or off. A lost device does not change it, so a
    /// device picked again comes back as it was; shown and sent as on only with a live track.
    pub mic: ArcRwSignal<bool>,
    pub cam: ArcRwSignal<bool>,
    pub devices: ArcRwSignal<DeviceView>,
    /// People turned away at the door, for the one line the call shows about them.
    pub notices: ArcRwSignal<Notices>,
    /// We share our screen.
    pub sharing: ArcRwSignal<bool>,
    /// Why our last try to share the screen came to nothing.
    pub share_trouble: ArcRwSignal<Option<ShareTrouble>>,
    /// Since when our hand is up (`now_ms`), if it is.
    pub hand: ArcRwSignal<Option<i64>>,
    /// The chat since we joined (bounded), and what came while its panel was closed.
    pub chat: ArcRwSignal<ChatLog>,
    /// Files sent and arriving, oldest first (bounded).
    pub files: ArcRwSignal<Vec<FileEntry>>,
    /// Whether we speak: our microphone's level as our connections send it, judged like a peer's.
    pub me: ArcRwSignal<Link>,
}

impl CallView {
    /// A view of no call yet: nobody else, connecting, mic and camera on, no devices.
    pub fn blank() -> Self {
        CallView {
            tiles: ArcRwSignal::new(Vec::new()),
            link: ArcRwSignal::new(LinkStatus::Connecting),
            mic: ArcRwSignal::new(true),
            cam: ArcRwSignal::new(true),
            devices: ArcRwSignal::new(DeviceView::default()),
            notices: ArcRwSignal::new(Notices::default()),
            hand: ArcRwSignal::new(None),
            sharing: ArcRwSignal::new(false),
            share_trouble: ArcRwSignal::new(None),
            chat: ArcRwSignal::new(ChatLog::default()),
            files: ArcRwSignal::new(Vec::new()),
            me: ArcRwSignal::default(),
        }
    }
}

/// How often each thing the room must be told about happened.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Notices {
    /// Someone without the room key (or with another) tried to join.
    pub no_key: u32,
    /// A connection failed the key's proof although the other side has the key: something in
    /// the signaling path replaced the fingerprints.
    pub mismatch: u32,
    /// Connections that needed the TURN server and were refused by it (its credentials).
    pub relay_refused: u32,
    /// Connections that needed the TURN server and got no relay address from it.
    pub relay_unreachable: u32,
}

impl Notices {
    pub(super) fn count(&mut self, notice: Notice) {
        match notice {
            Notice::NoKey => self.no_key += 1,
            Notice::Mismatch => self.mismatch += 1,
            Notice::RelayRefused => self.relay_refused += 1,
            Notice::RelayUnreachable => self.relay_unreachable += 1,
        }
    }
}
