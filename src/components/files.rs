//! Files in the chat panel: each transfer with its bar and a cancel button while it runs, then
//! **Save** (a link to the received file's object URL) or how it ended. Names from peers are
//! text, and a saved file gets the cleaned name only.

use leptos::prelude::*;

use crate::dom::{picked_files, File};
use crate::room::{FileEntry, FileState};

/// `n` bytes as people read them: `840 KB`, `2.1 MB` (integers only: float formatting is
/// kilobytes of wasm).
pub fn size_text(n: u64) -> String {
    if n < 1 << 20 {
        format!("{} KB", n.div_ceil(1 << 10))
    } else {
        format!("{}.{} MB", n >> 20, ((n & 0xF_FFFF) * 10) >> 20)
    }
}

fn entry_view(e: &FileEntry, cancel: Callback<u32>) -> impl IntoView {
    let id = e.id;
    let (state, status) = match &e.state {
        FileState::Sending => ("sending", String::new()),
        FileState::Receiving => ("receiving", String::new()),
        FileState::Ready(_) => ("ready", String::new()),
        FileState::Sent(n) => ("sent", format!("Sent; {n} received it whole.")),
        FileState::Cancelled => ("cancelled", "Cancelled.".into()),
        FileState::Failed(s) => ("failed", s.clone()),
    };
    let action = match &e.state {
        FileState::Ready(url) => Some(
            view! { <a class="btn" href=url.clone() download=e.name.clone() data-testid="file-save">"Save"</a> }
                .into_any(),
        ),
        _ if e.busy() => Some(
            view! {
                <progress max=e.size.to_string() value=e.done.to_string() data-testid="file-progress"></progress>
                <button type="button" class="btn" data-testid="file-cancel" on:click=move |_| cancel.run(id)>"Cancel"</button>
            }
            .into_any(),
        ),
        _ => None,
    };
    view! {
        <li class="chat-line" data-testid="file" data-state=state>
            <span class="who">{match &e.from { None => "You".to_owned(), Some(n) if n.is_empty() => "Guest".to_owned(), Some(n) => n.clone() }}</span>
            <p><b data-testid="file-name">{e.name.clone()}</b>" ("{size_text(e.size)}")"</p>
            <p data-testid="file-status" role="status">{status}</p>
            {action}
        </li>
    }
}

/// The transfers of this call, oldest first, and a button to pick files.
#[component]
pub fn FileList(
    files: RwSignal<Vec<FileEntry>>,
    #[prop(into)] on_pick: Callback<Vec<File>>,
    #[prop(into)] on_cancel: Callback<u32>,
) -> impl IntoView {
    let pick = move |ev: leptos::ev::Event| on_pick.run(picked_files(&ev));
    view! {
        <ol class="files" data-testid="files">
            {move || files.with(|l| l.iter().map(|e| entry_view(e, on_cancel)).collect_view())}
        </ol>
        <label class="btn">
            "Send a file"
            <input type="file" multiple class="sr-only" data-testid="file-input" on:change=pick />
        </label>
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn sizes_read_as_people_read_them() {
        let cases = [
            (1, "1 KB"),
            (1024, "1 KB"),
            (1025, "2 KB"),
            ((1 << 20) - 1, "1024 KB"),
            (1 << 20, "1.0 MB"),
            (5_500_000, "5.2 MB"),
            (100 << 20, "100.0 MB"),
        ];
        for (n, want) in cases {
            assert_eq!(super::size_text(n), want, "{n}");
        }
    }
}
