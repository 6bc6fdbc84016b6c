//! Chat: our lines go to every admitted peer, theirs come back as lines to show. A peer's text is
//! untrusted: over [`MAX_CHAT_CHARS`] or empty it is dropped (its budget was spent already), and
//! characters that are invisible or reorder what follows are taken out. The log the call keeps is
//! bounded ([`CHAT_HISTORY`]); it never holds HTML, only text the view renders as text nodes.

use meshcall_protocol::PeerMessage;

use super::{Command, PeerKey, Room};

/// The longest chat line, in characters, on both sides: the sender is told, the receiver drops.
pub const MAX_CHAT_CHARS: usize = 1_000;
/// Lines the call keeps in memory; older ones go first.
pub const CHAT_HISTORY: usize = 200;

impl Room {
    /// The person sends `text` to everyone in the call. Text the view should have refused (too
    /// long, empty) goes nowhere.
    pub(super) fn on_send_chat(&mut self, text: &str, out: &mut Vec<Command>) {
        let Some(text) = clean_chat(text) else {
            return;
        };
        self.broadcast(&PeerMessage::Chat { text: text.clone() }, out);
        out.push(Command::Chat {
            from: None,
            name: self.name.clone(),
            text,
        });
    }

    /// A chat line from an admitted peer (the channel checked both).
    pub(super) fn on_chat(&mut self, key: PeerKey, text: &str, out: &mut Vec<Command>) {
        let (Some(text), Some(p)) = (clean_chat(text), self.peers.get(&key)) else {
            return;
        };
        out.push(Command::Chat {
            from: Some(key),
            name: p.name.clone(),
            text,
        });
    }
}

/// A chat line as it may be shown: at most [`MAX_CHAT_CHARS`] (counted before cleaning, so the
/// limit means the same on both sides), without control characters other than line breaks and
/// without bidi controls; `None` if too long or nothing is left.
pub fn clean_chat(text: &str) -> Option<String> {
    if text.chars().count() > MAX_CHAT_CHARS {
        return None;
    }
    let clean: String = text
        .chars()
        .filter(|&c| (c == '\n' || !c.is_control()) && !reorders(c))
        .collect();
    let clean = clean.trim();
    (!clean.is_empty()).then(|| clean.to_owned())
}

/// Bidi marks, embeddings, overrides and isolates: invisible, and they turn text around.
fn reorders(c: char) -> bool {
    matches!(
        c,
        '\u{061C}' | '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}'
    )
}

/// One line of the chat as the panel shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChatLine {
    /// Ours (`None`) or which peer's.
    pub from: Option<PeerKey>,
    pub name: String,
    /// Local time of day it was sent or arrived, `HH:MM`.
    pub time: String,
    pub text: String,
}

/// The lines of this call since we joined, at most [`CHAT_HISTORY`], and how many of them came
/// while the panel was closed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ChatLog {
    lines: Vec<ChatLine>,
    /// Lines ever added: the view keys lines by it.
    added: u64,
    unread: u32,
    open: bool,
}

impl ChatLog {
    pub fn push(&mut self, line: ChatLine) {
        if !self.open && line.from.is_some() {
            self.unread += 1;
        }
        if self.lines.len() == CHAT_HISTORY {
            self.lines.remove(0);
        }
        self.lines.push(line);
        self.added += 1;
    }

    /// The panel opened (everything is read) or closed.
    pub fn set_open(&mut self, open: bool) {
        self.open = open;
        if open {
            self.unread = 0;
        }
    }

    pub fn is_open(&self) -> bool {
        self.open
    }

    pub fn unread(&self) -> u32 {
        self.unread
    }

    /// The lines kept, oldest first, each with a number that never repeats in this call.
    pub fn lines(&self) -> impl Iterator<Item = (u64, &ChatLine)> {
        let first = self.added - self.lines.len() as u64;
        (first..).zip(self.lines.iter())
    }
}
