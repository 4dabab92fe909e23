//! One client machine as the limits see it: an IPv4 address, or an IPv6
//! /64 (one subscriber usually holds a whole /64, and each of its addresses
//! must not be a fresh allowance). An IPv4-mapped IPv6 address is its IPv4
//! address. And the networks of trusted load balancers
//! (`gateway.trusted_proxies`).

use std::net::IpAddr;

use serde::Deserialize;

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

/// A trusted balancer: an address, or a network in CIDR form.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(try_from = "String")]
pub struct ProxyNet {
    network: IpAddr,
    prefix: u8,
}

impl TryFrom<String> for ProxyNet {
    type Error = String;

    fn try_from(text: String) -> Result<Self, String> {
        let bad =
            || format!("trusted proxy {text:?} is not an IP address or a network like 10.0.0.0/24");
        let (ip, prefix) = match text.split_once('/') {
            Some((ip, prefix)) => (ip, Some(prefix)),
            None => (text.as_str(), None),
        };
        let network: IpAddr = ip.trim().parse().map_err(|_| bad())?;
        let max = if network.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            Some(p) => p
                .trim()
                .parse::<u8>()
                .ok()
                .filter(|p| *p <= max)
                .ok_or_else(bad)?,
            None => max,
        };
        Ok(Self { network, prefix })
    }
}

impl ProxyNet {
    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = match ip {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
            v4 => v4,
        };
        match (self.network, ip) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                let mask = u32::MAX
                    .checked_shl(32 - u32::from(self.prefix))
                    .unwrap_or(0);
                u32::from(net) & mask == u32::from(ip) & mask
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                let mask = u128::MAX
                    .checked_shl(128 - u32::from(self.prefix))
                    .unwrap_or(0);
                u128::from(net) & mask == u128::from(ip) & mask
            }
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trusted_networks_parse_and_match() {
        let net = ProxyNet::try_from("10.1.0.0/16".to_owned()).unwrap();
        assert!(net.contains("10.1.200.3".parse().unwrap()));
        assert!(net.contains("::ffff:10.1.0.1".parse().unwrap()));
        assert!(!net.contains("10.2.0.1".parse().unwrap()));
        let one = ProxyNet::try_from("2001:db8::1".to_owned()).unwrap();
        assert!(one.contains("2001:db8::1".parse().unwrap()));
        assert!(!one.contains("2001:db8::2".parse().unwrap()));
        let all = ProxyNet::try_from("0.0.0.0/0".to_owned()).unwrap();
        assert!(all.contains("203.0.113.1".parse().unwrap()));
        for bad in ["10.0.0.0/33", "example.com", "10.0.0.1/x", ""] {
            assert!(ProxyNet::try_from(bad.to_owned()).is_err(), "{bad}");
        }
    }
}
