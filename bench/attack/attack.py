#!/usr/bin/env python3
"""`celador serve` under attack, on loopback (issue 12, item 7). Python 3.8+, standard library.

Starts the webhook (release binary) with a throwaway certificate, then runs each attack with
its expected outcome asserted, while a prober sends normal AdmissionReviews one after the
other and records their latency. Prints one line per case and a summary; exit 1 if any
expectation failed. Everything is bounded in time and the server is stopped at the end.

    bench/attack/attack.py                          # every case, reduced soak (20,000 requests)
    bench/attack/attack.py --soak 250000            # the full soak
    bench/attack/attack.py --only bombs,idle-tls    # some cases
    BIN=target/release/celador bench/attack/attack.py

Cases: slowloris, endless-body, oversized, nested, bombs, idle-tls, soak, sigterm.
"""

import argparse
import http.client
import json
import os
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
FIXTURES = os.path.join(ROOT, "webhook", "tests", "fixtures")
HEADER_TIMEOUT = 2.0
EVAL_TIMEOUT = 2.0
GRACE = 3.0

failures = []
report = []


def check(case, ok, detail):
    line = f"{'PASS' if ok else 'FAIL'} {case}: {detail}"
    print(line, flush=True)
    report.append(line)
    if not ok:
        failures.append(case)


def percentile(values, p):
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def rss_mib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class Server:
    """`celador serve` on 127.0.0.1 with a self-signed certificate."""

    def __init__(self, binary, work, port, extra=()):
        self.port = port
        key, cert = os.path.join(work, "tls.key"), os.path.join(work, "tls.crt")
        if not os.path.exists(cert):
            subprocess.run(
                ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                 "-days", "1", "-keyout", key, "-out", cert, "-subj", "/CN=celador-webhook.celador.svc",
                 "-addext", "subjectAltName=IP:127.0.0.1"],
                check=True, capture_output=True)
        self.log = open(os.path.join(work, f"serve-{port}.jsonl"), "w")
        self.proc = subprocess.Popen(
            [binary, "serve", "--tls-cert", cert, "--tls-key", key, "--listen", f"127.0.0.1:{port}",
             "--metrics-listen", "off", "--eval-timeout", f"{EVAL_TIMEOUT}s", "--read-timeout", f"{HEADER_TIMEOUT}s",
             "--shutdown-grace", f"{GRACE}s", *extra],
            stdout=subprocess.DEVNULL, stderr=self.log, cwd=work)
        self.context = ssl.create_default_context()
        self.context.check_hostname = False
        self.context.verify_mode = ssl.CERT_NONE
        deadline = time.time() + 30
        while time.time() < deadline:
            try:
                if self.get("/readyz")[0] == 200:
                    return
            except OSError:
                pass
            time.sleep(0.1)
        raise SystemExit("the server did not become ready")

    def connection(self, timeout=30):
        return http.client.HTTPSConnection("127.0.0.1", self.port, context=self.context, timeout=timeout)

    def get(self, path):
        c = self.connection(5)
        try:
            c.request("GET", path)
            r = c.getresponse()
            return r.status, r.read().decode()
        finally:
            c.close()

    def post(self, body, conn=None, timeout=60):
        own = conn is None
        c = conn or self.connection(timeout)
        try:
            c.request("POST", "/validate", body=body, headers={"Content-Type": "application/json"})
            r = c.getresponse()
            return r.status, r.read()
        finally:
            if own:
                c.close()

    def raw(self, timeout=30):
        s = socket.create_connection(("127.0.0.1", self.port), timeout=timeout)
        return self.context.wrap_socket(s)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(GRACE + 10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()


class Prober(threading.Thread):
    """Sends the insecure review over one keep-alive connection, back to back; records each
    answer's latency and whether it was the expected denial."""

    def __init__(self, server, body):
        super().__init__(daemon=True)
        self.server, self.body = server, body
        self.latencies, self.wrong = [], 0
        self.stop = threading.Event()

    def run(self):
        conn = self.server.connection()
        while not self.stop.is_set():
            started = time.perf_counter()
            try:
                status, answer = self.server.post(self.body, conn)
                ok = status == 200 and json.loads(answer)["response"]["allowed"] is False
            except (OSError, http.client.HTTPException, ValueError):
                conn.close()
                conn = self.server.connection()
                ok = False
            self.latencies.append((time.perf_counter() - started) * 1000)
            self.wrong += not ok
            time.sleep(0.002)

    def window(self):
        """Latencies recorded since the last call."""
        out, self.latencies = self.latencies, []
        return out


def review(name):
    with open(os.path.join(FIXTURES, f"{name}.json"), "rb") as f:
        return f.read()


def with_object(obj, uid="attack"):
    return json.dumps({"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "request": {
        "uid": uid, "kind": {"group": obj.get("apiVersion", "v1").rpartition("/")[0], "version": "v1",
                             "kind": obj["kind"]},
        "resource": {"group": "", "version": "v1", "resource": obj["kind"].lower() + "s"},
        "name": obj["metadata"]["name"], "namespace": "default", "operation": "CREATE",
        "userInfo": {"username": "mallory"}, "object": obj, "dryRun": False}}).encode()


def ingress_bomb(hosts=45000):
    """The issue's Ingress: 45,000 rule hosts, one TLS entry listing them all (2.2 MB)."""
    names = [f"h{i:05d}.example.com" for i in range(hosts)]
    return with_object({"apiVersion": "networking.k8s.io/v1", "kind": "Ingress",
                        "metadata": {"name": "bomb", "namespace": "default"},
                        "spec": {"tls": [{"hosts": names[::-1], "secretName": "t"}],
                                 "rules": [{"host": h} for h in names]}})


# ------------------------------------------------------------------------------------------


def slowloris(server, prober, n=200):
    socks = []
    for _ in range(n):
        s = server.raw()
        s.sendall(b"POST /validate HTTP/1.1\r\nHost: x\r\n")
        socks.append(s)
    started = time.time()
    for s in socks:
        try:
            s.sendall(b"X-a: b\r\n")
        except OSError:
            pass
    closed = 0
    for s in socks:
        s.settimeout(HEADER_TIMEOUT + 10)
        try:
            while s.recv(4096):
                pass
            closed += 1
        except OSError:
            closed += 1
        s.close()
    took = time.time() - started
    lat = prober.window()
    check("slowloris", closed == n and took < HEADER_TIMEOUT + 10,
          f"{n} connections trickling headers closed by the server after {took:.1f} s "
          f"(--read-timeout {HEADER_TIMEOUT:.0f}s); normal reviews meanwhile p99 {percentile(lat, 99):.1f} ms")


def endless_body(server, prober):
    s = server.raw()
    s.sendall(b"POST /validate HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
              b"Transfer-Encoding: chunked\r\n\r\n")
    started, answer = time.time(), b""
    s.settimeout(0.05)
    while time.time() - started < HEADER_TIMEOUT + 20:
        try:
            s.sendall(b"1\r\n \r\n")
            answer += s.recv(4096)
            if answer:
                break
        except socket.timeout:
            continue
        except OSError:
            break
    s.close()
    took = time.time() - started
    status = answer.split(b"\r\n", 1)[0].decode(errors="replace")
    check("endless-body", status.startswith("HTTP/1.1 408") and took < HEADER_TIMEOUT + 10,
          f"a chunked body that never ends: `{status}` after {took:.1f} s")
    prober.window()


def oversized(server, prober):
    s = server.raw()
    s.sendall(b"POST /validate HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
              b"Content-Length: %d\r\n\r\n{\"pad\": \"xxxx" % (8 << 20))
    started, answer = time.time(), b""
    s.settimeout(10)
    try:
        while b"\r\n\r\n" not in answer:
            chunk = s.recv(4096)
            if not chunk:
                break
            answer += chunk
        answer += s.recv(4096)
    except OSError:
        pass
    s.close()
    took = time.time() - started
    status = answer.split(b"\r\n", 1)[0].decode(errors="replace")
    check("oversized", status.startswith("HTTP/1.1 400") and b"exceeds the limit" in answer,
          f"an 8 MiB body announced: `{status}` in {took:.2f} s, before it is sent")
    prober.window()


def nested(server, prober, depth=200000):
    body = b'{"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "request": ' + b"[" * depth + b"]" * depth + b"}"
    started = time.time()
    status, answer = server.post(body)
    took = time.time() - started
    alive = server.get("/healthz")[0] == 200
    check("nested", status == 400 and alive,
          f"{depth:,} nested arrays ({len(body) >> 10} KiB): HTTP {status} in {took:.2f} s, server alive {alive}")
    prober.window()


def bombs(server, prober, concurrent=4, rounds=3):
    bomb = ingress_bomb()
    prober.window()
    results = []

    def send():
        started = time.time()
        try:
            status, answer = server.post(bomb, timeout=EVAL_TIMEOUT + 30)
            decided = json.loads(answer)["response"]
            results.append((time.time() - started, status, decided["allowed"], decided.get("status", {}).get("message", "")))
        except (OSError, http.client.HTTPException, ValueError) as e:
            results.append((time.time() - started, 0, None, str(e)))

    started = time.time()
    for _ in range(rounds):
        threads = [threading.Thread(target=send) for _ in range(concurrent)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    took = time.time() - started
    lat = prober.window()
    slowest = max(r[0] for r in results)
    denied = all(r[1] == 200 and r[2] is False for r in results)
    why = results[0][3][:150]
    check("bombs", denied and slowest < EVAL_TIMEOUT + 5 and prober.wrong == 0,
          f"{rounds}×{concurrent} concurrent 45k-host Ingresses ({len(bomb) / 1e6:.1f} MB): all denied "
          f"(--on-error deny) = {denied}, slowest answer {slowest:.2f} s, {took:.1f} s in all; "
          f"normal reviews meanwhile: {len(lat)} answered, p50 {percentile(lat, 50):.1f} ms, "
          f"p99 {percentile(lat, 99):.1f} ms; reason: {why}")
    report.append(f"bombs-p99-ms {percentile(lat, 99):.2f}")
    # The slots are free again: CPU use drops to the prober's.
    time.sleep(0.5)
    before = cpu_seconds(server.proc.pid)
    time.sleep(2)
    used = cpu_seconds(server.proc.pid) - before
    check("bombs-stop", used < 1.5, f"server CPU in the 2 s after the bombs: {used:.2f} s (cancelled, not abandoned)")


def idle_tls(server, prober, n=2000):
    socks, started = [], time.time()
    for _ in range(n):
        socks.append(server.raw())
    opened = time.time() - started
    prober.window()
    time.sleep(0.5)
    lat = prober.window()
    status = server.post(review("hardened"))[0]
    for s in socks:
        s.close()
    check("idle-tls", status == 200 and prober.wrong == 0,
          f"{n} idle TLS connections opened in {opened:.1f} s; a new client's review: HTTP {status}; "
          f"normal reviews meanwhile p99 {percentile(lat, 99):.1f} ms")


def soak(server, prober, total, connections=4):
    body = review("insecure")
    done = [0]
    lock = threading.Lock()
    samples = []

    def worker(count):
        conn = server.connection()
        for _ in range(count):
            try:
                server.post(body, conn)
            except (OSError, http.client.HTTPException):
                conn.close()
                conn = server.connection()
            with lock:
                done[0] += 1

    prober.window()
    threads = [threading.Thread(target=worker, args=(total // connections,)) for _ in range(connections)]
    started = time.time()
    for t in threads:
        t.start()
    while any(t.is_alive() for t in threads):
        samples.append((done[0], rss_mib(server.proc.pid)))
        time.sleep(1)
    for t in threads:
        t.join()
    took = time.time() - started
    samples.append((done[0], rss_mib(server.proc.pid)))
    lat = prober.window()
    warm = [r for d, r in samples if d >= total // 10] or [samples[-1][1]]
    growth = max(warm) - min(warm)
    check("soak", growth < 32 and prober.wrong == 0,
          f"{done[0]:,} reviews in {took:.0f} s ({done[0] / took:.0f}/s); RSS after warm-up "
          f"{min(warm):.0f}–{max(warm):.0f} MiB (growth {growth:.1f} MiB); prober p99 {percentile(lat, 99):.1f} ms")


def sigterm(binary, work):
    server = Server(binary, work, 18544)
    bomb = ingress_bomb()
    threads = [threading.Thread(target=lambda: server.post(bomb, timeout=60), daemon=True) for _ in range(4)]
    for t in threads:
        t.start()
    time.sleep(0.5)
    started = time.time()
    server.proc.send_signal(signal.SIGTERM)
    try:
        server.proc.wait(GRACE + 10)
    except subprocess.TimeoutExpired:
        pass
    took = time.time() - started
    ended = server.proc.poll() is not None
    server.stop()
    check("sigterm", ended and took < GRACE + 2,
          f"SIGTERM with 4 bombs in flight: exited after {took:.2f} s (--shutdown-grace {GRACE:.0f}s)")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--soak", type=int, default=20000, help="soak requests (default 20,000; the issue's 250,000)")
    parser.add_argument("--only", default="", help="comma-separated cases")
    args = parser.parse_args()
    binary = os.environ.get("BIN", os.path.join(ROOT, "target", "release", "celador"))
    if not os.access(binary, os.X_OK):
        raise SystemExit(f"{binary} not found: cargo build --release (or set BIN)")
    only = set(filter(None, args.only.split(",")))
    wanted = lambda case: not only or case in only
    with tempfile.TemporaryDirectory(prefix="celador-attack-") as work:
        server = Server(binary, work, 18543)
        prober = Prober(server, review("insecure"))
        prober.start()
        try:
            time.sleep(1)
            baseline = prober.window()
            report.append(f"baseline-p99-ms {percentile(baseline, 99):.2f}")
            print(f"normal reviews, idle server: {len(baseline)} answered, p50 {percentile(baseline, 50):.1f} ms, "
                  f"p99 {percentile(baseline, 99):.1f} ms", flush=True)
            for case, run in [("slowloris", lambda: slowloris(server, prober)),
                              ("endless-body", lambda: endless_body(server, prober)),
                              ("oversized", lambda: oversized(server, prober)),
                              ("nested", lambda: nested(server, prober)),
                              ("bombs", lambda: bombs(server, prober)),
                              ("idle-tls", lambda: idle_tls(server, prober)),
                              ("soak", lambda: soak(server, prober, args.soak))]:
                if wanted(case):
                    run()
            check("probe", prober.wrong == 0, f"normal reviews wrongly decided or failed: {prober.wrong}")
        finally:
            prober.stop.set()
            server.stop()
        if wanted("sigterm"):
            sigterm(binary, work)
    print(f"{len(report)} lines, {len(failures)} failed: {', '.join(failures) or 'none'}")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
