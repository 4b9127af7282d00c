//! Network ranges: CIDR blocks and addresses.

use super::*;

/// Parses a CIDR block (`10.0.0.0/8`, `2001:db8::/32`) or a bare address (`10.1.2.3`, `::1`,
/// taken as a single-address block). Host bits may be set (`10.1.2.3/8` is `10.0.0.0/8`).
pub(super) fn parse_net(s: &str) -> Option<IpNet> {
    let s = s.trim();
    s.parse::<IpNet>().ok().or_else(|| s.parse::<IpAddr>().ok().map(IpNet::from))
}

/// [`parse_net`], or an evaluation error naming the bad value.
pub(super) fn net_arg(ftx: &FunctionContext, s: &str) -> Result<IpNet, ExecutionError> {
    parse_net(s).ok_or_else(|| ftx.error(format!("`{s}` is not a CIDR block or IP address")))
}

/// The private, loopback, link-local and carrier-grade NAT ranges `isPrivateCidr` accepts.
pub(super) fn private_ranges() -> &'static [IpNet] {
    static RANGES: OnceLock<Vec<IpNet>> = OnceLock::new();
    RANGES.get_or_init(|| {
        [
            "10.0.0.0/8",
            "172.16.0.0/12",
            "192.168.0.0/16",
            "100.64.0.0/10",
            "127.0.0.0/8",
            "169.254.0.0/16",
            "fc00::/7",
            "fe80::/10",
            "::1/128",
        ]
        .iter()
        .filter_map(|r| r.parse().ok())
        .collect()
    })
}

pub(super) fn is_private(net: &IpNet) -> bool {
    private_ranges().iter().any(|range| range.contains(net))
}

/// `cidrContains(cidr: string, ipOrCidr: string) -> bool`: whether the address or block
/// `ipOrCidr` lies entirely inside `cidr`. Blocks of different IP families never contain each
/// other. Either argument not parsing is an error.
///
/// `cidrContains('10.0.0.0/8', '10.1.0.0/16')` → `true`
pub(super) fn cidr_contains(
    ftx: &FunctionContext,
    This(cidr): This<Arc<String>>,
    inner: Arc<String>,
) -> Result<bool, ExecutionError> {
    Ok(net_arg(ftx, &cidr)?.contains(&net_arg(ftx, &inner)?))
}

/// `isAnyAddress(cidr: string) -> bool`: whether `cidr` means "every address": a `/0` block
/// of either family (`0.0.0.0/0`, `::/0`), the unspecified addresses `0.0.0.0` and `::`
/// written without a prefix, or `*`. Anything else that doesn't parse is an error.
///
/// `isAnyAddress('::/0')` → `true`
pub(super) fn is_any_address(ftx: &FunctionContext, This(cidr): This<Arc<String>>) -> Result<bool, ExecutionError> {
    let s = cidr.trim();
    if s == "*" || s.parse::<IpAddr>().is_ok_and(|addr| addr.is_unspecified()) {
        return Ok(true);
    }
    Ok(net_arg(ftx, s)?.prefix_len() == 0)
}

/// `isPrivateCidr(cidr: string) -> bool`: whether the block (or address) lies entirely inside
/// the private and internal ranges: `10.0.0.0/8`, `172.16.0.0/12`, `192.168.0.0/16` (RFC 1918),
/// `100.64.0.0/10` (CGNAT), `127.0.0.0/8`, `169.254.0.0/16` (link-local), `fc00::/7`,
/// `fe80::/10` and `::1/128`. Not parsing is an error.
///
/// `isPrivateCidr('10.20.0.0/16')` → `true`, `isPrivateCidr('10.0.0.0/7')` → `false`
pub(super) fn is_private_cidr(ftx: &FunctionContext, This(cidr): This<Arc<String>>) -> Result<bool, ExecutionError> {
    Ok(is_private(&net_arg(ftx, &cidr)?))
}

/// `isPublicCidr(cidr: string) -> bool`: whether the block (or address) reaches beyond the
/// private ranges of `isPrivateCidr`, i.e. it parses and is not private. Not parsing is an
/// error.
///
/// `isPublicCidr('0.0.0.0/0')` → `true`
pub(super) fn is_public_cidr(ftx: &FunctionContext, This(cidr): This<Arc<String>>) -> Result<bool, ExecutionError> {
    Ok(!is_private(&net_arg(ftx, &cidr)?))
}

/// `isCidr(s: dyn) -> bool`: whether `s` is a string holding a CIDR block or a bare IP
/// address. Never fails.
///
/// `isCidr('203.0.113.0/24')` → `true`, `isCidr('sg-0123')` → `false`
pub(super) fn is_cidr(ftx: &FunctionContext) -> Result<bool, ExecutionError> {
    Ok(as_str(only_arg(ftx)?).is_some_and(|s| parse_net(s).is_some()))
}

/// `cidrList(s: string) -> list(string)`: splits an allowlist written as one string, separated
/// by commas and/or whitespace, into its trimmed, non-empty items. The items aren't validated.
///
/// `cidrList('203.0.113.0/24, 198.51.100.10/32')` → `['203.0.113.0/24', '198.51.100.10/32']`
pub(super) fn cidr_list(This(s): This<Arc<String>>) -> Arc<Vec<Value>> {
    Arc::new(
        s.split(|c: char| c == ',' || c.is_whitespace())
            .filter(|item| !item.is_empty())
            .map(|item| Value::String(string(item)))
            .collect(),
    )
}
