//! The `admissionregistration.k8s.io` objects a pack holds, read strictly from located trees:
//! an unknown field, a value of the wrong type or an unknown enum value is a located problem,
//! as the API server's strict decoding would refuse it.

use crate::diagnostic::Problem;
use crate::source::Span;
use crate::suggest::hint;
use crate::tree::{Node, Value};

/// A ValidatingAdmissionPolicy.
#[derive(Clone, Debug)]
pub struct Policy {
    /// `metadata.name`.
    pub name: String,
    /// Where the name is.
    pub name_span: Span,
    /// `spec.paramKind`: `(apiVersion, kind)`.
    pub param_kind: Option<(String, String)>,
    /// Where `paramKind` is.
    pub param_kind_span: Option<Span>,
    /// `spec.matchConstraints`.
    pub match_constraints: Option<MatchResources>,
    /// `spec.matchConditions`.
    pub match_conditions: Vec<Named>,
    /// `spec.variables`.
    pub variables: Vec<Named>,
    /// `spec.validations`.
    pub validations: Vec<Validation>,
    /// `spec.failurePolicy` is `Ignore`.
    pub ignore_failures: bool,
    /// `spec.auditAnnotations`, when present: ignored.
    pub audit_annotations: Option<Span>,
}

/// A named expression: a variable or a match condition.
#[derive(Clone, Debug)]
pub struct Named {
    /// `name`.
    pub name: String,
    /// The `expression` scalar.
    pub expression: Node,
}

/// One of `spec.validations`.
#[derive(Clone, Debug)]
pub struct Validation {
    /// The `expression` scalar.
    pub expression: Node,
    /// `message`.
    pub message: Option<String>,
    /// The `messageExpression` scalar.
    pub message_expression: Option<Node>,
    /// `reason`.
    pub reason: Option<String>,
}

/// A ValidatingAdmissionPolicyBinding.
#[derive(Clone, Debug)]
pub struct Binding {
    /// `metadata.name`.
    pub name: String,
    /// Where the name is.
    pub name_span: Span,
    /// `spec.policyName`, and where it is.
    pub policy_name: (String, Span),
    /// `spec.paramRef`.
    pub param_ref: Option<ParamRef>,
    /// Where `paramRef` is.
    pub param_ref_span: Option<Span>,
    /// `spec.matchResources`.
    pub match_resources: Option<MatchResources>,
    /// `spec.validationActions`.
    pub actions: Actions,
}

/// What a binding does with a failed validation.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Actions {
    /// `Deny`: the request is refused.
    pub deny: bool,
    /// `Warn`: the requester is warned.
    pub warn: bool,
    /// `Audit`: the failure is recorded in the audit log.
    pub audit: bool,
}

/// `spec.paramRef` of a binding.
#[derive(Clone, Debug, Default)]
pub struct ParamRef {
    /// `name`.
    pub name: Option<String>,
    /// `namespace`.
    pub namespace: Option<String>,
    /// `selector`.
    pub selector: Option<LabelSelector>,
    /// `parameterNotFoundAction` is `Allow` (the default is `Deny`).
    pub allow_missing: bool,
}

/// `matchConstraints` of a policy, `matchResources` of a binding.
#[derive(Clone, Debug, Default)]
pub struct MatchResources {
    /// `namespaceSelector`.
    pub namespace_selector: Option<LabelSelector>,
    /// `objectSelector`.
    pub object_selector: Option<LabelSelector>,
    /// `resourceRules`.
    pub resource_rules: Vec<ResourceRule>,
    /// `excludeResourceRules`.
    pub exclude_resource_rules: Vec<ResourceRule>,
}

/// A `NamedRuleWithOperations`.
#[derive(Clone, Debug, Default)]
pub struct ResourceRule {
    /// `apiGroups`.
    pub api_groups: Vec<String>,
    /// `apiVersions`.
    pub api_versions: Vec<String>,
    /// `resources`.
    pub resources: Vec<String>,
    /// `operations`.
    pub operations: Vec<String>,
    /// `scope`: `Cluster`, `Namespaced` or `*` (the default).
    pub scope: Option<String>,
    /// `resourceNames`.
    pub resource_names: Vec<String>,
}

/// A label selector.
#[derive(Clone, Debug, Default)]
pub struct LabelSelector {
    /// `matchLabels`.
    pub match_labels: Vec<(String, String)>,
    /// `matchExpressions`: key, operator, values.
    pub match_expressions: Vec<(String, String, Vec<String>)>,
}

/// Reads fields strictly, collecting problems.
pub(super) struct Reader<'p> {
    pub problems: &'p mut Vec<Problem>,
}

impl Reader<'_> {
    fn problem(&mut self, span: Span, message: impl Into<String>) {
        self.problems.push(Problem::at(span, message));
    }

    /// The entries of a mapping whose keys are all in `allowed`; each other key is a problem.
    fn fields<'n>(&mut self, node: &'n Node, allowed: &[&str], what: &str) -> Vec<(&'n str, &'n Node)> {
        let Value::Map(entries) = &node.value else {
            if node.value != Value::Null {
                self.problem(node.span, format!("{what} must be a mapping, not {}", node.type_name()));
            }
            return Vec::new();
        };
        let mut out = Vec::new();
        for entry in entries.iter() {
            if allowed.contains(&&*entry.key) {
                out.push((&*entry.key, &entry.value));
            } else {
                let at = entry.value.key_span.unwrap_or(entry.value.span);
                self.problem(
                    at,
                    format!(
                        "unknown field `{}` in {what} (expected one of {}){}",
                        entry.key,
                        allowed.join(", "),
                        hint(&entry.key, allowed.iter().copied())
                    ),
                );
            }
        }
        out
    }

    fn string(&mut self, node: &Node, what: &str) -> Option<String> {
        match &node.value {
            Value::String(s) => Some(s.to_string()),
            _ => {
                self.problem(node.span, format!("{what} must be a string, not {}", node.type_name()));
                None
            }
        }
    }

    /// A string scalar, kept as its node (expressions, whose positions matter).
    fn expression(&mut self, node: &Node, what: &str) -> Option<Node> {
        match &node.value {
            Value::String(s) if !s.trim().is_empty() => Some(node.clone()),
            Value::String(_) => {
                self.problem(node.span, format!("{what} is empty"));
                None
            }
            _ => {
                self.problem(
                    node.span,
                    format!("{what} must be a CEL expression (a string), not {}", node.type_name()),
                );
                None
            }
        }
    }

    fn strings(&mut self, node: &Node, what: &str) -> Vec<String> {
        match &node.value {
            Value::List(items) => items.iter().filter_map(|item| self.string(item, what)).collect(),
            Value::Null => Vec::new(),
            _ => {
                self.problem(node.span, format!("{what} must be a list of strings, not {}", node.type_name()));
                Vec::new()
            }
        }
    }

    fn items<'n>(&mut self, node: &'n Node, what: &str) -> &'n [Node] {
        match &node.value {
            Value::List(items) => items,
            Value::Null => &[],
            _ => {
                self.problem(node.span, format!("{what} must be a list, not {}", node.type_name()));
                &[]
            }
        }
    }

    fn one_of(&mut self, node: &Node, what: &str, allowed: &[&str]) -> Option<String> {
        let value = self.string(node, what)?;
        if allowed.contains(&value.as_str()) {
            return Some(value);
        }
        self.problem(
            node.span,
            format!(
                "unknown {what} `{value}` (expected one of {}){}",
                allowed.join(", "),
                hint(&value, allowed.iter().copied())
            ),
        );
        None
    }

    /// The `metadata.name` of an object.
    pub(super) fn name(&mut self, root: &Node, what: &str) -> Option<(String, Span)> {
        match root.path(&["metadata", "name"]) {
            Some(node) => self.string(node, "metadata.name").map(|n| (n, node.span)),
            None => {
                let at = root.get("metadata").map_or_else(|| root.anchor_span(), Node::anchor_span);
                self.problem(at, format!("{what} has no metadata.name"));
                None
            }
        }
    }

    /// The top level of an object: `apiVersion`, `kind`, `metadata`, `spec` (required), `status`.
    fn spec<'n>(&mut self, root: &'n Node, what: &str) -> Option<&'n Node> {
        self.fields(root, &["apiVersion", "kind", "metadata", "spec", "status"], what);
        let spec = root.get("spec");
        if spec.is_none() {
            self.problem(first_key(root), format!("{what} has no spec"));
        }
        spec
    }

    /// Reads a ValidatingAdmissionPolicy.
    pub(super) fn policy(&mut self, root: &Node) -> Option<Policy> {
        let name = self.name(root, "ValidatingAdmissionPolicy");
        let spec = self.spec(root, "ValidatingAdmissionPolicy")?;
        let (name, name_span) = name?;
        let mut policy = Policy {
            name,
            name_span,
            param_kind: None,
            param_kind_span: None,
            match_constraints: None,
            match_conditions: Vec::new(),
            variables: Vec::new(),
            validations: Vec::new(),
            ignore_failures: false,
            audit_annotations: None,
        };
        let allowed = [
            "paramKind",
            "matchConstraints",
            "validations",
            "failurePolicy",
            "auditAnnotations",
            "matchConditions",
            "variables",
        ];
        for (key, value) in self.fields(spec, &allowed, "ValidatingAdmissionPolicy spec") {
            match key {
                "paramKind" => {
                    let mut api_version = None;
                    let mut kind = None;
                    for (k, v) in self.fields(value, &["apiVersion", "kind"], "paramKind") {
                        match k {
                            "apiVersion" => api_version = self.string(v, "paramKind.apiVersion"),
                            _ => kind = self.string(v, "paramKind.kind"),
                        }
                    }
                    let at = value.key_span.unwrap_or(value.span);
                    match (api_version, kind) {
                        (Some(a), Some(k)) => policy.param_kind = Some((a, k)),
                        _ => self.problem(at, "paramKind needs apiVersion and kind"),
                    }
                    policy.param_kind_span = Some(at);
                }
                "matchConstraints" => policy.match_constraints = Some(self.match_resources(value, "matchConstraints")),
                "validations" => {
                    for item in self.items(value, "validations") {
                        if let Some(v) = self.validation(item) {
                            policy.validations.push(v);
                        }
                    }
                }
                "failurePolicy" => {
                    policy.ignore_failures =
                        self.one_of(value, "failurePolicy", &["Fail", "Ignore"]).is_some_and(|f| f == "Ignore");
                }
                "auditAnnotations" => policy.audit_annotations = Some(value.key_span.unwrap_or(value.span)),
                "matchConditions" => policy.match_conditions = self.named(value, "matchConditions"),
                _ => policy.variables = self.named(value, "variables"),
            }
        }
        if policy.validations.is_empty() && policy.audit_annotations.is_none() {
            self.problem(first_key(spec), format!("ValidatingAdmissionPolicy `{}` has no validations", policy.name));
        }
        Some(policy)
    }

    fn validation(&mut self, item: &Node) -> Option<Validation> {
        let mut expression = None;
        let mut validation =
            Validation { expression: item.clone(), message: None, message_expression: None, reason: None };
        for (key, value) in self.fields(item, &["expression", "message", "messageExpression", "reason"], "a validation")
        {
            match key {
                "expression" => expression = self.expression(value, "expression"),
                "message" => validation.message = self.string(value, "message"),
                "messageExpression" => validation.message_expression = self.expression(value, "messageExpression"),
                _ => {
                    validation.reason = self.one_of(
                        value,
                        "reason",
                        &["Unauthorized", "Forbidden", "Invalid", "RequestEntityTooLarge"],
                    );
                }
            }
        }
        match expression {
            Some(e) => {
                validation.expression = e;
                Some(validation)
            }
            None => {
                if item.get("expression").is_none() {
                    self.problem(item.anchor_span(), "a validation needs an `expression`");
                }
                None
            }
        }
    }

    fn named(&mut self, node: &Node, what: &str) -> Vec<Named> {
        let mut out: Vec<Named> = Vec::new();
        for item in self.items(node, what) {
            let mut name = None;
            let mut expression = None;
            for (key, value) in self.fields(item, &["name", "expression"], what) {
                match key {
                    "name" => name = self.string(value, "name").map(|n| (n, value.span)),
                    _ => expression = self.expression(value, "expression"),
                }
            }
            match (name, expression) {
                (Some((name, name_span)), Some(expression)) => {
                    if out.iter().any(|n| n.name == name) {
                        self.problem(name_span, format!("`{name}` is defined twice in {what}"));
                    }
                    let valid = name.chars().next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
                        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
                    if what == "variables" && !valid {
                        self.problem(name_span, format!("invalid variable name `{name}` (a CEL identifier)"));
                    }
                    out.push(Named { name, expression });
                }
                (None, _) if item.get("name").is_none() => {
                    self.problem(item.anchor_span(), format!("an entry of {what} needs a `name`"));
                }
                (_, None) if item.get("expression").is_none() => {
                    self.problem(item.anchor_span(), format!("an entry of {what} needs an `expression`"));
                }
                _ => {}
            }
        }
        out
    }

    fn match_resources(&mut self, node: &Node, what: &str) -> MatchResources {
        let mut out = MatchResources::default();
        let allowed = ["namespaceSelector", "objectSelector", "resourceRules", "excludeResourceRules", "matchPolicy"];
        for (key, value) in self.fields(node, &allowed, what) {
            match key {
                "namespaceSelector" => out.namespace_selector = Some(self.selector(value, "namespaceSelector")),
                "objectSelector" => out.object_selector = Some(self.selector(value, "objectSelector")),
                "resourceRules" => out.resource_rules = self.rules(value, "resourceRules"),
                "excludeResourceRules" => out.exclude_resource_rules = self.rules(value, "excludeResourceRules"),
                _ => {
                    self.one_of(value, "matchPolicy", &["Exact", "Equivalent"]);
                }
            }
        }
        out
    }

    fn rules(&mut self, node: &Node, what: &str) -> Vec<ResourceRule> {
        let mut out = Vec::new();
        let allowed = ["apiGroups", "apiVersions", "resources", "operations", "scope", "resourceNames"];
        for item in self.items(node, what) {
            let mut rule = ResourceRule::default();
            for (key, value) in self.fields(item, &allowed, what) {
                match key {
                    "apiGroups" => rule.api_groups = self.strings(value, "apiGroups"),
                    "apiVersions" => rule.api_versions = self.strings(value, "apiVersions"),
                    "resources" => rule.resources = self.strings(value, "resources"),
                    "operations" => {
                        rule.operations = self.strings(value, "operations");
                        for (op, at) in rule.operations.iter().zip(value.as_list().unwrap_or_default()) {
                            let known = ["CREATE", "UPDATE", "DELETE", "CONNECT", "*"];
                            if !known.contains(&op.as_str()) {
                                self.problem(
                                    at.span,
                                    format!("unknown operation `{op}` (expected one of {})", known.join(", ")),
                                );
                            }
                        }
                    }
                    "scope" => rule.scope = self.one_of(value, "scope", &["Cluster", "Namespaced", "*"]),
                    _ => rule.resource_names = self.strings(value, "resourceNames"),
                }
            }
            out.push(rule);
        }
        out
    }

    pub(super) fn selector(&mut self, node: &Node, what: &str) -> LabelSelector {
        let mut out = LabelSelector::default();
        for (key, value) in self.fields(node, &["matchLabels", "matchExpressions"], what) {
            if key == "matchLabels" {
                for (k, v) in value.as_map().unwrap_or_default().iter().map(|e| (&e.key, &e.value)) {
                    let text = v.scalar_text().unwrap_or_default();
                    out.match_labels.push((k.to_string(), text));
                }
                continue;
            }
            for item in self.items(value, "matchExpressions") {
                let mut requirement = (String::new(), String::new(), Vec::new());
                for (k, v) in self.fields(item, &["key", "operator", "values"], "a label selector requirement") {
                    match k {
                        "key" => requirement.0 = self.string(v, "key").unwrap_or_default(),
                        "operator" => {
                            requirement.1 = self
                                .one_of(v, "operator", &["In", "NotIn", "Exists", "DoesNotExist"])
                                .unwrap_or_default();
                        }
                        _ => requirement.2 = self.strings(v, "values"),
                    }
                }
                out.match_expressions.push(requirement);
            }
        }
        out
    }

    /// Reads a ValidatingAdmissionPolicyBinding.
    pub(super) fn binding(&mut self, root: &Node) -> Option<Binding> {
        let name = self.name(root, "ValidatingAdmissionPolicyBinding");
        let spec = self.spec(root, "ValidatingAdmissionPolicyBinding")?;
        let (name, name_span) = name?;
        let mut policy_name = None;
        let mut binding = Binding {
            name,
            name_span,
            policy_name: (String::new(), name_span),
            param_ref: None,
            param_ref_span: None,
            match_resources: None,
            actions: Actions::default(),
        };
        let allowed = ["policyName", "paramRef", "matchResources", "validationActions"];
        let mut actions_span = None;
        for (key, value) in self.fields(spec, &allowed, "ValidatingAdmissionPolicyBinding spec") {
            match key {
                "policyName" => policy_name = self.string(value, "policyName").map(|p| (p, value.span)),
                "paramRef" => {
                    binding.param_ref_span = Some(value.key_span.unwrap_or(value.span));
                    binding.param_ref = Some(self.param_ref(value));
                }
                "matchResources" => binding.match_resources = Some(self.match_resources(value, "matchResources")),
                _ => {
                    actions_span = Some(value.key_span.unwrap_or(value.span));
                    for item in self.items(value, "validationActions") {
                        match self.one_of(item, "validation action", &["Deny", "Warn", "Audit"]).as_deref() {
                            Some("Deny") => binding.actions.deny = true,
                            Some("Warn") => binding.actions.warn = true,
                            Some(_) => binding.actions.audit = true,
                            None => {}
                        }
                    }
                }
            }
        }
        match policy_name {
            Some(p) => binding.policy_name = p,
            None => {
                if spec.get("policyName").is_none() {
                    self.problem(first_key(spec), "a ValidatingAdmissionPolicyBinding needs a policyName");
                }
                return None;
            }
        }
        if binding.actions == Actions::default() {
            let at = actions_span.unwrap_or_else(|| first_key(spec));
            self.problem(at, "validationActions must name at least one of Deny, Warn, Audit");
        }
        if binding.actions.deny && binding.actions.warn {
            let at = actions_span.unwrap_or_else(|| first_key(spec));
            self.problem(at, "validationActions cannot hold both Deny and Warn");
        }
        Some(binding)
    }

    fn param_ref(&mut self, node: &Node) -> ParamRef {
        let mut out = ParamRef::default();
        let allowed = ["name", "namespace", "selector", "parameterNotFoundAction"];
        for (key, value) in self.fields(node, &allowed, "paramRef") {
            match key {
                "name" => out.name = self.string(value, "paramRef.name"),
                "namespace" => out.namespace = self.string(value, "paramRef.namespace"),
                "selector" => out.selector = Some(self.selector(value, "paramRef.selector")),
                _ => {
                    out.allow_missing =
                        self.one_of(value, "parameterNotFoundAction", &["Allow", "Deny"]).is_some_and(|a| a == "Allow");
                }
            }
        }
        if out.name.is_some() == out.selector.is_some() {
            self.problem(node.key_span.unwrap_or(node.span), "paramRef needs exactly one of name and selector");
        }
        out
    }
}

/// The first key of a mapping, else the node.
pub(super) fn first_key(node: &Node) -> Span {
    node.as_map()
        .and_then(<[crate::tree::Entry]>::first)
        .map_or_else(|| node.anchor_span(), |e| e.value.key_span.unwrap_or(e.value.span))
}
