//! The declared CEL environment: every variable and function an expression may use, with the
//! overloads of each function, as data.
//!
//! A pack is checked against these declarations when it loads ([`super::typecheck`]), so an
//! unknown name, a wrong number of arguments or a type error that is visible in the expression
//! itself is a located pack error instead of a `rule-error` on every document. The
//! declarations are written as signatures (`string.startsWith(string) -> bool`), which keeps
//! them readable and lets `docs/cel-functions.md` be tested against them.
//!
//! An [`Environment`] is a value: celador builds one per rule scope ([`Environment::document`],
//! [`Environment::deployment`]), and anyone translating other policies (Kubernetes
//! ValidatingAdmissionPolicies, with `object`, `request`, …) can start from
//! [`Environment::standard`] and declare their own variables and functions.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::{Arc, OnceLock};

/// The static type of a CEL value, as far as it is known before evaluation.
#[derive(Clone, Debug, PartialEq)]
pub enum Type {
    /// Anything: a document value, a variable's field, a function that returns any value.
    Dyn,
    /// `null`.
    Null,
    /// `bool`.
    Bool,
    /// `int`.
    Int,
    /// `uint`.
    Uint,
    /// `double`.
    Double,
    /// `string`.
    String,
    /// `bytes`.
    Bytes,
    /// A list of elements of one type.
    List(Box<Type>),
    /// A map from keys of one type to values of another.
    Map(Box<Type>, Box<Type>),
    /// A map whose keys are known (`deployment`, `params`, `variables`): selecting another
    /// field is a mistake.
    Record(Arc<BTreeMap<String, Type>>),
    /// A type value (`int`, `map`, `type(x)`).
    Type,
    /// An optional value (`optional.of(x)`).
    Optional,
    /// A parameter that accepts any of these (`string|null`).
    OneOf(Vec<Type>),
}

impl Type {
    /// A list of `element`s.
    pub fn list(element: Type) -> Type {
        Type::List(Box::new(element))
    }

    /// A map from `key`s to `value`s.
    pub fn map(key: Type, value: Type) -> Type {
        Type::Map(Box::new(key), Box::new(value))
    }

    /// A record with these fields.
    pub fn record<'a>(fields: impl IntoIterator<Item = (&'a str, Type)>) -> Type {
        Type::Record(Arc::new(fields.into_iter().map(|(k, v)| (k.to_owned(), v)).collect()))
    }

    /// Whether a value of type `arg` may be passed where `self` is expected: `dyn` on either
    /// side may be anything, so only a mismatch of two known types is refused.
    pub fn accepts(&self, arg: &Type) -> bool {
        match (self, arg) {
            (Type::Dyn, _) | (_, Type::Dyn) => true,
            (Type::OneOf(options), _) => options.iter().any(|o| o.accepts(arg)),
            (_, Type::OneOf(options)) => options.iter().any(|o| self.accepts(o)),
            (Type::List(a), Type::List(b)) => a.accepts(b),
            (Type::Map(k, v), Type::Map(ak, av)) => k.accepts(ak) && v.accepts(av),
            (Type::Map(k, _), Type::Record(_)) => k.accepts(&Type::String),
            (Type::Record(_), Type::Map(..) | Type::Record(_)) => true,
            _ => std::mem::discriminant(self) == std::mem::discriminant(arg),
        }
    }

    /// The type of a value that is either `self` or `other` (the branches of `?:`, the
    /// elements of a list literal).
    pub fn join(&self, other: &Type) -> Type {
        match (self, other) {
            _ if self == other => self.clone(),
            (Type::List(a), Type::List(b)) => Type::list(a.join(b)),
            (Type::Map(k, v), Type::Map(ok, ov)) => Type::map(k.join(ok), v.join(ov)),
            _ => Type::Dyn,
        }
    }

    /// The type of the elements a comprehension over a value of this type iterates: a list's
    /// elements, a map's keys; `None` when it cannot be iterated.
    pub fn iterated(&self) -> Option<Type> {
        match self {
            Type::List(element) => Some((**element).clone()),
            Type::Map(key, _) => Some((**key).clone()),
            Type::Record(_) => Some(Type::String),
            Type::Dyn | Type::OneOf(_) => Some(Type::Dyn),
            _ => None,
        }
    }

    /// Whether a value of this type is known not to be a map or a list (so selecting a field
    /// of it, or indexing it, cannot work).
    pub fn is_scalar(&self) -> bool {
        matches!(
            self,
            Type::Null
                | Type::Bool
                | Type::Int
                | Type::Uint
                | Type::Double
                | Type::String
                | Type::Bytes
                | Type::Type
                | Type::Optional
        )
    }
}

impl fmt::Display for Type {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Type::Dyn => f.write_str("dyn"),
            Type::Null => f.write_str("null"),
            Type::Bool => f.write_str("bool"),
            Type::Int => f.write_str("int"),
            Type::Uint => f.write_str("uint"),
            Type::Double => f.write_str("double"),
            Type::String => f.write_str("string"),
            Type::Bytes => f.write_str("bytes"),
            Type::List(element) if **element == Type::Dyn => f.write_str("list"),
            Type::List(element) => write!(f, "list({element})"),
            Type::Map(key, value) if **key == Type::Dyn && **value == Type::Dyn => f.write_str("map"),
            Type::Map(key, value) => write!(f, "map({key}, {value})"),
            Type::Record(_) => f.write_str("map"),
            Type::Type => f.write_str("type"),
            Type::Optional => f.write_str("optional"),
            Type::OneOf(options) => {
                let names: Vec<String> = options.iter().map(Type::to_string).collect();
                f.write_str(&names.join("|"))
            }
        }
    }
}

/// One way to call a function: its receiver (for `x.f()`), parameters and result.
#[derive(Clone, Debug, PartialEq)]
pub struct Overload {
    /// The receiver's type, for a method (`string` in `string.startsWith(string) -> bool`).
    pub receiver: Option<Type>,
    /// The parameters' names (may be empty) and types.
    pub params: Vec<(String, Type)>,
    /// What a call returns.
    pub result: Type,
}

impl Overload {
    /// The overload as written in a declaration, without its result.
    pub fn call(&self, name: &str) -> String {
        let params: Vec<String> = self.params.iter().map(|(_, t)| t.to_string()).collect();
        match &self.receiver {
            Some(receiver) => format!("{receiver}.{name}({})", params.join(", ")),
            None => format!("{name}({})", params.join(", ")),
        }
    }
}

/// A function and its overloads.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Function {
    /// Global overloads: `f(x)`.
    pub global: Vec<Overload>,
    /// Method overloads: `x.f()`.
    pub member: Vec<Overload>,
}

/// A signature that does not parse, with the text it was found in.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("invalid function signature `{signature}`: {reason}")]
pub struct SignatureError {
    /// The signature.
    pub signature: String,
    /// What is wrong with it.
    pub reason: String,
}

/// The variables and functions an expression may use.
#[derive(Clone, Debug, Default)]
pub struct Environment {
    variables: BTreeMap<String, Type>,
    functions: Arc<BTreeMap<String, Function>>,
}

impl Environment {
    /// Nothing declared.
    pub fn empty() -> Environment {
        Environment::default()
    }

    /// CEL's standard library, the strings, lists and math extensions celador enables, and
    /// celador's own functions (`docs/cel-functions.md`); no variables.
    pub fn standard() -> Environment {
        static STANDARD: OnceLock<Environment> = OnceLock::new();
        STANDARD
            .get_or_init(|| {
                let mut env = Environment::empty();
                for signature in STANDARD_GLOBAL {
                    env.declare_global(signature).unwrap_or_else(|e| unreachable!("{e}"));
                }
                for signature in STANDARD_MEMBER {
                    env.declare_member(signature).unwrap_or_else(|e| unreachable!("{e}"));
                }
                for signature in CELADOR_FUNCTIONS {
                    env.declare_either(signature).unwrap_or_else(|e| unreachable!("{e}"));
                }
                env
            })
            .clone()
    }

    /// The variables of a document-scope rule (`doc`, `kind`, `file`, `components`,
    /// `resources`, `oldDoc`), on the standard functions. The admission webhook binds the
    /// same ones (`oldDoc` is its `oldObject` on UPDATE, `null` elsewhere).
    pub fn document() -> Environment {
        let mut env = Environment::standard();
        env.declare_variable("doc", Type::Dyn);
        env.declare_variable("kind", Type::String);
        env.declare_variable("file", Type::String);
        env.declare_variable("components", Type::list(Type::Dyn));
        env.declare_variable("resources", Type::list(Type::Dyn));
        env.declare_variable("oldDoc", Type::Dyn);
        env
    }

    /// The variables of a deployment-scope rule (`components`, `resources`, `docs`,
    /// `documents`, `k8s`, `deployment`), on the standard functions. The admission webhook
    /// judges each object as a deployment of one with the same variables.
    pub fn deployment() -> Environment {
        let mut env = Environment::standard();
        env.declare_variable("components", Type::list(Type::Dyn));
        env.declare_variable("resources", Type::list(Type::Dyn));
        env.declare_variable("docs", Type::list(Type::Dyn));
        env.declare_variable(
            "documents",
            Type::list(Type::record([("kind", Type::String), ("file", Type::String), ("doc", Type::Dyn)])),
        );
        env.declare_variable(
            "k8s",
            Type::record([
                ("objects", Type::list(Type::Dyn)),
                ("services", Type::list(Type::Dyn)),
                ("workloads", Type::list(Type::Dyn)),
            ]),
        );
        env.declare_variable("deployment", Type::record([("complete", Type::Bool)]));
        env
    }

    /// Declares (or redeclares) a variable.
    pub fn declare_variable(&mut self, name: &str, ty: Type) {
        self.variables.insert(name.to_owned(), ty);
    }

    /// The type of a declared variable.
    pub fn variable(&self, name: &str) -> Option<&Type> {
        self.variables.get(name)
    }

    /// The declared variables' names.
    pub fn variable_names(&self) -> impl Iterator<Item = &str> {
        self.variables.keys().map(String::as_str)
    }

    /// A declared function.
    pub fn function(&self, name: &str) -> Option<&Function> {
        self.functions.get(name)
    }

    /// Every declared function, by name.
    pub fn functions(&self) -> impl Iterator<Item = (&str, &Function)> {
        self.functions.iter().map(|(k, v)| (k.as_str(), v))
    }

    /// Declares a global overload: `name(type, …) -> type`; the name may be qualified
    /// (`lists.range(int) -> list(int)`) and parameters may be named (`hostOf(s: string)`).
    ///
    /// # Errors
    /// A signature that does not parse.
    pub fn declare_global(&mut self, signature: &str) -> Result<(), SignatureError> {
        let (name, overload) = parse_signature(signature, false)?;
        self.function_mut(&name).global.push(overload);
        Ok(())
    }

    /// Declares a method overload: `receiver.name(type, …) -> type`.
    ///
    /// # Errors
    /// A signature that does not parse.
    pub fn declare_member(&mut self, signature: &str) -> Result<(), SignatureError> {
        let (name, overload) = parse_signature(signature, true)?;
        self.function_mut(&name).member.push(overload);
        Ok(())
    }

    /// Declares a function callable both as `name(x, …)` and as `x.name(…)`, as every function
    /// added to a `cel::Context` is.
    ///
    /// # Errors
    /// A signature that does not parse, or one without parameters.
    pub fn declare_either(&mut self, signature: &str) -> Result<(), SignatureError> {
        let (name, overload) = parse_signature(signature, false)?;
        let Some(((_, receiver), rest)) = overload.params.split_first() else {
            return Err(SignatureError {
                signature: signature.to_owned(),
                reason: "a function callable as a method needs a parameter".to_owned(),
            });
        };
        let member =
            Overload { receiver: Some(receiver.clone()), params: rest.to_vec(), result: overload.result.clone() };
        let function = self.function_mut(&name);
        function.global.push(overload);
        function.member.push(member);
        Ok(())
    }

    fn function_mut(&mut self, name: &str) -> &mut Function {
        Arc::make_mut(&mut self.functions).entry(name.to_owned()).or_default()
    }
}

/// The type names an expression may use as values (`type(x) == map`).
pub const TYPE_NAMES: &[&str] =
    &["bool", "bytes", "double", "int", "uint", "string", "list", "map", "null_type", "type", "optional_type"];

/// CEL's standard global functions and those of the extensions celador enables (`strings`,
/// `lists`, `math`, `sets`), as `cel` 0.15 declares them (without its `chrono` feature: no
/// timestamps or durations). Operators are checked by [`super::typecheck`] itself.
const STANDARD_GLOBAL: &[&str] = &[
    "size(string) -> int",
    "size(bytes) -> int",
    "size(list) -> int",
    "size(map) -> int",
    "type(dyn) -> type",
    "dyn(dyn) -> dyn",
    "bool(bool|string) -> bool",
    "bytes(string|bytes) -> bytes",
    "double(double|int|uint|string) -> double",
    "int(int|uint|double|string) -> int",
    "uint(uint|int|double|string) -> uint",
    "string(string|bool|int|uint|double|bytes) -> string",
    "matches(string, string) -> bool",
    "optional.none() -> optional",
    "optional.of(dyn) -> optional",
    "optional.ofNonZeroValue(dyn) -> optional",
    "lists.range(int) -> list(int)",
    "strings.quote(string) -> string",
    "sets.contains(list, list) -> bool",
    "sets.equivalent(list, list) -> bool",
    "sets.intersects(list, list) -> bool",
    "math.ceil(double) -> double",
    "math.floor(double) -> double",
    "math.round(double) -> double",
    "math.trunc(double) -> double",
    "math.isInf(double) -> bool",
    "math.isNaN(double) -> bool",
    "math.isFinite(double) -> bool",
    "math.abs(double) -> double",
    "math.abs(int) -> int",
    "math.abs(uint) -> uint",
    "math.sign(double) -> double",
    "math.sign(int) -> int",
    "math.sign(uint) -> uint",
    "math.bitAnd(int|uint, int|uint) -> dyn",
    "math.bitOr(int|uint, int|uint) -> dyn",
    "math.bitXor(int|uint, int|uint) -> dyn",
    "math.bitNot(int) -> int",
    "math.bitNot(uint) -> uint",
    "math.bitShiftLeft(int|uint, int) -> dyn",
    "math.bitShiftRight(int|uint, int) -> dyn",
    "math.sqrt(double|int|uint) -> double",
    // What `math.greatest(…)` and `math.least(…)` expand to.
    "math.@max(int|uint|double|list) -> dyn",
    "math.@max(int|uint|double, int|uint|double) -> dyn",
    "math.@min(int|uint|double|list) -> dyn",
    "math.@min(int|uint|double, int|uint|double) -> dyn",
];

/// CEL's standard methods and those of the enabled extensions.
const STANDARD_MEMBER: &[&str] = &[
    "string.size() -> int",
    "bytes.size() -> int",
    "list.size() -> int",
    "map.size() -> int",
    "string.contains(string) -> bool",
    "string.startsWith(string) -> bool",
    "string.endsWith(string) -> bool",
    "string.matches(string) -> bool",
    "string.charAt(int) -> string",
    "string.indexOf(string) -> int",
    "string.indexOf(string, int) -> int",
    "string.lastIndexOf(string) -> int",
    "string.lastIndexOf(string, int) -> int",
    "string.lowerAscii() -> string",
    "string.upperAscii() -> string",
    "string.trim() -> string",
    "string.replace(string, string) -> string",
    "string.replace(string, string, int) -> string",
    "string.split(string) -> list(string)",
    "string.split(string, int) -> list(string)",
    "string.substring(int) -> string",
    "string.substring(int, int) -> string",
    "string.format(list) -> string",
    "string.reverse() -> string",
    "list.join() -> string",
    "list.join(string) -> string",
    "list.slice(int, int) -> list",
    "list.flatten() -> list",
    "list.flatten(int) -> list",
    "list.distinct() -> list",
    "list.reverse() -> list",
    "list.sort() -> list",
    // What `sortBy` expands to.
    "list.@sortByAssociatedKeys(list) -> list",
    "optional.value() -> dyn",
    "optional.hasValue() -> bool",
    "optional.or(optional) -> optional",
    "optional.orValue(dyn) -> dyn",
];

/// celador's functions (`crate::eval::functions`), each callable as a function or as a
/// method on its first argument. These exact signatures head the rows of
/// `docs/cel-functions.md` (a test compares them).
pub const CELADOR_FUNCTIONS: &[&str] = &[
    "bareKey(key: string) -> string",
    "isPem(s: string) -> bool",
    "isTruthy(v: dyn) -> bool",
    "looksLikePlaceholder(s: string|null) -> bool",
    "descendants(x: dyn) -> list",
    "one(x: dyn) -> dyn",
    "blocks(x: dyn) -> list",
    "blocks(x: dyn, keys: list(string)) -> list",
    "lookup(x: dyn, path: list) -> dyn",
    "lookup(x: dyn, path: string) -> dyn",
    "paths(x: dyn) -> list(list)",
    "paths(x: dyn, key: string) -> list(list)",
    "camelCase(s: string) -> string",
    "snakeCase(s: string) -> string",
    "cidrContains(cidr: string, ipOrCidr: string) -> bool",
    "isAnyAddress(cidr: string) -> bool",
    "isPrivateCidr(cidr: string) -> bool",
    "isPublicCidr(cidr: string) -> bool",
    "isCidr(s: dyn) -> bool",
    "cidrList(s: string) -> list(string)",
    "tlsAtLeast(version: string, minimum: string) -> bool",
    "isTlsVersion(s: dyn) -> bool",
    "hostOf(s: string) -> string",
    "portOf(s: string) -> int",
    "hasPort(s: string) -> bool",
    "urlScheme(s: string) -> string",
    "imageRepository(image: string) -> string",
    "imageTag(image: string) -> string",
    "imageDigest(image: string) -> string",
    "isPinnedImage(image: string) -> bool",
    "isSecretEnvelope(v: dyn) -> bool",
    "isEncryptedSecret(v: dyn) -> bool",
    "isPlaintextSecret(v: dyn) -> bool",
    "isSecretRef(s: string) -> bool",
];

/// Parses `name(params) -> result`, or `receiver.name(params) -> result` for a method.
fn parse_signature(signature: &str, member: bool) -> Result<(String, Overload), SignatureError> {
    let fail = |reason: &str| SignatureError { signature: signature.to_owned(), reason: reason.to_owned() };
    let (call, result) = signature.split_once("->").ok_or_else(|| fail("no `-> result`"))?;
    let call = call.trim();
    let open = call.find('(').ok_or_else(|| fail("no `(`"))?;
    let params = call[open + 1..].strip_suffix(')').ok_or_else(|| fail("no closing `)`"))?;
    let head = &call[..open];
    let (receiver, name) = if member {
        let (receiver, name) = head.rsplit_once('.').ok_or_else(|| fail("a method needs `receiver.name`"))?;
        (Some(parse_type(receiver).map_err(|r| fail(&r))?), name)
    } else {
        (None, head)
    };
    let mut parsed = Vec::new();
    for param in split_top_level(params, ',') {
        let param = param.trim();
        if param.is_empty() {
            continue;
        }
        let (name, ty) = match param.split_once(':') {
            Some((name, ty)) => (name.trim().to_owned(), ty),
            None => (String::new(), param),
        };
        parsed.push((name, parse_type(ty).map_err(|r| fail(&r))?));
    }
    let result = parse_type(result).map_err(|r| fail(&r))?;
    Ok((name.trim().to_owned(), Overload { receiver, params: parsed, result }))
}

/// Splits at `separator`s outside parentheses.
fn split_top_level(text: &str, separator: char) -> Vec<&str> {
    let mut parts = Vec::new();
    let mut depth = 0usize;
    let mut start = 0;
    for (i, c) in text.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => depth = depth.saturating_sub(1),
            c if c == separator && depth == 0 => {
                parts.push(&text[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&text[start..]);
    parts
}

/// Parses `string`, `list(string)`, `map(string, dyn)`, `string|null`.
fn parse_type(text: &str) -> Result<Type, String> {
    let text = text.trim();
    let options = split_top_level(text, '|');
    if options.len() > 1 {
        return options.into_iter().map(parse_type).collect::<Result<Vec<_>, _>>().map(Type::OneOf);
    }
    let (name, args) = match text.split_once('(') {
        Some((name, rest)) => {
            let args = rest.strip_suffix(')').ok_or_else(|| format!("no closing `)` in `{text}`"))?;
            (name.trim(), split_top_level(args, ',').into_iter().map(parse_type).collect::<Result<Vec<_>, _>>()?)
        }
        None => (text, Vec::new()),
    };
    let mut args = args.into_iter();
    let ty = match name {
        "dyn" => Type::Dyn,
        "null" => Type::Null,
        "bool" => Type::Bool,
        "int" => Type::Int,
        "uint" => Type::Uint,
        "double" => Type::Double,
        "string" => Type::String,
        "bytes" => Type::Bytes,
        "type" => Type::Type,
        "optional" => Type::Optional,
        "list" => Type::list(args.next().unwrap_or(Type::Dyn)),
        "map" => {
            let key = args.next().unwrap_or(Type::Dyn);
            Type::map(key, args.next().unwrap_or(Type::Dyn))
        }
        other => return Err(format!("unknown type `{other}`")),
    };
    if args.next().is_some() {
        return Err(format!("too many type arguments in `{text}`"));
    }
    Ok(ty)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_parse() {
        let (name, overload) = parse_signature("string.split(string, int) -> list(string)", true).unwrap();
        assert_eq!(name, "split");
        assert_eq!(overload.receiver, Some(Type::String));
        assert_eq!(overload.params.len(), 2);
        assert_eq!(overload.result, Type::list(Type::String));
        let (name, overload) = parse_signature("lists.range(int) -> list(int)", false).unwrap();
        assert_eq!(name, "lists.range");
        assert_eq!(overload.call(&name), "lists.range(int)");
        let (_, overload) = parse_signature("looksLikePlaceholder(s: string|null) -> bool", false).unwrap();
        assert_eq!(overload.params[0], ("s".to_owned(), Type::OneOf(vec![Type::String, Type::Null])));
        assert!(parse_signature("f(strin) -> bool", false).is_err());
        assert!(parse_signature("f(string)", false).is_err());
    }

    #[test]
    fn the_standard_environment_declares_every_signature() {
        let env = Environment::standard();
        assert_eq!(env.function("size").map(|f| (f.global.len(), f.member.len())), Some((4, 4)));
        let host_of = env.function("hostOf").unwrap();
        assert_eq!(host_of.member[0].receiver, Some(Type::String));
        assert!(host_of.member[0].params.is_empty());
    }

    #[test]
    fn dyn_is_accepted_and_known_types_must_match() {
        assert!(Type::String.accepts(&Type::Dyn));
        assert!(Type::Dyn.accepts(&Type::Int));
        assert!(!Type::String.accepts(&Type::Int));
        assert!(Type::list(Type::Dyn).accepts(&Type::list(Type::String)));
        assert!(!Type::list(Type::Dyn).accepts(&Type::Bool));
        assert!(Type::map(Type::Dyn, Type::Dyn).accepts(&Type::record([("a", Type::Int)])));
        assert!(Type::OneOf(vec![Type::String, Type::Null]).accepts(&Type::Null));
        assert_eq!(Type::Int.join(&Type::String), Type::Dyn);
        assert_eq!(Type::list(Type::Int).join(&Type::list(Type::Int)), Type::list(Type::Int));
    }
}
