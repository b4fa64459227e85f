#!/usr/bin/env python3
"""Instructions per request of Tessera's hot paths, under valgrind's callgrind: repeatable on a loaded machine,
where wall-clock figures are not.

Seeds users on a SQLite file through the API with the server running natively (fast), restarts it under
`valgrind --tool=callgrind`, then for each path zeroes the counters, sends N requests over one keep-alive
connection, dumps and reads the instruction count (every thread of the server: the async workers
and SQLite's connection threads alike). Prints instructions per request per path; `--keep DIR` keeps one
callgrind.out per path for `callgrind_annotate`.

Usage: bench/callgrind.py [--binary target/release/tessera] [--paths user,list,email,create,apikey,m2m,jwks]
                          [--requests 200] [--users 1000] [--database-url …] [--keep DIR]
"""
import argparse
import glob
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import importlib.util  # noqa: E402

_spec = importlib.util.spec_from_file_location("benchrun", os.path.join(os.path.dirname(__file__), "run.py"))
run = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(run)

PATHS = ["user", "list", "email", "jwks", "apikey", "m2m", "mint", "create"]


def ctl(pid, *args):
    subprocess.run(["callgrind_control", *args, str(pid)], check=True, capture_output=True)


def total_ir(out_dir, before):
    """Sum of `summary:`/`totals:` Ir over dump files created since `before` (one per thread)."""
    total = 0
    for f in glob.glob(os.path.join(out_dir, "callgrind.out*")):
        if f in before:
            continue
        with open(f) as fh:
            for line in fh:
                m = re.match(r"(?:summary|totals):\s+(\d+)", line)
                if m:
                    total += int(m.group(1))
                    break
    return total


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--binary")
    ap.add_argument("--paths", default=",".join(PATHS))
    ap.add_argument("--requests", type=int, default=200)
    ap.add_argument("--users", type=int, default=1000)
    ap.add_argument("--database-url", help="PostgreSQL instead of a fresh SQLite file (the database is reused)")
    ap.add_argument("--keep", help="directory for one callgrind output per path")
    args = ap.parse_args()
    binary = args.binary or os.path.join(run.target_dir(run.ROOT), "release", "tessera")
    work = tempfile.mkdtemp(prefix="tessera-cg-")
    db_url = args.database_url or os.path.join(work, "bench.db")
    port = run.free_port()
    base = f"http://127.0.0.1:{port}"
    env = dict(os.environ, TESSERA_SECRET_KEY=run.SECRET_KEY, TESSERA_MASTER_KEY=run.MASTER_KEY, TESSERA_LOG="error",
               TESSERA_DATABASE_URL=db_url)
    cmd = [binary, "serve", "--addr", f"127.0.0.1:{port}"]
    proc, _ = run.spawn(cmd, env, "/v1/users?limit=1", base)
    server = run.Server("tessera", base, proc, 0, "", 0)
    c = run.Client(base)
    ids, emails = [], []
    for n in range(args.users):
        email = f"seed-{n}@bench.example"
        status, user = c.call("POST", "/v1/users", {"email_address": [email], "first_name": "Seed", "last_name": f"U{n}"})
        assert status == 200, (status, user)
        ids.append(user["id"])
        emails.append(email)
    c.close()
    paths = run.hot_paths(server, ids, emails)
    server.stop()

    out_dir = os.path.join(work, "cg")
    os.makedirs(out_dir)
    vg = ["valgrind", "--tool=callgrind", "--dump-instr=no",
          f"--callgrind-out-file={out_dir}/callgrind.out.%p", *cmd]
    proc, _ = run.spawn(vg, env, "/v1/users?limit=1", base)
    time.sleep(1)
    results = {}
    try:
        for key in args.paths.split(","):
            spec = paths.get(key)
            if not isinstance(spec, tuple):
                print(f"{key}: {spec}")
                continue
            method, path, body, token, lua = spec
            c = run.Client(base, token)
            # Warm-up (statement caches, first-use allocations) outside the measurement.
            for i in range(10):
                b = {"email_address": [f"warm-{key}-{i}@bench.example"]} if key == "create" else body
                c.call(method, path, b)
            before = set(glob.glob(os.path.join(out_dir, "callgrind.out*")))
            ctl(proc.pid, "-z")
            for i in range(args.requests):
                b = {"email_address": [f"cg-{key}-{i}-{time.time_ns()}@bench.example"]} if key == "create" else body
                status, answer = c.call(method, path, b)
                assert status == 200, (key, status, answer)
            ctl(proc.pid, "-d", key)
            time.sleep(0.5)
            ir = total_ir(out_dir, before)
            results[key] = ir / args.requests
            print(f"{key:8} {ir / args.requests:12,.0f} Ir/request", flush=True)
            if args.keep:
                os.makedirs(args.keep, exist_ok=True)
                for f in set(glob.glob(os.path.join(out_dir, "callgrind.out*"))) - before:
                    shutil.copy(f, os.path.join(args.keep, f"{key}.{os.path.basename(f)}"))
            c.close()
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
        shutil.rmtree(work, ignore_errors=True)
    print(json.dumps(results))


if __name__ == "__main__":
    main()
