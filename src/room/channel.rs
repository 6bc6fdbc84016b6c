//! The data channel: `hello` when it opens, our mic and camera state on every toggle, and each
//! message from the peer routed to the concern it is for (the tile's name and media here,
//! `Rebind` to identity, `Ping`/`Pong` to liveness). A message we cannot read changes nothing.

use meshcall_protocol::PeerMessage;

use super::{Command, PeerKey, PeerState, Room};

/// Displayed names are cut to this many characters.
pub const MAX_NAME_CHARS: usize = 40;

impl Room {
    pub(super) fn hello(&self) -> PeerMessage {
        PeerMessage::Hello {
            name: self.name.clone(),
            mic: self.mic,
            cam: self.cam,
            signaling_id: self.my_id.clone(),
        }
    }

    pub(super) fn on_channel_open(&mut self, key: PeerKey, out: &mut Vec<Command>) {
        let hello = self.hello();
        // A failed peer's connection is closed already: a late event from it is stale.
        if let Some(p) = self
            .peers
            .get_mut(&key)
            .filter(|p| p.state != PeerState::Failed)
        {
            p.channel_open = true;
            out.push(Command::SendToPeer {
                key,
                message: hello,
            });
        }
    }

    pub(super) fn on_channel_closed(&mut self, key: PeerKey, out: &mut Vec<Command>) {
        // The other side closed its connection (left, reloaded): the tile goes now rather than
        // after ICE notices.
        if self
            .peers
            .get(&key)
            .is_some_and(|p| p.state != PeerState::Failed)
        {
            self.remove(key, out);
        }
    }

    pub(super) fn on_local_media(&mut self, mic: bool, cam: bool, out: &mut Vec<Command>) {
        self.mic = mic;
        self.cam = cam;
        for p in self.peers.values().filter(|p| p.channel_open) {
            out.push(Command::SendToPeer {
                key: p.key,
                message: PeerMessage::Media { mic, cam },
            });
        }
    }

    pub(super) fn on_channel_message(&mut self, key: PeerKey, text: &str, out: &mut Vec<Command>) {
        // A message we cannot read is ignored: the channel is for extras, not worth a call.
        let Ok(message) = serde_json::from_str::<PeerMessage>(text) else {
            return;
        };
        if !self
            .peers
            .get(&key)
            .is_some_and(|p| p.state != PeerState::Failed)
        {
            return;
        }
        self.channel_heard(key, out);
        match message {
            PeerMessage::Hello {
                name,
                mic,
                cam,
                signaling_id,
            } => {
                if let Some(p) = self.peers.get_mut(&key) {
                    p.name = clean_name(&name);
                    p.mic = mic;
                    p.cam = cam;
                    out.push(Command::PeerUpdated { key });
                }
                if let Some(id) = signaling_id {
                    self.rebind(key, id, out);
                }
            }
            PeerMessage::Media { mic, cam } => {
                if let Some(p) = self
                    .peers
                    .get_mut(&key)
                    .filter(|p| (p.mic, p.cam) != (mic, cam))
                {
                    p.mic = mic;
                    p.cam = cam;
                    out.push(Command::PeerUpdated { key });
                }
            }
            PeerMessage::Rebind { signaling_id } => self.rebind(key, signaling_id, out),
            PeerMessage::Ping => self.on_ping(key, out),
            PeerMessage::Pong => self.on_pong(key),
            PeerMessage::Chat { .. } | PeerMessage::Proof { .. } => {}
        }
    }
}

/// Names come from other people's browsers: no control characters, bounded length.
fn clean_name(name: &str) -> String {
    name.chars()
        .filter(|c| !c.is_control())
        .take(MAX_NAME_CHARS)
        .collect::<String>()
        .trim()
        .to_owned()
}
