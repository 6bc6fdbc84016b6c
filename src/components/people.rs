//! The people in the call: each with microphone, camera and hand, raised hands first in the order
//! they went up, then everyone else as they came.

use leptos::prelude::*;

use super::controls::icon;
use crate::room::PeerKey;

/// One person as the list and the tiles show them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Person {
    /// `None`: us.
    pub key: Option<PeerKey>,
    pub name: String,
    pub mic: bool,
    pub cam: bool,
    /// When the hand went up (our clock, ms), if it is up.
    pub hand: Option<i64>,
    pub share: bool,
}

/// Raised hands first, earliest first; then the rest in the order given. Stable, so two hands
/// raised in the same millisecond keep the order given too. An insertion sort: a call holds a
/// handful of people, and the standard library's sort costs the wasm kilobytes.
pub fn in_hand_order(people: Vec<Person>) -> Vec<Person> {
    let (mut up, down): (Vec<_>, Vec<_>) = people.into_iter().partition(|p| p.hand.is_some());
    for i in 1..up.len() {
        let mut j = i;
        while j > 0 && up[j - 1].hand > up[j].hand {
            up.swap(j - 1, j);
            j -= 1;
        }
    }
    up.extend(down);
    up
}

/// Where `key`'s raised hand is in the line (1 for the first), if it is up.
pub fn hand_place(people: &[Person], key: Option<PeerKey>) -> Option<usize> {
    people
        .iter()
        .filter(|p| p.hand.is_some())
        .position(|p| p.key == key)
        .map(|i| i + 1)
}

/// The hand on a tile or in the list, with its place in the line.
pub fn hand_mark(place: usize) -> impl IntoView {
    view! {
        <span class="hand" data-testid="hand-mark" role="img" aria-label=format!("Hand raised, {place} in line")>
            "✋"{place}
        </span>
    }
}

fn state_icon(
    on: bool,
    on_icon: &'static str,
    off_icon: &'static str,
    noun: &'static str,
) -> impl IntoView {
    let label = format!("{noun} {}", if on { "on" } else { "off" });
    view! { <span class="state" class:off=!on role="img" aria-label=label>{icon(if on { on_icon } else { off_icon })}</span> }
}

#[component]
pub fn PeoplePanel(people: Memo<Vec<Person>>) -> impl IntoView {
    let on_off = |on: bool| if on { "on" } else { "off" };
    view! {
        <aside class="people card" id="people-panel" data-testid="people-panel" aria-label="People">
            <ol>
                {move || {
                    let people = people.get();
                    people
                        .iter()
                        .map(|p| {
                            let place = hand_place(&people, p.key);
                            view! {
                                <li data-testid="person" data-hand=if place.is_some() { "up" } else { "down" }
                                    data-mic=on_off(p.mic) data-cam=on_off(p.cam)>
                                    <span class="name" data-testid="person-name">{p.name.clone()}</span>
                                    {place.map(hand_mark)}
                                    {state_icon(p.mic, "mic", "mic-off", "Microphone")}
                                    {state_icon(p.cam, "cam", "cam-off", "Camera")}
                                    {p.share.then(|| view! { <span class="state" data-testid="person-share" role="img" aria-label="Sharing the screen">{icon("screen")}</span> })}
                                </li>
                            }
                        })
                        .collect_view()
                }}
            </ol>
        </aside>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn person(key: u32, hand: Option<i64>) -> Person {
        Person {
            key: (key != 0).then_some(key),
            name: key.to_string(),
            mic: true,
            cam: true,
            hand,
            share: false,
        }
    }

    #[test]
    fn raised_hands_come_first_in_the_order_raised() {
        let people = vec![
            person(0, None),
            person(1, Some(900)),
            person(2, None),
            person(3, Some(-100)),
            person(4, Some(900)),
        ];
        let ordered = in_hand_order(people);
        let keys: Vec<_> = ordered.iter().map(|p| p.key).collect();
        assert_eq!(keys, [Some(3), Some(1), Some(4), None, Some(2)]);
        assert_eq!(hand_place(&ordered, Some(3)), Some(1));
        assert_eq!(hand_place(&ordered, Some(4)), Some(3));
        assert_eq!(hand_place(&ordered, None), None);
        assert_eq!(hand_place(&ordered, Some(2)), None);
    }
}
