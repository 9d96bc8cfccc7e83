//! The JIT conformance corpus (`jit/tests/corpus`, `jit/tests/il`,
//! `jit/tests/thirdparty`, `jit/tests/corpus/bench`) run through our JIT with
//! `cilrun ASSEMBLY --lib DIR --invoke-all '*'` and, where `mono` is installed, through
//! mono with `jit/tests/mono-runner/Runner.cs` (ECMA-335 Partition III semantics; the
//! output and expectation formats are in `jit/tests/corpus/README.md`).
//!
//! Every assembly is compiled against our corlib with `cil_compat::toolchain`; the very
//! same DLL runs under both runtimes. One test per instruction family, so a failure
//! names the family and prints a table of the methods whose result differs.
//! The JIT tests skip (saying so) until `cilrun` offers `--invoke-all`.
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

/// `Ns.Type::Method` → `= value` or `! kind`.
type Outcomes = BTreeMap<String, String>;

/// How long one runtime may take over one assembly before it is killed.
const RUN_TIMEOUT: Duration = Duration::from_secs(300);

/// JIT results known to differ today, each with the reason. They are printed but do
/// not fail the tests (set `JIT_CORPUS_STRICT=1` to make them fail); an entry whose
/// method starts passing fails the test, so the list only ever shrinks.
const KNOWN_GAPS: &[(&str, &str)] = &[(
    "Corpus.Enums::UnboxEnumAsUnderlying",
    "unbox.any int32 of a boxed enum with int32 underlying type (ECMA-335 III.4.32 allows it)",
)];

fn known_gap(method: &str) -> Option<&'static str> {
    if std::env::var_os("JIT_CORPUS_STRICT").is_some_and(|v| v == "1") {
        return None;
    }
    KNOWN_GAPS
        .iter()
        .find(|(m, _)| *m == method)
        .map(|(_, r)| *r)
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

fn mono_available() -> bool {
    toolchain::find_tool("mono").is_ok()
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
    let mono = toolchain::find_tool("mono").map_err(|e| e.to_string())?;
    let mut c = Command::new(mono);
    c.arg(runner_exe()).arg(dll).args(mode);
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
}

const EXPECT_VS_JIT: Sides = Sides {
    want: "expected",
    got: "jit",
    jit: true,
};
const EXPECT_VS_MONO: Sides = Sides {
    want: "expected",
    got: "mono",
    jit: false,
};
const MONO_VS_JIT: Sides = Sides {
    want: "mono",
    got: "jit",
    jit: true,
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

fn skip_without_invoke(what: &str) -> bool {
    if cilrun_can_invoke() {
        return false;
    }
    eprintln!("SKIPPED {what}: cilrun has no --invoke-all yet");
    true
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
