//! Where the platform may connect to: the destination policy of every outbound request
//! (partners, async MDNs, webhooks, the TSA). Addresses that lead into the operator's own
//! network or the host itself (loopback, RFC 1918, link-local with the cloud metadata
//! service, CGNAT, unique-local, multicast, documentation and reserved ranges, and the
//! IPv4-mapped and embedding IPv6 forms of all of these) are refused unless the operator
//! allows their networks (`AS2_OUTBOUND_ALLOW`).

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use crate::network::{IpNetwork, NetworkParseError};

/// The environment variable with the networks an operator allows (comma-separated CIDRs).
pub const ALLOW_VAR: &str = "AS2_OUTBOUND_ALLOW";

/// Which destinations outbound requests may connect to.
///
/// The default refuses every special-purpose range ([`special_range`]); `allow` lists
/// networks that are permitted anyway.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DestinationPolicy {
    allow: Vec<IpNetwork>,
}

/// An address the policy refuses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error(
    "{address} is {range}, which the platform does not connect to (an operator can allow it with AS2_OUTBOUND_ALLOW)"
)]
pub struct RefusedAddress {
    /// The address.
    pub address: IpAddr,
    /// The range it lies in, as words (`a loopback address`).
    pub range: &'static str,
}

impl DestinationPolicy {
    /// Refuses every special-purpose range (the default).
    pub fn strict() -> Self {
        Self::default()
    }

    /// Refuses every special-purpose range except the networks in `allow`.
    pub fn allowing(allow: Vec<IpNetwork>) -> Self {
        Self { allow }
    }

    /// Allows loopback (127.0.0.0/8 and ::1): local development and tests on 127.0.0.1.
    pub fn loopback() -> Self {
        Self::allowing(loopback_networks())
    }

    /// The policy of `AS2_OUTBOUND_ALLOW`'s value: comma-separated CIDRs (or bare
    /// addresses); empty allows nothing.
    ///
    /// # Errors
    /// An entry that is not an address or a network in CIDR notation.
    pub fn parse(list: &str) -> Result<Self, NetworkParseError> {
        let allow = list
            .split(',')
            .map(str::trim)
            .filter(|entry| !entry.is_empty())
            .map(str::parse)
            .collect::<Result<Vec<IpNetwork>, _>>()?;
        Ok(Self { allow })
    }

    /// The networks allowed in spite of their range.
    pub fn allowed(&self) -> &[IpNetwork] {
        &self.allow
    }

    /// Whether the platform may connect to `address`.
    ///
    /// # Errors
    /// The address lies in a special-purpose range that no allowed network covers.
    pub fn check(&self, address: IpAddr) -> Result<(), RefusedAddress> {
        let Some(range) = special_range(address) else {
            return Ok(());
        };
        let embedded = embedded_ipv4(address).map(IpAddr::V4);
        let allowed = self
            .allow
            .iter()
            .any(|net| net.contains(address) || embedded.is_some_and(|v4| net.contains(v4)));
        if allowed {
            Ok(())
        } else {
            Err(RefusedAddress { address, range })
        }
    }

    /// Whether the platform may connect to `address` (see [`Self::check`]).
    pub fn permits(&self, address: IpAddr) -> bool {
        self.check(address).is_ok()
    }
}

impl fmt::Display for DestinationPolicy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.allow.is_empty() {
            return f.write_str("public addresses only");
        }
        f.write_str("public addresses and ")?;
        for (i, net) in self.allow.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            write!(f, "{net}")?;
        }
        Ok(())
    }
}

fn loopback_networks() -> Vec<IpNetwork> {
    ["127.0.0.0/8", "::1/128"]
        .iter()
        .filter_map(|n| n.parse().ok())
        .collect()
}

/// The special-purpose range `address` lies in (as words, `a private (RFC 1918) address`),
/// or `None` for an ordinary public address. IPv6 forms that carry an IPv4 address
/// (IPv4-mapped `::ffff:a.b.c.d`, IPv4-compatible `::a.b.c.d`, IPv4-translated, NAT64
/// `64:ff9b::/96`, 6to4 `2002::/16`) are judged by the IPv4 address they carry.
pub fn special_range(address: IpAddr) -> Option<&'static str> {
    match address {
        IpAddr::V4(v4) => special_v4(v4),
        IpAddr::V6(v6) => special_v6(v6),
    }
}

fn special_v4(ip: Ipv4Addr) -> Option<&'static str> {
    let [a, b, c, _] = ip.octets();
    Some(match (a, b, c) {
        _ if ip.is_unspecified() => "the unspecified address",
        _ if ip.is_broadcast() => "the broadcast address",
        (0, _, _) => "in the reserved \"this network\" range 0.0.0.0/8",
        (10, _, _) => "a private (RFC 1918) address",
        (100, 64..=127, _) => "a shared (carrier-grade NAT) address",
        (127, _, _) => "a loopback address",
        (169, 254, 169) if ip.octets()[3] == 254 => "the cloud metadata address (link-local)",
        (169, 254, _) => "a link-local address",
        (172, 16..=31, _) => "a private (RFC 1918) address",
        (192, 0, 0) => "an IETF protocol assignment address (192.0.0.0/24)",
        (192, 0, 2) | (198, 51, 100) | (203, 0, 113) => "a documentation address",
        (192, 88, 99) => "a 6to4 relay anycast address",
        (192, 168, _) => "a private (RFC 1918) address",
        (198, 18..=19, _) => "a benchmarking address (198.18.0.0/15)",
        (224..=239, _, _) => "a multicast address",
        (240..=255, _, _) => "a reserved address (240.0.0.0/4)",
        _ => return None,
    })
}

fn special_v6(ip: Ipv6Addr) -> Option<&'static str> {
    if ip.is_unspecified() {
        return Some("the unspecified address");
    }
    if ip.is_loopback() {
        return Some("a loopback address");
    }
    if let Some(v4) = embedded_v4_of(ip) {
        return special_v4(v4).or(
            // NAT64 and 6to4 with a public IPv4 address are ordinary destinations; the
            // deprecated IPv4-compatible and translated forms are not routed at all.
            match ip.segments() {
                [0, 0, 0, 0, 0, 0, _, _] | [0, 0, 0, 0, 0xffff, 0, _, _] => {
                    Some("a deprecated IPv4-compatible address")
                }
                _ => None,
            },
        );
    }
    let segments = ip.segments();
    Some(match segments {
        [0xfc00..=0xfdff, ..] => "a unique-local address (fc00::/7)",
        [0xfe80..=0xfebf, ..] => "a link-local address (fe80::/10)",
        [0xfec0..=0xfeff, ..] => "a site-local address (fec0::/10)",
        [0xff00..=0xffff, ..] => "a multicast address",
        [0x2001, 0x0db8, ..] | [0x3fff, 0x0000..=0x0fff, ..] => "a documentation address",
        [0x2001, 0x0002, 0, ..] => "a benchmarking address (2001:2::/48)",
        [0x0064, 0xff9b, 0x0001, ..] => "a local-use NAT64 address (64:ff9b:1::/48)",
        [0x0100, 0, 0, 0, ..] => "a discard-only address (100::/64)",
        // every global unicast address is in 2000::/3
        [0x2000..=0x3fff, ..] => return None,
        _ => "a reserved address (outside 2000::/3)",
    })
}

/// The IPv4 address an IPv6 address carries, in the forms that reach an IPv4 host: mapped
/// (`::ffff:0:0/96`), compatible (`::/96`, not `::` or `::1`), translated
/// (`::ffff:0:0:0/96`), NAT64 (`64:ff9b::/96`) and 6to4 (`2002::/16`).
fn embedded_v4_of(ip: Ipv6Addr) -> Option<Ipv4Addr> {
    let o = ip.octets();
    let low = Ipv4Addr::new(o[12], o[13], o[14], o[15]);
    match ip.segments() {
        [0, 0, 0, 0, 0, 0xffff, _, _] | [0, 0, 0, 0, 0xffff, 0, _, _] => Some(low),
        [0, 0, 0, 0, 0, 0, _, _] if !ip.is_unspecified() && !ip.is_loopback() => Some(low),
        [0x64, 0xff9b, 0, 0, 0, 0, _, _] => Some(low),
        [0x2002, ..] => Some(Ipv4Addr::new(o[2], o[3], o[4], o[5])),
        _ => None,
    }
}

fn embedded_ipv4(address: IpAddr) -> Option<Ipv4Addr> {
    match address {
        IpAddr::V4(_) => None,
        IpAddr::V6(v6) => embedded_v4_of(v6),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    fn refused(policy: &DestinationPolicy, address: &str) -> bool {
        !policy.permits(ip(address))
    }

    #[test]
    fn refuses_every_special_ipv4_range() {
        let strict = DestinationPolicy::strict();
        for address in [
            "0.0.0.0",
            "0.1.2.3",
            "10.0.0.1",
            "10.255.255.255",
            "100.64.0.1",
            "100.127.255.254",
            "127.0.0.1",
            "127.255.255.254",
            "169.254.169.254",
            "169.254.0.1",
            "172.16.0.1",
            "172.31.255.255",
            "192.0.0.8",
            "192.0.2.1",
            "192.88.99.1",
            "192.168.1.1",
            "198.18.0.1",
            "198.19.255.1",
            "198.51.100.7",
            "203.0.113.9",
            "224.0.0.1",
            "239.255.255.250",
            "240.0.0.1",
            "255.255.255.255",
        ] {
            assert!(refused(&strict, address), "{address} must be refused");
        }
    }

    #[test]
    fn permits_public_ipv4_next_to_the_ranges() {
        let strict = DestinationPolicy::strict();
        for address in [
            "1.1.1.1",
            "8.8.8.8",
            "9.255.255.255",
            "11.0.0.1",
            "100.63.255.255",
            "100.128.0.1",
            "126.255.255.255",
            "128.0.0.1",
            "169.253.1.1",
            "169.255.0.1",
            "172.15.255.255",
            "172.32.0.1",
            "192.0.3.1",
            "192.167.1.1",
            "192.169.0.1",
            "198.17.255.255",
            "198.20.0.1",
            "223.255.255.255",
        ] {
            assert!(!refused(&strict, address), "{address} must be permitted");
        }
    }

    #[test]
    fn refuses_every_special_ipv6_range_and_embedded_ipv4() {
        let strict = DestinationPolicy::strict();
        for address in [
            "::",
            "::1",
            "fc00::1",
            "fd12:3456::1",
            "fe80::1",
            "febf::1",
            "fec0::1",
            "ff02::1",
            "2001:db8::1",
            "3fff::1",
            "100::1",
            "64:ff9b:1::1",
            "2001:2::1",
            "4000::1",
            "::2",
            // IPv4-mapped, -compatible, -translated, NAT64 and 6to4 forms of refused IPv4
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
            "::ffff:169.254.169.254",
            "::ffff:0:127.0.0.1",
            "::127.0.0.1",
            "::10.1.2.3",
            "64:ff9b::7f00:1",
            "64:ff9b::a9fe:a9fe",
            "2002:7f00:1::1",
            "2002:c0a8:101::1",
            // deprecated forms even for a public IPv4 address
            "::8.8.8.8",
        ] {
            assert!(refused(&strict, address), "{address} must be refused");
        }
        for address in [
            "2606:4700:4700::1111",
            "2a00:1450:4001::200e",
            "::ffff:8.8.8.8",
            "64:ff9b::808:808",
            "2002:808:808::1",
        ] {
            assert!(!refused(&strict, address), "{address} must be permitted");
        }
    }

    #[test]
    fn the_refusal_names_the_range() {
        let error = DestinationPolicy::strict()
            .check(ip("169.254.169.254"))
            .unwrap_err();
        assert!(error.to_string().contains("cloud metadata"), "{error}");
        assert!(error.to_string().contains("AS2_OUTBOUND_ALLOW"), "{error}");
        let error = DestinationPolicy::strict()
            .check(ip("::ffff:127.0.0.1"))
            .unwrap_err();
        assert_eq!(error.range, "a loopback address");
    }

    #[test]
    fn allowed_networks_are_permitted_in_every_form() {
        let policy = DestinationPolicy::parse(" 127.0.0.0/8, ::1 ,10.1.0.0/16").unwrap();
        assert_eq!(policy.allowed().len(), 3);
        for address in [
            "127.0.0.1",
            "127.1.2.3",
            "::1",
            "::ffff:127.0.0.1",
            "10.1.2.3",
        ] {
            assert!(!refused(&policy, address), "{address} must be permitted");
        }
        for address in ["10.2.0.1", "169.254.169.254", "192.168.0.1", "fe80::1"] {
            assert!(refused(&policy, address), "{address} must stay refused");
        }
        assert_eq!(DestinationPolicy::loopback().allowed().len(), 2);
        assert!(DestinationPolicy::loopback().permits(ip("127.0.0.1")));
        assert!(DestinationPolicy::loopback().permits(ip("::1")));
        assert!(!DestinationPolicy::loopback().permits(ip("10.0.0.1")));
    }

    #[test]
    fn an_empty_list_allows_nothing_and_a_bad_entry_is_an_error() {
        assert_eq!(
            DestinationPolicy::parse("").unwrap(),
            DestinationPolicy::strict()
        );
        assert_eq!(
            DestinationPolicy::parse(" , ").unwrap(),
            DestinationPolicy::strict()
        );
        assert!(DestinationPolicy::parse("127.0.0.0/8,localhost").is_err());
        assert!(DestinationPolicy::parse("10.0.0.0/40").is_err());
    }
}
