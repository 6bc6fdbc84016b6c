//! How much one peer may make us do: a token bucket over the messages it sends on its data
//! channel (each `ping` costs us a `pong`, each `hello` a re-render). A peer over budget has its
//! messages dropped unread; one that keeps flooding is cut off. Pure: time comes in as `now`.

/// Messages a peer may send at once: a hello, its proof, a few toggles and pings.
pub const CHANNEL_BURST: u64 = 40;
/// Refill per second: a heartbeat a second and the odd toggle stay far below it.
pub const CHANNEL_PER_SEC: u64 = 20;
/// Messages dropped in a row after which the sender is no mistake but a flood: cut it off.
pub const CHANNEL_CUT_AFTER: u32 = 40;

/// What to do with one message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Spend {
    Read,
    /// Over budget: ignore it.
    Drop,
    /// Flooding: close the connection.
    Cut,
}

#[derive(Debug, Clone)]
pub struct Budget {
    /// In thousandths of a message, so refill needs no floats.
    milli: u64,
    at: u64,
    dropped: u32,
}

impl Budget {
    pub fn new(now: u64) -> Budget {
        Budget {
            milli: CHANNEL_BURST * 1_000,
            at: now,
            dropped: 0,
        }
    }

    /// One message arrives at `now`.
    pub fn spend(&mut self, now: u64) -> Spend {
        let elapsed = now.saturating_sub(self.at);
        self.at = self.at.max(now);
        self.milli = (self.milli + elapsed * CHANNEL_PER_SEC).min(CHANNEL_BURST * 1_000);
        if self.milli >= 1_000 {
            self.milli -= 1_000;
            self.dropped = 0;
            return Spend::Read;
        }
        self.dropped += 1;
        if self.dropped >= CHANNEL_CUT_AFTER {
            Spend::Cut
        } else {
            Spend::Drop
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_burst_is_read_then_the_rate_holds() {
        let mut b = Budget::new(0);
        for _ in 0..CHANNEL_BURST {
            assert_eq!(b.spend(0), Spend::Read);
        }
        assert_eq!(b.spend(0), Spend::Drop);
        // 50 ms later one more message's worth has come back (20 a second).
        assert_eq!(b.spend(50), Spend::Read);
        assert_eq!(b.spend(50), Spend::Drop);
    }

    #[test]
    fn a_normal_call_never_runs_dry() {
        // A ping a second and a toggle every 100 ms for a minute: far more than people do.
        let mut b = Budget::new(0);
        for t in (0..60_000).step_by(100) {
            assert_eq!(b.spend(t), Spend::Read, "at {t} ms");
        }
    }

    #[test]
    fn a_flood_is_cut_within_a_few_hundred_messages() {
        let mut b = Budget::new(0);
        let cut = (0..10_000).position(|_| b.spend(5) == Spend::Cut);
        assert_eq!(
            cut,
            Some((CHANNEL_BURST + u64::from(CHANNEL_CUT_AFTER) - 1) as usize)
        );
    }

    #[test]
    fn time_going_backwards_refills_nothing() {
        let mut b = Budget::new(1_000);
        for _ in 0..CHANNEL_BURST {
            b.spend(1_000);
        }
        assert_eq!(b.spend(0), Spend::Drop);
        assert_eq!(b.spend(1_000), Spend::Drop);
    }
}
