//! Login attempt limits, per user name and per client address, so that
//! neither one account nor the whole server can be guessed at speed. An
//! IPv6 client is limited by its /64: one subscriber usually holds a whole
//! /64, and each of its addresses must not be a fresh allowance.

use std::net::IpAddr;
use std::num::NonZeroU32;
use std::time::Duration;

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota};

#[derive(Debug)]
pub struct LoginLimiter {
    per_user: DefaultKeyedRateLimiter<String>,
    per_peer: DefaultKeyedRateLimiter<String>,
}

/// Which limit was hit and when to try again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limited {
    pub scope: &'static str,
    pub retry_after: Duration,
}

impl LoginLimiter {
    /// `per_minute` attempts, all of which may come at once.
    pub fn new(per_user_per_minute: u32, per_peer_per_minute: u32) -> Self {
        Self {
            per_user: governor::RateLimiter::keyed(quota(per_user_per_minute)),
            per_peer: governor::RateLimiter::keyed(quota(per_peer_per_minute)),
        }
    }

    /// Counts one attempt from the address (registrations: a new name has
    /// no attempts to protect).
    pub fn check_peer(&self, peer: &str) -> Result<(), Limited> {
        let now = DefaultClock::default().now();
        self.per_peer
            .check_key(&peer_key(peer))
            .map_err(|not_until| Limited {
                scope: "address",
                retry_after: not_until.wait_time_from(now),
            })
    }

    /// Counts one attempt for the user name and for the address.
    pub fn check(&self, username_key: &str, peer: &str) -> Result<(), Limited> {
        let now = DefaultClock::default().now();
        self.check_peer(peer)?;
        if let Err(not_until) = self.per_user.check_key(&username_key.to_owned()) {
            return Err(Limited {
                scope: "user name",
                retry_after: not_until.wait_time_from(now),
            });
        }
        Ok(())
    }

    /// Drops state of keys that are back to a full allowance, so that a
    /// flood of random names does not grow memory forever.
    pub fn forget_idle(&self) {
        self.per_user.retain_recent();
        self.per_peer.retain_recent();
        self.per_user.shrink_to_fit();
        self.per_peer.shrink_to_fit();
    }
}

/// What an address is limited under: IPv4 (also IPv4-mapped IPv6) by the
/// address, IPv6 by its first 64 bits.
fn peer_key(peer: &str) -> String {
    match peer.parse::<IpAddr>() {
        Ok(ip) => crate::address::client_key(ip),
        Err(_) => peer.to_owned(),
    }
}

fn quota(per_minute: u32) -> Quota {
    let n = NonZeroU32::new(per_minute.max(1)).unwrap_or(NonZeroU32::MIN);
    Quota::per_minute(n).allow_burst(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_each_name_and_each_address_separately() {
        let limiter = LoginLimiter::new(3, 5);
        for _ in 0..3 {
            limiter.check("alice", "10.0.0.1").unwrap();
        }
        let limited = limiter.check("alice", "10.0.0.1").unwrap_err();
        assert_eq!(limited.scope, "user name");
        assert!(limited.retry_after > Duration::ZERO);
        // Another name from the same address still has attempts left...
        limiter.check("bob", "10.0.0.1").unwrap();
        // ...until the address itself is used up (3 + 1 + 1 failed-or-not = 5).
        let limited = limiter.check("carol", "10.0.0.1").unwrap_err();
        assert_eq!(limited.scope, "address");
        // Alice from another address is still limited by name.
        assert_eq!(
            limiter.check("alice", "10.0.0.2").unwrap_err().scope,
            "user name"
        );
    }

    #[test]
    fn an_ipv6_client_is_limited_by_its_slash_64() {
        let limiter = LoginLimiter::new(100, 2);
        limiter.check_peer("2001:db8:1:2::1").unwrap();
        limiter.check_peer("2001:db8:1:2:ffff::9").unwrap();
        // A third address of the same /64 has nothing left.
        let limited = limiter.check_peer("2001:db8:1:2:abcd::1").unwrap_err();
        assert_eq!(limited.scope, "address");
        // The next /64 has its own allowance.
        limiter.check_peer("2001:db8:1:3::1").unwrap();
        // An IPv4-mapped address counts as the IPv4 one.
        limiter.check_peer("::ffff:192.0.2.7").unwrap();
        limiter.check_peer("192.0.2.7").unwrap();
        assert!(limiter.check_peer("192.0.2.7").is_err());
        assert_eq!(peer_key("2001:DB8:0:0:1::1"), "2001:db8:0:0::/64");
        assert_eq!(peer_key("unknown"), "unknown");
    }
}
