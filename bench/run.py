#!/usr/bin/env python3
"""Tessera's benchmark: hot paths as ratios of a hello-world axum baseline measured in the same run.

Builds release binaries, starts the baseline (bench/baseline) and `tessera serve` on a fresh SQLite database (or
PostgreSQL with --database-url), seeds what the hot paths need through the API, drives every server with the same
load generator and settings (wrk), and prints: path, req/s, p50, p99, ratio to the baseline. Also start-up time and
RSS. `--smoke` runs everything for one second and writes nothing (CI uses it so that the command keeps working).
"""
import argparse
import json
import os
import platform
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SECRET_KEY = "sk_test_benchbenchbenchbenchbench0000"


def sh(cmd, **kw):
    print("+", " ".join(cmd), file=sys.stderr)
    subprocess.run(cmd, check=True, **kw)


def ensure_wrk():
    if shutil.which("wrk"):
        return
    if os.geteuid() == 0 and shutil.which("apt-get"):
        sh(["apt-get", "install", "-y", "-qq", "wrk"], stdout=subprocess.DEVNULL)
    if not shutil.which("wrk"):
        sys.exit("wrk is required (Debian package 'wrk'); install it and run again")


def target_dir(manifest_dir):
    """Cargo's target directory for the workspace at manifest_dir (honours CARGO_TARGET_DIR)."""
    out = subprocess.run(["cargo", "metadata", "--format-version", "1", "--no-deps"], cwd=manifest_dir, check=True,
                         capture_output=True, text=True).stdout
    return json.loads(out)["target_directory"]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http(method, url, body=None, token=None, timeout=10):
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(url, data=data, method=method)
    req.add_header("Content-Type", "application/json")
    if token:
        req.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, json.loads(r.read() or b"null")
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"null")


def wait_ready(url, proc, timeout=30.0):
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        if proc.poll() is not None:
            sys.exit(f"server exited early with {proc.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=1) as r:
                if r.status == 200:
                    return time.monotonic() - start
        except Exception:
            time.sleep(0.005)
    sys.exit(f"{url} not ready after {timeout}s")


def rss_mib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


# A wrk script whose every request carries a unique e-mail address (for creates): each wrk thread numbers its
# requests, and setup() gives each thread its own prefix.
UNIQUE_EMAIL_LUA = """
local threads = 0
function setup(thread)
  threads = threads + 1
  thread:set("tid", threads)
end
local n = 0
function request()
  n = n + 1
  local body = string.format('{"email_address":["bench-%d-%d-%d@example.com"]}', run, tid, n)
  return wrk.format(nil, nil, nil, body)
end
"""


def lua_script(directory, method, body, token, extra=""):
    path = os.path.join(directory, f"s{abs(hash((method, json.dumps(body), token, extra)))}.lua")
    lines = [f'wrk.method = "{method}"', 'wrk.headers["Content-Type"] = "application/json"']
    if token:
        lines.append(f'wrk.headers["Authorization"] = "Bearer {token}"')
    if body is not None:
        lines.append(f"wrk.body = {json.dumps(json.dumps(body))}")
    if extra:
        lines.append(f"run = {int(time.time() * 1000)}")
        lines.append(extra)
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")
    return path


def to_ms(text):
    m = re.match(r"([\d.]+)(us|ms|s)", text)
    value, unit = float(m.group(1)), m.group(2)
    return value / 1000 if unit == "us" else value * 1000 if unit == "s" else value


def run_wrk(url, script, args):
    out = subprocess.run(
        ["wrk", f"-t{args.threads}", f"-c{args.connections}", f"-d{args.duration}s", "--latency", "-s", script, url],
        check=True, capture_output=True, text=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    p50 = to_ms(re.search(r"\s50%\s+(\S+)", out).group(1))
    p99 = to_ms(re.search(r"\s99%\s+(\S+)", out).group(1))
    non2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    errors = int(non2xx.group(1)) if non2xx else 0
    return rps, p50, p99, errors


def seed_hot_paths(api):
    """Creates what the hot paths need through the API and returns them as (label, method, path, body, token,
    lua). A path whose set-up fails (an operation not implemented yet) is left out with a note."""
    paths = [("GET /v1/jwks", "GET", "/v1/jwks", None, SECRET_KEY, ""),
             ("GET /v1/instance", "GET", "/v1/instance", None, SECRET_KEY, "")]
    email = "bench-user@example.com"
    status, user = http("POST", f"{api}/v1/users", {"email_address": [email], "first_name": "Bench"}, SECRET_KEY)
    if status != 200:
        print(f"note: creating a user answered {status}; user paths skipped", file=sys.stderr)
        return paths
    uid = user["id"]
    paths += [
        ("GET /v1/users/{id}", "GET", f"/v1/users/{uid}", None, SECRET_KEY, ""),
        ("GET /v1/users?email_address= (lookup)", "GET", f"/v1/users?email_address={email}", None, SECRET_KEY, ""),
        ("GET /v1/users?limit=10 (list)", "GET", "/v1/users?limit=10", None, SECRET_KEY, ""),
        ("POST /v1/users (create, no password)", "POST", "/v1/users", {}, SECRET_KEY, UNIQUE_EMAIL_LUA),
    ]
    status, key = http("POST", f"{api}/v1/api_keys", {"name": "bench", "subject": uid}, SECRET_KEY)
    if status in (200, 201):
        paths.append(("POST /api_keys/verify", "POST", "/api_keys/verify", {"secret": key["secret"]}, SECRET_KEY, ""))
    status, machine = http("POST", f"{api}/v1/machines", {"name": "bench"}, SECRET_KEY)
    if status == 200:
        status, token = http("POST", f"{api}/m2m_tokens", {"token_format": "opaque"}, machine["secret_key"])
        if status == 201:
            paths.append(("POST /m2m_tokens/verify (opaque)", "POST", "/m2m_tokens/verify",
                          {"token": token["token"]}, SECRET_KEY, ""))
    status, session = http("POST", f"{api}/v1/sessions", {"user_id": uid}, SECRET_KEY)
    if status == 200:
        paths.append(("POST /v1/sessions/{id}/tokens (mint)", "POST", f"/v1/sessions/{session['id']}/tokens", {},
                      SECRET_KEY, ""))
    else:
        print(f"note: creating a session answered {status}; session-token minting skipped", file=sys.stderr)
    return paths


# The row generator `seq(n, lpad_n)` for bench/seed/users.sql: n = 1..count, lpad_n = n as 23 digits (ids are a
# prefix plus 27 characters).
SEQ_SQLITE = ("WITH RECURSIVE s(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM s WHERE n < :count), "
              "seq AS (SELECT n, printf('%023d', n) AS lpad_n FROM s) ")
SEQ_POSTGRES = ("WITH seq AS (SELECT n, lpad(n::text, 23, '0') AS lpad_n FROM generate_series(1, :count) AS n) ")


def seed_users(api, count, database_url, sqlite_path):
    """Inserts `count` users with one e-mail address each into the instance of SECRET_KEY."""
    status, instance = http("GET", f"{api}/v1/instance", None, SECRET_KEY)
    assert status == 200, f"GET /v1/instance answered {status}"
    now = int(time.time() * 1000) - count - 1000
    text = open(os.path.join(ROOT, "bench", "seed", "users.sql")).read()
    text = "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("--"))
    statements = text.split(";")
    statements = [st.strip() for st in statements if st.strip()]
    started = time.monotonic()
    if database_url:
        for st in statements:
            # The generator goes in front of each INSERT ... SELECT as a CTE.
            st = st[st.index("INSERT"):]
            head, select = st.split("SELECT", 1)
            sql = (head + SEQ_POSTGRES + "SELECT" + select).replace(":instance", f"'{instance['id']}'")
            sql = sql.replace(":count", str(count)).replace(":now", str(now))
            sh(["psql", "-q", "-v", "ON_ERROR_STOP=1", database_url, "-c", sql])
        sh(["psql", "-q", database_url, "-c", "ANALYZE users; ANALYZE identifications;"])
    else:
        import sqlite3
        db = sqlite3.connect(sqlite_path, timeout=60, isolation_level=None)
        db.execute("BEGIN IMMEDIATE")
        for st in statements:
            st = st[st.index("INSERT"):]
            head, select = st.split("SELECT", 1)
            db.execute(head + SEQ_SQLITE + "SELECT" + select, {"instance": instance["id"], "count": count, "now": now})
        db.execute("COMMIT")
        db.execute("ANALYZE")
        db.close()
    return time.monotonic() - started


def single_request_ms(url, token, samples):
    """Median and worst latency of `samples` sequential requests, in ms."""
    times = []
    for _ in range(samples):
        t = time.monotonic()
        # A substring count scans every user: allow it a minute rather than failing the run.
        status, _ = http("GET", url, None, token, timeout=60)
        times.append((time.monotonic() - t) * 1000)
        assert status == 200, f"{url} answered {status}"
    times.sort()
    return times[len(times) // 2], times[-1]


def rsa_sign_rate(seconds):
    """Bare RSA-2048 PKCS#1 v1.5 signatures per second on all cores (`openssl speed`): the ceiling for minting
    RS256 session tokens on this machine."""
    if not shutil.which("openssl"):
        return None
    out = subprocess.run(["openssl", "speed", "-seconds", str(seconds), "-multi", str(os.cpu_count() or 1), "rsa2048"],
                         capture_output=True, text=True).stdout
    m = re.search(r"rsa\s+2048 bits\s+\S+\s+\S+\s+([\d.]+)", out)
    return float(m.group(1)) if m else None


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--duration", type=int, default=10, help="seconds per path (default 10)")
    ap.add_argument("--connections", type=int, default=32)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--database-url", help="postgres://… to bench on PostgreSQL (default: fresh SQLite file)")
    ap.add_argument("--smoke", action="store_true", help="1 s per path, write nothing (CI)")
    ap.add_argument("--users", type=int, default=0,
                    help="also seed this many users (e.g. 1000000) and measure lookups and filtered counts among them")
    ap.add_argument("--out", default=os.path.join(ROOT, "bench", "RESULTS.md"))
    args = ap.parse_args()
    if args.smoke:
        args.duration = 1
    ensure_wrk()
    sh(["cargo", "build", "--release", "-q", "-p", "tessera"], cwd=ROOT)
    sh(["cargo", "build", "--release", "-q", "--manifest-path", os.path.join(ROOT, "bench/baseline/Cargo.toml")], cwd=ROOT)
    tessera_bin = os.path.join(target_dir(ROOT), "release", "tessera")
    baseline_bin = os.path.join(target_dir(os.path.join(ROOT, "bench", "baseline")), "release",
                                "tessera-bench-baseline")
    work = tempfile.mkdtemp(prefix="tessera-bench-")
    procs = []
    try:
        base_port, tess_port = free_port(), free_port()
        baseline = subprocess.Popen([baseline_bin, f"127.0.0.1:{base_port}"])
        procs.append(baseline)
        wait_ready(f"http://127.0.0.1:{base_port}/", baseline)

        env = dict(os.environ, TESSERA_SECRET_KEY=SECRET_KEY, TESSERA_LOG="warn")
        db_desc = "SQLite (file, WAL, synchronous=FULL)"
        if args.database_url:
            env["TESSERA_DATABASE_URL"] = args.database_url
            env.setdefault("TESSERA_MASTER_KEY", "11" * 32)
            db_desc = "PostgreSQL"
        else:
            env["TESSERA_DATABASE_URL"] = os.path.join(work, "bench.db")
        started = time.monotonic()
        tessera = subprocess.Popen([tessera_bin, "serve", "--addr", f"127.0.0.1:{tess_port}"], env=env,
                                   stdout=subprocess.DEVNULL)
        procs.append(tessera)
        api = f"http://127.0.0.1:{tess_port}"
        wait_ready(f"{api}/healthz", tessera)
        startup_ms = (time.monotonic() - started) * 1000
        idle_rss = rss_mib(tessera.pid)

        paths = seed_hot_paths(api)
        rows = []
        base_get = run_wrk(f"http://127.0.0.1:{base_port}/", lua_script(work, "GET", None, None), args)
        base_post = run_wrk(f"http://127.0.0.1:{base_port}/", lua_script(work, "POST", {"x": 1}, None), args)
        rows.append(("baseline GET / (hello world)", *base_get, 1.0))
        rows.append(("baseline POST / (hello world)", *base_post, 1.0))
        for label, method, path, body, token, lua in paths:
            # A probe request first: a path that does not answer 200 must not be timed as if it did.
            probe_body = {"email_address": ["bench-probe@example.com"]} if lua else body
            status, _ = http(method, api + path, probe_body, token)
            if status != 200:
                rows.append((label + f" (answered {status}, skipped)", 0, 0, 0, 0, 0))
                continue
            result = run_wrk(api + path, lua_script(work, method, body, token, lua), args)
            base = base_get if method == "GET" else base_post
            rows.append((label, *result, result[0] / base[0]))
        loaded_rss = rss_mib(tessera.pid)
        sign_rate = rsa_sign_rate(args.duration)

        seeded = []
        if args.users:
            seconds = seed_users(api, args.users, args.database_url, env["TESSERA_DATABASE_URL"])
            seeded.append(f"Seeded {args.users:,} users (one e-mail address each) in {seconds:.0f} s, straight into "
                          "the database.")
            probe = args.users // 2
            lookups = [
                ("GET /v1/users/{id}", f"/v1/users/user_seed{probe:023d}"),
                ("GET /v1/users?email_address= (lookup)", f"/v1/users?email_address=seed{probe}@bench.example"),
            ]
            for label, path in lookups:
                result = run_wrk(api + path, lua_script(work, "GET", None, SECRET_KEY), args)
                rows.append((f"{label} at {args.users:,} users", *result, result[0] / base_get[0]))
            counts = [
                ("users/count, no filter", "/v1/users/count"),
                ("users/count?email_address= (indexed)", f"/v1/users/count?email_address=seed{probe}@bench.example"),
                ("users/count?created_at_after= (range)", f"/v1/users/count?created_at_after={int(time.time() * 1000) - args.users // 2 - 1000}"),
                ("users/count?query= (substring, trigram index)", f"/v1/users/count?query=user{probe}"),
            ]
            seeded += ["", "| filtered count | median ms | worst ms |", "|---|---:|---:|"]
            for label, path in counts:
                samples = 3 if args.smoke or "query=" in path else 15
                median, worst = single_request_ms(api + path, SECRET_KEY, samples)
                seeded.append(f"| {label} | {median:.1f} | {worst:.1f} |")
    finally:
        for p in procs:
            p.terminate()
        for p in procs:
            p.wait(timeout=30)
        shutil.rmtree(work, ignore_errors=True)

    cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")
    rev = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True).stdout.strip()
    lines = [
        f"Machine: {os.cpu_count()} × {cpu}, {platform.system()} {platform.release()}; commit {rev}; "
        f"{time.strftime('%Y-%m-%d')}.",
        f"Load: wrk -t{args.threads} -c{args.connections} -d{args.duration}s, on the same machine as the servers "
        f"(no pinning). Database: {db_desc}.",
        "",
        "| path | req/s | p50 ms | p99 ms | non-2xx | ratio to baseline |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for label, rps, p50, p99, errors, ratio in rows:
        lines.append(f"| {label} | {rps:,.0f} | {p50:.2f} | {p99:.2f} | {errors} | {ratio:.2f}× |")
    mint = next((r for r in rows if r[0].startswith("POST /v1/sessions/") and r[1] > 0), None)
    if sign_rate:
        note = f"Bare RSA-2048 signing (`openssl speed rsa2048`, all cores): {sign_rate:,.0f} signatures/s"
        if mint:
            note += f"; session-token minting reaches {mint[1] / sign_rate:.2f}× of it"
        lines += ["", note + "."]
    lines += seeded and [""] + seeded
    lines += ["", f"Start-up to first 200 on an empty database: {startup_ms:.0f} ms (includes RSA key generation "
              f"for the first instance). RSS idle {idle_rss:.1f} MiB, after load {loaded_rss:.1f} MiB."]
    report = "\n".join(lines)
    print(report)
    bad = [r for r in rows if r[4] > 0]
    if bad:
        sys.exit(f"non-2xx responses under load: {[r[0] for r in bad]}")
    if not args.smoke:
        with open(args.out, "w") as f:
            f.write("# Benchmark results\n\nProduced by `bench/run`; ratios are req/s of the path divided by the "
                    "hello-world baseline's req/s in the same run.\n\n" + report + "\n")


if __name__ == "__main__":
    main()
