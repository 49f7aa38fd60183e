//! `nomen-txtests`: runs the HL7 terminology ecosystem test suite (`test-cases.json`) against
//! a running server, the way the reference runner (the Java validator's `-txtests`) does.
//!
//! For every test of every suite the run's modes select, it sends the test's request
//! Parameters with the suite's setup resources appended as `tx-resource` parameters and the
//! test's profile parameters appended after them, as a POST to the operation's endpoint,
//! with the test's `Accept-Language` and mode-specific header. It normalises the response
//! (`normalise`) and compares it with the expected one (`compare`), then checks the HTTP
//! status class. It prints one line per failure, a per-suite table, and `N passed, N failed`.
//!
//! `--known-failures FILE` turns the run into a ratchet for CI: it fails when a test outside
//! the list fails, and when a listed test passes (so the list only ever shrinks).

mod compare;
mod normalise;

use clap::Parser;
use serde_json::{json, Map, Value};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

#[derive(Parser)]
#[command(about = "Run the HL7 terminology ecosystem tests against a FHIR terminology server")]
struct Args {
    /// The server's FHIR base URL.
    #[arg(long, default_value = "http://127.0.0.1:8080/fhir")]
    server: String,
    /// The folder holding test-cases.json.
    #[arg(long, default_value = "tests/tx-ecosystem")]
    tests: PathBuf,
    /// Modes to run in, comma separated (general, tx.fhir.org, snomed, flat, ...).
    #[arg(long, default_value = "general", value_delimiter = ',')]
    modes: Vec<String>,
    /// Only tests whose name contains this.
    #[arg(long)]
    filter: Option<String>,
    /// Messages file for `$external:N$` (default: messages-tx.fhir.org.json in the tests folder).
    #[arg(long)]
    externals: Option<PathBuf>,
    /// Compare messages by their fragments only, without an externals file.
    #[arg(long)]
    no_externals: bool,
    /// Write expected/actual JSON of failing tests under this folder.
    #[arg(long)]
    output: Option<PathBuf>,
    /// Tests (`suite/test`, one per line, `#` comments) allowed to fail; any other failure,
    /// or a listed test that passes, makes the run exit 1.
    #[arg(long)]
    known_failures: Option<PathBuf>,
    /// Exit 1 on any failure.
    #[arg(long)]
    strict: bool,
    /// Write the failing tests (`suite/test`, one per line) to this file: the way to
    /// update a known-failures list after fixing tests.
    #[arg(long)]
    record_failures: Option<PathBuf>,
}

/// One test's result.
struct Outcome {
    suite: String,
    test: String,
    failure: Option<String>,
}

fn main() -> ExitCode {
    let args = Args::parse();
    match run(&args) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("nomen-txtests: {e}");
            ExitCode::from(2)
        }
    }
}

fn read_json(path: &Path) -> Result<Value, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    serde_json::from_str(text.trim_start_matches('\u{feff}'))
        .map_err(|e| format!("{}: {e}", path.display()))
}

fn run(args: &Args) -> Result<ExitCode, String> {
    let cases = read_json(&args.tests.join("test-cases.json"))?;
    let modes: BTreeSet<String> = args
        .modes
        .iter()
        .filter(|m| !m.is_empty())
        .cloned()
        .collect();
    let externals = if args.no_externals {
        None
    } else {
        let path = args
            .externals
            .clone()
            .unwrap_or_else(|| args.tests.join("messages-tx.fhir.org.json"));
        Some(read_json(&path)?)
    };
    let client = Client::new(&args.server);
    let fhir_version = client
        .get("metadata", None)
        .ok()
        .and_then(|(_, v)| v["fhirVersion"].as_str().map(str::to_string))
        .unwrap_or_else(|| "4.0.1".into());
    let started = Instant::now();
    let mut outcomes = Vec::new();
    let mut suite_modes = BTreeMap::new();
    for suite in cases["suites"].as_array().into_iter().flatten() {
        let name = suite["name"].as_str().unwrap_or_default().to_string();
        if !passes_modes(suite, &modes) || suite["disabled"] == true {
            continue;
        }
        suite_modes.insert(
            name.clone(),
            suite["mode"].as_str().unwrap_or("-").to_string(),
        );
        // A setup file the suite names but does not ship fails the suite's tests, not the run.
        let mut setup = Vec::new();
        let mut setup_error = None;
        for file in suite["setup"].as_array().into_iter().flatten() {
            match read_json(&args.tests.join(file.as_str().unwrap_or_default())) {
                Ok(resource) => setup.push(resource),
                Err(e) => setup_error = Some(format!("setup: {e}")),
            }
        }
        for test in suite["tests"].as_array().into_iter().flatten() {
            let test_name = test["name"].as_str().unwrap_or_default().to_string();
            if !passes_modes(test, &modes) || test["disabled"] == true {
                continue;
            }
            if args
                .filter
                .as_ref()
                .is_some_and(|f| !test_name.contains(f.as_str()))
            {
                continue;
            }
            let ctx = TestContext {
                args,
                modes: &modes,
                externals: externals.as_ref(),
                fhir_version: &fhir_version,
            };
            let failure = match (&setup_error, run_test(&client, &ctx, &setup, test)) {
                (Some(e), _) => Some(e.clone()),
                (None, Ok(failure)) => failure,
                (None, Err(e)) => Some(format!("error: {e}")),
            };
            if let Some(f) = &failure {
                println!(
                    "FAIL {name}/{test_name}: {}",
                    f.lines().next().unwrap_or_default()
                );
            }
            outcomes.push(Outcome {
                suite: name.clone(),
                test: test_name,
                failure,
            });
        }
    }
    Ok(report(args, &outcomes, &suite_modes, started))
}

fn passes_modes(item: &Value, modes: &BTreeSet<String>) -> bool {
    if let Some(list) = item["modes"].as_array() {
        if list
            .iter()
            .any(|m| m.as_str().is_some_and(|m| modes.contains(m)))
        {
            return true;
        }
    }
    match item["mode"].as_str() {
        Some(m) => modes.contains(m),
        None => true,
    }
}

struct TestContext<'a> {
    args: &'a Args,
    modes: &'a BTreeSet<String>,
    externals: Option<&'a Value>,
    fhir_version: &'a str,
}

/// The endpoint the reference client posts each kind of test to.
fn endpoint(operation: &str) -> Option<&'static str> {
    Some(match operation {
        "expand" => "ValueSet/$expand",
        "validate-code" => "ValueSet/$validate-code",
        "cs-validate-code" => "CodeSystem/$validate-code",
        "lookup" => "CodeSystem/$lookup",
        "translate" => "ConceptMap/$translate",
        "batch-validate" => "ValueSet/$batch-validate-code",
        "subsumes" => "CodeSystem/$subsumes",
        "related" => "ValueSet/$related",
        "compare" => "ValueSet/$compare",
        _ => return None,
    })
}

fn choose<'a>(test: &'a Value, name: &str, modes: &BTreeSet<String>) -> Option<&'a str> {
    modes
        .iter()
        .find_map(|m| test[format!("{name}:{m}")].as_str())
        .or_else(|| test[name].as_str())
}

fn run_test(
    client: &Client,
    ctx: &TestContext,
    setup: &[Value],
    test: &Value,
) -> Result<Option<String>, String> {
    let dir = &ctx.args.tests;
    let operation = test["operation"].as_str().unwrap_or_default();
    let response_file = choose(test, "response", ctx.modes).ok_or("test names no response")?;
    let mut expected = read_json(&dir.join(response_file))?;
    normalise::sort_expected(&mut expected);
    let language = test["Accept-Language"].as_str();
    let mut headers: Vec<(String, String)> = Vec::new();
    if let Some(l) = language {
        headers.push(("Accept-Language".into(), l.into()));
    }
    if let Some(h) = test["header"].as_object() {
        if h.get("mode")
            .and_then(Value::as_str)
            .is_some_and(|m| ctx.modes.contains(m))
        {
            headers.push((
                h["name"].as_str().unwrap_or_default().into(),
                h["value"].as_str().unwrap_or_default().into(),
            ));
        }
    }
    let (status, mut actual, pattern) = match operation {
        "metadata" => {
            let (s, v) = client.get("metadata", None)?;
            (s, v, true)
        }
        "term-caps" => {
            let (s, v) = client.get("metadata?mode=terminology", None)?;
            (s, v, true)
        }
        op => {
            let path = endpoint(op).ok_or_else(|| format!("unknown operation {op}"))?;
            let request_file = choose(test, "request", ctx.modes).ok_or("test names no request")?;
            let mut request = read_json(&dir.join(request_file))?;
            let profile = match test["profile"].as_str() {
                Some(p) => read_json(&dir.join(p))?,
                None => read_json(&dir.join("parameters-default.json"))?,
            };
            let params = request["parameter"]
                .as_array_mut()
                .ok_or("request is not a Parameters")?;
            for resource in setup {
                params.push(json!({"name": "tx-resource", "resource": resource}));
            }
            params.extend(profile["parameter"].as_array().cloned().unwrap_or_default());
            let (s, v) = client.post(path, &request, &headers)?;
            (s, v, false)
        }
    };
    normalise::normalise(&mut actual);
    let externals: Option<&Map<String, Value>> =
        ctx.externals.and_then(|e| e[response_file].as_object());
    let mut comparer = compare::Comparer {
        modes: ctx.modes,
        externals,
        fhir_version: ctx.fhir_version,
        pattern,
        warnings: Vec::new(),
    };
    let diff = comparer.compare(&expected, &actual);
    let code = test["http-code"].as_str().unwrap_or("2xx");
    let status_ok = match code {
        "2xx" | "3xx" | "4xx" | "5xx" => status / 100 == u16::from(code.as_bytes()[0] - b'0'),
        exact => exact.parse::<u16>().ok() == Some(status),
    };
    let failure = if !status_ok {
        Some(format!("response code should be {code} but is {status}"))
    } else {
        diff
    };
    if failure.is_some() {
        if let Some(out) = &ctx.args.output {
            write_pair(out, response_file, &expected, &actual)?;
        }
    }
    Ok(failure)
}

fn write_pair(out: &Path, file: &str, expected: &Value, actual: &Value) -> Result<(), String> {
    for (kind, value) in [("expected", expected), ("actual", actual)] {
        let path = out.join(kind).join(file);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(|e| e.to_string())?;
        }
        let text = serde_json::to_string_pretty(value).map_err(|e| e.to_string())?;
        std::fs::write(&path, text).map_err(|e| format!("{}: {e}", path.display()))?;
    }
    Ok(())
}

fn report(
    args: &Args,
    outcomes: &[Outcome],
    suite_modes: &BTreeMap<String, String>,
    started: Instant,
) -> ExitCode {
    let mut per_suite: Vec<(String, usize, usize)> = Vec::new();
    for o in outcomes {
        match per_suite.iter_mut().find(|(s, _, _)| *s == o.suite) {
            Some(row) => {
                if o.failure.is_some() {
                    row.2 += 1
                } else {
                    row.1 += 1
                }
            }
            None => per_suite.push((
                o.suite.clone(),
                usize::from(o.failure.is_none()),
                usize::from(o.failure.is_some()),
            )),
        }
    }
    println!();
    println!("| suite | mode | passed | failed |");
    println!("|---|---|---:|---:|");
    for (suite, pass, fail) in &per_suite {
        let mode = suite_modes.get(suite).map(String::as_str).unwrap_or("-");
        println!("| {suite} | {mode} | {pass} | {fail} |");
    }
    let failed = outcomes.iter().filter(|o| o.failure.is_some()).count();
    let passed = outcomes.len() - failed;
    println!();
    println!(
        "modes {}, {:.1} s",
        args.modes.join("+"),
        started.elapsed().as_secs_f64()
    );
    println!("{passed} passed, {failed} failed");
    if let Some(path) = &args.record_failures {
        let mut text = String::from(
            "# Tests of the HL7 terminology ecosystem suite Nomen does not pass, one `suite/test`\n# per line; README.md (Conformance) says why for each. CI fails when a test outside\n# this list fails, or a listed test passes: regenerate with scripts/conformance.sh --record.\n",
        );
        for o in outcomes.iter().filter(|o| o.failure.is_some()) {
            text.push_str(&format!("{}/{}\n", o.suite, o.test));
        }
        if let Err(e) = std::fs::write(path, text) {
            eprintln!("nomen-txtests: {}: {e}", path.display());
            return ExitCode::from(2);
        }
    }
    if let Some(path) = &args.known_failures {
        let known: BTreeSet<String> = std::fs::read_to_string(path)
            .unwrap_or_default()
            .lines()
            .map(|l| l.split('#').next().unwrap_or_default().trim().to_string())
            .filter(|l| !l.is_empty())
            .collect();
        let mut bad = false;
        for o in outcomes {
            let id = format!("{}/{}", o.suite, o.test);
            match (&o.failure, known.contains(&id)) {
                (Some(_), false) => {
                    println!("REGRESSION {id} fails and is not a known failure");
                    bad = true;
                }
                (None, true) => {
                    println!("FIXED {id} passes: remove it from {}", path.display());
                    bad = true;
                }
                _ => {}
            }
        }
        return if bad {
            ExitCode::FAILURE
        } else {
            ExitCode::SUCCESS
        };
    }
    if args.strict && failed > 0 {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}

/// A small blocking HTTP client that treats every status as an answer.
struct Client {
    base: String,
    agent: ureq::Agent,
}

impl Client {
    fn new(base: &str) -> Self {
        let agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(std::time::Duration::from_secs(120)))
            .build()
            .into();
        Client {
            base: base.trim_end_matches('/').to_string(),
            agent,
        }
    }

    fn get(&self, path: &str, language: Option<&str>) -> Result<(u16, Value), String> {
        let mut req = self
            .agent
            .get(format!("{}/{path}", self.base))
            .header("Accept", "application/fhir+json");
        if let Some(l) = language {
            req = req.header("Accept-Language", l);
        }
        Self::answer(req.call())
    }

    fn post(
        &self,
        path: &str,
        body: &Value,
        headers: &[(String, String)],
    ) -> Result<(u16, Value), String> {
        let mut req = self
            .agent
            .post(format!("{}/{path}", self.base))
            .header("Accept", "application/fhir+json")
            .header("Content-Type", "application/fhir+json");
        for (k, v) in headers {
            req = req.header(k, v);
        }
        let body = serde_json::to_vec(body).map_err(|e| e.to_string())?;
        Self::answer(req.send(&body[..]))
    }

    fn answer(
        r: Result<ureq::http::Response<ureq::Body>, ureq::Error>,
    ) -> Result<(u16, Value), String> {
        let mut r = r.map_err(|e| format!("HTTP: {e}"))?;
        let status = r.status().as_u16();
        let text = r
            .body_mut()
            .with_config()
            .limit(256 * 1024 * 1024)
            .read_to_string()
            .map_err(|e| format!("body: {e}"))?;
        let value = serde_json::from_str(&text).map_err(|e| {
            format!(
                "status {status}, body is not JSON ({e}): {}",
                text.chars().take(200).collect::<String>()
            )
        })?;
        Ok((status, value))
    }
}
