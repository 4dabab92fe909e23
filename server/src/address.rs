//! One client machine as the limits see it: an IPv4 address, or an IPv6
//! /64 (one subscriber usually holds a whole /64, and each of its addresses
//! must not be a fresh allowance). An IPv4-mapped IPv6 address is its IPv4
//! address.

use std::net::IpAddr;

/// The key the login limits and the connection cap count a client under.
pub fn client_key(ip: IpAddr) -> String {
    match ip {
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => v4.to_string(),
            None => {
                let [a, b, c, d, ..] = v6.segments();
                format!("{a:x}:{b:x}:{c:x}:{d:x}::/64")
            }
        },
        IpAddr::V4(v4) => v4.to_string(),
    }
}
