//! A connection's quality on its tile: three bars, and on hover or tap the figures behind them.

use leptos::prelude::*;

use crate::room::{Grade, Link, LinkView};

impl Grade {
    fn label(self) -> &'static str {
        match self {
            Grade::Unknown => "Connection: measuring",
            Grade::Poor => "Connection: poor",
            Grade::Fair => "Connection: fair",
            Grade::Good => "Connection: good",
        }
    }
}

#[component]
pub fn Quality(link: RwSignal<Link>) -> impl IntoView {
    let open = RwSignal::new(false);
    let grade = move || link.with(|l| l.view.grade);
    let of = move |f: fn(&LinkView) -> u32| move || link.with(|l| f(&l.view));
    let loss = of(|v| v.loss_permille);
    let rtt = of(|v| v.rtt_tenths);
    view! {
        <div class="quality" data-grade=move || grade().as_str()>
            <button type="button" class="q" data-testid="quality" aria-label=move || grade().label() title=move || grade().label()
                aria-expanded=move || open.get().to_string() on:click=move |_| open.update(|o| *o = !*o)>
                <i></i><i></i><i></i>
            </button>
            <dl class="q-info" class:open=move || open.get() data-testid="quality-details">
                <dt>"Round trip"</dt><dd><span data-testid="q-rtt">{move || rtt() / 10}"."{move || rtt() % 10}</span>" ms"</dd>
                <dt>"Lost"</dt><dd data-testid="q-loss">{move || loss() / 10}"."{move || loss() % 10}"%"</dd>
                <dt>"Receiving"</dt><dd><span data-testid="q-kbps">{of(|v| v.kbps)}</span>" kbit/s"</dd>
                <dt>"Video"</dt><dd data-testid="q-size">{of(|v| v.width)}"×"{of(|v| v.height)}</dd>
                <dt>"Codec"</dt><dd data-testid="q-codec">{move || link.with(|l| l.view.codec.clone())}</dd>
                <dt>"Path"</dt><dd data-testid="q-path">{move || if link.with(|l| l.view.relayed) { "relayed (TURN)" } else { "direct" }}</dd>
            </dl>
        </div>
    }
}
