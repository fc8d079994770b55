//! IP addresses and CIDR blocks as ranges of 128-bit integers.
//!
//! event-ruler turns a CIDR block into a numeric range over the address, and a pattern string
//! that is a plain IP address into a one-address range; an event string matches when it parses
//! as an address of the same family inside the range.

use std::net::{Ipv4Addr, Ipv6Addr};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct IpRange {
    pub v6: bool,
    pub low: u128,
    pub high: u128,
}

impl IpRange {
    #[inline]
    pub fn contains(&self, ip: Ip) -> bool {
        ip.v6 == self.v6 && self.low <= ip.bits && ip.bits <= self.high
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Ip {
    pub v6: bool,
    pub bits: u128,
}

/// Parses a standard IPv4 or IPv6 address.
pub fn parse_ip(text: &[u8]) -> Option<Ip> {
    // Addresses are short and ASCII; skip the parser for anything else.
    if text.len() > 45 || text.is_empty() {
        return None;
    }
    let text = std::str::from_utf8(text).ok()?;
    if let Ok(v4) = text.parse::<Ipv4Addr>() {
        return Some(Ip { v6: false, bits: u128::from(u32::from(v4)) });
    }
    text.parse::<Ipv6Addr>().ok().map(|v6| Ip { v6: true, bits: u128::from(v6) })
}

/// Parses `address/bits` with event-ruler's messages.
pub fn parse_cidr(text: &[u8]) -> Result<IpRange, String> {
    let text = String::from_utf8_lossy(text);
    // Java's split drops trailing empty parts, so "10.0.0.0/" has one part.
    let mut parts: Vec<&str> = text.split('/').collect();
    while parts.len() > 1 && parts.last() == Some(&"") {
        parts.pop();
    }
    if parts.len() != 2 {
        return Err("Malformed CIDR, one '/' required".into());
    }
    // A Java int: anything outside its range is not an integer either.
    let Ok(bits) = parts[1].parse::<i32>() else {
        return Err("Malformed CIDR, mask bits must be an integer".into());
    };
    if bits < 0 {
        return Err("Malformed CIDR, mask bits must not be negative".into());
    }
    let ip = parse_ip(parts[0].as_bytes()).ok_or_else(|| format!("Nonstandard IP address: {}", parts[0]))?;
    // event-ruler refuses a full-length mask (a /32 or /128 block is one address).
    let width: i32 = if ip.v6 { 128 } else { 32 };
    if bits >= width {
        return Err(if ip.v6 { "IPv6 mask bits must be < 128".into() } else { "IPv4 mask bits must be < 32".into() });
    }
    let host_bits = (width - bits) as u32;
    let host_mask: u128 = if host_bits == 0 { 0 } else { u128::MAX >> (128 - host_bits) };
    let low = ip.bits & !host_mask;
    Ok(IpRange { v6: ip.v6, low, high: low | host_mask })
}

/// The one-address range of a plain IP string, if it is one.
pub fn single_address(text: &[u8]) -> Option<IpRange> {
    parse_ip(text).map(|ip| IpRange { v6: ip.v6, low: ip.bits, high: ip.bits })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_are_masked_ranges() {
        let r = parse_cidr(b"220.160.153.171/31").unwrap();
        assert!(r.contains(parse_ip(b"220.160.153.170").unwrap()));
        assert!(r.contains(parse_ip(b"220.160.153.171").unwrap()));
        assert!(!r.contains(parse_ip(b"220.160.153.172").unwrap()));
        assert_eq!(parse_cidr(b"10.0.0.0/32").unwrap_err(), "IPv4 mask bits must be < 32");
        assert_eq!(parse_cidr(b"10.0.0.0/-1").unwrap_err(), "Malformed CIDR, mask bits must not be negative");
        assert_eq!(parse_cidr(b"10.0.0.0/").unwrap_err(), "Malformed CIDR, one '/' required");
        assert_eq!(parse_cidr(b"10.0.0.0/99999999999").unwrap_err(), "Malformed CIDR, mask bits must be an integer");
        let all = parse_cidr(b"0.0.0.0/0").unwrap();
        assert!(all.contains(parse_ip(b"255.255.255.255").unwrap()));
        assert!(!all.contains(parse_ip(b"::1").unwrap()));
        let v6 = parse_cidr(b"2001:db8::/32").unwrap();
        assert!(v6.contains(parse_ip(b"2001:0db8:0000:0000:0000:0000:0000:0001").unwrap()));
    }

    #[test]
    fn errors_are_event_rulers() {
        assert_eq!(parse_cidr(b"hello").unwrap_err(), "Malformed CIDR, one '/' required");
        assert_eq!(parse_cidr(b"10.0.0.0/x").unwrap_err(), "Malformed CIDR, mask bits must be an integer");
        assert_eq!(parse_cidr(b"xx.11.xx/24").unwrap_err(), "Nonstandard IP address: xx.11.xx");
        assert_eq!(parse_cidr(b"10.0.0.0/99").unwrap_err(), "IPv4 mask bits must be < 32");
        assert_eq!(parse_cidr(b"::/129").unwrap_err(), "IPv6 mask bits must be < 128");
    }

    #[test]
    fn single_addresses() {
        let r = single_address(b"2001:db8::1").unwrap();
        assert!(r.contains(parse_ip(b"2001:0db8:0000:0000:0000:0000:0000:0001").unwrap()));
        assert!(single_address(b"not an ip").is_none());
        assert!(single_address(b"10.0.0.01").is_none());
    }
}
