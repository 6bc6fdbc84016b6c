//! Who a request comes from, for the per-address limits, and how many sockets each address holds.
//! `X-Forwarded-For` is believed only from a configured proxy: anyone else could write any address
//! there and so dodge every per-address limit.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv6Addr, SocketAddr};
use std::sync::{Arc, Mutex};

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;
use axum::http::HeaderMap;

use crate::limits::IPV6_CLIENT_PREFIX;
use crate::AppState;

/// The client's address as the per-address limits count it (see [`key`]); `None` only when the
/// router runs without a network (in-memory tests), where every request counts as one client.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientIp(pub Option<IpAddr>);

impl FromRequestParts<AppState> for ClientIp {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|ConnectInfo(addr)| addr.ip());
        let ip = peer.map(|peer| resolve(peer, &parts.headers, &state.config.trusted_proxies));
        Ok(ClientIp(ip.map(key)))
    }
}

fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

/// The client behind `peer`: if `peer` is a trusted proxy, the nearest `X-Forwarded-For` entry
/// (reading from the right, as each proxy appends the address it saw) that is not a trusted proxy
/// itself; entries further left were written by the client and are never read.
pub fn resolve(peer: IpAddr, headers: &HeaderMap, trusted: &[IpAddr]) -> IpAddr {
    let peer = canonical(peer);
    let is_trusted = |ip: &IpAddr| trusted.iter().any(|t| canonical(*t) == *ip);
    if !is_trusted(&peer) {
        return peer;
    }
    let hops: Vec<&str> = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .collect();
    let mut client = peer;
    for hop in hops.iter().rev() {
        match hop.trim().parse::<IpAddr>().map(canonical) {
            Ok(ip) if is_trusted(&ip) => client = ip,
            Ok(ip) => return ip,
            // Garbage from a misconfigured proxy: count it as the last hop we could read.
            Err(_) => return client,
        }
    }
    client
}

/// IPv4 as is; IPv6 by its /64, since one host is handed a whole /64 and could otherwise take a
/// fresh address for every socket.
pub fn key(ip: IpAddr) -> IpAddr {
    match canonical(ip) {
        IpAddr::V6(v6) => {
            let mask = u128::MAX << (128 - u32::from(IPV6_CLIENT_PREFIX));
            IpAddr::V6(Ipv6Addr::from(u128::from(v6) & mask))
        }
        v4 => v4,
    }
}

/// Open WebSockets per client address.
#[derive(Default)]
pub struct PerIp {
    open: Arc<Mutex<HashMap<Option<IpAddr>, usize>>>,
}

/// One socket's place in its address's count; dropping it frees the place.
pub struct IpSlot {
    open: Arc<Mutex<HashMap<Option<IpAddr>, usize>>>,
    ip: Option<IpAddr>,
}

fn lock(
    open: &Mutex<HashMap<Option<IpAddr>, usize>>,
) -> std::sync::MutexGuard<'_, HashMap<Option<IpAddr>, usize>> {
    // Every update is one insert or remove, so a poisoned lock is still consistent.
    open.lock().unwrap_or_else(|e| e.into_inner())
}

impl PerIp {
    /// A slot for `ip` if it holds fewer than `max` sockets.
    pub fn try_acquire(&self, ip: ClientIp, max: usize) -> Option<IpSlot> {
        let mut open = lock(&self.open);
        let count = open.entry(ip.0).or_insert(0);
        if *count >= max {
            return None;
        }
        *count += 1;
        Some(IpSlot {
            open: self.open.clone(),
            ip: ip.0,
        })
    }

    /// Addresses holding at least one socket.
    pub fn addresses(&self) -> usize {
        lock(&self.open).len()
    }
}

impl Drop for IpSlot {
    fn drop(&mut self) {
        let mut open = lock(&self.open);
        if let Some(count) = open.get_mut(&self.ip) {
            *count -= 1;
            if *count == 0 {
                open.remove(&self.ip);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn forwarded_for_is_read_only_from_trusted_proxies() {
        let xff = |values: &[&str]| {
            let mut h = HeaderMap::new();
            for v in values {
                h.append("x-forwarded-for", v.parse().unwrap());
            }
            h
        };
        let proxy = [ip("10.0.0.2")];
        // (peer, X-Forwarded-For, trusted, client)
        let cases: &[(&str, &[&str], &[IpAddr], &str)] = &[
            ("203.0.113.9", &[], &[], "203.0.113.9"),
            // Not from a proxy we trust: the header is the client's own claim.
            ("203.0.113.9", &["198.51.100.1"], &[], "203.0.113.9"),
            ("203.0.113.9", &["198.51.100.1"], &proxy, "203.0.113.9"),
            ("10.0.0.2", &["198.51.100.1"], &proxy, "198.51.100.1"),
            // The client wrote a fake first entry; the proxy appended the real one.
            (
                "10.0.0.2",
                &["1.2.3.4, 198.51.100.1"],
                &proxy,
                "198.51.100.1",
            ),
            (
                "10.0.0.2",
                &["1.2.3.4", "198.51.100.1"],
                &proxy,
                "198.51.100.1",
            ),
            // Two trusted proxies in a row.
            (
                "10.0.0.2",
                &["198.51.100.1, 10.0.0.2"],
                &proxy,
                "198.51.100.1",
            ),
            ("10.0.0.2", &[], &proxy, "10.0.0.2"),
            ("10.0.0.2", &["not-an-ip"], &proxy, "10.0.0.2"),
            ("::ffff:10.0.0.2", &["2001:db8::1"], &proxy, "2001:db8::1"),
        ];
        for (peer, header, trusted, want) in cases {
            assert_eq!(
                resolve(ip(peer), &xff(header), trusted),
                ip(want),
                "{peer} {header:?} {trusted:?}"
            );
        }
    }

    #[test]
    fn ipv6_counts_per_64() {
        assert_eq!(key(ip("2001:db8:1:2:aaaa::1")), ip("2001:db8:1:2::"));
        assert_eq!(key(ip("2001:db8:1:2:ffff::9")), ip("2001:db8:1:2::"));
        assert_ne!(key(ip("2001:db8:1:3::1")), ip("2001:db8:1:2::"));
        assert_eq!(key(ip("::ffff:192.0.2.1")), ip("192.0.2.1"));
        assert_eq!(key(ip("192.0.2.1")), ip("192.0.2.1"));
    }

    #[test]
    fn slots_count_and_free() {
        let per_ip = PerIp::default();
        let a = ClientIp(Some(ip("192.0.2.1")));
        let b = ClientIp(Some(ip("192.0.2.2")));
        let first = per_ip.try_acquire(a, 2).unwrap();
        let _second = per_ip.try_acquire(a, 2).unwrap();
        assert!(per_ip.try_acquire(a, 2).is_none());
        let _other = per_ip.try_acquire(b, 2).unwrap();
        drop(first);
        assert!(per_ip.try_acquire(a, 2).is_some());
        assert_eq!(per_ip.addresses(), 2);
    }
}
