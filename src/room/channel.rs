//! The data channel: `hello` when it opens, our mic and camera state on every toggle, and each
//! message from the peer routed to the concern it is for (the tile's name and media here,
//! `Proof` to admission, `Rebind` to identity, `Ping`/`Pong` to liveness, `Chat` to chat, `Hand`
//! to hand, `Share` to share, `Shown` to uplink). Every message spends the peer's budget first; one we cannot read changes nothing. In a room with a key, a peer that
//! has not proven it gets nothing from us and is heard only about its proof.

use meshcall_protocol::PeerMessage;

use super::budget::Spend;
use super::{Command, PeerKey, Room, Why};

/// Displayed names are cut to this many characters.
pub const MAX_NAME_CHARS: usize = 40;

impl Room {
    pub(super) fn hello(&self) -> PeerMessage {
        PeerMessage::Hello {
            name: self.name.clone(),
            mic: self.mic,
            cam: self.cam,
            signaling_id: self.my_id.clone(),
            hand: self.hand_age(),
            share: self.share.clone(),
        }
    }

    pub(super) fn on_channel_open(&mut self, key: PeerKey, out: &mut Vec<Command>) {
        let hello = self.hello();
        let speaking = self.speaking_now();
        let now = self.now;
        if let Some(p) = self.live_peer_mut(key) {
            p.channel_open = true;
            p.admission.channel_opened(now);
            // Our hello (our name) waits for the peer's proof where the room has a key.
            if p.admission.admitted() {
                out.push(Command::SendToPeer {
                    key,
                    message: hello,
                });
                out.push(Command::SendToPeer {
                    key,
                    message: speaking,
                });
            }
            out.push(Command::Secure { key });
        }
    }

    pub(super) fn on_channel_closed(&mut self, key: PeerKey, out: &mut Vec<Command>) {
        // The other side closed its connection (left, reloaded): the tile goes now rather than
        // after ICE notices.
        let Some(p) = self.live_peer(key) else {
            return;
        };
        if p.admission.admitted() {
            self.remove(key, Why::HungUp, out);
        } else {
            // Gone before proving the room key (it turned us away first): someone without it.
            self.settle(key, super::Verdict::NoKey, out);
        }
    }

    pub(super) fn on_local_media(&mut self, mic: bool, cam: bool, out: &mut Vec<Command>) {
        self.mic = mic;
        self.cam = cam;
        self.broadcast(&PeerMessage::Media { mic, cam }, out);
    }

    pub(super) fn on_local_speaking(&mut self, on: bool, out: &mut Vec<Command>) {
        if on != self.speaking {
            self.speaking = on;
            self.broadcast(&PeerMessage::Speaking { on }, out);
        }
    }

    /// What follows our hello on a channel: whether we are speaking now.
    pub(super) fn speaking_now(&self) -> PeerMessage {
        PeerMessage::Speaking { on: self.speaking }
    }

    /// `message` to every peer that is in (admitted) and whose channel is open.
    pub(super) fn broadcast(&self, message: &PeerMessage, out: &mut Vec<Command>) {
        for p in self
            .peers
            .values()
            .filter(|p| p.channel_open && p.admission.admitted())
        {
            out.push(Command::SendToPeer {
                key: p.key,
                message: message.clone(),
            });
        }
    }

    pub(super) fn on_channel_message(&mut self, key: PeerKey, text: &str, out: &mut Vec<Command>) {
        let now = self.now;
        let Some(p) = self.live_peer_mut(key) else {
            return;
        };
        // Before reading anything: a flooder costs us a counter, then its connection.
        match p.budget.spend(now) {
            Spend::Read => {}
            Spend::Drop => return,
            Spend::Cut => return self.fail(key, Why::Flooding, out),
        }
        let admitted = p.admission.admitted();
        // A message we cannot read is ignored: the channel is for extras, not worth a call.
        let Ok(message) = crate::json::from_str::<PeerMessage>(text) else {
            return;
        };
        self.channel_heard(key, out);
        match message {
            PeerMessage::Proof { token, key_id, mac } => {
                self.on_proof(key, token, key_id, mac, out)
            }
            PeerMessage::Hello {
                name,
                mic,
                cam,
                signaling_id,
                hand,
                share,
            } => {
                if let Some(p) = self.peers.get_mut(&key) {
                    p.name = clean_name(&name, MAX_NAME_CHARS);
                    p.mic = mic;
                    p.cam = cam;
                    out.push(Command::PeerUpdated { key });
                }
                self.on_hand(key, hand, out);
                self.on_share(key, share, out);
                if !admitted {
                    self.on_early_hello(key, out);
                } else if let Some(id) = signaling_id {
                    self.on_rebind_hint(key, id, out);
                }
            }
            // Its first word on its speaking can come while our verdict on it is pending, and it
            // says it again only when it changes: kept then too, and shown with its tile once
            // admitted.
            PeerMessage::Speaking { on } => {
                if let Some(p) = self.peers.get_mut(&key).filter(|p| p.speaking != Some(on)) {
                    p.speaking = Some(on);
                    if admitted {
                        out.push(Command::PeerUpdated { key });
                    }
                }
            }
            // Nothing else counts before the proof.
            _ if !admitted => {}
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
            PeerMessage::Rebind { signaling_id } => self.on_rebind_hint(key, signaling_id, out),
            PeerMessage::SignalingLost => self.on_peer_signaling_lost(key),
            PeerMessage::Ping => self.on_ping(key, out),
            PeerMessage::Pong => self.on_pong(key),
            PeerMessage::Beat => self.on_beat(key),
            PeerMessage::Chat { text } => self.on_chat(key, &text, out),
            PeerMessage::Hand { up } => self.on_hand(key, up.then_some(0), out),
            PeerMessage::Share { stream } => self.on_share(key, stream, out),
            PeerMessage::Shown { width, height } => self.on_shown(key, width, height),
        }
    }
}

/// Names come from other people's browsers: no control characters, nothing invisible or that
/// reorders text (a right-to-left override, U+202E, turns what follows around so a name reads
/// as someone else's; a zero-width space makes two names look alike), at most `max` characters.
pub(crate) fn clean_name(name: &str, max: usize) -> String {
    name.chars()
        .filter(|&c| !c.is_control() && !invisible(c))
        .take(max)
        .collect::<String>()
        .trim()
        .to_owned()
}

/// Format characters that show nothing themselves: bidirectional embeddings, overrides, isolates
/// and marks, zero-width spaces and joiners, and other invisible fillers.
fn invisible(c: char) -> bool {
    matches!(
        c,
        '\u{00AD}'                   // soft hyphen
            | '\u{034F}'             // combining grapheme joiner
            | '\u{061C}'             // Arabic letter mark
            | '\u{115F}' | '\u{1160}' | '\u{3164}' | '\u{FFA0}' // Hangul fillers
            | '\u{17B4}' | '\u{17B5}' // Khmer inherent vowels
            | '\u{180B}'..='\u{180F}' // Mongolian variation selectors and vowel separator
            | '\u{200B}'..='\u{200F}' // zero-width space, (non-)joiner, LRM, RLM
            | '\u{202A}'..='\u{202E}' // bidi embeddings and overrides
            | '\u{2060}'..='\u{2064}' // word joiner, invisible operators
            | '\u{2066}'..='\u{206F}' // bidi isolates, deprecated format characters
            | '\u{FE00}'..='\u{FE0F}' // variation selectors
            | '\u{FEFF}'             // zero-width no-break space
            | '\u{FFF9}'..='\u{FFFB}' // interlinear annotation
            | '\u{1D173}'..='\u{1D17A}' // musical format characters
            | '\u{E0000}'..='\u{E0FFF}' // tags and variation selectors supplement
    )
}
