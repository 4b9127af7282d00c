//! The Kubernetes quantity library: `quantity`, `isQuantity` and the methods of quantities.
//!
//! A quantity is held exactly, in units of 10⁻⁹ (`1n`), as Kubernetes rounds anything smaller
//! up to `1n`; `1Ei` is 1.15 × 10²⁷ of those, well inside an `i128`.

use super::{RawFunction, boolean, exactly, int, text};
use cel::common::types::{CelDouble, CelInt, Kind, Type};
use cel::common::value::{CowVal, StaticVal, Val};
use cel::{ExecutionError, FunctionContext};
use std::any::Any;
use std::cmp::Ordering;

static QUANTITY_TYPE: Type = Type::simple_type(Kind::Opaque, "kubernetes.Quantity");

/// Units of 10⁻⁹ in one.
const NANOS: i128 = 1_000_000_000;
/// The largest quantity held: about 10³⁶, far past anything a manifest sets.
const MAX_NANOS: i128 = 10i128.pow(36);

/// A quantity, in units of 10⁻⁹.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Quantity(pub i128);

impl Val for Quantity {
    fn get_type(&self) -> &Type {
        &QUANTITY_TYPE
    }

    fn cel_type() -> &'static Type {
        &QUANTITY_TYPE
    }

    fn equals(&self, other: &dyn Val) -> bool {
        other.as_any().and_then(|a| a.downcast_ref::<Quantity>()).is_some_and(|o| o == self)
    }

    fn clone_as_boxed<'v>(&self) -> Box<dyn Val + 'v>
    where
        Self: 'v,
    {
        Box::new(*self)
    }

    fn as_any(&self) -> Option<&dyn Any> {
        Some(self)
    }
}

impl StaticVal for Quantity {}

pub(super) fn functions() -> Vec<(&'static str, RawFunction)> {
    vec![
        ("quantity", Box::new(quantity)),
        ("isQuantity", Box::new(is_quantity)),
        ("isInteger", Box::new(|f| with(f, "isInteger", |q| boolean(q.0 % NANOS == 0)))),
        ("asInteger", Box::new(|f| with(f, "asInteger", as_integer))),
        (
            "asApproximateFloat",
            Box::new(|f| {
                with(f, "asApproximateFloat", |q| {
                    #[allow(clippy::cast_precision_loss)]
                    let approx = q.0 as f64 / NANOS as f64;
                    Ok(CowVal::owned(CelDouble::from(approx)))
                })
            }),
        ),
        (
            "sign",
            Box::new(|f| {
                with(f, "sign", |q| {
                    int(match q.0.cmp(&0) {
                        Ordering::Less => -1,
                        Ordering::Equal => 0,
                        Ordering::Greater => 1,
                    })
                })
            }),
        ),
        ("add", Box::new(|f| arithmetic(f, "add", i128::checked_add))),
        ("sub", Box::new(|f| arithmetic(f, "sub", i128::checked_sub))),
        ("isGreaterThan", Box::new(|f| comparison(f, "isGreaterThan", |o| boolean(o == Ordering::Greater)))),
        ("isLessThan", Box::new(|f| comparison(f, "isLessThan", |o| boolean(o == Ordering::Less)))),
        ("compareTo", Box::new(|f| comparison(f, "compareTo", |o| int(o as i64)))),
    ]
}

/// Parses a quantity (`500m`, `1.5Gi`, `2e3`, `-1k`) as Kubernetes' `ParseQuantity` does.
pub fn parse_quantity(s: &str) -> Result<Quantity, String> {
    let invalid = || {
        format!("quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$': {s:?}")
    };
    let (negative, rest) = match s.as_bytes().first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    let number_end = rest.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(rest.len());
    let (number, suffix) = rest.split_at(number_end);
    let (whole, fraction) = number.split_once('.').unwrap_or((number, ""));
    if (whole.is_empty() && fraction.is_empty()) || fraction.contains('.') {
        return Err(invalid());
    }
    // digits × 10^exponent × 2^binary
    let (exponent, binary): (i32, u32) = match suffix {
        "" => (0, 0),
        "n" => (-9, 0),
        "u" => (-6, 0),
        "m" => (-3, 0),
        "k" => (3, 0),
        "M" => (6, 0),
        "G" => (9, 0),
        "T" => (12, 0),
        "P" => (15, 0),
        "E" => (18, 0),
        "Ki" => (0, 10),
        "Mi" => (0, 20),
        "Gi" => (0, 30),
        "Ti" => (0, 40),
        "Pi" => (0, 50),
        "Ei" => (0, 60),
        other => {
            let digits = other.strip_prefix(['e', 'E']).ok_or_else(invalid)?;
            let exponent: i32 = digits.parse().map_err(|_| invalid())?;
            if !(-40..=40).contains(&exponent) {
                return Err(format!("quantity {s:?} is out of range"));
            }
            (exponent, 0)
        }
    };
    let digits = format!("{whole}{fraction}");
    let digits = digits.trim_start_matches('0');
    let scale = exponent + 9 - i32::try_from(fraction.len()).map_err(|_| invalid())?;
    let too_large = || format!("quantity {s:?} is too large");
    if digits.len() > 36 {
        return Err(too_large());
    }
    let mantissa: i128 = if digits.is_empty() { 0 } else { digits.parse().map_err(|_| invalid())? };
    let mut nanos = if scale >= 0 {
        10i128.checked_pow(scale.unsigned_abs()).and_then(|p| mantissa.checked_mul(p)).ok_or_else(too_large)?
    } else {
        // Smaller than 1n rounds up, as in Kubernetes.
        match 10i128.checked_pow(scale.unsigned_abs()) {
            Some(p) => (mantissa + p - 1) / p,
            None => i128::from(mantissa > 0),
        }
    };
    nanos = nanos.checked_mul(1i128 << binary).ok_or_else(too_large)?;
    if nanos > MAX_NANOS {
        return Err(too_large());
    }
    Ok(Quantity(if negative { -nanos } else { nanos }))
}

fn quantity<'c, 'v>(ftx: &mut FunctionContext<'c, 'v>) -> Result<CowVal<'c, 'v>, ExecutionError> {
    let args = exactly(ftx, 1)?;
    let q = parse_quantity(text("quantity", args[0])?).map_err(|e| ExecutionError::function_error("quantity", e))?;
    Ok(CowVal::owned(q))
}

fn is_quantity<'c, 'v>(ftx: &mut FunctionContext<'c, 'v>) -> Result<CowVal<'c, 'v>, ExecutionError> {
    let args = exactly(ftx, 1)?;
    boolean(parse_quantity(text("isQuantity", args[0])?).is_ok())
}

fn with<'c, 'v>(
    ftx: &mut FunctionContext<'c, 'v>,
    name: &str,
    then: impl FnOnce(Quantity) -> Result<CowVal<'c, 'v>, ExecutionError>,
) -> Result<CowVal<'c, 'v>, ExecutionError> {
    let args = exactly(ftx, 1)?;
    then(receiver(name, args[0])?)
}

fn receiver(name: &str, v: &dyn Val) -> Result<Quantity, ExecutionError> {
    v.downcast_ref::<Quantity>().copied().ok_or_else(|| {
        ExecutionError::function_error(name, format!("expected a quantity, got {}", v.get_type().name()))
    })
}

/// A quantity argument, or an int (as `add` and `sub` take).
fn operand(name: &str, v: &dyn Val) -> Result<Quantity, ExecutionError> {
    if let Some(i) = v.downcast_ref::<CelInt>() {
        return Ok(Quantity(i128::from(i64::from(*i)) * NANOS));
    }
    receiver(name, v)
}

fn as_integer<'c, 'v>(q: Quantity) -> Result<CowVal<'c, 'v>, ExecutionError> {
    if q.0 % NANOS != 0 {
        return Err(ExecutionError::function_error("asInteger", "cannot convert value to integer"));
    }
    let whole = i64::try_from(q.0 / NANOS)
        .map_err(|_| ExecutionError::function_error("asInteger", "cannot convert value to integer"))?;
    int(whole)
}

fn arithmetic<'c, 'v>(
    ftx: &mut FunctionContext<'c, 'v>,
    name: &str,
    op: fn(i128, i128) -> Option<i128>,
) -> Result<CowVal<'c, 'v>, ExecutionError> {
    let args = exactly(ftx, 2)?;
    let (a, b) = (receiver(name, args[0])?, operand(name, args[1])?);
    let result = op(a.0, b.0)
        .filter(|n| n.abs() <= MAX_NANOS)
        .ok_or_else(|| ExecutionError::function_error(name, "quantity overflow"))?;
    Ok(CowVal::owned(Quantity(result)))
}

fn comparison<'c, 'v>(
    ftx: &mut FunctionContext<'c, 'v>,
    name: &str,
    then: impl FnOnce(Ordering) -> Result<CowVal<'c, 'v>, ExecutionError>,
) -> Result<CowVal<'c, 'v>, ExecutionError> {
    let args = exactly(ftx, 2)?;
    then(receiver(name, args[0])?.cmp(&receiver(name, args[1])?))
}

#[cfg(test)]
mod tests {
    use super::super::tests::{all_fail, all_true};
    use super::*;

    #[test]
    fn suffixes_parse_exactly() {
        assert_eq!(parse_quantity("500m"), Ok(Quantity(500_000_000)));
        assert_eq!(parse_quantity("1Ki"), Ok(Quantity(1024 * NANOS)));
        assert_eq!(parse_quantity("1.5Gi"), Ok(Quantity(1_610_612_736 * NANOS)));
        assert_eq!(parse_quantity("2e3"), Ok(Quantity(2000 * NANOS)));
        assert_eq!(parse_quantity("-1k"), Ok(Quantity(-1000 * NANOS)));
        assert_eq!(parse_quantity("0.1n"), Ok(Quantity(1)), "smaller than 1n rounds up");
        assert!(parse_quantity("1Gb").is_err());
        assert!(parse_quantity("").is_err());
        assert!(parse_quantity("1e400").is_err());
    }

    /// The examples of the Kubernetes quantity library documentation.
    #[test]
    fn quantities_behave_as_kubernetes_documents() {
        all_true(&[
            "isQuantity('1.3G')",
            "!isQuantity('1.3Gb')",
            "quantity('50M') == quantity('50000k')",
            "quantity('1.5').isInteger() == false",
            "quantity('1.0').isInteger()",
            "quantity('50k').asInteger() == 50000",
            "quantity('50k').asApproximateFloat() == 50000.0",
            "quantity('-1').sign() == -1 && quantity('0').sign() == 0",
            "quantity('50k').add(20) == quantity('50020')",
            "quantity('50k').add(quantity('20k')) == quantity('70k')",
            "quantity('50k').sub(quantity('20k')) == quantity('30k')",
            "quantity('200M').isGreaterThan(quantity('100M'))",
            "quantity('50M').isLessThan(quantity('100M'))",
            "quantity('200M').compareTo(quantity('100M')) == 1",
            "quantity('100M').compareTo(quantity('100M')) == 0",
            "quantity('512Mi').isLessThan(quantity('1Gi'))",
        ]);
        all_fail(&[("quantity('1.5').asInteger()", "cannot convert"), ("quantity('x')", "must match")]);
    }
}
