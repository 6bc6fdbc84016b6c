//! Screen share: ours is announced to every admitted peer (and in our hello) by the id of the
//! stream its tracks are sent in, so the other side can tell the share's tracks from the camera's;
//! a peer's announcement goes to the edge ([`Command::RemoteShare`]) and to its tiles. The tracks
//! themselves are added to and removed from the connections by the edge and negotiated as usual.

use meshcall_protocol::PeerMessage;

use super::{Command, PeerKey, Room};

/// Stream ids are UUIDs in the browsers we know; anything longer is not one.
pub const MAX_STREAM_ID_CHARS: usize = 64;

impl Room {
    /// We started sharing (the stream's id) or stopped.
    pub(super) fn on_local_share(&mut self, stream: Option<String>, out: &mut Vec<Command>) {
        if stream == self.share {
            return;
        }
        self.share = stream.clone();
        self.forget_encoders();
        self.broadcast(&PeerMessage::Share { stream }, out);
    }

    /// A peer says which of its streams is its screen (or that it stopped). An id no browser
    /// would make is ignored.
    pub(super) fn on_share(
        &mut self,
        key: PeerKey,
        stream: Option<String>,
        out: &mut Vec<Command>,
    ) {
        if stream
            .as_ref()
            .is_some_and(|s| s.is_empty() || s.chars().count() > MAX_STREAM_ID_CHARS)
        {
            return;
        }
        let Some(p) = self.peers.get_mut(&key).filter(|p| p.share != stream) else {
            return;
        };
        p.share = stream.clone();
        out.push(Command::RemoteShare { key, stream });
        out.push(Command::PeerUpdated { key });
    }
}
