//! The chat panel: the lines since we joined, a box to write one. Everything a peer wrote is put
//! in the page as text nodes, never as HTML; only `http`/`https` addresses become links, and
//! those open in a new tab that cannot reach back to this page.

use leptos::either::Either;
use leptos::prelude::*;

use super::files::FileList;
use crate::dom::{dropped_files, File};
use crate::room::{ChatLine, ChatLog, FileEntry, MAX_CHAT_CHARS};
use crate::session::Session;

/// A piece of a chat line: plain text, or an address to link.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Piece<'a> {
    Text(&'a str),
    Link(&'a str),
}

/// Splits `text` into text and `http(s)://` addresses. An address runs to the next space, less
/// the punctuation that usually ends a sentence around it; only a scheme with something after it
/// counts, so an `href` is always an `http:` or `https:` URL.
pub fn pieces(text: &str) -> Vec<Piece<'_>> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(start) = link_start(rest) {
        let tail = &rest[start..];
        let end = tail
            .find(|c: char| c.is_whitespace() || matches!(c, '<' | '>' | '"'))
            .unwrap_or(tail.len());
        let link = tail[..end].trim_end_matches(|c| ".,;:!?)]}'".contains(c));
        let scheme = if link.as_bytes()[4] == b':' { 7 } else { 8 };
        if link.len() <= scheme {
            // Only a scheme: text, and look on after it.
            out.push(Piece::Text(&rest[..start + scheme]));
            rest = &rest[start + scheme..];
            continue;
        }
        if start > 0 {
            out.push(Piece::Text(&rest[..start]));
        }
        out.push(Piece::Link(link));
        rest = &tail[link.len()..];
    }
    if !rest.is_empty() {
        out.push(Piece::Text(rest));
    }
    out
}

/// Where the first `http://` or `https://` (any case) starts a word in `text`.
fn link_start(text: &str) -> Option<usize> {
    let lower = text.to_ascii_lowercase();
    let mut from = 0;
    while let Some(i) = lower[from..].find("http") {
        let at = from + i;
        let after = &lower[at..];
        let word_start = lower[..at]
            .chars()
            .next_back()
            .is_none_or(|c| !c.is_ascii_alphanumeric());
        if word_start && (after.starts_with("http://") || after.starts_with("https://")) {
            return Some(at);
        }
        from = at + 4;
    }
    None
}

/// The sentence for a line that is too long to send, if it is.
pub fn too_long(text: &str) -> Option<String> {
    let n = text.chars().count();
    (n > MAX_CHAT_CHARS)
        .then(|| format!("A message can be at most {MAX_CHAT_CHARS} characters; this one has {n}."))
}

fn line_view(line: &ChatLine) -> impl IntoView {
    let text = pieces(&line.text)
        .into_iter()
        .map(|piece| match piece {
            Piece::Text(t) => Either::Left(t.to_owned()),
            Piece::Link(url) => Either::Right(view! {
                <a href=url.to_owned() target="_blank" rel="noopener noreferrer">{url.to_owned()}</a>
            }),
        })
        .collect_view();
    view! {
        <li class="chat-line" class:mine=line.from.is_none() data-testid="chat-line">
            <span class="who" data-testid="chat-name">{if line.from.is_none() { "You".to_owned() } else if line.name.is_empty() { "Guest".to_owned() } else { line.name.clone() }}</span>
            <time>{line.time.clone()}</time>
            <p data-testid="chat-text">{text}</p>
        </li>
    }
}

#[component]
pub fn ChatPanel(
    log: RwSignal<ChatLog>,
    #[prop(into)] on_send: Callback<String>,
    /// Files go to everyone through the session; a drop on the panel sends too.
    session: StoredValue<Option<Session>, LocalStorage>,
    files: RwSignal<Vec<FileEntry>>,
) -> impl IntoView {
    let send_files = move |picked: Vec<File>| {
        session.with_value(|s| {
            if let Some(s) = s {
                s.send_files(picked)
            }
        })
    };
    let cancel = move |id| {
        session.with_value(|s| {
            if let Some(s) = s {
                s.cancel_file(id)
            }
        })
    };
    let drop_files = move |ev: leptos::ev::DragEvent| {
        ev.prevent_default();
        send_files(dropped_files(&ev));
    };
    let draft = RwSignal::new(String::new());
    let problem = move || draft.with(|d| too_long(d));
    let send = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if problem().is_some() || draft.with(|d| d.trim().is_empty()) {
            return;
        }
        on_send.run(draft.get_untracked());
        draft.set(String::new());
    };
    view! {
        <aside class="chat card" id="chat-panel" data-testid="chat-panel" aria-label="Chat"
            on:dragover=|ev| ev.prevent_default() on:drop=drop_files>
            <p class="hint">"You see messages sent since you joined."</p>
            // Reversed flex: the newest line stays in view without a scroll handler.
            <div class="chat-scroll">
                <ol aria-live="polite">
                    {move || log.with(|l| l.lines().map(|(_, line)| line_view(line)).collect_view())}
                </ol>
            </div>
            <form on:submit=send>
                <input data-testid="chat-input" aria-label="Message" placeholder="Message everyone" autocomplete="off"
                    aria-invalid=move || problem().is_some().to_string()
                    prop:value=move || draft.get() on:input=move |ev| draft.set(event_target_value(&ev)) />
                <button class="btn primary" data-testid="chat-send" disabled=move || problem().is_some()>"Send"</button>
            </form>
            <FileList files on_pick=send_files on_cancel=cancel />
            {move || problem().map(|p| view! { <p class="field-error" data-testid="chat-too-long" role="alert">{p}</p> })}
        </aside>
    }
}

#[cfg(test)]
mod tests {
    use super::Piece::{Link, Text};
    use super::*;

    #[test]
    fn only_http_and_https_addresses_become_links() {
        let cases: &[(&str, &[Piece])] = &[
            ("hello", &[Text("hello")]),
            (
                "see https://example.com/a?b=1.",
                &[Text("see "), Link("https://example.com/a?b=1"), Text(".")],
            ),
            (
                "(HTTP://x.y) and http://z",
                &[
                    Text("("),
                    Link("HTTP://x.y"),
                    Text(") and "),
                    Link("http://z"),
                ],
            ),
            ("javascript:alert(1)", &[Text("javascript:alert(1)")]),
            ("data:text/html,<b>", &[Text("data:text/html,<b>")]),
            ("xhttp://no", &[Text("xhttp://no")]),
            ("https:// alone", &[Text("https://"), Text(" alone")]),
            (
                "<a href=\"https://e.com\">",
                &[Text("<a href=\""), Link("https://e.com"), Text("\">")],
            ),
            ("http", &[Text("http")]),
        ];
        for (text, want) in cases {
            assert_eq!(pieces(text), *want, "{text}");
        }
    }

    #[test]
    fn a_long_line_is_refused_with_a_sentence() {
        assert_eq!(too_long(&"a".repeat(MAX_CHAT_CHARS)), None);
        let s = too_long(&"é".repeat(MAX_CHAT_CHARS + 1)).unwrap();
        assert!(
            s.contains("at most 1000 characters; this one has 1001"),
            "{s}"
        );
    }
}
