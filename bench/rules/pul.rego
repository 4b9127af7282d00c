# The benchmark's three fair-comparison rules, PUL001-PUL003, in Rego (v1) for regorus or OPA:
# the same definitions as bench/rules/pul.toml, bench/gen_corpus.py and bench/README.md.
#
# Input: every document of a corpus, as bench/floor's `rego-input` writes it,
#
#   {"documents": [{"file": "kubernetes/dev/core/000/00000-x.yaml", "index": 0, "doc": {...}}, ...]}
#
# and nothing about what kind each document is: the policy picks the Kubernetes workloads
# itself. `data.pul.findings` holds the findings (rule, file, document index, container),
# `data.pul.counts` how many per rule; bench/run.py compares those with celador and with the
# ground truth in CORPUS.expected.json.
#
#   regorus eval -d bench/rules/pul.rego -i input.json data.pul.counts

package pul

# Where each workload kind keeps its pod spec.
pod_spec(doc) := doc.spec if doc.kind == "Pod"

pod_spec(doc) := doc.spec.template.spec if doc.kind in {"Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job"}

pod_spec(doc) := doc.spec.jobTemplate.spec.template.spec if doc.kind == "CronJob"

# An image's repository: without the digest, and without the tag (a `:` after the last `/`;
# one before it is a registry port).
repository(image) := repo if {
	base := split(image, "@")[0]
	parts := split(base, "/")
	n := count(parts)
	name := split(parts[n - 1], ":")[0]
	repo := concat("/", array.concat(array.slice(parts, 0, n - 1), [name]))
}

is_api_image(image) if repository(image) == "pulumi/service"

is_api_image(image) if endswith(repository(image), "/pulumi/service")

# API containers, keyed by [file, document index, container index] (initContainers first).
api_containers[[d.file, d.index, i]] := c if {
	some d in input.documents
	is_string(d.doc.apiVersion)
	spec := pod_spec(d.doc)
	is_object(spec)
	containers := array.concat(object.get(spec, "initContainers", []), object.get(spec, "containers", []))
	some i, c in containers
	is_string(c.image)
	is_api_image(c.image)
}

# A variable is set when `env` has an entry of that name with a non-empty `value` or with a
# `valueFrom`; `envFrom` is not looked into.
env_set(c, name) if {
	some e in c.env
	e.name == name
	is_set(e)
}

is_set(e) if "valueFrom" in object.keys(e)

is_set(e) if {
	is_string(e.value)
	e.value != ""
}

# A literal value: an entry with a `value` and no `valueFrom`.
literal(c, name) := e.value if {
	some e in c.env
	e.name == name
	not "valueFrom" in object.keys(e)
	is_string(e.value)
}

# PUL001: an API container does not set both API_TLS_CERTIFICATE and API_TLS_PRIVATE_KEY.
findings contains ["PUL001", key] if {
	some key, c in api_containers
	not tls_pair(c)
}

tls_pair(c) if {
	env_set(c, "API_TLS_CERTIFICATE")
	env_set(c, "API_TLS_PRIVATE_KEY")
}

# PUL002: an API container sets DATABASE_CA_CERTIFICATE but not DATABASE_MIN_TLS_VERSION.
findings contains ["PUL002", key] if {
	some key, c in api_containers
	env_set(c, "DATABASE_CA_CERTIFICATE")
	not env_set(c, "DATABASE_MIN_TLS_VERSION")
}

# PUL003: an API container gives API_MIN_TLS_VERSION or DATABASE_MIN_TLS_VERSION a non-empty
# literal value other than 1.2 and 1.3 (a set: one finding per container).
findings contains ["PUL003", key] if {
	some key, c in api_containers
	some name in ["API_MIN_TLS_VERSION", "DATABASE_MIN_TLS_VERSION"]
	v := literal(c, name)
	v != ""
	not v in {"1.2", "1.3"}
}

counts := {rule: n |
	some rule in ["PUL001", "PUL002", "PUL003"]
	n := count([key | some f in findings; f[0] == rule; key := f[1]])
}
