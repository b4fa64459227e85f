//! Spec fuzzing: schemathesis (pinned in `tests/fuzz/requirements.txt`, installed into `target/fuzz-env/`) generates
//! positive and negative requests from Clerk's official spec for every operation the running `tessera serve` routes,
//! with the secret key. Gate: no 5xx and no response that breaks the schema the spec declares for its status
//! (statuses the spec does not declare — the deliberate deviations in `tessera_spec_check::DEVIATIONS`, and
//! universal errors — are not schema-checked by schemathesis; the in-process suite checks those).
//!
//! Bounded for CI (a few examples per operation); a full run is
//! `TESSERA_FUZZ_EXAMPLES=200 TESSERA_FUZZ_PHASES=examples,coverage,fuzzing,stateful cargo test -p tessera --test fuzz -- --nocapture`.
//! No network for the install means a failing test, never a skipped one.

mod common;

use std::fs::{File, OpenOptions};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use common::{BIN, ServeOptions, Server, TestDb, http, run_with_timeout};
use tessera_api::operations::SPEC_OPERATIONS;

const KEY: &str = "sk_test_TesseraFuzzSuiteDevelopmentKey00001";
const INSTALL_TIMEOUT: Duration = Duration::from_secs(600);
/// Generous for two busy cores; the bounded run takes about a minute.
const RUN_TIMEOUT: Duration = Duration::from_secs(900);

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").canonicalize().expect("repository root")
}

/// `target/fuzz-env/venv/bin/st`, installed as pinned (a file lock keeps parallel runs from installing at once).
fn schemathesis() -> PathBuf {
    let env_dir = Path::new(BIN).parent().and_then(Path::parent).expect("target dir").join("fuzz-env");
    std::fs::create_dir_all(&env_dir).expect("create target/fuzz-env");
    let lock: File =
        OpenOptions::new().create(true).truncate(false).write(true).open(env_dir.join(".lock")).expect("lock file");
    lock.lock().expect("lock target/fuzz-env");
    let venv = env_dir.join("venv");
    let st = venv.join("bin").join("st");
    let requirements = repo_root().join("tests/fuzz/requirements.txt");
    let wanted = std::fs::read_to_string(&requirements).expect("tests/fuzz/requirements.txt");
    let stamp = venv.join("tessera-requirements.txt");
    if !(st.exists() && std::fs::read_to_string(&stamp).is_ok_and(|s| s == wanted)) {
        if venv.exists() {
            std::fs::remove_dir_all(&venv).expect("remove the stale venv");
        }
        let mut venv_cmd = Command::new("python3");
        venv_cmd.arg("-m").arg("venv").arg(&venv);
        let mut pip = Command::new(venv.join("bin").join("python"));
        pip.args(["-m", "pip", "install", "--no-input", "-q", "-r"]).arg(&requirements);
        for (what, cmd) in [("python3 -m venv", venv_cmd), ("pip install schemathesis", pip)] {
            let mut cmd = cmd;
            cmd.env("PIP_DISABLE_PIP_VERSION_CHECK", "1");
            let out = run_with_timeout(cmd, INSTALL_TIMEOUT);
            assert!(
                out.status.success(),
                "fuzz set-up failed: {what} (needs PyPI)\n{}\n{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
        }
        std::fs::write(&stamp, wanted).expect("write the venv stamp");
    }
    let _ = lock.unlock();
    st
}

/// The operationIds of the fuzzed spec (2025-11-10) the server routes: an unrouted operation answers
/// `operation_not_implemented` whatever its ids. Operations a later version added are not in that spec.
fn routed_operations(server: &Server) -> Vec<&'static str> {
    let client = http();
    SPEC_OPERATIONS
        .iter()
        .filter(|op| op.since == "2025-11-10")
        .filter(|op| {
            let path: Vec<String> = op
                .path
                .split('/')
                .map(|s| if s.starts_with('{') { "probe_id".to_owned() } else { s.to_owned() })
                .collect();
            let method = reqwest::Method::from_bytes(op.method.as_bytes()).expect("method");
            let res = client.request(method, server.at(&format!("/v1{}", path.join("/")))).bearer_auth(KEY).send();
            let body = res.and_then(reqwest::blocking::Response::text).expect("probe");
            !body.contains("\"operation_not_implemented\"")
        })
        .map(|op| op.operation_id)
        .collect()
}

#[test]
fn schemathesis_finds_no_server_error_and_no_schema_violation() {
    let st = schemathesis();
    let db = TestDb::fresh_or_memory();
    let server = Server::start_with(ServeOptions::new(&db).secret_key(KEY));
    let routed = routed_operations(&server);
    assert!(routed.len() > 10, "only {} routed operations found", routed.len());
    let examples = std::env::var("TESSERA_FUZZ_EXAMPLES").unwrap_or_else(|_| "10".into());
    let phases = std::env::var("TESSERA_FUZZ_PHASES").unwrap_or_else(|_| "examples,coverage,fuzzing".into());
    let work = tempfile::tempdir().expect("temp dir");

    // `paginated=true` turns the bare-array lists into `{data, total_count}`: a rule of the SDKs that the spec
    // does not express (the in-process validator checks it). Schemathesis gets the spec without that parameter.
    let spec = std::fs::read_to_string(repo_root().join("spec/clerk-bapi-2025-11-10.yml")).expect("spec");
    let spec: String = spec
        .lines()
        .filter(|line| line.trim() != "- $ref: '#/components/parameters/Paginated'")
        .map(|line| format!("{line}\n"))
        .collect();
    let spec_path = work.path().join("clerk-bapi-without-paginated.yml");
    std::fs::write(&spec_path, spec).expect("write the fuzzed spec");

    // `tests/fuzz/st.py` is schemathesis's `st` with a warm-up against a CPython 3.11 parser crash (see the file).
    let python = st.parent().expect("venv bin").join("python");
    let mut cmd = Command::new(&python);
    cmd.arg(repo_root().join("tests/fuzz/st.py"))
        .arg("run")
        .arg(&spec_path)
        .args(["--url", &server.at("/v1")])
        .args(["--header", &format!("Authorization: Bearer {KEY}")])
        .args(["--checks", "not_a_server_error,response_schema_conformance"])
        .args(["--mode", "all", "--max-examples", &examples, "--phases", &phases])
        .args(["--seed", "20251110", "--workers", "2", "--request-timeout", "30", "--no-color"])
        .current_dir(work.path())
        .env("NO_PROXY", "127.0.0.1,localhost")
        .env("no_proxy", "127.0.0.1,localhost")
        .env("SCHEMATHESIS_TELEMETRY", "false");
    for id in &routed {
        cmd.args(["--include-operation-id", id]);
    }
    let mut retry = Command::new(cmd.get_program());
    retry.args(cmd.get_args()).current_dir(work.path());
    for (k, v) in cmd.get_envs() {
        if let Some(v) = v {
            retry.env(k, v);
        }
    }
    let mut out = run_with_timeout(cmd, RUN_TIMEOUT);
    // Schemathesis itself occasionally crashes inside Python ("Runtime Error", e.g. an AST recursion SystemError)
    // without any finding about the server; one retry with the same seed tells a tool crash from a real failure.
    let tool_crash = |o: &std::process::Output| {
        let text = String::from_utf8_lossy(&o.stdout);
        !o.status.success() && text.contains("Runtime Error") && !text.contains("= FAILURES =")
    };
    if tool_crash(&out) {
        out = run_with_timeout(retry, RUN_TIMEOUT);
    }
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    let tail: String =
        stdout.lines().rev().take(40).collect::<Vec<_>>().into_iter().rev().collect::<Vec<_>>().join("\n");
    println!("{tail}");
    assert!(
        out.status.success(),
        "schemathesis found problems (exit {:?})\n--- stdout\n{stdout}\n--- stderr\n{stderr}\n--- server log (tail)\n{}",
        out.status,
        server.stderr().lines().rev().take(60).collect::<Vec<_>>().join("\n")
    );
    let tested = format!("Tested: {}", routed.len());
    assert!(stdout.contains(&tested), "every routed operation was fuzzed ({tested} expected):\n{tail}");
}
