//! The PROXY protocol, version 2 (haproxy.org's `proxy-protocol.txt`): a
//! load balancer in front of the gateway prefixes each connection with a
//! binary header naming the client's address, so that the login limits,
//! the connection cap and the logs see the client, not the balancer. Only
//! connections from `gateway.trusted_proxies` are read so; anyone else
//! could name any address.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::Duration;

use tokio::io::AsyncReadExt;
use tokio::net::TcpStream;

const SIGNATURE: [u8; 12] = *b"\r\n\r\n\0\r\nQUIT\n";
/// Version 2 and the commands LOCAL (the balancer's own check) and PROXY.
const V2_LOCAL: u8 = 0x20;
const V2_PROXY: u8 = 0x21;
/// TCP over IPv4 and IPv6; other families (UDP, UNIX) are refused.
const TCP4: u8 = 0x11;
const TCP6: u8 = 0x21;
/// Addresses and TLVs; a balancer sends a few dozen bytes.
const MAX_BODY: usize = 1024;
/// How long a balancer may take to send the header.
pub const HEADER_TIMEOUT: Duration = Duration::from_secs(5);

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ProxyHeaderError {
    #[error("no PROXY protocol v2 header")]
    Missing,
    #[error("PROXY header: {0}")]
    Malformed(&'static str),
    #[error("no PROXY header within {} s", HEADER_TIMEOUT.as_secs())]
    Timeout,
}

/// Reads the header at the start of `stream` and returns the client's
/// address: the source it names, or `peer` for a LOCAL header.
pub async fn read_client(
    stream: &mut TcpStream,
    peer: SocketAddr,
) -> Result<SocketAddr, ProxyHeaderError> {
    tokio::time::timeout(HEADER_TIMEOUT, read(stream, peer))
        .await
        .map_err(|_| ProxyHeaderError::Timeout)?
}

async fn read(stream: &mut TcpStream, peer: SocketAddr) -> Result<SocketAddr, ProxyHeaderError> {
    let mut fixed = [0u8; 16];
    stream
        .read_exact(&mut fixed)
        .await
        .map_err(|_| ProxyHeaderError::Missing)?;
    let len = usize::from(u16::from_be_bytes([fixed[14], fixed[15]]));
    if fixed[..12] != SIGNATURE {
        return Err(ProxyHeaderError::Missing);
    }
    if len > MAX_BODY {
        return Err(ProxyHeaderError::Malformed("longer than 1024 bytes"));
    }
    let mut body = vec![0u8; len];
    stream
        .read_exact(&mut body)
        .await
        .map_err(|_| ProxyHeaderError::Malformed("cut short"))?;
    parse(fixed[12], fixed[13], &body, peer)
}

/// The client's address from the command, family and body of a header.
pub fn parse(
    command: u8,
    family: u8,
    body: &[u8],
    peer: SocketAddr,
) -> Result<SocketAddr, ProxyHeaderError> {
    match command {
        V2_LOCAL => return Ok(peer),
        V2_PROXY => {}
        _ => return Err(ProxyHeaderError::Malformed("not version 2 PROXY or LOCAL")),
    }
    let short = || ProxyHeaderError::Malformed("addresses cut short");
    match family {
        TCP4 => {
            let b: &[u8; 12] = body
                .get(..12)
                .and_then(|b| b.try_into().ok())
                .ok_or_else(short)?;
            let ip = Ipv4Addr::new(b[0], b[1], b[2], b[3]);
            Ok(SocketAddr::new(
                IpAddr::V4(ip),
                u16::from_be_bytes([b[8], b[9]]),
            ))
        }
        TCP6 => {
            let b: &[u8; 36] = body
                .get(..36)
                .and_then(|b| b.try_into().ok())
                .ok_or_else(short)?;
            let mut octets = [0u8; 16];
            octets.copy_from_slice(&b[..16]);
            let ip = Ipv6Addr::from(octets);
            Ok(SocketAddr::new(
                IpAddr::V6(ip),
                u16::from_be_bytes([b[32], b[33]]),
            ))
        }
        _ => Err(ProxyHeaderError::Malformed("not TCP over IPv4 or IPv6")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn peer() -> SocketAddr {
        "10.0.0.9:4000".parse().unwrap()
    }

    #[test]
    fn addresses_come_from_the_header_and_local_keeps_the_peer() {
        let v4 = [192, 0, 2, 7, 10, 0, 0, 1, 0xC3, 0x50, 0x01, 0xBB];
        assert_eq!(
            parse(V2_PROXY, TCP4, &v4, peer()),
            Ok("192.0.2.7:50000".parse().unwrap())
        );
        let mut v6 = [0u8; 36 + 3];
        v6[..16].copy_from_slice(&"2001:db8::5".parse::<Ipv6Addr>().unwrap().octets());
        v6[32..34].copy_from_slice(&443u16.to_be_bytes());
        assert_eq!(
            parse(V2_PROXY, TCP6, &v6, peer()),
            Ok("[2001:db8::5]:443".parse().unwrap()),
            "TLVs after the addresses are skipped"
        );
        assert_eq!(parse(V2_LOCAL, 0, &[], peer()), Ok(peer()));
    }

    #[test]
    fn broken_headers_are_refused_by_what_is_wrong() {
        let cases = [
            (0x11, TCP4, vec![0; 12], "not version 2 PROXY or LOCAL"),
            (V2_PROXY, TCP4, vec![0; 11], "addresses cut short"),
            (V2_PROXY, TCP6, vec![0; 35], "addresses cut short"),
            (V2_PROXY, 0x12, vec![0; 12], "not TCP over IPv4 or IPv6"),
            (V2_PROXY, 0x31, vec![0; 216], "not TCP over IPv4 or IPv6"),
        ];
        for (command, family, body, why) in cases {
            assert_eq!(
                parse(command, family, &body, peer()),
                Err(ProxyHeaderError::Malformed(why))
            );
        }
    }
}
