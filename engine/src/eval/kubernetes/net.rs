//! The Kubernetes IP and CIDR libraries: `ip`, `isIP`, `ip.isCanonical`, `cidr`, `isCIDR` and
//! the methods of their values.
//!
//! As in Kubernetes, an IPv4-mapped IPv6 address (`::ffff:1.2.3.4`) and a zone (`fe80::1%eth0`)
//! are not IPs, and a CIDR may have host bits set (`masked()` clears them).

use super::{RawFunction, arguments, boolean, exactly, int, text};
use cel::common::types::{Kind, Type};
use cel::common::value::{CowVal, StaticVal, Val};
use cel::{ExecutionError, FunctionContext};
use ipnet::IpNet;
use std::any::Any;
use std::net::IpAddr;

/// The CEL type of IP values.
const IP: Type = Type::simple_type(Kind::Opaque, "net.IP");
/// The CEL type of CIDR values.
const CIDR: Type = Type::simple_type(Kind::Opaque, "net.IPNet");
static IP_TYPE: Type = IP;
static CIDR_TYPE: Type = CIDR;

/// An IP address value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Ip(pub IpAddr);

/// A CIDR value: the address as written and its prefix length.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Cidr(pub IpNet);

macro_rules! opaque_val {
    ($ty:ty, $cel:expr) => {
        impl Val for $ty {
            fn get_type(&self) -> &Type {
                &$cel
            }

            fn cel_type() -> &'static Type {
                &$cel
            }

            fn equals(&self, other: &dyn Val) -> bool {
                other.as_any().and_then(|a| a.downcast_ref::<$ty>()).is_some_and(|o| o == self)
            }

            fn clone_as_boxed<'v>(&self) -> Box<dyn Val + 'v>
            where
                Self: 'v,
            {
                Box::new(self.clone())
            }

            fn as_any(&self) -> Option<&dyn Any> {
                Some(self)
            }
        }

        impl StaticVal for $ty {}
    };
}

opaque_val!(Ip, IP_TYPE);
opaque_val!(Cidr, CIDR_TYPE);

pub(super) fn functions() -> Vec<(&'static str, RawFunction)> {
    vec![
        ("ip", Box::new(ip)),
        ("isIP", Box::new(|f| predicate(f, "isIP", |s| parse_ip(s).is_ok()))),
        ("ip.isCanonical", Box::new(is_canonical)),
        ("cidr", Box::new(cidr)),
        ("isCIDR", Box::new(|f| predicate(f, "isCIDR", |s| parse_cidr(s).is_ok()))),
        ("family", Box::new(|f| with_ip(f, "family", |ip| int(if ip.is_ipv4() { 4 } else { 6 })))),
        ("isUnspecified", Box::new(|f| with_ip(f, "isUnspecified", |ip| boolean(ip.is_unspecified())))),
        ("isLoopback", Box::new(|f| with_ip(f, "isLoopback", |ip| boolean(ip.is_loopback())))),
        (
            "isLinkLocalMulticast",
            Box::new(|f| with_ip(f, "isLinkLocalMulticast", |ip| boolean(link_local_multicast(ip)))),
        ),
        ("isLinkLocalUnicast", Box::new(|f| with_ip(f, "isLinkLocalUnicast", |ip| boolean(link_local_unicast(ip))))),
        ("isGlobalUnicast", Box::new(|f| with_ip(f, "isGlobalUnicast", |ip| boolean(global_unicast(ip))))),
        ("containsIP", Box::new(contains_ip)),
        ("containsCIDR", Box::new(contains_cidr)),
        ("masked", Box::new(|f| with_cidr(f, "masked", |net| Ok(CowVal::owned(Cidr(net.trunc())))))),
        ("prefixLength", Box::new(|f| with_cidr(f, "prefixLength", |net| int(i64::from(net.prefix_len()))))),
    ]
}

/// `string(ip)` and `string(cidr)`: the canonical text, declared beside the standard
/// library's `string` overloads.
pub(super) fn declare(env: &mut cel::Env) -> Result<(), cel::DeclarationError> {
    env.add_overload("string", "ip_to_string", vec![IP], |args| to_string(&args))?;
    env.add_overload("string", "cidr_to_string", vec![CIDR], |args| to_string(&args))
}

fn to_string<'b, 'v>(args: &[CowVal<'b, 'v>]) -> Result<CowVal<'b, 'v>, ExecutionError> {
    let text = match args {
        [v] if v.downcast_ref::<Ip>().is_some() => v.downcast_ref::<Ip>().map(|ip| ip.0.to_string()),
        [v] => v.downcast_ref::<Cidr>().map(|net| net.0.to_string()),
        _ => None,
    };
    text.map(|t| CowVal::owned(cel::common::types::CelString::from(t)))
        .ok_or_else(|| ExecutionError::function_error("string", "expected an IP or a CIDR"))
}

/// Parses an IP as Kubernetes does: no zone, no IPv4-mapped IPv6.
pub fn parse_ip(s: &str) -> Result<IpAddr, String> {
    if s.contains('%') {
        return Err(format!("IP address with zone value is not allowed: {s}"));
    }
    let ip: IpAddr = s.parse().map_err(|_| format!("IP Address {s:?} parse error during conversion from string"))?;
    if let IpAddr::V6(v6) = ip
        && v6.to_ipv4_mapped().is_some()
    {
        return Err(format!("IPv4-mapped IPv6 address {s:?} is not allowed"));
    }
    Ok(ip)
}

/// Parses a CIDR as Kubernetes does.
pub fn parse_cidr(s: &str) -> Result<IpNet, String> {
    let (addr, _) =
        s.split_once('/').ok_or_else(|| format!("network address parse error during conversion from string: {s:?}"))?;
    parse_ip(addr)?;
    s.parse::<IpNet>().map_err(|_| format!("network address parse error during conversion from string: {s:?}"))
}

fn predicate<'c, 'v>(
    ftx: &mut FunctionContext<'c, 'v>,
    name: &str,
    test: fn(&str) -> bool,
) -> Result<CowVal<'c, 'v>, ExecutionError> {
    let args = exactly(ftx, 1)?;
    boolean(test(text(name, args[0])?))
}

/// `ip('1.2.3.4')`, or `cidr('10.0.0.0/8').ip()`: the address of a CIDR.
fn ip<'c, 'v>(ftx: &mut FunctionContext<'c, 'v>) -> Result<CowVal<'c, 'v>, ExecutionError> {
    let args = exactly(ftx, 1)?;
    if let Some(net) = args[0].downcast_ref::<Cidr>() {
        return Ok(CowVal::owned(Ip(net.0.addr())));
    }
    let parsed = parse_ip(text("ip", args[0])?).map_err(|e| ExecutionError::function_error("ip", e))?;
    Ok(CowVal::owned(Ip(parsed)))
}

/// `ip.isCanonical('2001:db8::1')`: whether the text is the address's canonical form.
fn is_canonical<'c, 'v>(ftx: &mut FunctionContext<'c, 'v>) -> Result<CowVal<'c, 'v>, ExecutionError> {
    let args = exactly(ftx, 1)?;
    let s = text("ip.isCanonical", args[0])?;
    let parsed = parse_ip(s).map_err(|e| ExecutionError::function_error("ip.isCanonical", e))?;
    boolean(parsed.to_string() == s)
}

fn cidr<'c, 'v>(ftx: &mut FunctionContext<'c, 'v>) -> Result<CowVal<'c, 'v>, ExecutionError> {
    let args = exactly(ftx, 1)?;
    let parsed = parse_cidr(text("cidr", args[0])?).map_err(|e| ExecutionError::function_error("cidr", e))?;
    Ok(CowVal::owned(Cidr(parsed)))
}

fn with_ip<'c, 'v>(
    ftx: &mut FunctionContext<'c, 'v>,
    name: &str,
    then: impl FnOnce(IpAddr) -> Result<CowVal<'c, 'v>, ExecutionError>,
) -> Result<CowVal<'c, 'v>, ExecutionError> {
    let args = exactly(ftx, 1)?;
    let ip = args[0].downcast_ref::<Ip>().ok_or_else(|| {
        ExecutionError::function_error(name, format!("expected an IP, got {}", args[0].get_type().name()))
    })?;
    then(ip.0)
}

fn with_cidr<'c, 'v>(
    ftx: &mut FunctionContext<'c, 'v>,
    name: &str,
    then: impl FnOnce(IpNet) -> Result<CowVal<'c, 'v>, ExecutionError>,
) -> Result<CowVal<'c, 'v>, ExecutionError> {
    let args = exactly(ftx, 1)?;
    let net = args[0].downcast_ref::<Cidr>().ok_or_else(|| {
        ExecutionError::function_error(name, format!("expected a CIDR, got {}", args[0].get_type().name()))
    })?;
    then(net.0)
}

/// `cidr('10.0.0.0/8').containsIP(ip('10.1.2.3'))`, or with the IP as a string.
fn contains_ip<'c, 'v>(ftx: &mut FunctionContext<'c, 'v>) -> Result<CowVal<'c, 'v>, ExecutionError> {
    let args = arguments(ftx);
    let [net, other] = args.as_slice() else { return Err(ExecutionError::invalid_argument_count(2, args.len())) };
    let net =
        net.downcast_ref::<Cidr>().ok_or_else(|| ExecutionError::function_error("containsIP", "expected a CIDR"))?;
    let ip = match other.downcast_ref::<Ip>() {
        Some(ip) => ip.0,
        None => parse_ip(text("containsIP", *other)?).map_err(|e| ExecutionError::function_error("containsIP", e))?,
    };
    boolean(net.0.trunc().contains(&ip))
}

/// `cidr('10.0.0.0/8').containsCIDR('10.1.0.0/16')`: whether every address of the other is in it.
fn contains_cidr<'c, 'v>(ftx: &mut FunctionContext<'c, 'v>) -> Result<CowVal<'c, 'v>, ExecutionError> {
    let args = arguments(ftx);
    let [net, other] = args.as_slice() else { return Err(ExecutionError::invalid_argument_count(2, args.len())) };
    let net =
        net.downcast_ref::<Cidr>().ok_or_else(|| ExecutionError::function_error("containsCIDR", "expected a CIDR"))?;
    let other = match other.downcast_ref::<Cidr>() {
        Some(c) => c.0,
        None => {
            parse_cidr(text("containsCIDR", *other)?).map_err(|e| ExecutionError::function_error("containsCIDR", e))?
        }
    };
    boolean(net.0.trunc().contains(&other.trunc()))
}

fn link_local_multicast(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => v4.octets()[..3] == [224, 0, 0],
        IpAddr::V6(v6) => v6.segments()[0] & 0xff0f == 0xff02,
    }
}

fn link_local_unicast(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => v4.is_link_local(),
        IpAddr::V6(v6) => v6.segments()[0] & 0xffc0 == 0xfe80,
    }
}

/// Go's `IsGlobalUnicast`: not unspecified, loopback, multicast, link-local or the IPv4
/// broadcast address (private addresses are global unicast).
fn global_unicast(ip: IpAddr) -> bool {
    let broadcast = matches!(ip, IpAddr::V4(v4) if v4.is_broadcast());
    !(ip.is_unspecified() || ip.is_loopback() || ip.is_multicast() || link_local_unicast(ip) || broadcast)
}

#[cfg(test)]
mod tests {
    use super::super::tests::{all_fail, all_true};

    /// The examples of the Kubernetes IP and CIDR library documentation.
    #[test]
    fn ips_and_cidrs_behave_as_kubernetes_documents() {
        all_true(&[
            "isIP('127.0.0.1')",
            "!isIP('::ffff:127.0.0.1')",
            "!isIP('fe80::1%eth0')",
            "ip('127.0.0.1').family() == 4",
            "ip('::1').family() == 6",
            "ip('127.0.0.1').isLoopback()",
            "ip('0.0.0.0').isUnspecified()",
            "ip('224.0.0.1').isLinkLocalMulticast()",
            "ip('ff02::1').isLinkLocalMulticast()",
            "ip('169.254.169.254').isLinkLocalUnicast()",
            "ip('fe80::1').isLinkLocalUnicast()",
            "ip('192.168.0.1').isGlobalUnicast()",
            "!ip('255.255.255.255').isGlobalUnicast()",
            "ip.isCanonical('2001:db8::abcd')",
            "!ip.isCanonical('2001:DB8::ABCD')",
            "ip('10.0.0.1') == ip('10.0.0.1')",
            "isCIDR('192.168.0.0/16')",
            "!isCIDR('192.168.0.0')",
            "cidr('192.168.0.0/24').containsIP(ip('192.168.0.1'))",
            "cidr('192.168.0.0/24').containsIP('192.168.0.1')",
            "!cidr('192.168.0.0/24').containsIP('192.168.1.1')",
            "cidr('192.168.0.0/24').containsCIDR('192.168.0.0/25')",
            "!cidr('192.168.0.0/24').containsCIDR(cidr('192.168.0.0/23'))",
            "cidr('192.168.0.1/24').ip() == ip('192.168.0.1')",
            "cidr('192.168.0.1/24').masked() == cidr('192.168.0.0/24')",
            "cidr('192.168.0.0/24').prefixLength() == 24",
            // The examples of k8s.io/apiserver/pkg/cel/library/ip.go and cidr.go.
            "!isIP('127.0.0.256') && !isIP(':::1')",
            "ip.isCanonical('127.0.0.1') && !ip.isCanonical('2001:db8::0:0:0:abcd')",
            "ip('::').isUnspecified() && !ip('::1').isUnspecified()",
            "!ip('2001:db8::abcd').isLoopback()",
            "!ip('224.0.1.1').isLinkLocalMulticast() && !ip('fd00::1').isLinkLocalMulticast()",
            "!ip('fd80::1').isLinkLocalUnicast()",
            "ip('2001:db8::abcd').isGlobalUnicast() && !ip('ff00::1').isGlobalUnicast()",
            "isCIDR('::1/128') && !isCIDR('192.168.0.0/33') && !isCIDR('::1/129')",
            "cidr('192.168.0.0/16').containsCIDR(cidr('192.168.10.0/24'))",
            "!cidr('192.168.1.0/24').containsCIDR('192.168.2.0/24')",
            "cidr('::1/128').ip().family() == 6",
            "cidr('192.168.0.0/24') == cidr('192.168.0.0/24').masked()",
            "cidr('192.168.0.1/24') != cidr('192.168.0.1/24').masked()",
            "cidr('::1/128').prefixLength() == 128",
            "string(ip('2001:DB8::1')) == '2001:db8::1'",
            "string(cidr('10.0.0.0/8')) == '10.0.0.0/8'",
        ]);
        all_fail(&[
            ("ip('x')", "parse error"),
            ("cidr('10.0.0.0')", "parse error"),
            ("ip('::ffff:1.2.3.4')", "IPv4-mapped"),
        ]);
    }
}
