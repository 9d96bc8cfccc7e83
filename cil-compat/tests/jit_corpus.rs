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
// Expectations (`jit_corpus/expect.rs`)
// ---------------------------------------------------------------------------

#[path = "jit_corpus/expect.rs"]
mod expect;
use expect::*;

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
// Running cilrun and mono (`jit_corpus/runs.rs`)
// ---------------------------------------------------------------------------

#[path = "jit_corpus/runs.rs"]
mod runs;
use runs::*;

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
    jit_shared_generics => "SharedGenerics",
    jit_shared_methods => "SharedMethods",
    jit_math_lib => "MathLib",
    jit_lambdas => "Lambdas",
    jit_text_ops => "TextOps",
    jit_collections => "Collections",
    jit_collections_generic => "CollectionsGeneric",
    jit_array_interfaces => "ArrayInterfaces",
    jit_gc => "Gc",
    jit_inlining => "Inlining",
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

#[path = "jit_corpus/random.rs"]
mod random;

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
