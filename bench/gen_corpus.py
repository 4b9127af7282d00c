#!/usr/bin/env python3
"""Generates celador's benchmark corpus: a deterministic tree of deployment configuration.

    bench/gen_corpus.py OUT --size small|medium|large    100 / 2,000 / 20,000 files
    bench/gen_corpus.py OUT --files N                    any number of files
    bench/gen_corpus.py OUT --huge [--huge-mib 50]       one ~50 MiB multi-document manifest

The tree holds every input kind celador reads (see bench/README.md): Kubernetes manifests,
Helm values, compose files with their env files, standalone .env files, Pulumi project and
stack configuration, Pulumi state, Terraform state and plans. The same arguments and --seed
give byte-identical output on any machine (Python 3.8+, standard library only).

Ground truth is written beside the tree, to OUT.expected.json (outside OUT, so a scan of OUT
does not read it): how many findings each of the three fair-comparison rules must report.
The rules are defined on Kubernetes workloads only; bench/rules/pul.toml implements them.

  An *API container* is an entry of `containers` or `initContainers` in the pod spec of a
  Pod, Deployment, StatefulSet, DaemonSet, ReplicaSet, Job or CronJob whose image repository
  (without tag and digest) is `pulumi/service` or ends with `/pulumi/service`. A variable is
  *set* when the container's `env` list has an entry of that name with a non-empty `value` or
  with a `valueFrom`. Each rule reports a container at most once.

  PUL001  an API container does not set both API_TLS_CERTIFICATE and API_TLS_PRIVATE_KEY
  PUL002  an API container sets DATABASE_CA_CERTIFICATE but not DATABASE_MIN_TLS_VERSION
  PUL003  an API container gives API_MIN_TLS_VERSION or DATABASE_MIN_TLS_VERSION a non-empty
          literal `value` other than "1.2" and "1.3"

The counts are computed by applying these definitions to the generated objects, not from the
choices that produced them.
"""

import argparse
import base64
import json
import os
import random
import shutil
import sys
import time

SIZES = {"small": 100, "medium": 2000, "large": 20000}
DEFAULT_SEED = 8  # the seed of the figures in bench/README.md
RULES = ("PUL001", "PUL002", "PUL003")

# Share of the files per family; Kubernetes manifests take whatever the rounding leaves.
SHARES = (
    ("helm", 0.08),
    ("compose", 0.10),
    ("dotenv", 0.07),
    ("pulumi", 0.10),
    ("pulumi-state", 0.06),
    ("terraform-state", 0.08),
    ("terraform-plan", 0.06),
)
PER_DIR = 100  # at most this many generated units per leaf directory

NOUNS = ("atlas basalt cobalt dahlia ember fjord garnet heron indigo jasper kelp lagoon "
         "magpie nimbus onyx pebble quill rowan saffron thistle umbra velvet wren yucca "
         "zinnia acorn birch cinder drift estuary").split()
TEAMS = ("core", "billing", "auth", "catalog", "growth", "platform", "ops", "insights")
STAGES = ("dev", "test", "staging", "prod")
REGIONS = ("us-east-1", "us-east-2", "us-west-2", "eu-west-1", "eu-north-1", "ap-northeast-1")
ACCOUNT = "210987654321"

# Images of the API service, in the spellings real deployments use.
API_IMAGES = (
    "pulumi/service:{tag}",
    "docker.io/pulumi/service:{tag}",
    "{account}.dkr.ecr.{region}.amazonaws.com/mirror/pulumi/service:{tag}",
    "registry.internal:5000/pulumi/service:{tag}",
    "pulumi/service@sha256:{digest}",
    "pulumi/service:{tag}@sha256:{digest}",
    "ghcr.io/{team}/pulumi/service:latest",
    "pulumi/service",
)
# Containers that are not the API service although their images look close to it (their
# names are not ones celador recognises a Pulumi service by either).
LOOKALIKES = (
    ("service-proxy", "pulumi/service-proxy:1.4.2"),
    ("deployer", "pulumi/pulumi:3.{minor}.0"),
    ("exporter", "ghcr.io/{team}/pulumi-service-exporter:0.{minor}.1"),
    ("mirror", "docker.io/{team}/service:2.{minor}"),
)
GENERIC_IMAGES = (
    "nginx:1.27.{patch}", "redis:7.{minor}", "postgres:16.{patch}", "busybox:1.36",
    "ghcr.io/{team}/{noun}:v1.{minor}.{patch}", "quay.io/prometheus/node-exporter:v1.8.{patch}",
    "registry.k8s.io/pause:3.9", "{team}/{noun}-worker:2025.{minor}",
    "public.ecr.aws/docker/library/haproxy:2.{minor}",
)


def log(message):
    print(message, file=sys.stderr, flush=True)


# ---------------------------------------------------------------------------------- YAML


RESERVED = {"true", "false", "yes", "no", "on", "off", "y", "n", "null", "~"}


def is_plain(s, flow):
    """Whether `s` may be written unquoted and still read back as this very string."""
    if not s or s.lower() in RESERVED or s[0] not in "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_/":
        return False
    if s.endswith(":") or (flow and ":" in s):
        return False
    return all(c.isalnum() and c.isascii() or c in "_./@:+=-" for c in s)


class Yaml:
    """A block-style YAML writer with the stylistic choices real files differ in: indented or
    flush sequences under a key, single or double quotes, small flow mappings."""

    def __init__(self, rng, flow=None):
        self.seq_indent = rng.choice((0, 2))
        self.single_quotes = rng.random() < 0.3
        self.flow = rng.random() < 0.35 if flow is None else flow

    def scalar(self, v, flow=False):
        if v is None:
            return "null"
        if isinstance(v, bool):
            return "true" if v else "false"
        if isinstance(v, (int, float)):
            return repr(v)
        if is_plain(v, flow):
            return v
        if self.single_quotes and "\n" not in v and v.isprintable():
            return "'" + v.replace("'", "''") + "'"
        return json.dumps(v)

    def inline(self, v):
        """A scalar, an empty collection, or a small mapping in flow style."""
        if isinstance(v, dict):
            return "{" + ", ".join("%s: %s" % (self.scalar(k, True), self.inline(x)) for k, x in v.items()) + "}"
        if isinstance(v, list):
            return "[" + ", ".join(self.inline(x) for x in v) + "]"
        return self.scalar(v, flow=True)

    def flowable(self, v):
        """Small mappings of scalars and such mappings, e.g. `valueFrom`."""
        if not self.flow or not isinstance(v, dict) or not v or len(v) > 3:
            return False
        return all(isinstance(x, (str, int, bool)) and not (isinstance(x, str) and "\n" in x)
                   or self.flowable(x) for x in v.values())

    def dump(self, doc):
        out = []
        self.block(doc, 0, out)
        return "\n".join(out) + "\n"

    def block(self, v, indent, out):
        pad = " " * indent
        if isinstance(v, dict):
            for k, x in v.items():
                self.entry(pad + self.scalar(k) + ":", x, indent, out)
        else:
            for x in v:
                self.item(pad, x, indent, out)

    def entry(self, head, v, indent, out):
        if self.flowable(v):
            out.append(head + " " + self.inline(v))
        elif isinstance(v, dict) and v:
            out.append(head)
            self.block(v, indent + 2, out)
        elif isinstance(v, list) and v:
            out.append(head)
            self.block(v, indent + self.seq_indent, out)
        elif isinstance(v, str) and "\n" in v:
            self.literal(head, v, indent + 2, out)
        else:
            out.append(head + " " + self.inline(v))

    def item(self, pad, v, indent, out):
        if isinstance(v, (dict, list)) and v:
            lines = []
            self.block(v, indent + 2, lines)
            out.append(pad + "- " + lines[0][indent + 2:])
            out.extend(lines[1:])
        elif isinstance(v, str) and "\n" in v:
            self.literal(pad + "-", v, indent + 2, out)
        else:
            out.append(pad + "- " + self.inline(v))

    @staticmethod
    def literal(head, text, indent, out):
        out.append(head + (" |" if text.endswith("\n") else " |-"))
        for line in text.rstrip("\n").split("\n"):
            out.append(" " * indent + line if line else "")


# ---------------------------------------------------------------------------------- values


class Rand(random.Random):
    """random.Random plus the values configuration is made of."""

    def noun(self):
        return self.choice(NOUNS)

    def slug(self, words=2):
        return "-".join(self.noun() for _ in range(words))

    def hex(self, n):
        return "%0*x" % (n, self.getrandbits(4 * n))

    def b64(self, nbytes):
        return base64.b64encode(self.getrandbits(8 * nbytes).to_bytes(nbytes, "little")).decode()

    def pem(self, label="CERTIFICATE", nbytes=540):
        body = self.b64(nbytes)
        lines = [body[i:i + 64] for i in range(0, len(body), 64)]
        return "-----BEGIN %s-----\n%s\n-----END %s-----\n" % (label, "\n".join(lines), label)

    def tag(self):
        return "2025%02d%02d-%d-signed" % (self.randint(1, 12), self.randint(1, 28), self.randint(100, 9999))

    def fill(self, template, **extra):
        values = dict(tag=self.tag(), digest=self.hex(64), account=ACCOUNT, region=self.choice(REGIONS),
                      team=self.choice(TEAMS), noun=self.noun(), minor=self.randint(0, 40),
                      patch=self.randint(0, 12))
        values.update(extra)
        return template.format(**values)

    def maybe(self, p):
        return self.random() < p


def secret_ref(name, secret, key):
    return {"name": name, "valueFrom": {"secretKeyRef": {"name": secret, "key": key}}}


def config_ref(name, config_map, key):
    return {"name": name, "valueFrom": {"configMapKeyRef": {"name": config_map, "key": key}}}


# ------------------------------------------------------------------------- ground truth


def image_repository(image):
    repository = image.split("@", 1)[0]
    slash = repository.rfind("/")
    colon = repository.rfind(":")
    return repository[:colon] if colon > slash else repository


def is_api_image(image):
    repository = image_repository(image)
    return repository == "pulumi/service" or repository.endswith("/pulumi/service")


POD_SPEC_PATHS = {
    "Pod": ("spec",),
    "Deployment": ("spec", "template", "spec"),
    "StatefulSet": ("spec", "template", "spec"),
    "DaemonSet": ("spec", "template", "spec"),
    "ReplicaSet": ("spec", "template", "spec"),
    "Job": ("spec", "template", "spec"),
    "CronJob": ("spec", "jobTemplate", "spec", "template", "spec"),
}


def pul_findings(doc):
    """The PUL001-003 findings of one Kubernetes object, by the definitions in the module doc.
    Returns (API containers, {rule: count})."""
    counts = dict.fromkeys(RULES, 0)
    path = POD_SPEC_PATHS.get(doc.get("kind"))
    spec = doc
    for key in path or ("-",):
        spec = spec.get(key) if isinstance(spec, dict) else None
    if not isinstance(spec, dict):
        return 0, counts
    api = 0
    for container in spec.get("initContainers", []) + spec.get("containers", []):
        if not is_api_image(container.get("image", "")):
            continue
        api += 1
        env = {e["name"]: e for e in container.get("env", [])}

        def is_set(name):
            entry = env.get(name)
            return entry is not None and (bool(entry.get("value")) or "valueFrom" in entry)

        if not (is_set("API_TLS_CERTIFICATE") and is_set("API_TLS_PRIVATE_KEY")):
            counts["PUL001"] += 1
        if is_set("DATABASE_CA_CERTIFICATE") and not is_set("DATABASE_MIN_TLS_VERSION"):
            counts["PUL002"] += 1
        literals = [env[n].get("value") for n in ("API_MIN_TLS_VERSION", "DATABASE_MIN_TLS_VERSION")
                    if n in env and "valueFrom" not in env[n]]
        if any(v and v not in ("1.2", "1.3") for v in literals):
            counts["PUL003"] += 1
    return api, counts


# ------------------------------------------------------------------------- Kubernetes


def tls_var(r, name, secret, key, pem_label, absent):
    """An env entry for a certificate or key: from a Secret, inline, empty, or absent."""
    roll = r.random()
    if roll < absent:
        return None
    if roll < absent + 0.04:
        return {"name": name, "value": ""}
    if roll < absent + 0.30:
        return {"name": name, "value": r.pem(pem_label, 900 if "KEY" in pem_label else 540)}
    if roll < absent + 0.35:
        return config_ref(name, "pulumi-tls-paths", key)
    return secret_ref(name, secret, key)


def version_var(r, name, absent, weak):
    roll = r.random()
    if roll < absent:
        return None
    if roll < absent + 0.03:
        return {"name": name, "value": ""}
    if roll < absent + 0.08:
        return config_ref(name, "pulumi-tls-settings", name.lower().replace("_", "-"))
    return {"name": name, "value": r.choice(("1.0", "1.1")) if r.random() < weak else r.choice(("1.2", "1.3"))}


def api_container(r, name="pulumi-api"):
    domain = "%s.%s.example.net" % (r.noun(), r.choice(STAGES))
    env = [
        {"name": "PULUMI_ENTERPRISE", "value": "true"},
        secret_ref("PULUMI_LICENSE_KEY", "pulumi-license", "license-key"),
        {"name": "PULUMI_API_DOMAIN", "value": "api." + domain},
        {"name": "PULUMI_CONSOLE_DOMAIN", "value": "app." + domain},
        {"name": "PULUMI_DATABASE_ENDPOINT",
         "value": "%s.cluster-%s.%s.rds.amazonaws.com:3306" % (r.noun(), r.hex(12), r.choice(REGIONS))},
        {"name": "PULUMI_DATABASE_NAME", "value": "pulumi"},
        secret_ref("PULUMI_DATABASE_USER_NAME", "pulumi-db", "username"),
        secret_ref("PULUMI_DATABASE_USER_PASSWORD", "pulumi-db", "password"),
    ]
    tls = [
        tls_var(r, "API_TLS_CERTIFICATE", "pulumi-api-tls", "tls.crt", "CERTIFICATE", 0.10),
        tls_var(r, "API_TLS_PRIVATE_KEY", "pulumi-api-tls", "tls.key", "PRIVATE KEY", 0.10),
        version_var(r, "API_MIN_TLS_VERSION", 0.35, 0.25),
        tls_var(r, "DATABASE_CA_CERTIFICATE", "pulumi-db-ca", "ca.pem", "CERTIFICATE", 0.35),
        version_var(r, "DATABASE_MIN_TLS_VERSION", 0.30, 0.20),
    ]
    r.shuffle(tls)
    env += [e for e in tls if e]
    if r.maybe(0.75):
        env += [{"name": "SMTP_SERVER", "value": "smtp.%s.example.net:587" % r.noun()},
                {"name": "SMTP_USERNAME", "value": "pulumi"},
                secret_ref("SMTP_PASSWORD", "pulumi-smtp", "password"),
                {"name": "SMTP_GENERIC_SENDER", "value": "noreply@example.net"}]
    if r.maybe(0.6):
        env.append(secret_ref("RECAPTCHA_SECRET_KEY", "pulumi-recaptcha", "secret-key"))
    if r.maybe(0.5):
        env.append({"name": "PULUMI_LOCAL_OBJECTS", "value": "/opt/pulumi/objects"})
    image = r.fill(r.choice(API_IMAGES))
    container = {"name": name, "image": image}
    if r.maybe(0.4):
        container["imagePullPolicy"] = "IfNotPresent"
    container["ports"] = [{"name": "http", "containerPort": 8080}, {"name": "https", "containerPort": 8443}]
    container["env"] = env
    container["resources"] = {"requests": {"cpu": "1", "memory": "2Gi"}, "limits": {"memory": "4Gi"}}
    if r.maybe(0.5):
        container["readinessProbe"] = {"httpGet": {"path": "/api/status", "port": 8080}, "periodSeconds": 10}
    return container


def console_container(r):
    env = [{"name": "PULUMI_API", "value": "https://api.%s.example.net" % r.noun()},
           {"name": "PULUMI_API_INTERNAL_ENDPOINT", "value": "http://pulumi-api:8080"},
           {"name": "PULUMI_CONSOLE_DOMAIN", "value": "app.%s.example.net" % r.noun()}]
    if r.maybe(0.8):
        env.append(secret_ref("CONSOLE_TLS_CERTIFICATE", "pulumi-console-tls", "tls.crt"))
        env.append(secret_ref("CONSOLE_TLS_PRIVATE_KEY", "pulumi-console-tls", "tls.key"))
    if r.maybe(0.4):
        env.append({"name": "NODE_EXTRA_CA_CERTS", "value": "/etc/ssl/certs/internal-ca.pem"})
    if r.maybe(0.5):
        env.append({"name": "RECAPTCHA_SITE_KEY", "value": "6L" + r.hex(38)})
    if r.maybe(0.15):
        env.append({"name": "ALLOW_INVALID_CERTS", "value": "true"})
    return {"name": "pulumi-console", "image": r.fill(r.choice(("pulumi/console:{tag}", "docker.io/pulumi/console:{tag}"))),
            "ports": [{"name": "http", "containerPort": 3000}], "env": env}


def migrations_container(r):
    return {"name": "pulumi-migrations", "image": r.fill("pulumi/migrations:{tag}"),
            "env": [{"name": "PULUMI_DATABASE_ENDPOINT", "value": "%s.internal:3306" % r.noun()},
                    secret_ref("MYSQL_ROOT_USERNAME", "pulumi-db-root", "username"),
                    secret_ref("MYSQL_ROOT_PASSWORD", "pulumi-db-root", "password"),
                    {"name": "RUN_MIGRATIONS_EXTERNALLY", "value": "true"}]}


def generic_container(r, name):
    c = {"name": name, "image": r.fill(r.choice(GENERIC_IMAGES))}
    if r.maybe(0.6):
        c["ports"] = [{"name": r.choice(("http", "metrics", "grpc")), "containerPort": r.choice((80, 8080, 9090, 50051)),
                       "protocol": "TCP"}]
    env = []
    for i in range(r.randint(0, 7)):
        key = "%s_%s_%d" % (r.noun().upper(), r.choice(("URL", "HOST", "PORT", "LEVEL", "TOKEN", "MODE")), i)
        if key.endswith(("TOKEN_%d" % i)) and r.maybe(0.6):
            env.append(secret_ref(key, r.slug(), "token"))
        else:
            env.append({"name": key, "value": r.choice((r.noun(), str(r.randint(1, 65535)), "https://%s.example.net/" % r.noun(),
                                                        "a value: with a colon", "yes", "1.2"))})
    if env:
        c["env"] = env
    if r.maybe(0.15):
        c["envFrom"] = [{"configMapRef": {"name": name + "-config"}}]
    if r.maybe(0.6):
        c["resources"] = {"requests": {"cpu": "%dm" % r.choice((50, 100, 250)), "memory": "%dMi" % r.choice((64, 128, 512))}}
    if r.maybe(0.5):
        c["securityContext"] = {"runAsNonRoot": r.maybe(0.8), "allowPrivilegeEscalation": r.maybe(0.2),
                                "readOnlyRootFilesystem": r.maybe(0.6), "capabilities": {"drop": ["ALL"]}}
    if r.maybe(0.3):
        c["command"] = ["/bin/sh", "-c", "exec %s --config /etc/%s/config.yaml" % (r.noun(), name)]
    return c


def lookalike_container(r):
    name, image = r.choice(LOOKALIKES)
    c = {"name": name, "image": r.fill(image)}
    if r.maybe(0.7):  # the variables alone do not make a container the API
        c["env"] = [{"name": "API_MIN_TLS_VERSION", "value": "1.0"},
                    {"name": "DATABASE_CA_CERTIFICATE", "value": "/etc/ssl/ca.pem"}]
    return c


def metadata(r, name, namespace, app, annotations=None):
    m = {"name": name, "namespace": namespace,
         "labels": {"app.kubernetes.io/name": app, "app.kubernetes.io/part-of": r.choice(TEAMS)}}
    if r.maybe(0.4):
        m["labels"]["app.kubernetes.io/version"] = "v%d.%d" % (r.randint(0, 9), r.randint(0, 40))
    if annotations or r.maybe(0.25):
        m["annotations"] = {**(annotations or {}), "checksum/config": r.hex(64)}
    return m


def workload(r, kind, name, namespace, containers, init=()):
    pod = {}
    if r.maybe(0.5):
        pod["serviceAccountName"] = name
    if init:
        pod["initContainers"] = list(init)
    pod["containers"] = containers
    if r.maybe(0.3):
        pod["volumes"] = [{"name": "config", "configMap": {"name": name + "-config"}}]
    template = {"metadata": {"labels": {"app.kubernetes.io/name": name}}, "spec": pod}
    meta = metadata(r, name, namespace, name)
    if kind == "Pod":
        return {"apiVersion": "v1", "kind": "Pod", "metadata": meta, "spec": pod}
    if kind == "Job":
        pod["restartPolicy"] = "Never"
        return {"apiVersion": "batch/v1", "kind": "Job", "metadata": meta, "spec": {"backoffLimit": 2, "template": template}}
    if kind == "CronJob":
        pod["restartPolicy"] = "OnFailure"
        return {"apiVersion": "batch/v1", "kind": "CronJob", "metadata": meta,
                "spec": {"schedule": "%d */%d * * *" % (r.randint(0, 59), r.randint(1, 6)),
                         "jobTemplate": {"spec": {"template": template}}}}
    spec = {"selector": {"matchLabels": {"app.kubernetes.io/name": name}}, "template": template}
    if kind != "DaemonSet":
        spec = {"replicas": r.choice((1, 2, 3, 5)), **spec}
    if kind == "StatefulSet":
        spec["serviceName"] = name
    return {"apiVersion": "apps/v1", "kind": kind, "metadata": meta, "spec": spec}


def service(r, name, namespace, port=80, target=8080):
    return {"apiVersion": "v1", "kind": "Service", "metadata": metadata(r, name, namespace, name),
            "spec": {"type": r.choice(("ClusterIP", "ClusterIP", "ClusterIP", "LoadBalancer", "NodePort")),
                     "selector": {"app.kubernetes.io/name": name},
                     "ports": [{"name": "http", "port": port, "targetPort": target, "protocol": "TCP"}]}}


def ingress(r, name, namespace):
    host = "%s.%s.example.net" % (name, r.choice(STAGES))
    annotations = {"nginx.ingress.kubernetes.io/ssl-redirect": r.choice(("true", "false"))}
    if r.maybe(0.4):
        annotations["nginx.ingress.kubernetes.io/whitelist-source-range"] = r.choice(
            ("10.0.0.0/8", "0.0.0.0/0", "203.0.113.0/24,198.51.100.7/32"))
    spec = {"ingressClassName": "nginx"}
    if r.maybe(0.7):
        spec["tls"] = [{"hosts": [host], "secretName": name + "-tls"}]
    spec["rules"] = [{"host": host, "http": {"paths": [{"path": "/", "pathType": "Prefix",
                                                        "backend": {"service": {"name": name, "port": {"number": 80}}}}]}}]
    return {"apiVersion": "networking.k8s.io/v1", "kind": "Ingress",
            "metadata": metadata(r, name, namespace, name, annotations), "spec": spec}


def secret(r, name, namespace):
    if r.maybe(0.35):
        return {"apiVersion": "v1", "kind": "Secret", "metadata": metadata(r, name + "-tls", namespace, name),
                "type": "kubernetes.io/tls", "data": {"tls.crt": r.b64(720), "tls.key": r.b64(1190)}}
    data = {"%s-%s" % (r.choice(("password", "token", "api-key", "dsn")), r.noun()): r.b64(r.randint(8, 40))
            for _ in range(r.randint(1, 5))}
    doc = {"apiVersion": "v1", "kind": "Secret", "metadata": metadata(r, name + "-secret", namespace, name),
           "type": "Opaque", "data": data}
    if r.maybe(0.2):
        doc["stringData"] = {"SMTP_PASSWORD": r.hex(24)}
    return doc


def config_map(r, name, namespace):
    data = {"%s_%s" % (r.noun().upper(), r.noun().upper()): r.choice((r.noun(), str(r.randint(0, 999)), "true"))
            for _ in range(r.randint(1, 8))}
    if r.maybe(0.25):
        data["config.yaml"] = "".join("%s:\n  %s: %s\n" % (r.noun(), r.noun(), r.randint(1, 99))
                                      for _ in range(r.randint(2, 12)))
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": metadata(r, name + "-config", namespace, name), "data": data}


def extras(r, name, namespace):
    """Objects without containers that real clusters are full of."""
    pick = r.choice(("netpol", "pdb", "hpa", "rbac", "certificate", "namespace"))
    if pick == "netpol":
        return {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
                "metadata": metadata(r, name, namespace, name),
                "spec": {"podSelector": {"matchLabels": {"app.kubernetes.io/name": name}},
                         "policyTypes": ["Ingress"],
                         "ingress": [{"from": [{"ipBlock": {"cidr": r.choice(("10.0.0.0/8", "0.0.0.0/0"))}}],
                                      "ports": [{"port": 8080, "protocol": "TCP"}]}]}}
    if pick == "pdb":
        return {"apiVersion": "policy/v1", "kind": "PodDisruptionBudget", "metadata": metadata(r, name, namespace, name),
                "spec": {"minAvailable": 1, "selector": {"matchLabels": {"app.kubernetes.io/name": name}}}}
    if pick == "hpa":
        return {"apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler",
                "metadata": metadata(r, name, namespace, name),
                "spec": {"scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": name},
                         "minReplicas": 2, "maxReplicas": r.choice((5, 10, 20)),
                         "metrics": [{"type": "Resource", "resource": {"name": "cpu",
                                                                       "target": {"type": "Utilization", "averageUtilization": 70}}}]}}
    if pick == "rbac":
        return {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role", "metadata": metadata(r, name, namespace, name),
                "rules": [{"apiGroups": [""], "resources": ["configmaps", "secrets"], "verbs": ["get", "list", "watch"]}]}
    if pick == "certificate":
        return {"apiVersion": "cert-manager.io/v1", "kind": "Certificate", "metadata": metadata(r, name, namespace, name),
                "spec": {"secretName": name + "-tls", "dnsNames": ["%s.example.net" % name],
                         "issuerRef": {"name": "letsencrypt", "kind": "ClusterIssuer"}}}
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace, "labels": {"team": r.choice(TEAMS)}}}


def k8s_objects(r):
    """The objects of one manifest file."""
    namespace = "%s-%s" % (r.choice(TEAMS), r.choice(STAGES))
    app = r.slug()
    roll = r.random()
    if roll < 0.16:  # the API, as its installers deploy it
        sidecars = [generic_container(r, "sidecar-" + r.noun())] if r.maybe(0.2) else []
        docs = [workload(r, r.choice(("Deployment",) * 5 + ("StatefulSet",)), "pulumi-api", namespace,
                         [api_container(r)] + sidecars)]
        if r.maybe(0.5):
            docs.append(service(r, "pulumi-api", namespace))
        if r.maybe(0.3):
            docs.append(ingress(r, "pulumi-api", namespace))
    elif roll < 0.22:  # the whole self-hosted stack in one file
        docs = [extras(r, "pulumi", namespace) if r.maybe(0.3) else secret(r, "pulumi-api", namespace),
                workload(r, "Job", "pulumi-migrations", namespace, [migrations_container(r)]),
                workload(r, "Deployment", "pulumi-api", namespace, [api_container(r)]),
                service(r, "pulumi-api", namespace),
                workload(r, "Deployment", "pulumi-console", namespace, [console_container(r)]),
                service(r, "pulumi-console", namespace, 80, 3000),
                ingress(r, "pulumi-console", namespace)]
    elif roll < 0.27:  # a second API next to its canary, or as a bare Pod
        docs = [workload(r, r.choice(("Pod", "Deployment")), "pulumi-api-canary", namespace,
                         [api_container(r, "api"), lookalike_container(r)])]
    elif roll < 0.32:
        docs = [workload(r, "Deployment", "pulumi-console", namespace, [console_container(r)])]
    elif roll < 0.36:
        docs = [workload(r, r.choice(("Deployment", "CronJob", "Job")), app, namespace, [lookalike_container(r)])]
    elif roll < 0.60:
        kind = r.choice(("Deployment",) * 5 + ("StatefulSet", "DaemonSet", "CronJob", "Job", "Pod", "ReplicaSet"))
        init = [generic_container(r, "init-" + r.noun())] if r.maybe(0.2) else []
        containers = [generic_container(r, app)] + ([generic_container(r, "sidecar-" + r.noun())] if r.maybe(0.3) else [])
        docs = [workload(r, kind, app, namespace, containers, init)]
    elif roll < 0.85:
        make = r.choice((service, ingress, secret, config_map, extras))
        docs = [make(r, app, namespace)]
    else:  # an application bundle
        docs = [config_map(r, app, namespace),
                workload(r, "Deployment", app, namespace, [generic_container(r, app)]),
                service(r, app, namespace)]
        for make, p in ((ingress, 0.5), (secret, 0.3), (extras, 0.5)):
            if r.maybe(p):
                docs.append(make(r, app, namespace))
    return docs


def k8s_text(r, docs, yaml):
    parts = []
    if r.maybe(0.1):
        parts.append("# Source: %s/templates/%s.yaml\n" % (r.noun(), r.noun()))
    for i, doc in enumerate(docs):
        if i or r.maybe(0.3):
            parts.append("---\n")
        parts.append(yaml.dump(doc))
    return "".join(parts)


# ---------------------------------------------------------------------------- Helm


def helm_values(r, pulumi_chart):
    if pulumi_chart:
        api_env = {}
        if r.maybe(0.85):
            api_env["API_TLS_CERTIFICATE"] = r.pem()
        if r.maybe(0.85):
            api_env["API_TLS_PRIVATE_KEY"] = r.pem("PRIVATE KEY", 900)
        if r.maybe(0.6):
            api_env["API_MIN_TLS_VERSION"] = r.choice(("1.2", "1.3", "1.1"))
        return {
            "imageRegistry": r.choice(("docker.io", "%s.dkr.ecr.%s.amazonaws.com/mirror" % (ACCOUNT, r.choice(REGIONS)))),
            "api": {"image": {"repository": "pulumi/service", "tag": r.tag()}, "replicas": r.choice((1, 2, 3)),
                    "env": api_env, "resources": {"requests": {"cpu": "1", "memory": "2Gi"}}},
            "console": {"image": {"repository": "pulumi/console", "tag": r.tag()},
                        "tls": {"enabled": r.maybe(0.8), "certificateSecret": "pulumi-console-tls"}},
            "database": {"endpoint": "%s.cluster-%s.rds.amazonaws.com" % (r.noun(), r.hex(12)), "name": "pulumi",
                         "caCertificate": r.choice((None, r.pem())), "minTlsVersion": r.choice((None, "1.2", "1.3"))},
            "smtp": {"server": "smtp.%s.example.net:587" % r.noun(), "username": "pulumi",
                     "password": r.choice(("", "changeme", r.hex(16)))},
            "recaptcha": {"siteKey": "6L" + r.hex(38), "secretKey": r.choice(("", "6L" + r.hex(38)))},
            "ingress": {"enabled": True, "className": "nginx", "allowList": r.choice(("", "10.0.0.0/8", "0.0.0.0/0")),
                        "hosts": ["api.pulumi.example.net", "app.pulumi.example.net"]},
        }
    return {
        "replicaCount": r.choice((1, 2, 3)),
        "image": {"repository": "ghcr.io/%s/%s" % (r.choice(TEAMS), r.noun()), "tag": "v1.%d.%d" % (r.randint(0, 30), r.randint(0, 9)),
                  "pullPolicy": "IfNotPresent"},
        "service": {"type": "ClusterIP", "port": 80},
        "ingress": {"enabled": r.maybe(0.5), "annotations": {},
                    "hosts": [{"host": "%s.example.net" % r.noun(), "paths": ["/"]}], "tls": []},
        "resources": {"limits": {"cpu": "500m", "memory": "512Mi"}},
        "env": {"%s_%s" % (r.noun().upper(), r.noun().upper()): r.noun() for _ in range(r.randint(0, 6))},
        "nodeSelector": {}, "tolerations": [], "affinity": {},
    }


def helm_unit(r, budget):
    """A chart directory: Chart.yaml (not an input celador checks), values.yaml, overrides."""
    pulumi = r.maybe(0.5)
    chart = "pulumi-self-hosted" if pulumi else r.slug()
    files = [("values.yaml", "# Default values for %s.\n" % chart + Yaml(r, flow=False).dump(helm_values(r, pulumi))),
             ("Chart.yaml", Yaml(r).dump({"apiVersion": "v2", "name": chart, "version": "1.%d.0" % r.randint(0, 20),
                                          "appVersion": r.tag() if pulumi else "1.0.0"}))]
    for stage in r.sample(STAGES, r.randint(0, 2)):
        files.append(("values-%s.yaml" % stage, Yaml(r).dump({"replicaCount": r.randint(1, 6), "env": {"STAGE": stage}})))
    return files[:budget]


# -------------------------------------------------------------------------- compose and .env


def env_line(key, value, r):
    prefix = "export " if r.maybe(0.08) else ""
    return "%s%s=%s" % (prefix, key, value)


def env_value(r, key):
    if key.endswith(("CERTIFICATE", "PRIVATE_KEY")):
        return r.choice(("/run/secrets/%s.pem" % key.lower(), '"%s"' % r.pem().replace("\n", "\\n")))
    if key.endswith("TLS_VERSION"):
        return r.choice(("1.2", "1.3", "1.1"))
    if key in ("SMTP_PASSWORD", "RECAPTCHA_SECRET_KEY", "PULUMI_LICENSE_KEY", "MYSQL_ROOT_PASSWORD"):
        return r.choice((r.hex(32), "${%s}" % key, ""))
    if key == "PULUMI_DATABASE_ENDPOINT":
        return "db:3306"
    if key == "SMTP_SERVER":
        return "smtp.%s.example.net:587" % r.noun()
    if key == "PORT":
        return str(r.choice((8080, 3000)))
    return r.choice((r.noun(), "'%s %s'" % (r.noun(), r.noun()), "%s.example.net" % r.noun(), "true"))


API_KEYS = ("PULUMI_LICENSE_KEY", "PULUMI_DATABASE_ENDPOINT", "PULUMI_DATABASE_NAME", "API_TLS_CERTIFICATE",
            "API_TLS_PRIVATE_KEY", "API_MIN_TLS_VERSION", "DATABASE_CA_CERTIFICATE", "DATABASE_MIN_TLS_VERSION",
            "SMTP_SERVER", "SMTP_USERNAME", "SMTP_PASSWORD", "RECAPTCHA_SECRET_KEY", "PULUMI_LOCAL_KEYS")
CONSOLE_KEYS = ("PULUMI_API", "PULUMI_API_INTERNAL_ENDPOINT", "CONSOLE_TLS_CERTIFICATE", "CONSOLE_TLS_PRIVATE_KEY",
                "RECAPTCHA_SITE_KEY", "NODE_EXTRA_CA_CERTS", "ALLOW_INVALID_CERTS")
OTHER_KEYS = ("LOG_LEVEL", "PORT", "FEATURE_FLAGS", "CACHE_URL", "SENTRY_ENVIRONMENT")


def env_file(r, keys):
    lines = ["# %s settings" % r.noun()]
    for key in keys:
        if r.maybe(0.6):
            lines.append(env_line(key, env_value(r, key), r))
        if r.maybe(0.08):
            lines += ["", "# %s" % r.slug(3).replace("-", " ")]
    return "\n".join(lines) + "\n"


def compose_unit(r, budget):
    """A compose project: docker-compose.yml, the env files it names, maybe an override file."""
    files = []
    services = {}
    if r.maybe(0.6):  # the Pulumi quickstart, more or less hardened
        services["db"] = {"image": "mysql:8.0", "ports": [r.choice(("3306:3306", "127.0.0.1:3306:3306"))],
                          "environment": {"MYSQL_ALLOW_EMPTY_PASSWORD": r.choice(("true", "false"))}}
        services["migration"] = {"image": r.fill("pulumi/migrations:{tag}"), "env_file": ["migration.env"],
                                 "depends_on": ["db"]}
        files.append(("migration.env", env_file(r, ("PULUMI_DATABASE_ENDPOINT", "MYSQL_ROOT_PASSWORD",
                                                    "RUN_MIGRATIONS_EXTERNALLY"))))
        api = {"image": r.fill(r.choice(("pulumi/service:{tag}", "pulumi/service:latest"))),
               "ports": [r.choice(("8080:8080", "127.0.0.1:8080:8080"))], "env_file": r.choice(("api.env", ["api.env"]))}
        environment = {k: env_value(r, k).strip('"\'') for k in r.sample(API_KEYS, r.randint(0, 4))}
        if environment:
            api["environment"] = environment if r.maybe(0.5) else ["%s=%s" % kv for kv in environment.items()]
        services["api"] = api
        files.append(("api.env", env_file(r, API_KEYS)))
        services["console"] = {"image": r.fill("pulumi/console:{tag}"), "ports": ["3000:3000"], "env_file": ["console.env"]}
        files.append(("console.env", env_file(r, CONSOLE_KEYS)))
    else:
        for name in r.sample(("web", "worker", "cache", "queue", "proxy"), r.randint(1, 4)):
            service = {"image": r.fill(r.choice(GENERIC_IMAGES))}
            if r.maybe(0.5):
                service["environment"] = {k: env_value(r, k).strip('"\'') for k in r.sample(OTHER_KEYS, 2)}
            if r.maybe(0.4):
                service["env_file"] = ".env"
                if not any(f == ".env" for f, _ in files):
                    files.append((".env", env_file(r, OTHER_KEYS)))
            if r.maybe(0.5):
                service["ports"] = ["%d:%d" % (p, p) for p in r.sample((80, 443, 8080, 9000), 1)]
            services[name] = service
    name = r.choice(("docker-compose.yml", "docker-compose.yaml", "compose.yaml"))
    compose = {"services": services}
    if r.maybe(0.3):
        compose["volumes"] = {"data": {}}
    files.insert(0, (name, Yaml(r).dump(compose)))
    if r.maybe(0.25):
        override = {"services": {next(iter(services)): {"environment": {"LOG_LEVEL": "debug"}}}}
        files.append(("docker-compose.override.yml", Yaml(r).dump(override)))
    # Within budget, the compose file stays and env files it names go last (celador notes the
    # missing ones as opaque, which is also realistic).
    return files[:budget]


def dotenv_unit(r, budget):
    keys = r.choice((API_KEYS, CONSOLE_KEYS, OTHER_KEYS + API_KEYS[:4]))
    name = r.choice((".env", ".env.%s" % r.choice(STAGES), "%s.env" % r.choice(("api", "console", "service"))))
    return [(name, env_file(r, keys))][:budget]


# ---------------------------------------------------------------------------- Pulumi


def pulumi_unit(r, budget):
    project = "%s-%s" % (r.choice(TEAMS), r.noun())
    files = [("Pulumi.yaml", Yaml(r).dump({"name": project, "runtime": r.choice(("nodejs", "python", "go", "yaml")),
                                           "description": "%s infrastructure" % project}))]
    for stage in r.sample(STAGES, r.randint(1, 3)):
        config = {"aws:region": r.choice(REGIONS)}
        for _ in range(r.randint(2, 14)):
            key = r.choice(("dbPassword", "apiToken", "licenseKey", "smtpPassword", "instanceType", "replicas",
                            "domain", "vpcCidr", "githubClientSecret", "enableSearch")) + r.noun().capitalize()
            if any(w in key for w in ("Password", "Token", "Key", "Secret")):
                value = {"secure": "v1:%s:%s" % (r.b64(9), r.b64(r.randint(24, 80)))} if r.maybe(0.75) else "plain-" + r.hex(20)
            else:
                value = r.choice((r.noun(), str(r.randint(1, 9)), "10.0.0.0/16", True, False))
            config["%s:%s" % (project, key)] = value
        if r.maybe(0.3):
            config["%s:tags" % project] = {"team": r.choice(TEAMS), "costCenter": str(r.randint(1000, 9999))}
        doc = {}
        if r.maybe(0.5):
            doc["secretsprovider"] = "awskms://alias/%s?region=%s" % (r.noun(), r.choice(REGIONS))
            doc["encryptedkey"] = r.b64(96)
        else:
            doc["encryptionsalt"] = "v1:%s:%s" % (r.b64(9), r.b64(30))
        doc["config"] = config
        files.append(("Pulumi.%s.yaml" % stage, Yaml(r).dump(doc)))
    return files[:budget]


# ----------------------------------------------------------------------- cloud resources


def cloud_resources(r, region):
    """Abstract AWS resources: (terraform type, name, attributes in snake_case)."""
    out = []
    for _ in range(r.randint(3, 24)):
        kind = r.choice(("db", "db", "cluster", "bucket", "bucket", "sg", "sg", "ecs", "role", "vpc"))
        name = "%s_%s" % (r.noun(), r.noun())
        ident = name.replace("_", "-")
        if kind == "db":
            encrypted = r.maybe(0.75)
            out.append(("aws_db_instance", name, {
                "identifier": ident, "engine": r.choice(("mysql", "postgres")), "engine_version": "8.0.39",
                "instance_class": r.choice(("db.t3.medium", "db.r6g.large")), "allocated_storage": r.choice((20, 100, 500)),
                "storage_encrypted": encrypted,
                "kms_key_id": "arn:aws:kms:%s:%s:key/%s" % (region, ACCOUNT, r.hex(32)) if encrypted else "",
                "publicly_accessible": r.maybe(0.2), "multi_az": r.maybe(0.5), "port": 3306,
                "backup_retention_period": r.choice((0, 1, 7, 30)), "deletion_protection": r.maybe(0.5),
                "username": "admin", "password": None, "ca_cert_identifier": "rds-ca-rsa2048-g1",
                "arn": "arn:aws:rds:%s:%s:db:%s" % (region, ACCOUNT, ident), "id": "db-" + r.hex(26).upper(),
                "tags": {"Name": ident, "team": r.choice(TEAMS)}}))
        elif kind == "cluster":
            out.append(("aws_rds_cluster", name, {
                "cluster_identifier": ident, "engine": "aurora-mysql", "engine_version": "8.0.mysql_aurora.3.05.2",
                "storage_encrypted": r.maybe(0.75), "master_username": "admin", "master_password": None,
                "db_cluster_parameter_group_name": r.choice(("default.aurora-mysql8.0", ident + "-tls")),
                "iam_database_authentication_enabled": r.maybe(0.4), "port": 3306,
                "arn": "arn:aws:rds:%s:%s:cluster:%s" % (region, ACCOUNT, ident), "id": ident,
                "vpc_security_group_ids": ["sg-" + r.hex(17)]}))
        elif kind == "bucket":
            bucket = "%s-%s" % (ident, r.hex(6))
            out.append(("aws_s3_bucket", name, {
                "bucket": bucket, "arn": "arn:aws:s3:::" + bucket, "id": bucket, "force_destroy": False,
                "versioning": [{"enabled": r.maybe(0.5), "mfa_delete": False}], "tags": {"Name": bucket}}))
            if r.maybe(0.7):
                out.append(("aws_s3_bucket_server_side_encryption_configuration", name, {
                    "bucket": bucket, "id": bucket,
                    "rule": [{"apply_server_side_encryption_by_default": [
                        {"sse_algorithm": r.choice(("AES256", "aws:kms")), "kms_master_key_id": ""}],
                        "bucket_key_enabled": r.maybe(0.5)}]}))
        elif kind == "sg":
            ingress_rules = [{"cidr_blocks": [r.choice(("10.0.0.0/8", "172.16.0.0/12", "0.0.0.0/0", "192.168.10.0/24"))],
                              "from_port": p, "to_port": p, "protocol": "tcp", "description": "allow %d" % p,
                              "ipv6_cidr_blocks": [], "prefix_list_ids": [], "security_groups": [], "self": False}
                             for p in r.sample((22, 80, 443, 3306, 8080), r.randint(1, 3))]
            out.append(("aws_security_group", name, {
                "name": ident, "description": "Managed by Terraform", "ingress": ingress_rules,
                "egress": [{"cidr_blocks": ["0.0.0.0/0"], "from_port": 0, "to_port": 0, "protocol": "-1"}],
                "id": "sg-" + r.hex(17), "vpc_id": "vpc-" + r.hex(17),
                "arn": "arn:aws:ec2:%s:%s:security-group/sg-%s" % (region, ACCOUNT, r.hex(17))}))
        elif kind == "ecs":
            image = r.fill(r.choice(("{account}.dkr.ecr.{region}.amazonaws.com/pulumi/service:{tag}", "nginx:1.27.{patch}")))
            environment = [{"name": k, "value": env_value(r, k).strip('"\'')} for k in r.sample(API_KEYS, r.randint(2, 7))]
            definitions = [{"name": ident, "image": image, "essential": True, "environment": environment,
                            "secrets": [{"name": "SMTP_PASSWORD",
                                         "valueFrom": "arn:aws:secretsmanager:%s:%s:secret:smtp-%s" % (region, ACCOUNT, r.hex(6))}],
                            "portMappings": [{"containerPort": 8080, "protocol": "tcp"}]}]
            out.append(("aws_ecs_task_definition", name, {
                "family": ident, "container_definitions": json.dumps(definitions, separators=(",", ":")),
                "cpu": "1024", "memory": "2048", "network_mode": "awsvpc", "requires_compatibilities": ["FARGATE"],
                "arn": "arn:aws:ecs:%s:%s:task-definition/%s:%d" % (region, ACCOUNT, ident, r.randint(1, 90))}))
        elif kind == "role":
            policy = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
                                                              "Principal": {"Service": "ecs-tasks.amazonaws.com"}}]}
            out.append(("aws_iam_role", name, {"name": ident, "assume_role_policy": json.dumps(policy), "path": "/",
                                               "arn": "arn:aws:iam::%s:role/%s" % (ACCOUNT, ident), "id": ident}))
        else:
            out.append(("aws_vpc", name, {"cidr_block": "10.%d.0.0/16" % r.randint(0, 255), "enable_dns_support": True,
                                          "id": "vpc-" + r.hex(17), "tags": {"Name": ident}}))
    return out


def terraform_state(r):
    region = r.choice(REGIONS)
    resources = []
    for typ, name, attrs in cloud_resources(r, region):
        sensitive = [[{"type": "get_attr", "value": "password"}]] if typ == "aws_db_instance" else []
        resources.append({"mode": "managed", "type": typ, "name": name,
                          "provider": "provider[\"registry.terraform.io/hashicorp/aws\"]",
                          "instances": [{"schema_version": 0, "attributes": attrs, "sensitive_attributes": sensitive}]})
    doc = {"version": 4, "terraform_version": "1.%d.%d" % (r.randint(5, 9), r.randint(0, 7)), "serial": r.randint(1, 900),
           "lineage": "%s-%s-%s-%s-%s" % (r.hex(8), r.hex(4), r.hex(4), r.hex(4), r.hex(12)),
           "outputs": {}, "resources": resources, "check_results": None}
    return json.dumps(doc, indent=2) + "\n"


def terraform_plan(r):
    region = r.choice(REGIONS)
    planned, changes = [], []
    for typ, name, attrs in cloud_resources(r, region):
        address = "%s.%s" % (typ, name)
        action = r.choice((["create"], ["update"], ["no-op"], ["delete", "create"], ["delete"]))
        planned.append({"address": address, "mode": "managed", "type": typ, "name": name,
                        "provider_name": "registry.terraform.io/hashicorp/aws", "schema_version": 0, "values": attrs})
        changes.append({"address": address, "mode": "managed", "type": typ, "name": name,
                        "provider_name": "registry.terraform.io/hashicorp/aws",
                        "change": {"actions": action, "before": None if action == ["create"] else attrs,
                                   "after": None if action == ["delete"] else attrs,
                                   "after_unknown": {"id": action == ["create"]}, "before_sensitive": False,
                                   "after_sensitive": {}}})
    doc = {"format_version": "1.2", "terraform_version": "1.9.%d" % r.randint(0, 8),
           "planned_values": {"root_module": {"resources": planned}}, "resource_changes": changes,
           "configuration": {"provider_config": {"aws": {"name": "aws", "expressions": {"region": {"constant_value": region}}}}}}
    return json.dumps(doc, indent=2) + "\n"


PULUMI_TYPES = {
    "aws_db_instance": "aws:rds/instance:Instance", "aws_rds_cluster": "aws:rds/cluster:Cluster",
    "aws_s3_bucket": "aws:s3/bucket:Bucket",
    "aws_s3_bucket_server_side_encryption_configuration":
        "aws:s3/bucketServerSideEncryptionConfigurationV2:BucketServerSideEncryptionConfigurationV2",
    "aws_security_group": "aws:ec2/securityGroup:SecurityGroup",
    "aws_ecs_task_definition": "aws:ecs/taskDefinition:TaskDefinition",
    "aws_iam_role": "aws:iam/role:Role", "aws_vpc": "aws:ec2/vpc:Vpc",
}


def camel(key):
    head, *rest = key.split("_")
    return head + "".join(w.capitalize() for w in rest)


def camel_tree(v):
    if isinstance(v, dict):
        return {camel(k): camel_tree(x) for k, x in v.items()}
    if isinstance(v, list):
        return [camel_tree(x) for x in v]
    return v


def pulumi_state(r, project, stack):
    prefix = "urn:pulumi:%s::%s::" % (stack, project)
    root = prefix + "pulumi:pulumi:Stack::%s-%s" % (project, stack)
    provider = prefix + "pulumi:providers:aws::default_6_50_0"
    provider_id = "%s-%s-%s" % (r.hex(8), r.hex(4), r.hex(12))
    region = r.choice(REGIONS)
    resources = [{"urn": root, "custom": False, "type": "pulumi:pulumi:Stack", "outputs": {}},
                 {"urn": provider, "custom": True, "id": provider_id, "type": "pulumi:providers:aws",
                  "inputs": {"region": region, "version": "6.50.0"}, "outputs": {"region": region, "version": "6.50.0"}}]
    for typ, name, attrs in cloud_resources(r, region):
        outputs = camel_tree(attrs)
        for key in ("password", "masterPassword"):
            if key in outputs:
                outputs[key] = {"4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270",
                                "ciphertext": "v1:" + r.b64(36)}
        ptype = PULUMI_TYPES[typ]
        resources.append({"urn": prefix + ptype + "::" + name, "custom": True, "id": str(outputs.get("id", name)),
                          "type": ptype, "inputs": outputs, "outputs": outputs, "parent": root,
                          "provider": provider + "::" + provider_id})
    if r.maybe(0.3):  # the API deployed to Kubernetes by a Pulumi program
        deployment = workload(r, "Deployment", "pulumi-api", "pulumi", [api_container(r)])
        ptype = "kubernetes:apps/v1:Deployment"
        resources.append({"urn": prefix + ptype + "::pulumi-api", "custom": True, "id": "pulumi/pulumi-api",
                          "type": ptype, "inputs": deployment, "outputs": deployment, "parent": root})
    doc = {"version": 3, "deployment": {
        "manifest": {"time": "2025-%02d-%02dT12:00:00.000000Z" % (r.randint(1, 12), r.randint(1, 28)),
                     "magic": r.hex(64), "version": "v3.%d.0" % r.randint(120, 200)},
        "secrets_providers": {"type": "service", "state": {"url": "https://api.pulumi.com", "owner": r.noun(),
                                                           "project": project, "stack": stack}},
        "resources": resources}}
    return json.dumps(doc, indent=4) + "\n"


# ---------------------------------------------------------------------------- the tree


class Corpus:
    def __init__(self, out, seed):
        self.out = out
        self.seed = seed
        self.files = 0
        self.bytes = 0
        self.files_by_family = {}
        self.k8s_documents = 0
        self.api_containers = 0
        self.counts = dict.fromkeys(RULES, 0)
        self.by_file = {}

    def rng(self, *parts):
        # A string seed is hashed with SHA-512: stable across runs, machines and PYTHONHASHSEED.
        return Rand("celador-bench/%d/%s" % (self.seed, "/".join(map(str, parts))))

    def write(self, rel, text, family):
        path = os.path.join(self.out, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        data = text.encode()
        with open(path, "wb") as f:
            f.write(data)
        self.files += 1
        self.bytes += len(data)
        self.files_by_family[family] = self.files_by_family.get(family, 0) + 1

    def record(self, rel, docs):
        found = dict.fromkeys(RULES, 0)
        for doc in docs:
            api, counts = pul_findings(doc)
            self.api_containers += api
            for rule, n in counts.items():
                found[rule] += n
        self.k8s_documents += len(docs)
        for rule, n in found.items():
            self.counts[rule] += n
        found = {rule: n for rule, n in found.items() if n}
        if found:
            self.by_file[rel] = found

    def kubernetes(self, i):
        r = self.rng("k8s", i)
        docs = k8s_objects(r)
        stage, team = STAGES[i % 4], TEAMS[i // 4 % len(TEAMS)]
        folder = "kubernetes/%s/%s/%03d" % (stage, team, i // PER_DIR)
        base = "%05d-%s" % (i, docs[0]["metadata"]["name"])
        if len(docs) == 1 and r.maybe(0.1):  # kubectl's JSON
            rel = "%s/%s.json" % (folder, base)
            self.write(rel, json.dumps(docs[0], indent=r.choice((2, 4))) + "\n", "kubernetes")
        else:
            rel = "%s/%s.yaml" % (folder, base)
            self.write(rel, k8s_text(r, docs, Yaml(r)), "kubernetes")
        self.record(rel, docs)
        return 1

    def unit(self, family, i, budget):
        """One generated unit of a family: returns how many files it wrote (<= budget)."""
        r = self.rng(family, i)
        bucket = "%03d" % (i // PER_DIR)
        if family == "helm":
            folder = "helm/%s/%s/%05d-chart" % (TEAMS[i % len(TEAMS)], bucket, i)
            files = helm_unit(r, budget)
        elif family == "compose":
            folder = "compose/%s/%05d-%s" % (bucket, i, r.noun())
            files = compose_unit(r, budget)
        elif family == "dotenv":
            folder = "dotenv/%s/%s/%05d-%s" % (TEAMS[i % len(TEAMS)], bucket, i, r.noun())
            files = dotenv_unit(r, budget)
        elif family == "pulumi":
            folder = "pulumi/%s/%05d" % (bucket, i)
            files = pulumi_unit(r, budget)
        elif family == "pulumi-state":
            stage = STAGES[i % 4]
            folder = "pulumi-state/%s/%05d-%s" % (bucket, i, r.noun())
            files = [("%s.json" % stage, pulumi_state(r, "%s-%s" % (TEAMS[i % len(TEAMS)], r.noun()), stage))]
        elif family == "terraform-state":
            folder = "terraform/%s/%s" % (STAGES[i % 4], bucket)
            files = [("%05d-%s.tfstate" % (i, r.noun()), terraform_state(r))]
        else:
            folder = "terraform-plan/%s/%s" % (STAGES[i % 4], bucket)
            files = [("%05d-%s.tfplan.json" % (i, r.noun()), terraform_plan(r))]
        for name, text in files:
            self.write("%s/%s" % (folder, name), text, family)
        return len(files)

    def tree(self, n):
        targets = {family: int(n * share) for family, share in SHARES}
        targets = {"kubernetes": n - sum(targets.values()), **targets}
        for family, target in targets.items():
            written = i = 0
            while written < target:
                if family == "kubernetes":
                    written += self.kubernetes(i)
                else:
                    written += self.unit(family, i, target - written)
                i += 1

    def huge(self, mib):
        """One multi-document manifest of about `mib` MiB (Kubernetes objects only)."""
        target = int(mib * 1024 * 1024)
        rel = "huge.yaml"
        os.makedirs(self.out, exist_ok=True)
        with open(os.path.join(self.out, rel), "wb") as f:
            f.write(b"# One large multi-document manifest stream (bench/gen_corpus.py --huge).\n")
            size = 0
            i = 0
            while size < target:
                r = self.rng("huge", i)
                docs = k8s_objects(r)
                yaml = Yaml(r)
                chunk = "".join("---\n" + yaml.dump(d) for d in docs).encode()
                f.write(chunk)
                size += len(chunk)
                self.record(rel, docs)
                i += 1
        self.files = 1
        self.bytes = os.path.getsize(os.path.join(self.out, rel))
        self.files_by_family = {"kubernetes": 1}

    def expected(self, args):
        return {
            "generator": "bench/gen_corpus.py",
            "seed": self.seed,
            "corpus": ("huge-%gMiB" % args.huge_mib) if args.huge else ("files-%d" % self.files),
            "files": self.files,
            "bytes": self.bytes,
            "files_by_family": dict(sorted(self.files_by_family.items())),
            "kubernetes_documents": self.k8s_documents,
            "api_containers": self.api_containers,
            "findings": dict(self.counts, total=sum(self.counts.values())),
            "findings_by_file": dict(sorted(self.by_file.items())),
        }


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("out", help="directory to create (must not exist, or be empty)")
    what = parser.add_mutually_exclusive_group()
    what.add_argument("--size", choices=SIZES, help="small (100 files), medium (2,000) or large (20,000)")
    what.add_argument("--files", type=int, help="this many files")
    what.add_argument("--huge", action="store_true", help="one multi-document manifest of --huge-mib MiB")
    parser.add_argument("--huge-mib", type=float, default=50.0, help="size of the --huge manifest (default 50)")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help="default %d" % DEFAULT_SEED)
    parser.add_argument("--expected", help="where to write the ground truth (default OUT.expected.json)")
    args = parser.parse_args()

    out = os.path.normpath(args.out)
    if os.path.exists(out) and (not os.path.isdir(out) or os.listdir(out)):
        parser.error("%s exists and is not an empty directory" % out)
    if args.files is not None and args.files < 1:
        parser.error("--files must be at least 1")
    expected_path = args.expected or out + ".expected.json"

    # Written under a temporary name and renamed at the end, so an interrupted run never
    # leaves a partial corpus that looks finished.
    staging = "%s.partial-%d" % (out, os.getpid())
    started = time.monotonic()
    corpus = Corpus(staging, args.seed)
    try:
        if args.huge:
            corpus.huge(args.huge_mib)
        else:
            corpus.tree(args.files if args.files is not None else SIZES[args.size or "small"])
        if os.path.isdir(out):
            os.rmdir(out)
        os.rename(staging, out)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    with open(expected_path, "w") as f:
        json.dump(corpus.expected(args), f, indent=1)
        f.write("\n")
    found = corpus.counts
    log("%s: %d files, %.1f MiB, %d Kubernetes documents, %d API containers; PUL001=%d PUL002=%d PUL003=%d "
        "(%.1fs; ground truth in %s)" % (out, corpus.files, corpus.bytes / 1048576, corpus.k8s_documents,
                                          corpus.api_containers, found["PUL001"], found["PUL002"], found["PUL003"],
                                          time.monotonic() - started, expected_path))


if __name__ == "__main__":
    main()
