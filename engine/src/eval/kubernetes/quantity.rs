//! The Kubernetes quantity library: `quantity`, `isQuantity` and the methods of quantities.
//!
//! A quantity is held exactly, in units of 10⁻⁹ (`1n`), as Kubernetes rounds anything smaller
//! up to `1n`; `1Ei` is 1.15 × 10²⁷ of those, well inside an `i128`. Past 10²⁷ (far beyond any
//! resource a manifest sets, yet a valid quantity: `9999999999999999999999999999999999999G`) it
//! is held approximately, as a double: such a quantity is never an integer, and compares and
//! adds approximately.

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

/// A quantity: exactly, in units of 10⁻⁹, or approximately when too large for that.
#[derive(Clone, Copy, Debug)]
pub enum Quantity {
    /// Units of 10⁻⁹.
    Exact(i128),
    /// Past [`MAX_NANOS`]: the value itself, approximately.
    Huge(f64),
}

impl Quantity {
    /// The value, approximately.
    #[allow(clippy::cast_precision_loss)]
    fn approximate(self) -> f64 {
        match self {
            Quantity::Exact(n) => n as f64 / NANOS as f64,
            Quantity::Huge(f) => f,
        }
    }

    /// The value as an `i64`, when it is a whole number that fits.
    fn as_i64(self) -> Option<i64> {
        match self {
            Quantity::Exact(n) if n % NANOS == 0 => i64::try_from(n / NANOS).ok(),
            _ => None,
        }
    }

    fn compare(self, other: Quantity) -> Ordering {
        match (self, other) {
            (Quantity::Exact(a), Quantity::Exact(b)) => a.cmp(&b),
            _ => self.approximate().partial_cmp(&other.approximate()).unwrap_or(Ordering::Equal),
        }
    }

    /// `a op b`, exactly while it stays in range.
    fn combine(self, other: Quantity, exact: fn(i128, i128) -> Option<i128>, approx: fn(f64, f64) -> f64) -> Quantity {
        if let (Quantity::Exact(a), Quantity::Exact(b)) = (self, other)
            && let Some(n) = exact(a, b).filter(|n| n.abs() <= MAX_NANOS)
        {
            return Quantity::Exact(n);
        }
        Quantity::Huge(approx(self.approximate(), other.approximate()))
    }
}

impl PartialEq for Quantity {
    fn eq(&self, other: &Self) -> bool {
        self.compare(*other) == Ordering::Equal
    }
}

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
        ("isInteger", Box::new(|f| with(f, "isInteger", |q| boolean(q.as_i64().is_some())))),
        ("asInteger", Box::new(|f| with(f, "asInteger", as_integer))),
        (
            "asApproximateFloat",
            Box::new(|f| with(f, "asApproximateFloat", |q| Ok(CowVal::owned(CelDouble::from(q.approximate()))))),
        ),
        (
            "sign",
            Box::new(|f| {
                with(f, "sign", |q| {
                    int(match q.compare(Quantity::Exact(0)) {
                        Ordering::Less => -1,
                        Ordering::Equal => 0,
                        Ordering::Greater => 1,
                    })
                })
            }),
        ),
        ("add", Box::new(|f| arithmetic(f, "add", i128::checked_add, |a, b| a + b))),
        ("sub", Box::new(|f| arithmetic(f, "sub", i128::checked_sub, |a, b| a - b))),
        ("mul", Box::new(|f| arithmetic(f, "mul", |a, b| a.checked_mul(b / NANOS), |a, b| a * b))),
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
    // digits × 10^scale units of 1n, then × 2^binary: exactly while that fits.
    let exact = (|| {
        if digits.len() > 36 {
            return None;
        }
        let mantissa: i128 = if digits.is_empty() { 0 } else { digits.parse().ok()? };
        let nanos = if scale >= 0 {
            mantissa.checked_mul(10i128.checked_pow(scale.unsigned_abs())?)?
        } else {
            // Smaller than 1n rounds up, as in Kubernetes.
            match 10i128.checked_pow(scale.unsigned_abs()) {
                Some(p) => (mantissa + p - 1) / p,
                None => i128::from(mantissa > 0),
            }
        };
        nanos.checked_mul(1i128 << binary).filter(|n| *n <= MAX_NANOS)
    })();
    let quantity = match exact {
        Some(nanos) => Quantity::Exact(if negative { -nanos } else { nanos }),
        None => {
            let value: f64 = format!("{}e{}", if digits.is_empty() { "0" } else { digits }, scale - 9)
                .parse()
                .map_err(|_| invalid())?;
            let value = value * 2f64.powi(i32::try_from(binary).unwrap_or(0));
            Quantity::Huge(if negative { -value } else { value })
        }
    };
    Ok(quantity)
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
        return Ok(Quantity::Exact(i128::from(i64::from(*i)) * NANOS));
    }
    receiver(name, v)
}

fn as_integer<'c, 'v>(q: Quantity) -> Result<CowVal<'c, 'v>, ExecutionError> {
    int(q.as_i64().ok_or_else(|| ExecutionError::function_error("asInteger", "cannot convert value to integer"))?)
}

fn arithmetic<'c, 'v>(
    ftx: &mut FunctionContext<'c, 'v>,
    name: &str,
    exact: fn(i128, i128) -> Option<i128>,
    approx: fn(f64, f64) -> f64,
) -> Result<CowVal<'c, 'v>, ExecutionError> {
    let args = exactly(ftx, 2)?;
    let a = receiver(name, args[0])?;
    let b = if name == "mul" {
        let factor = args[1]
            .downcast_ref::<CelInt>()
            .ok_or_else(|| ExecutionError::function_error(name, "the factor must be an int"))?;
        // The factor as a quantity of that many units, so `exact` divides it back.
        Quantity::Exact(i128::from(i64::from(*factor)) * NANOS)
    } else {
        operand(name, args[1])?
    };
    Ok(CowVal::owned(a.combine(b, exact, approx)))
}

fn comparison<'c, 'v>(
    ftx: &mut FunctionContext<'c, 'v>,
    name: &str,
    then: impl FnOnce(Ordering) -> Result<CowVal<'c, 'v>, ExecutionError>,
) -> Result<CowVal<'c, 'v>, ExecutionError> {
    let args = exactly(ftx, 2)?;
    then(receiver(name, args[0])?.compare(receiver(name, args[1])?))
}

#[cfg(test)]
mod tests {
    use super::super::tests::{all_fail, all_true};
    use super::*;

    #[test]
    fn suffixes_parse_exactly() {
        let exact = |s: &str| match parse_quantity(s) {
            Ok(Quantity::Exact(n)) => n,
            other => panic!("{s}: {other:?}"),
        };
        assert_eq!(exact("500m"), 500_000_000);
        assert_eq!(exact("1Ki"), 1024 * NANOS);
        assert_eq!(exact("1.5Gi"), 1_610_612_736 * NANOS);
        assert_eq!(exact("2e3"), 2000 * NANOS);
        assert_eq!(exact("-1k"), -1000 * NANOS);
        assert_eq!(exact("0.1n"), 1, "smaller than 1n rounds up");
        assert!(matches!(parse_quantity("9999999999999999999999999999999999999G"), Ok(Quantity::Huge(_))));
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
            // The examples of k8s.io/apiserver/pkg/cel/library/quantity.go.
            "isQuantity('1.3Gi') && !isQuantity('1,3G') && isQuantity('10000k')",
            "!isQuantity('200K') && !isQuantity('Three') && !isQuantity('Mi')",
            "quantity('50000000G').isInteger()",
            "!quantity('9999999999999999999999999999999999999G').isInteger()",
            "quantity('50k').sub(20000).asApproximateFloat() == 30000.0",
            "quantity('50k').sub(20000) == quantity('30k')",
            "quantity('50k').add(20).sub(quantity('100k')).sub(-50000) == quantity('20')",
            "quantity('200M').compareTo(quantity('0.2G')) == 0",
            "quantity('50M').compareTo(quantity('50Mi')) == -1",
            "quantity('50Mi').compareTo(quantity('50M')) == 1",
            "quantity('150Mi').isGreaterThan(quantity('100Mi'))",
            "!quantity('100M').isLessThan(quantity('50M'))",
            "quantity('1.5').mul(2) == quantity('3')",
            "quantity('9999999999999999999999999999999999999G').isGreaterThan(quantity('1Ei'))",
        ]);
        all_fail(&[
            ("quantity('1.5').asInteger()", "cannot convert"),
            ("quantity('9999999999999999999999999999999999999G').asInteger()", "cannot convert"),
            ("quantity('x')", "must match"),
            ("quantity('200K')", "must match"),
        ]);
    }
}
