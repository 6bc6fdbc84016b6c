//! Token buckets: one per socket for its inbound frames, and one per client address for
//! `/config.json`. Pure: the caller passes the time.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::Mutex;
use std::time::Instant;

#[derive(Debug)]
pub struct TokenBucket {
    capacity: f64,
    per_sec: f64,
    tokens: f64,
    last: Instant,
}

impl TokenBucket {
    /// Starts full, so a joining peer can send its whole burst at once.
    pub fn new(burst: u32, per_sec: u32, now: Instant) -> Self {
        let capacity = f64::from(burst);
        Self {
            capacity,
            per_sec: f64::from(per_sec),
            tokens: capacity,
            last: now,
        }
    }

    /// Takes one token; `false` when the bucket is empty.
    pub fn take(&mut self, now: Instant) -> bool {
        let elapsed = now.saturating_duration_since(self.last).as_secs_f64();
        self.last = now;
        self.tokens = (self.tokens + elapsed * self.per_sec).min(self.capacity);
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            true
        } else {
            false
        }
    }

    /// Whether the bucket is full again at `now`, so forgetting it changes nothing.
    fn is_full(&self, now: Instant) -> bool {
        let elapsed = now.saturating_duration_since(self.last).as_secs_f64();
        self.tokens + elapsed * self.per_sec >= self.capacity
    }
}

/// A token bucket per key, at most `max_keys` remembered: buckets that have refilled are forgotten
/// first, and past that a key not yet seen is refused until some do.
#[derive(Debug)]
pub struct PerKey<K> {
    burst: u32,
    per_sec: f64,
    max_keys: usize,
    buckets: Mutex<HashMap<K, TokenBucket>>,
}

impl<K: Eq + Hash> PerKey<K> {
    /// `per_min` tokens a minute refill each bucket of `burst`.
    pub fn new(burst: u32, per_min: u32, max_keys: usize) -> Self {
        Self {
            burst,
            per_sec: f64::from(per_min) / 60.0,
            max_keys,
            buckets: Mutex::new(HashMap::new()),
        }
    }

    /// Takes one token from `key`'s bucket; `false` when it is empty.
    pub fn take(&self, key: K, now: Instant) -> bool {
        // Every update is one insert, remove or token count, so a poisoned lock is still consistent.
        let mut buckets = self.buckets.lock().unwrap_or_else(|e| e.into_inner());
        if !buckets.contains_key(&key) && buckets.len() >= self.max_keys {
            buckets.retain(|_, bucket| !bucket.is_full(now));
            if buckets.len() >= self.max_keys {
                return false;
            }
        }
        let (burst, per_sec) = (self.burst, self.per_sec);
        buckets
            .entry(key)
            .or_insert_with(|| TokenBucket {
                capacity: f64::from(burst),
                per_sec,
                tokens: f64::from(burst),
                last: now,
            })
            .take(now)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn burst_then_refill() {
        let t0 = Instant::now();
        let mut b = TokenBucket::new(3, 10, t0);
        assert!((0..3).all(|_| b.take(t0)));
        assert!(!b.take(t0));
        // 10 per second: one token back after 100 ms, never more than the burst.
        assert!(b.take(t0 + Duration::from_millis(100)));
        assert!(!b.take(t0 + Duration::from_millis(100)));
        let later = t0 + Duration::from_secs(60);
        assert!((0..3).all(|_| b.take(later)));
        assert!(!b.take(later));
    }

    #[test]
    fn per_key_buckets_are_separate_and_bounded() {
        let t0 = Instant::now();
        // 2 at once, 60 a minute (one a second), at most 2 keys remembered.
        let limits = PerKey::new(2, 60, 2);
        assert!(limits.take("a", t0) && limits.take("a", t0));
        assert!(!limits.take("a", t0));
        assert!(limits.take("b", t0));
        // The table is full of buckets still refilling: a new key waits.
        assert!(!limits.take("c", t0));
        assert!(limits.take("a", t0 + Duration::from_secs(1)));
        // Once they have refilled they are forgotten and make room.
        let later = t0 + Duration::from_secs(10);
        assert!(limits.take("c", later));
        assert!(limits.take("c", later));
        assert!(!limits.take("c", later));
    }
}
