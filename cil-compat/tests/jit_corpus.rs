//! The JIT conformance corpus (`jit/tests/corpus`, `jit/tests/il`,
//! `jit/tests/thirdparty`, `jit/tests/corpus/bench`) run through our JIT with
//! `cilrun ASSEMBLY --lib DIR --invoke-all '*'` and, where `mono` is installed, through
//! mono with `jit/tests/mono-runner/Runner.cs` (ECMA-335 Partition III semantics; the
//! output and expectation formats are in `jit/tests/corpus/README.md`).
//!
//! Every assembly is compiled against our corlib with `cil_compat::toolchain`; the very
//! same DLL runs under both runtimes. One test per instruction family, so a failure
//! names the family and prints a table of the methods whose result differs.
//! The JIT tests fail if `cilrun` does not offer `--invoke-all`.
//!
//! Run: `cargo test -p cil-compat --features std --test jit_corpus`.
#![cfg(feature = "std")]

use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use cil_compat::toolchain::{self, CsOptions, Target};

#[path = "../../jit/tests/corpus/bench/native.rs"]
mod native;
#[path = "jit_corpus/random_math.rs"]
mod random_math;

/// `Ns.Type::Method` → `= value` or `! kind`.
type Outcomes = BTreeMap<String, String>;

/// How long one runtime may take over one assembly before it is killed.
const RUN_TIMEOUT: Duration = Duration::from_secs(300);

/// JIT results known to differ today, each with the reason. They are printed but do
/// not fail the tests (set `JIT_CORPUS_STRICT=1` to make them fail); an entry whose
/// method starts passing fails the test, so the list only ever shrinks.
const KNOWN_GAPS: &[(&str, &str)] = &[];

fn known_gap(method: &str) -> Option<&'static str> {
    if std::env::var_os("JIT_CORPUS_STRICT").is_some_and(|v| v == "1") {
        return None;
    }
    KNOWN_GAPS
        .iter()
        .find(|(m, _)| *m == method)
        .map(|(_, r)| *r)
}

/// `jit/tests/mono-runner/mono-known-bugs.txt`: methods mono gets wrong (method →
/// reason). Comparisons against mono skip them and say so.
fn mono_known_bugs() -> &'static BTreeMap<String, String> {
    static K: OnceLock<BTreeMap<String, String>> = OnceLock::new();
    K.get_or_init(|| {
        let p = jit_tests_dir()
            .join("mono-runner")
            .join("mono-known-bugs.txt");
        read(&p)
            .lines()
            .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
            .map(|l| match l.split_once(' ') {
                Some((m, r)) => (m.to_string(), r.trim().to_string()),
                None => (l.trim().to_string(), String::new()),
            })
            .collect()
    })
}

fn jit_tests_dir() -> PathBuf {
    toolchain::workspace_root().join("jit").join("tests")
}

// ---------------------------------------------------------------------------
// Expectations
// ---------------------------------------------------------------------------

/// The string literal at the start of `s` (after the opening quote); no escapes.
fn literal(s: &str) -> Result<&str, String> {
    let end = s.find('"').ok_or("unterminated string")?;
    let v = &s[..end];
    if v.contains('\\') {
        return Err(format!("escapes are not allowed in expectations: {v:?}"));
    }
    Ok(v)
}

/// The method name in a C# declaration line: the identifier before the first `(`
/// after `static`.
fn cs_method_name(text: &str) -> Option<&str> {
    let after = &text[text.find("static ")? + 7..];
    let head = &after[..after.find('(')?];
    head.split_whitespace().last()
}

/// The class name if `line` declares a `static class` (any modifier order).
fn cs_static_class(line: &str) -> Option<String> {
    let toks: Vec<&str> = line.split_whitespace().collect();
    let k = toks.iter().position(|t| *t == "class")?;
    if !toks[..k].contains(&"static") {
        return None;
    }
    let name = toks.get(k + 1)?;
    Some(name.trim_end_matches(['{', ':']).to_string())
}

/// Reads `[Expect("v")]` / `[ExpectError("k")]` from a corpus C# file: each belongs
/// to the next `static … Name(` in the nearest preceding `static class`.
fn parse_cs_expectations(src: &str, file: &str) -> Result<Outcomes, String> {
    let mut out = Outcomes::new();
    let mut namespace = String::new();
    let mut class: Option<String> = None;
    let mut pending: Option<(String, usize)> = None;
    for (n, line) in src.lines().enumerate() {
        let t = line.trim_start();
        if t.starts_with("//") {
            continue;
        }
        if let Some(ns) = t.strip_prefix("namespace ") {
            namespace = ns.trim().trim_end_matches('{').trim().to_string();
        }
        if let Some(c) = cs_static_class(t) {
            class = Some(c);
        }
        let mut rest = t;
        for (tag, sign) in [("[Expect(\"", "="), ("[ExpectError(\"", "!")] {
            if let Some(i) = t.find(tag) {
                if let Some((_, l)) = &pending {
                    return Err(format!(
                        "{file}:{}: two expectations in a row (first at line {l})",
                        n + 1
                    ));
                }
                let v =
                    literal(&t[i + tag.len()..]).map_err(|e| format!("{file}:{}: {e}", n + 1))?;
                pending = Some((format!("{sign} {v}"), n + 1));
                rest = &t[i + tag.len() + v.len()..];
            }
        }
        if let Some((want, at)) = pending.take() {
            match cs_method_name(rest) {
                Some(name) => {
                    let c = class.as_ref().ok_or_else(|| {
                        format!("{file}:{at}: expectation outside a static class")
                    })?;
                    let key = if namespace.is_empty() {
                        format!("{c}::{name}")
                    } else {
                        format!("{namespace}.{c}::{name}")
                    };
                    if out.insert(key.clone(), want).is_some() {
                        return Err(format!("{file}:{}: {key} has two expectations", n + 1));
                    }
                }
                None => pending = Some((want, at)),
            }
        }
    }
    match pending {
        Some((_, at)) => Err(format!("{file}:{at}: expectation without a method")),
        None => Ok(out),
    }
}

/// Reads `// expect: = v` / `// expect: ! k` lines of an IL file: each belongs to the
/// next `.method`, in the class of the nearest preceding `.class … Name extends`.
fn parse_il_expectations(src: &str, file: &str) -> Result<Outcomes, String> {
    let mut out = Outcomes::new();
    let mut class: Option<String> = None;
    let mut pending: Option<(String, usize)> = None;
    for (n, line) in src.lines().enumerate() {
        let t = line.trim();
        if t.starts_with(".class ") {
            let toks: Vec<&str> = t.split_whitespace().collect();
            class = toks
                .iter()
                .position(|x| *x == "extends")
                .and_then(|k| k.checked_sub(1))
                .map(|k| toks[k].to_string());
        } else if let Some(e) = t.strip_prefix("// expect:") {
            let e = e.trim();
            if !(e.starts_with("= ") || e.starts_with("! ")) {
                return Err(format!(
                    "{file}:{}: expectation must be `= v` or `! kind`",
                    n + 1
                ));
            }
            pending = Some((e.to_string(), n + 1));
        } else if t.starts_with(".method ") {
            if let Some((want, at)) = pending.take() {
                let name = t[..t
                    .find('(')
                    .ok_or_else(|| format!("{file}:{}: no `(`", n + 1))?]
                    .split_whitespace()
                    .last()
                    .unwrap_or_default();
                let c = class
                    .as_ref()
                    .ok_or_else(|| format!("{file}:{at}: outside a class"))?;
                if out.insert(format!("{c}::{name}"), want).is_some() {
                    return Err(format!(
                        "{file}:{}: {c}::{name} has two expectations",
                        n + 1
                    ));
                }
            }
        }
    }
    match pending {
        Some((_, at)) => Err(format!("{file}:{at}: expectation without a method")),
        None => Ok(out),
    }
}

/// Third-party programs: every `test_N_name` method must return N.
fn parse_test_n_expectations(src: &str, il: bool) -> Outcomes {
    let mut out = Outcomes::new();
    let mut class = String::new();
    for line in src.lines() {
        let t = line.trim();
        let toks: Vec<&str> = t.split_whitespace().collect();
        if il && t.starts_with(".class ") {
            if let Some(k) = toks.iter().position(|x| *x == "extends") {
                class = toks[k.saturating_sub(1)].to_string();
            }
        } else if !il {
            if let Some(k) = toks.iter().position(|x| *x == "class") {
                if let Some(c) = toks.get(k + 1) {
                    class = c.trim_end_matches(['{', ':']).to_string();
                }
            }
        }
        let Some(i) = t.find("test_") else { continue };
        let is_decl = if il {
            t.starts_with(".method ")
        } else {
            // `static <type> test_…(`: nothing but modifiers and a type in between.
            t.find("static ")
                .is_some_and(|s| s < i && !t[s..i].contains(['(', '{', '=']))
        };
        if !is_decl || !t[i..].contains('(') {
            continue;
        }
        let name = &t[i..i + t[i..].find('(').unwrap_or(0)];
        let mut parts = name.splitn(3, '_');
        let (Some(_), Some(n)) = (parts.next(), parts.next()) else {
            continue;
        };
        if n.parse::<i64>().is_ok() {
            out.insert(format!("{class}::{name}"), format!("= {n}"));
        }
    }
    out
}

fn read(p: &Path) -> String {
    std::fs::read_to_string(p).unwrap_or_else(|e| panic!("read {}: {e}", p.display()))
}

// ---------------------------------------------------------------------------
// Building the assemblies (once per test process)
// ---------------------------------------------------------------------------

/// One compiled test assembly with its expectations.
struct Suite {
    dll: PathBuf,
    expect: Outcomes,
}

/// The C# corpus: one assembly, expectations per file (family = file stem).
struct Corpus {
    suite: Suite,
    families: BTreeMap<String, Outcomes>,
}

fn build_corpus() -> Result<Corpus, String> {
    let dir = jit_tests_dir().join("corpus");
    let sources = toolchain::cs_files(&dir).map_err(|e| e.to_string())?;
    let dll = toolchain::build_library("jit_corpus", &sources, &[]).map_err(|e| e.to_string())?;
    let mut families = BTreeMap::new();
    let mut all = Outcomes::new();
    for s in &sources {
        let stem = s
            .file_stem()
            .and_then(|x| x.to_str())
            .unwrap_or_default()
            .to_string();
        let e = parse_cs_expectations(&read(s), &stem)?;
        if !e.is_empty() {
            all.extend(e.iter().map(|(k, v)| (k.clone(), v.clone())));
            families.insert(stem, e);
        }
    }
    Ok(Corpus {
        suite: Suite { dll, expect: all },
        families,
    })
}

fn corpus() -> &'static Corpus {
    static C: OnceLock<Result<Corpus, String>> = OnceLock::new();
    C.get_or_init(build_corpus)
        .as_ref()
        .unwrap_or_else(|e| panic!("building the corpus: {e}"))
}

fn build_il_suite(stem: &str) -> Result<Suite, String> {
    let il = jit_tests_dir().join("il").join(format!("{stem}.il"));
    let dll = toolchain::build_il(&format!("jit_il_{stem}"), &il).map_err(|e| e.to_string())?;
    let expect = parse_il_expectations(&read(&il), stem)?;
    Ok(Suite { dll, expect })
}

/// The IL files, each its own assembly.
fn il_suite(stem: &str) -> &'static Suite {
    static S: OnceLock<BTreeMap<String, Result<Suite, String>>> = OnceLock::new();
    let all = S.get_or_init(|| {
        IL_FILES
            .iter()
            .map(|s| (s.to_string(), build_il_suite(s)))
            .collect()
    });
    match all.get(stem) {
        Some(Ok(s)) => s,
        Some(Err(e)) => panic!("building {stem}.il: {e}"),
        None => panic!("{stem}.il is not listed in IL_FILES"),
    }
}

fn build_thirdparty() -> Result<Vec<Suite>, String> {
    let dir = jit_tests_dir().join("thirdparty");
    let mut v = Vec::new();
    for cs in toolchain::cs_files(&dir).map_err(|e| e.to_string())? {
        let stem = cs.file_stem().and_then(|x| x.to_str()).unwrap_or_default();
        let dll = toolchain::build_library(
            &format!("thirdparty_{stem}"),
            std::slice::from_ref(&cs),
            &[],
        )
        .map_err(|e| e.to_string())?;
        v.push(Suite {
            dll,
            expect: parse_test_n_expectations(&read(&cs), false),
        });
    }
    let il = dir.join("il_tests.il");
    let dll = toolchain::build_il("thirdparty_il_tests", &il).map_err(|e| e.to_string())?;
    v.push(Suite {
        dll,
        expect: parse_test_n_expectations(&read(&il), true),
    });
    Ok(v)
}

fn thirdparty() -> &'static [Suite] {
    static T: OnceLock<Result<Vec<Suite>, String>> = OnceLock::new();
    T.get_or_init(build_thirdparty)
        .as_ref()
        .unwrap_or_else(|e| panic!("building thirdparty programs: {e}"))
}

/// `thirdparty/beyond/beyond.cs`: test_N programs partly outside the scope.
fn beyond() -> &'static Suite {
    static B: OnceLock<Result<Suite, String>> = OnceLock::new();
    B.get_or_init(|| {
        let src = jit_tests_dir()
            .join("thirdparty")
            .join("beyond")
            .join("beyond.cs");
        let dll = toolchain::build_library("thirdparty_beyond", std::slice::from_ref(&src), &[])
            .map_err(|e| e.to_string())?;
        Ok(Suite {
            dll,
            expect: parse_test_n_expectations(&read(&src), false),
        })
    })
    .as_ref()
    .unwrap_or_else(|e| panic!("building beyond.cs: {e}"))
}

fn bench_dll() -> &'static Path {
    static B: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    B.get_or_init(|| {
        let src = jit_tests_dir()
            .join("corpus")
            .join("bench")
            .join("Bench.cs");
        toolchain::build_library("jit_bench", &[src], &[]).map_err(|e| e.to_string())
    })
    .as_ref()
    .unwrap_or_else(|e| panic!("building Bench.cs: {e}"))
}

// ---------------------------------------------------------------------------
// Running cilrun and mono
// ---------------------------------------------------------------------------

/// What one runtime printed for one assembly.
struct Run {
    results: Outcomes,
    /// Exit status and stderr tail, shown when methods are missing.
    note: String,
}

fn run_with_timeout(mut cmd: Command) -> Result<Run, String> {
    let shown = format!("{cmd:?}");
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot start {shown}: {e}"))?;
    let mut so = child.stdout.take().ok_or("no stdout pipe")?;
    let mut se = child.stderr.take().ok_or("no stderr pipe")?;
    let t_out = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = so.read_to_string(&mut s);
        s
    });
    let t_err = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = se.read_to_string(&mut s);
        s
    });
    let start = Instant::now();
    let status = loop {
        if let Some(st) = child.try_wait().map_err(|e| e.to_string())? {
            break format!("{st}");
        }
        if start.elapsed() > RUN_TIMEOUT {
            let _ = child.kill();
            let _ = child.wait();
            break format!("killed after {} s", RUN_TIMEOUT.as_secs());
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let stdout = t_out.join().unwrap_or_default();
    let stderr = t_err.join().unwrap_or_default();
    let mut results = Outcomes::new();
    for line in stdout.lines() {
        let split = line.find(" = ").or_else(|| line.find(" ! "));
        if let Some(i) = split {
            results.insert(line[..i].to_string(), line[i + 1..].to_string());
        }
    }
    let tail: Vec<&str> = stderr.lines().rev().take(8).collect();
    let tail: Vec<&str> = tail.into_iter().rev().collect();
    Ok(Run {
        results,
        note: format!(
            "{shown}: {status}; stderr tail:\n    {}",
            tail.join("\n    ")
        ),
    })
}

fn cilrun() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_cilrun"))
}

/// True once `cilrun --help` lists `--invoke-all`.
fn cilrun_can_invoke() -> bool {
    static C: OnceLock<bool> = OnceLock::new();
    *C.get_or_init(|| {
        Command::new(cilrun())
            .arg("--help")
            .output()
            .map(|o| String::from_utf8_lossy(&o.stdout).contains("--invoke-all"))
            .unwrap_or(false)
    })
}

fn run_jit(dll: &Path) -> Result<Run, String> {
    let corlib_dir = toolchain::managed_dir();
    let mut c = Command::new(cilrun());
    c.arg(dll)
        .arg("--lib")
        .arg(&corlib_dir)
        .arg("--invoke-all")
        .arg("*");
    run_with_timeout(c)
}

/// Whether the mono differential runs. Under `cargo xtask test`
/// (`XTASK_REQUIRE_TOOLS=1`, after it installed mono) a missing mono is a
/// failure, not a skip.
fn mono_available() -> bool {
    let found = toolchain::find_tool("mono").is_ok();
    assert!(
        found || std::env::var_os("XTASK_REQUIRE_TOOLS").is_none(),
        "mono is required here (XTASK_REQUIRE_TOOLS is set) but was not found"
    );
    found
}

fn runner_exe() -> &'static Path {
    static R: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    R.get_or_init(|| {
        let src = jit_tests_dir().join("mono-runner").join("Runner.cs");
        let out = toolchain::managed_dir()
            .join("mono-runner")
            .join("Runner.exe");
        let opts = CsOptions {
            target: Target::Exe,
            allow_unsafe: false,
            nostdlib: false,
            // As an extra flag, not a reference path, so the up-to-date check only
            // looks at Runner.cs.
            references: Vec::new(),
            extra: vec!["-r:System.Numerics.dll".to_string()],
        };
        toolchain::compile_cs(&[src], &out, &opts).map_err(|e| e.to_string())?;
        Ok(out)
    })
    .as_ref()
    .unwrap_or_else(|e| panic!("building Runner.exe: {e}"))
}

fn run_mono(dll: &Path, mode: &[&str]) -> Result<Run, String> {
    run_mono_with(&[], dll, mode)
}

fn run_mono_with(flags: &[&str], dll: &Path, mode: &[&str]) -> Result<Run, String> {
    let mono = toolchain::find_tool("mono").map_err(|e| e.to_string())?;
    let mut c = Command::new(mono);
    c.args(flags).arg(runner_exe()).arg(dll).args(mode);
    run_with_timeout(c)
}

/// Runs of each runtime over each assembly, once per test process: concurrent
/// family tests wait for the one run instead of starting their own.
fn cached(runtime: &'static str, dll: &Path) -> &'static Run {
    use std::sync::Mutex;
    type Cells = BTreeMap<(String, PathBuf), &'static OnceLock<Run>>;
    static RUNS: OnceLock<Mutex<Cells>> = OnceLock::new();
    let cell: &'static OnceLock<Run> = {
        let mut m = RUNS
            .get_or_init(|| Mutex::new(BTreeMap::new()))
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        m.entry((runtime.to_string(), dll.to_path_buf()))
            .or_insert_with(|| Box::leak(Box::new(OnceLock::new())))
    };
    cell.get_or_init(|| {
        match runtime {
            "jit" => run_jit(dll),
            _ => run_mono(dll, &["--invoke-all", "*"]),
        }
        .unwrap_or_else(|e| panic!("{e}"))
    })
}

// ---------------------------------------------------------------------------
// Comparison
// ---------------------------------------------------------------------------

/// Column names of a comparison and whether `got` is our JIT (known gaps apply).
struct Sides {
    want: &'static str,
    got: &'static str,
    jit: bool,
    /// One side is mono: skip its known bugs.
    mono: bool,
}

const EXPECT_VS_JIT: Sides = Sides {
    want: "expected",
    got: "jit",
    jit: true,
    mono: false,
};
const EXPECT_VS_MONO: Sides = Sides {
    want: "expected",
    got: "mono",
    jit: false,
    mono: true,
};
const MONO_VS_JIT: Sides = Sides {
    want: "mono",
    got: "jit",
    jit: true,
    mono: true,
};

/// Compares `got` with `want` over the methods of `want`; returns a printable table
/// of the differences, or None when all agree. Extra lines under `prefix` (methods
/// with no expectation) count as differences too. Known JIT gaps are printed to
/// stderr instead, and fail only once they pass.
fn diff_table(
    what: &str,
    want: &Outcomes,
    run: &Run,
    prefix: Option<&str>,
    sides: &Sides,
) -> Option<String> {
    let mut rows = Vec::new();
    let mut missing = 0;
    let mut known = Vec::new();
    for (m, w) in want {
        if sides.mono {
            if let Some(r) = mono_known_bugs().get(m) {
                eprintln!("{what}: {m} skipped, known mono bug: {r}");
                continue;
            }
        }
        let gap = if sides.jit { known_gap(m) } else { None };
        match (run.results.get(m), gap) {
            (Some(g), None) if g == w => {}
            (Some(g), Some(_)) if g == w => rows.push((
                m.as_str(),
                w.as_str(),
                "passes now: remove it from KNOWN_GAPS",
            )),
            (Some(g), Some(r)) => known.push(format!("  {m}: {g} ({r})")),
            (Some(g), None) => rows.push((m.as_str(), w.as_str(), g.as_str())),
            (None, _) => {
                missing += 1;
                rows.push((m.as_str(), w.as_str(), "<no line>"));
            }
        }
    }
    if let Some(p) = prefix {
        for (m, g) in run.results.range(p.to_string()..) {
            if !m.starts_with(p) {
                break;
            }
            if !want.contains_key(m) {
                rows.push((m.as_str(), "<no expectation>", g.as_str()));
            }
        }
    }
    if !known.is_empty() {
        eprintln!(
            "{what}: {} known gaps (KNOWN_GAPS):\n{}",
            known.len(),
            known.join("\n")
        );
    }
    if rows.is_empty() {
        return None;
    }
    let wm = rows.iter().map(|r| r.0.len()).max().unwrap_or(6).max(6);
    let ww = rows
        .iter()
        .map(|r| r.1.len().min(40))
        .max()
        .unwrap_or(8)
        .max(8);
    let mut s = format!("{what}: {} of {} methods differ\n", rows.len(), want.len());
    s += &format!("  {:wm$}  {:ww$}  {}\n", "method", sides.want, sides.got);
    for (m, w, g) in &rows {
        s += &format!("  {m:wm$}  {w:ww$}  {g}\n");
    }
    if missing > 0 {
        s += &format!("  ({missing} without a line) {}\n", run.note);
    }
    Some(s)
}

fn assert_agrees(what: &str, want: &Outcomes, run: &Run, prefix: Option<&str>, sides: &Sides) {
    assert!(!want.is_empty(), "{what}: no expectations found");
    if let Some(t) = diff_table(what, want, run, prefix, sides) {
        panic!("\n{t}");
    }
}

/// `cilrun --invoke-all` is what these tests exercise: its absence is a
/// failure, never a skip (a test that cannot fail proves nothing).
fn skip_without_invoke(what: &str) -> bool {
    assert!(
        cilrun_can_invoke(),
        "{what}: `cilrun --help` does not offer --invoke-all"
    );
    false
}

fn check_jit_family(family: &str) {
    let c = corpus();
    let want = c
        .families
        .get(family)
        .unwrap_or_else(|| panic!("no corpus file {family}.cs with expectations"));
    if skip_without_invoke(family) {
        return;
    }
    let prefix = format!("Corpus.{family}::");
    assert_agrees(
        &format!("JIT, family {family}"),
        want,
        cached("jit", &c.suite.dll),
        Some(&prefix),
        &EXPECT_VS_JIT,
    );
}

fn check_jit_il(stem: &str) {
    let s = il_suite(stem);
    if skip_without_invoke(stem) {
        return;
    }
    assert_agrees(
        &format!("JIT, {stem}.il"),
        &s.expect,
        cached("jit", &s.dll),
        None,
        &EXPECT_VS_JIT,
    );
}

// ---------------------------------------------------------------------------
// The tests: one per family
// ---------------------------------------------------------------------------

macro_rules! jit_families {
    ($($test:ident => $family:literal),* $(,)?) => {
        /// Every family that has a test below.
        const FAMILIES: &[&str] = &[$($family),*];
        $(
            #[test]
            fn $test() {
                check_jit_family($family);
            }
        )*
    };
}

jit_families! {
    jit_constants => "Constants",
    jit_locals_args => "LocalsArgs",
    jit_arith_int32 => "ArithInt32",
    jit_arith_int64 => "ArithInt64",
    jit_overflow => "Overflow",
    jit_bitwise => "Bitwise",
    jit_compare => "Compare",
    jit_conv => "Conv",
    jit_structs => "Structs",
    jit_calls => "Calls",
    jit_dispatch => "Dispatch",
    jit_objects => "Objects",
    jit_arrays => "Arrays",
    jit_multi_dim_arrays => "MultiDimArrays",
    jit_strings => "Strings",
    jit_boxing => "Boxing",
    jit_enums => "Enums",
    jit_statics => "Statics",
    jit_floats => "Floats",
    jit_deep_stack => "DeepStack",
    jit_recursion => "Recursion",
    jit_pointers => "Pointers",
    jit_delegates => "Delegates",
    jit_corlib_use => "CorlibUse",
    jit_seed_bugs => "SeedBugs",
    jit_exceptions => "Exceptions",
    jit_everyday => "Everyday",
    jit_generics => "Generics",
    jit_math_lib => "MathLib",
    jit_lambdas => "Lambdas",
    jit_text_ops => "TextOps",
    jit_collections => "Collections",
    jit_collections_generic => "CollectionsGeneric",
    jit_array_interfaces => "ArrayInterfaces",
    jit_gc => "Gc",
}

macro_rules! jit_il_files {
    ($($test:ident => $stem:literal),* $(,)?) => {
        /// Every IL file that has a test below.
        const IL_FILES: &[&str] = &[$($stem),*];
        $(
            #[test]
            fn $test() {
                check_jit_il($stem);
            }
        )*
    };
}

jit_il_files! {
    jit_il_seed_bugs => "seed_bugs",
    jit_il_valuetype_elems => "valuetype_elems",
    jit_il_stack_shapes => "stack_shapes",
    jit_il_native_int => "native_int",
    jit_il_memory_calls => "memory_calls",
}

#[test]
fn jit_thirdparty_test_n_programs() {
    let suites = thirdparty();
    if skip_without_invoke("thirdparty") {
        return;
    }
    let mut failures = String::new();
    for s in suites {
        if let Some(t) = diff_table(
            &format!("JIT, {}", s.dll.display()),
            &s.expect,
            cached("jit", &s.dll),
            None,
            &EXPECT_VS_JIT,
        ) {
            failures += &t;
        }
    }
    assert!(failures.is_empty(), "\n{failures}");
}

/// Programs that use features beyond the issue (EH, generics, using, foreach): every
/// method still gets its own line, `= N` (right) or `! error`, never a lost line or
/// a wrong value.
#[test]
fn jit_beyond_scope_keeps_every_line() {
    let s = beyond();
    if skip_without_invoke("beyond scope") {
        return;
    }
    let run = cached("jit", &s.dll);
    let mut bad = Vec::new();
    let mut unsupported = 0;
    for (m, want) in &s.expect {
        match run.results.get(m) {
            Some(g) if g == want => {}
            Some(g) if g.starts_with("! ") => unsupported += 1,
            Some(g) => bad.push(format!("  {m}: expected {want}, got {g}")),
            None => bad.push(format!("  {m}: no line")),
        }
    }
    eprintln!(
        "beyond scope: {} of {} pass, {unsupported} report an error",
        s.expect.len() - unsupported - bad.len(),
        s.expect.len()
    );
    assert!(s.expect.len() >= 10, "beyond.cs: expectations not found");
    assert!(bad.is_empty(), "\n{}\n{}", bad.join("\n"), run.note);
}

#[test]
fn mono_agrees_with_beyond_scope_expectations() {
    check_mono("beyond.cs", beyond());
}

/// The bench kernels give the same results through the JIT as natively.
#[test]
fn jit_bench_kernels_match_native() {
    let dll = bench_dll();
    if skip_without_invoke("bench kernels") {
        return;
    }
    let want: Outcomes = native::KERNELS
        .iter()
        .map(|(name, k)| {
            (
                format!("Corpus.Bench.Kernels::{name}"),
                format!("= {}", k()),
            )
        })
        .collect();
    assert_agrees(
        "JIT, bench kernels",
        &want,
        cached("jit", dll),
        None,
        &EXPECT_VS_JIT,
    );
}

// ---------------------------------------------------------------------------
// Consistency of the corpus itself
// ---------------------------------------------------------------------------

/// Each corpus file with expectations has a test above, and each family is sizeable.
#[test]
fn every_family_has_a_test() {
    let c = corpus();
    for f in c.families.keys() {
        assert!(
            FAMILIES.contains(&f.as_str()),
            "{f}.cs has no jit_* test in jit_corpus.rs"
        );
    }
    for f in FAMILIES {
        let n = c.families.get(*f).map_or(0, |e| e.len());
        assert!(n >= 8, "family {f} has only {n} methods");
    }
    for s in IL_FILES {
        assert!(!il_suite(s).expect.is_empty(), "{s}.il has no expectations");
    }
    let total: usize = c.families.values().map(|e| e.len()).sum();
    eprintln!(
        "corpus: {total} C# methods in {} families",
        c.families.len()
    );
}

/// The source-text parser used here sees exactly the `[Expect]` attributes that mono
/// reads by reflection (guards against a silently skipped method).
#[test]
fn mono_reflection_sees_the_same_expectations() {
    if !mono_available() {
        eprintln!("SKIPPED: mono is not installed");
        return;
    }
    let c = corpus();
    let run = run_mono(&c.suite.dll, &["--expectations"]).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        run.results, c.suite.expect,
        "Runner --expectations vs the source parser"
    );
}

fn check_mono(what: &str, s: &Suite) {
    if !mono_available() {
        eprintln!("SKIPPED {what}: mono is not installed");
        return;
    }
    assert_agrees(
        &format!("mono, {what}"),
        &s.expect,
        cached("mono", &s.dll),
        None,
        &EXPECT_VS_MONO,
    );
}

/// Mono is the oracle for the corpus: every expectation must hold under mono, for
/// the assembly compiled against our corlib.
#[test]
fn mono_agrees_with_corpus_expectations() {
    let c = corpus();
    check_mono("C# corpus", &c.suite);
    if mono_available() {
        // Every static parameterless method has an expectation.
        let extra: Vec<&String> = cached("mono", &c.suite.dll)
            .results
            .keys()
            .filter(|k| !c.suite.expect.contains_key(*k))
            .collect();
        assert!(
            extra.is_empty(),
            "methods without an expectation: {extra:?}"
        );
    }
}

#[test]
fn mono_agrees_with_il_expectations() {
    for s in IL_FILES {
        check_mono(&format!("{s}.il"), il_suite(s));
    }
}

#[test]
fn mono_agrees_with_thirdparty_expectations() {
    for s in thirdparty() {
        check_mono(&s.dll.display().to_string(), s);
    }
}

/// The C# bench kernels (under mono) and their Rust twins compute the same values.
#[test]
fn bench_kernels_native_and_mono_agree() {
    assert_eq!(native::bench_fib30(), 832_040);
    assert_eq!(native::bench_sieve(), 664_579);
    let crc = native::bench_crc32();
    assert_eq!(
        native::crc32(b"123456789"),
        0xCBF4_3926,
        "CRC-32 check value"
    );
    if !mono_available() {
        eprintln!("SKIPPED mono half: mono is not installed");
        return;
    }
    let run = run_mono(bench_dll(), &["--invoke-all", "Bench*"]).unwrap_or_else(|e| panic!("{e}"));
    let got = run.results.get("Corpus.Bench.Kernels::BenchCrc32");
    assert_eq!(got, Some(&format!("= {crc}")), "{}", run.note);
}

/// Differential test: where both runtimes are present, our JIT and mono print the
/// same line for every method of every assembly.
#[test]
fn jit_agrees_with_mono() {
    if !mono_available() {
        eprintln!("SKIPPED: mono is not installed");
        return;
    }
    if skip_without_invoke("differential") {
        return;
    }
    let mut dlls: Vec<PathBuf> = vec![corpus().suite.dll.clone()];
    dlls.extend(IL_FILES.iter().map(|s| il_suite(s).dll.clone()));
    dlls.extend(thirdparty().iter().map(|s| s.dll.clone()));
    let mut failures = String::new();
    for d in &dlls {
        let m = cached("mono", d);
        if let Some(t) = diff_table(
            &format!("JIT vs mono, {}", d.display()),
            &m.results,
            cached("jit", d),
            None,
            &MONO_VS_JIT,
        ) {
            failures += &t;
        }
    }
    assert!(failures.is_empty(), "\n{failures}");
}

// ---------------------------------------------------------------------------
// The parsers themselves
// ---------------------------------------------------------------------------

#[test]
fn cs_parser_reads_attributes_on_the_same_and_the_next_line() {
    let src = "namespace N {\n public static unsafe class F {\n  [Expect(\"1\")] public static int A() { return 1; }\n  [ExpectError(\"overflow\")]\n  public static long B()\n {}\n }\n}";
    let e = parse_cs_expectations(src, "t").unwrap();
    assert_eq!(e.get("N.F::A").map(String::as_str), Some("= 1"));
    assert_eq!(e.get("N.F::B").map(String::as_str), Some("! overflow"));
    assert!(parse_cs_expectations("static class F { [Expect(\"1\")] }", "t").is_err());
}

#[test]
fn il_and_test_n_parsers() {
    let il = ".class public X.Y extends [mscorlib]System.Object\n{\n// expect: = 3\n.method public static int32 M() cil managed\n.method static int32 H(int32 a) cil managed\n.method public static int32 test_7_x() cil managed\n}";
    let e = parse_il_expectations(il, "t").unwrap();
    assert_eq!(e.len(), 1);
    assert_eq!(e.get("X.Y::M").map(String::as_str), Some("= 3"));
    let t = parse_test_n_expectations(il, true);
    assert_eq!(t.get("X.Y::test_7_x").map(String::as_str), Some("= 7"));
    let cs = "class Tests {\n public static int test_42_add() { return 42; }\n static int helper() { return test_1_x(); }\n}";
    let t = parse_test_n_expectations(cs, false);
    assert_eq!(t.len(), 1);
    assert_eq!(
        t.get("Tests::test_42_add").map(String::as_str),
        Some("= 42")
    );
}

// ---------------------------------------------------------------------------
// Random integer expressions: a seeded generator writes C# methods whose results a
// Rust evaluator of the same C# semantics (ECMA-335 III.3 wrapping, .ovf, shr.un,
// conv) predicts; deep trees spill the evaluation stack across calls and branches.
// ---------------------------------------------------------------------------

mod random {
    use std::fmt::Write as _;

    /// Number of generated methods and the seed (fixed: failures reproduce).
    pub const METHODS: usize = 1000;
    const SEED: u64 = 0x5EED_C0DE_2026_0001;
    const MAX_NODES: u32 = 64;

    #[derive(Clone, Copy, PartialEq, Eq)]
    pub enum Ty {
        I32,
        I64,
    }

    impl Ty {
        fn cs(self) -> &'static str {
            match self {
                Ty::I32 => "int",
                Ty::I64 => "long",
            }
        }
        fn wrap(self, v: i64) -> i64 {
            match self {
                Ty::I32 => v as i32 as i64,
                Ty::I64 => v,
            }
        }
    }

    #[derive(Clone, Copy)]
    enum Bin {
        Add,
        Sub,
        Mul,
        And,
        Or,
        Xor,
        Shl,
        Shr,
        ShrUn,
        Div,
        Rem,
        DivUn,
        RemUn,
        AddOvf,
        SubOvf,
        MulOvf,
    }

    #[derive(Clone, Copy)]
    enum Cmp {
        Lt,
        Le,
        Eq,
        Ne,
        LtUn,
        GeUn,
    }

    #[derive(Clone, Copy)]
    enum Narrow {
        I8,
        U8,
        I16,
        U16,
        U32,
    }

    enum Expr {
        Const(Ty, i64),
        Local(usize),
        Neg(Ty, Box<Expr>),
        Not(Ty, Box<Expr>),
        Widen(Box<Expr>),
        Truncate(Box<Expr>),
        Narrow(Ty, Narrow, Box<Expr>),
        Bin(Ty, Bin, Box<Expr>, Box<Expr>),
        /// (comparison, operand type, a, b, then, else)
        Cond(Cmp, Ty, Box<Expr>, Box<Expr>, Box<Expr>, Box<Expr>),
        Call8(Vec<Expr>),
    }

    /// The only runtime error the generated code can raise (divisors are guarded).
    pub struct Overflow;

    struct Rng(u64);
    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }
        fn below(&mut self, n: u64) -> u64 {
            self.next() % n
        }
    }

    const LOCALS: [Ty; 4] = [Ty::I32, Ty::I64, Ty::I32, Ty::I64];

    struct Gen {
        rng: Rng,
        nodes: u32,
        conds: u32,
    }

    impl Gen {
        fn constant(&mut self, ty: Ty) -> i64 {
            let special: [i64; 10] = [
                0,
                1,
                -1,
                2,
                i32::MIN as i64,
                i32::MAX as i64,
                i64::MIN,
                i64::MAX,
                0xFFFF_FFFF,
                0x8000_0000,
            ];
            let v = match self.rng.below(3) {
                0 => special[self.rng.below(10) as usize],
                1 => self.rng.below(200) as i64 - 100,
                _ => self.rng.next() as i64,
            };
            ty.wrap(v)
        }

        fn leaf(&mut self, ty: Ty) -> Expr {
            let locals: Vec<usize> = (0..4).filter(|&i| LOCALS[i] == ty).collect();
            if self.rng.below(2) == 0 {
                Expr::Local(locals[self.rng.below(locals.len() as u64) as usize])
            } else {
                Expr::Const(ty, self.constant(ty))
            }
        }

        fn expr(&mut self, ty: Ty, depth: u32) -> Expr {
            self.nodes += 1;
            if depth == 0 || self.nodes > MAX_NODES || self.rng.below(8) == 0 {
                return self.leaf(ty);
            }
            let d = depth - 1;
            let other = if ty == Ty::I32 { Ty::I64 } else { Ty::I32 };
            match self.rng.below(20) {
                0 => Expr::Neg(ty, Box::new(self.expr(ty, d))),
                1 => Expr::Not(ty, Box::new(self.expr(ty, d))),
                2 => match ty {
                    Ty::I64 => Expr::Widen(Box::new(self.expr(other, d))),
                    Ty::I32 => Expr::Truncate(Box::new(self.expr(other, d))),
                },
                3 => {
                    let n = [
                        Narrow::I8,
                        Narrow::U8,
                        Narrow::I16,
                        Narrow::U16,
                        Narrow::U32,
                    ][self.rng.below(if ty == Ty::I64 { 5 } else { 4 }) as usize];
                    Expr::Narrow(ty, n, Box::new(self.expr(ty, d)))
                }
                4 if self.conds < 3 => {
                    self.conds += 1;
                    let cmp = [Cmp::Lt, Cmp::Le, Cmp::Eq, Cmp::Ne, Cmp::LtUn, Cmp::GeUn]
                        [self.rng.below(6) as usize];
                    let cty = if self.rng.below(2) == 0 { ty } else { other };
                    Expr::Cond(
                        cmp,
                        cty,
                        Box::new(self.expr(cty, d.min(2))),
                        Box::new(self.expr(cty, d.min(2))),
                        Box::new(self.expr(ty, d)),
                        Box::new(self.expr(ty, d)),
                    )
                }
                5 if ty == Ty::I64 && depth >= 3 => {
                    Expr::Call8((0..8).map(|_| self.expr(Ty::I64, d.min(2))).collect())
                }
                _ => {
                    const OPS: [Bin; 16] = [
                        Bin::Add,
                        Bin::Sub,
                        Bin::Mul,
                        Bin::And,
                        Bin::Or,
                        Bin::Xor,
                        Bin::Shl,
                        Bin::Shr,
                        Bin::ShrUn,
                        Bin::Div,
                        Bin::Rem,
                        Bin::DivUn,
                        Bin::RemUn,
                        Bin::AddOvf,
                        Bin::SubOvf,
                        Bin::MulOvf,
                    ];
                    let op = OPS[self.rng.below(16) as usize];
                    let rty = match op {
                        Bin::Shl | Bin::Shr | Bin::ShrUn => Ty::I32,
                        _ => ty,
                    };
                    Expr::Bin(
                        ty,
                        op,
                        Box::new(self.expr(ty, d)),
                        Box::new(self.expr(rty, d)),
                    )
                }
            }
        }
    }

    fn narrow(n: Narrow, v: i64) -> i64 {
        match n {
            Narrow::I8 => v as i8 as i64,
            Narrow::U8 => v as u8 as i64,
            Narrow::I16 => v as i16 as i64,
            Narrow::U16 => v as u16 as i64,
            Narrow::U32 => v as u32 as i64,
        }
    }

    /// The divisor guard `G`: 0 and -1 become 7 (no divide-by-zero, no MinValue/-1).
    fn guard(v: i64) -> i64 {
        if v == 0 || v == -1 {
            7
        } else {
            v
        }
    }

    fn unsigned(ty: Ty, v: i64) -> u64 {
        match ty {
            Ty::I32 => v as u32 as u64,
            Ty::I64 => v as u64,
        }
    }

    fn eval(e: &Expr, locals: &[i64; 4]) -> Result<i64, Overflow> {
        Ok(match e {
            Expr::Const(_, v) => *v,
            Expr::Local(i) => locals[*i],
            Expr::Neg(ty, a) => ty.wrap(eval(a, locals)?.wrapping_neg()),
            Expr::Not(ty, a) => ty.wrap(!eval(a, locals)?),
            Expr::Widen(a) => eval(a, locals)?,
            Expr::Truncate(a) => eval(a, locals)? as i32 as i64,
            Expr::Narrow(ty, n, a) => ty.wrap(narrow(*n, eval(a, locals)?)),
            Expr::Cond(cmp, cty, a, b, t, f) => {
                let (x, y) = (eval(a, locals)?, eval(b, locals)?);
                let (ux, uy) = (unsigned(*cty, x), unsigned(*cty, y));
                let c = match cmp {
                    Cmp::Lt => x < y,
                    Cmp::Le => x <= y,
                    Cmp::Eq => x == y,
                    Cmp::Ne => x != y,
                    Cmp::LtUn => ux < uy,
                    Cmp::GeUn => ux >= uy,
                };
                if c {
                    eval(t, locals)?
                } else {
                    eval(f, locals)?
                }
            }
            Expr::Call8(args) => {
                let mut r = 0i64;
                for (k, a) in args.iter().enumerate() {
                    let v = eval(a, locals)?;
                    r = if k % 2 == 0 {
                        r.wrapping_add(v)
                    } else {
                        r.wrapping_sub(v)
                    };
                }
                r
            }
            Expr::Bin(ty, op, a, b) => {
                let x = eval(a, locals)?;
                let y = eval(b, locals)?;
                let bits = if *ty == Ty::I32 { 32 } else { 64 };
                let sh = (y as u32) & (bits - 1);
                match (op, ty) {
                    (Bin::Add, _) => ty.wrap(x.wrapping_add(y)),
                    (Bin::Sub, _) => ty.wrap(x.wrapping_sub(y)),
                    (Bin::Mul, _) => ty.wrap(x.wrapping_mul(y)),
                    (Bin::And, _) => x & y,
                    (Bin::Or, _) => x | y,
                    (Bin::Xor, _) => x ^ y,
                    (Bin::Shl, _) => ty.wrap(x.wrapping_shl(sh)),
                    (Bin::Shr, _) => x >> sh,
                    (Bin::ShrUn, _) => ty.wrap((unsigned(*ty, x) >> sh) as i64),
                    (Bin::Div, _) => ty.wrap(x.wrapping_div(guard(y))),
                    (Bin::Rem, _) => ty.wrap(x.wrapping_rem(guard(y))),
                    (Bin::DivUn, _) => ty.wrap((unsigned(*ty, x) / unsigned(*ty, guard(y))) as i64),
                    (Bin::RemUn, _) => ty.wrap((unsigned(*ty, x) % unsigned(*ty, guard(y))) as i64),
                    (Bin::AddOvf, Ty::I32) => {
                        (x as i32).checked_add(y as i32).ok_or(Overflow)? as i64
                    }
                    (Bin::SubOvf, Ty::I32) => {
                        (x as i32).checked_sub(y as i32).ok_or(Overflow)? as i64
                    }
                    (Bin::MulOvf, Ty::I32) => {
                        (x as i32).checked_mul(y as i32).ok_or(Overflow)? as i64
                    }
                    (Bin::AddOvf, Ty::I64) => x.checked_add(y).ok_or(Overflow)?,
                    (Bin::SubOvf, Ty::I64) => x.checked_sub(y).ok_or(Overflow)?,
                    (Bin::MulOvf, Ty::I64) => x.checked_mul(y).ok_or(Overflow)?,
                }
            }
        })
    }

    fn lit(ty: Ty, v: i64) -> String {
        match (ty, v) {
            (Ty::I32, v) if v == i32::MIN as i64 => "I(int.MinValue)".into(),
            (Ty::I64, i64::MIN) => "L(long.MinValue)".into(),
            (Ty::I32, v) => format!("I({v})"),
            (Ty::I64, v) => format!("L({v})"),
        }
    }

    fn cs(e: &Expr) -> String {
        const NAMES: [&str; 4] = ["a", "b", "c", "d"];
        match e {
            Expr::Const(ty, v) => lit(*ty, *v),
            Expr::Local(i) => NAMES[*i].into(),
            Expr::Neg(_, a) => format!("(-{})", cs(a)),
            Expr::Not(_, a) => format!("(~{})", cs(a)),
            Expr::Widen(a) => format!("((long){})", cs(a)),
            Expr::Truncate(a) => format!("((int){})", cs(a)),
            Expr::Narrow(ty, n, a) => {
                let t = match n {
                    Narrow::I8 => "sbyte",
                    Narrow::U8 => "byte",
                    Narrow::I16 => "short",
                    Narrow::U16 => "ushort",
                    Narrow::U32 => "uint",
                };
                format!("(({})({})({}))", ty.cs(), t, cs(a))
            }
            Expr::Cond(cmp, cty, a, b, t, f) => {
                let un = if *cty == Ty::I32 { "uint" } else { "ulong" };
                let c = match cmp {
                    Cmp::Lt => format!("{} < {}", cs(a), cs(b)),
                    Cmp::Le => format!("{} <= {}", cs(a), cs(b)),
                    Cmp::Eq => format!("{} == {}", cs(a), cs(b)),
                    Cmp::Ne => format!("{} != {}", cs(a), cs(b)),
                    Cmp::LtUn => format!("({un}){} < ({un}){}", cs(a), cs(b)),
                    Cmp::GeUn => format!("({un}){} >= ({un}){}", cs(a), cs(b)),
                };
                format!("({c} ? {} : {})", cs(t), cs(f))
            }
            Expr::Call8(args) => {
                let a: Vec<String> = args.iter().map(cs).collect();
                format!("M8({})", a.join(", "))
            }
            Expr::Bin(ty, op, a, b) => {
                let (x, y) = (cs(a), cs(b));
                let (t, un) = (ty.cs(), if *ty == Ty::I32 { "uint" } else { "ulong" });
                match op {
                    Bin::Add => format!("({x} + {y})"),
                    Bin::Sub => format!("({x} - {y})"),
                    Bin::Mul => format!("({x} * {y})"),
                    Bin::And => format!("({x} & {y})"),
                    Bin::Or => format!("({x} | {y})"),
                    Bin::Xor => format!("({x} ^ {y})"),
                    Bin::Shl => format!("({x} << {y})"),
                    Bin::Shr => format!("({x} >> {y})"),
                    Bin::ShrUn => format!("(({t})(({un}){x} >> {y}))"),
                    Bin::Div => format!("({x} / G({y}))"),
                    Bin::Rem => format!("({x} % G({y}))"),
                    Bin::DivUn => format!("(({t})(({un}){x} / ({un})G({y})))"),
                    Bin::RemUn => format!("(({t})(({un}){x} % ({un})G({y})))"),
                    Bin::AddOvf => format!("checked(unchecked({x}) + unchecked({y}))"),
                    Bin::SubOvf => format!("checked(unchecked({x}) - unchecked({y}))"),
                    Bin::MulOvf => format!("checked(unchecked({x}) * unchecked({y}))"),
                }
            }
        }
    }

    /// The C# source of all methods and each method's expected line value.
    pub fn generate() -> (String, Vec<(String, String)>) {
        let mut g = Gen {
            rng: Rng(SEED),
            nodes: 0,
            conds: 0,
        };
        let mut src = String::from(
            "// Generated by cil-compat/tests/jit_corpus.rs (random module); do not edit.\n\
             namespace Corpus.Random\n{\n    public static class Exprs\n    {\n\
             \x20       static int I(int x) { return x; }\n\
             \x20       static long L(long x) { return x; }\n\
             \x20       static int G(int x) { return x == 0 || x == -1 ? 7 : x; }\n\
             \x20       static long G(long x) { return x == 0 || x == -1 ? 7 : x; }\n\
             \x20       static long M8(long a, long b, long c, long d, long e, long f, long g, long h)\n\
             \x20       { return a - b + c - d + e - f + g - h; }\n",
        );
        let mut expect = Vec::new();
        for i in 0..METHODS {
            g.nodes = 0;
            g.conds = 0;
            let ty = if g.rng.below(2) == 0 {
                Ty::I32
            } else {
                Ty::I64
            };
            let locals = [
                g.constant(LOCALS[0]),
                g.constant(LOCALS[1]),
                g.constant(LOCALS[2]),
                g.constant(LOCALS[3]),
            ];
            let depth = 3 + g.rng.below(8) as u32;
            let e = g.expr(ty, depth);
            let name = format!("R{i:03}");
            let _ = write!(
                src,
                "        public static {} {name}()\n        {{\n            \
                 int a = {}; long b = {}; int c = {}; long d = {};\n            \
                 unchecked {{ return {}; }}\n        }}\n",
                ty.cs(),
                lit(Ty::I32, locals[0]),
                lit(Ty::I64, locals[1]),
                lit(Ty::I32, locals[2]),
                lit(Ty::I64, locals[3]),
                cs(&e)
            );
            let want = match eval(&e, &locals) {
                Ok(v) => format!("= {v}"),
                Err(Overflow) => "! overflow".to_string(),
            };
            expect.push((format!("Corpus.Random.Exprs::{name}"), want));
        }
        src.push_str("    }\n}\n");
        (src, expect)
    }

    /// float64 expressions: IEEE-754 double arithmetic is exactly specified, so a
    /// Rust evaluator predicts every bit (printed with the shortest round-trip form).
    pub const F64_METHODS: usize = 300;

    enum FExpr {
        Const(f64),
        Local(usize),
        Neg(Box<FExpr>),
        Bin(u8, Box<FExpr>, Box<FExpr>),
        /// (comparison 0..6, a, b, then, else)
        Cond(u8, Box<FExpr>, Box<FExpr>, Box<FExpr>, Box<FExpr>),
        FromInt(i32),
        FromLong(i64),
        ViaFloat(Box<FExpr>),
    }

    impl Gen {
        fn fconst(&mut self) -> f64 {
            const SPECIAL: [f64; 14] = [
                0.0,
                -0.0,
                1.0,
                -1.0,
                0.1,
                0.5,
                3.0,
                1e308,
                -1e-308,
                5e-324,
                f64::NAN,
                f64::INFINITY,
                f64::NEG_INFINITY,
                16777217.0,
            ];
            match self.rng.below(3) {
                0 => SPECIAL[self.rng.below(14) as usize],
                1 => (self.rng.below(2000) as f64 - 1000.0) / 8.0,
                _ => {
                    let v = f64::from_bits(self.rng.next());
                    if v.is_nan() {
                        1.25
                    } else {
                        v
                    }
                }
            }
        }

        fn fexpr(&mut self, depth: u32) -> FExpr {
            self.nodes += 1;
            if depth == 0 || self.nodes > MAX_NODES || self.rng.below(7) == 0 {
                return match self.rng.below(3) {
                    0 => FExpr::Local(self.rng.below(3) as usize),
                    _ => FExpr::Const(self.fconst()),
                };
            }
            let d = depth - 1;
            match self.rng.below(12) {
                0 => FExpr::Neg(Box::new(self.fexpr(d))),
                1 => FExpr::FromInt(self.constant(Ty::I32) as i32),
                2 => FExpr::FromLong(self.constant(Ty::I64)),
                3 => FExpr::ViaFloat(Box::new(self.fexpr(d))),
                4 if self.conds < 3 => {
                    self.conds += 1;
                    FExpr::Cond(
                        self.rng.below(7) as u8,
                        Box::new(self.fexpr(d.min(2))),
                        Box::new(self.fexpr(d.min(2))),
                        Box::new(self.fexpr(d)),
                        Box::new(self.fexpr(d)),
                    )
                }
                _ => FExpr::Bin(
                    self.rng.below(5) as u8,
                    Box::new(self.fexpr(d)),
                    Box::new(self.fexpr(d)),
                ),
            }
        }
    }

    // `!(x < y)` is the point: it differs from `x >= y` exactly when NaN is involved.
    #[allow(clippy::neg_cmp_op_on_partial_ord)]
    fn feval(e: &FExpr, locals: &[f64; 3]) -> f64 {
        match e {
            FExpr::Const(v) => *v,
            FExpr::Local(i) => locals[*i],
            FExpr::Neg(a) => -feval(a, locals),
            FExpr::FromInt(v) => f64::from(*v),
            FExpr::FromLong(v) => *v as f64,
            FExpr::ViaFloat(a) => feval(a, locals) as f32 as f64,
            FExpr::Bin(op, a, b) => {
                let (x, y) = (feval(a, locals), feval(b, locals));
                match op {
                    0 => x + y,
                    1 => x - y,
                    2 => x * y,
                    3 => x / y,
                    _ => x % y,
                }
            }
            FExpr::Cond(c, a, b, t, f) => {
                let (x, y) = (feval(a, locals), feval(b, locals));
                let take = match c {
                    0 => x < y,
                    1 => x <= y,
                    2 => x == y,
                    3 => x != y,
                    4 => !(x < y),
                    5 => !(x >= y),
                    _ => x > y,
                };
                if take {
                    feval(t, locals)
                } else {
                    feval(f, locals)
                }
            }
        }
    }

    /// A C# double literal that reads back to exactly `v`.
    fn flit(v: f64) -> String {
        if v.is_nan() {
            "D(double.NaN)".into()
        } else if v == f64::INFINITY {
            "D(double.PositiveInfinity)".into()
        } else if v == f64::NEG_INFINITY {
            "D(double.NegativeInfinity)".into()
        } else if v == 0.0 && v.is_sign_negative() {
            "D(-0.0)".into()
        } else {
            format!("D({v:e})")
        }
    }

    fn fcs(e: &FExpr) -> String {
        const NAMES: [&str; 3] = ["x", "y", "z"];
        match e {
            FExpr::Const(v) => flit(*v),
            FExpr::Local(i) => NAMES[*i].into(),
            FExpr::Neg(a) => format!("(-{})", fcs(a)),
            FExpr::FromInt(v) if *v == i32::MIN => "((double)I(int.MinValue))".into(),
            FExpr::FromInt(v) => format!("((double)I({v}))"),
            FExpr::FromLong(v) if *v == i64::MIN => "((double)L(long.MinValue))".into(),
            FExpr::FromLong(v) => format!("((double)L({v}))"),
            FExpr::ViaFloat(a) => format!("((double)(float)({}))", fcs(a)),
            FExpr::Bin(op, a, b) => {
                let o = ["+", "-", "*", "/", "%"][*op as usize];
                format!("({} {o} {})", fcs(a), fcs(b))
            }
            FExpr::Cond(c, a, b, t, f) => {
                let (x, y) = (fcs(a), fcs(b));
                let cond = match c {
                    0 => format!("{x} < {y}"),
                    1 => format!("{x} <= {y}"),
                    2 => format!("{x} == {y}"),
                    3 => format!("{x} != {y}"),
                    4 => format!("!({x} < {y})"),
                    5 => format!("!({x} >= {y})"),
                    _ => format!("{x} > {y}"),
                };
                format!("({cond} ? {} : {})", fcs(t), fcs(f))
            }
        }
    }

    /// The C# source of the float64 methods and their expected lines.
    pub fn generate_f64() -> (String, Vec<(String, String)>) {
        let mut g = Gen {
            rng: Rng(SEED ^ 0xF10A7),
            nodes: 0,
            conds: 0,
        };
        let mut src = String::from(
            "// Generated by cil-compat/tests/jit_corpus.rs (random module); do not edit.\n\
             namespace Corpus.Random\n{\n    public static class Doubles\n    {\n\
             \x20       static int I(int x) { return x; }\n\
             \x20       static long L(long x) { return x; }\n\
             \x20       static double D(double x) { return x; }\n",
        );
        let mut expect = Vec::new();
        for i in 0..F64_METHODS {
            g.nodes = 0;
            g.conds = 0;
            let locals = [g.fconst(), g.fconst(), g.fconst()];
            let depth = 2 + g.rng.below(7) as u32;
            let e = g.fexpr(depth);
            let name = format!("F{i:03}");
            let _ = write!(
                src,
                "        public static double {name}()\n        {{\n            \
                 double x = {}; double y = {}; double z = {};\n            \
                 return {};\n        }}\n",
                flit(locals[0]),
                flit(locals[1]),
                flit(locals[2]),
                fcs(&e)
            );
            expect.push((
                format!("Corpus.Random.Doubles::{name}"),
                format!("= {}", feval(&e, &locals)),
            ));
        }
        src.push_str("    }\n}\n");
        (src, expect)
    }
}

/// The generated assembly (written only when the text changes) and expectations.
fn random_suite() -> &'static Suite {
    static R: OnceLock<Result<Suite, String>> = OnceLock::new();
    R.get_or_init(|| {
        let (src, expect) = random::generate();
        let dir = toolchain::managed_dir().join("random");
        std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
        let path = dir.join("RandomExprs.cs");
        if std::fs::read_to_string(&path).ok().as_deref() != Some(src.as_str()) {
            std::fs::write(&path, &src).map_err(|e| e.to_string())?;
        }
        let dll = toolchain::build_library("jit_random_exprs", &[path], &[])
            .map_err(|e| e.to_string())?;
        Ok(Suite {
            dll,
            expect: expect.into_iter().collect(),
        })
    })
    .as_ref()
    .unwrap_or_else(|e| panic!("building the random expressions: {e}"))
}

/// The generated float64 assembly and expectations.
fn random_f64_suite() -> &'static Suite {
    static R: OnceLock<Result<Suite, String>> = OnceLock::new();
    R.get_or_init(|| {
        let (src, expect) = random::generate_f64();
        let dir = toolchain::managed_dir().join("random");
        std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
        let path = dir.join("RandomDoubles.cs");
        if std::fs::read_to_string(&path).ok().as_deref() != Some(src.as_str()) {
            std::fs::write(&path, &src).map_err(|e| e.to_string())?;
        }
        let dll = toolchain::build_library("jit_random_doubles", &[path], &[])
            .map_err(|e| e.to_string())?;
        Ok(Suite {
            dll,
            expect: expect.into_iter().collect(),
        })
    })
    .as_ref()
    .unwrap_or_else(|e| panic!("building the random doubles: {e}"))
}

/// Mono checks the Rust evaluator of the generated float64 expressions.
#[test]
fn mono_agrees_with_random_doubles() {
    let s = random_f64_suite();
    assert_eq!(s.expect.len(), random::F64_METHODS);
    check_mono("random doubles", s);
}

/// Our JIT on the generated float64 expressions (target/managed/random/RandomDoubles.cs).
#[test]
fn jit_random_doubles() {
    let s = random_f64_suite();
    if skip_without_invoke("random doubles") {
        return;
    }
    assert_agrees(
        "JIT, random doubles (target/managed/random/RandomDoubles.cs)",
        &s.expect,
        cached("jit", &s.dll),
        None,
        &EXPECT_VS_JIT,
    );
}

/// Mono checks the Rust evaluator of the generated expressions. It runs without
/// optimisations: mono 6.8's inliner/folder miscomputes some of them (method R152:
/// 27 instead of 45; see mono-known-bugs.txt), the unoptimised JIT does not.
#[test]
fn mono_agrees_with_random_expressions() {
    let s = random_suite();
    assert_eq!(s.expect.len(), random::METHODS);
    if !mono_available() {
        eprintln!("SKIPPED: mono is not installed");
        return;
    }
    let run = run_mono_with(&["--optimize=-all"], &s.dll, &["--invoke-all", "*"])
        .unwrap_or_else(|e| panic!("{e}"));
    assert_agrees(
        "mono --optimize=-all, random expressions",
        &s.expect,
        &run,
        None,
        &EXPECT_VS_MONO,
    );
}

/// Our JIT on the generated expressions (source: target/managed/random/RandomExprs.cs).
#[test]
fn jit_random_expressions() {
    let s = random_suite();
    if skip_without_invoke("random expressions") {
        return;
    }
    assert_agrees(
        "JIT, random expressions (target/managed/random/RandomExprs.cs)",
        &s.expect,
        cached("jit", &s.dll),
        None,
        &EXPECT_VS_JIT,
    );
}

/// The generated Math/MathF assembly and its cases.
fn random_math_suite() -> &'static (Suite, Vec<random_math::Case>) {
    static R: OnceLock<Result<(Suite, Vec<random_math::Case>), String>> = OnceLock::new();
    R.get_or_init(|| {
        let (src, cases) = random_math::generate();
        let dir = toolchain::managed_dir().join("random");
        std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
        let path = dir.join("RandomMaths.cs");
        if std::fs::read_to_string(&path).ok().as_deref() != Some(src.as_str()) {
            std::fs::write(&path, &src).map_err(|e| e.to_string())?;
        }
        let dll = toolchain::build_library("jit_random_maths", &[path], &[])
            .map_err(|e| e.to_string())?;
        let expect = cases
            .iter()
            .filter_map(|c| Some((c.method.clone(), c.want.clone()?)))
            .collect();
        Ok((Suite { dll, expect }, cases))
    })
    .as_ref()
    .unwrap_or_else(|e| panic!("building the random maths: {e}"))
}

/// Mono computes the IEEE-exact Math/MathF functions and predicates as
/// expected, bit for bit.
#[test]
fn mono_agrees_with_random_math() {
    let (s, cases) = random_math_suite();
    assert_eq!(cases.len(), random_math::METHODS);
    assert!(s.expect.len() > random_math::METHODS / 3);
    check_mono("random maths (exact functions)", s);
}

/// Our JIT on the generated Math/MathF calls (target/managed/random/RandomMaths.cs):
/// the IEEE-exact ones bit for bit as expected; the transcendental ones compared
/// with mono, every difference printed with its distance in ulps (no runtime
/// error allowed, and NaN/infinity must agree).
#[test]
fn jit_random_math() {
    let (s, cases) = random_math_suite();
    if skip_without_invoke("random maths") {
        return;
    }
    let run = cached("jit", &s.dll);
    assert_agrees(
        "JIT, random maths (exact functions)",
        &s.expect,
        run,
        None,
        &EXPECT_VS_JIT,
    );
    if !mono_available() {
        eprintln!("SKIPPED the transcendental half: mono is not installed");
        return;
    }
    let mono = cached("mono", &s.dll);
    let (mut same, mut diffs, mut bad) = (0, Vec::new(), Vec::new());
    for c in cases.iter().filter(|c| c.want.is_none()) {
        let (Some(j), Some(m)) = (run.results.get(&c.method), mono.results.get(&c.method)) else {
            bad.push(format!("  {}: no line", c.method));
            continue;
        };
        if j == m {
            same += 1;
            continue;
        }
        let special = |v: &str| ["= NaN", "= inf", "= -inf"].contains(&v);
        if j.starts_with("! ") || special(j) != special(m) {
            bad.push(format!("  {}: mono {m}, jit {j}", c.method));
            continue;
        }
        let d = random_math::ulps(j, m, c.single);
        diffs.push((
            d.unwrap_or(u64::MAX),
            format!("  {}: mono {m}, jit {j} ({d:?} ulp)", c.method),
        ));
    }
    diffs.sort();
    let one = diffs.iter().filter(|d| d.0 <= 1).count();
    eprintln!(
        "random maths, transcendental: {same} identical to mono, {one} one ulp apart, {} further:\n{}",
        diffs.len() - one,
        diffs.iter().map(|d| d.1.as_str()).collect::<Vec<_>>().join("\n")
    );
    assert!(bad.is_empty(), "\n{}\n{}", bad.join("\n"), run.note);
}
