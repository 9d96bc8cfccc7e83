//! The `cilrun` host CLI: `--dump` shows what the loader sees, errors are clean.

mod common;

use std::process::Command;

fn cilrun(args: &[&str]) -> (i32, String, String) {
    let o = Command::new(env!("CARGO_BIN_EXE_cilrun"))
        .args(args)
        .output()
        .unwrap();
    (
        o.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

#[test]
fn dump_shows_types_sizes_offsets_and_methods() {
    let dep = common::dependent();
    let lib = common::corlib();
    let libdir = lib.parent().unwrap().to_str().unwrap().to_string();
    let (code, out, err) = cilrun(&[dep.to_str().unwrap(), "--lib", &libdir, "--dump"]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("assembly mscorlib"), "corlib loaded first");
    assert!(out.contains("assembly LoaderLayouts"));
    assert!(out.contains("assembly LoaderDependent"));
    let line = out
        .lines()
        .find(|l| l.starts_with("struct LoaderTests.PciAddress "))
        .unwrap();
    assert!(line.contains("size=3 align=1"), "{line}");
    let line = out
        .lines()
        .find(|l| l.starts_with("array LoaderTests.PciBar[]"))
        .unwrap();
    assert!(line.contains("component_size=24"), "{line}");
    assert!(
        out.contains("  field System.Int64 Id @32"),
        "Dog.Id after the header and base fields"
    );
    assert!(out.contains("  method System.Int32 Area() virtual slot=4 il="));
    assert!(out.contains("  vtable[2] = DependentTests.Derived::ToString"));
    assert!(out.contains("implements LoaderTests.IShape slots [Some(4), Some(5)]"));
}

#[test]
fn missing_reference_and_bad_file_are_clear_errors() {
    let dep = common::dependent();
    let tmp = std::env::temp_dir().join(format!("cilrun-test-{}", std::process::id()));
    std::fs::create_dir_all(&tmp).unwrap();
    let lonely = tmp.join("LoaderDependent.dll");
    std::fs::copy(&dep, &lonely).unwrap();
    let (code, _, err) = cilrun(&[lonely.to_str().unwrap(), "--dump"]);
    assert_eq!(code, 1);
    assert!(
        err.contains("--lib") && err.contains("LoaderLayouts.dll"),
        "{err}"
    );
    let junk = tmp.join("junk.dll");
    std::fs::write(&junk, b"MZ not really").unwrap();
    let (code, _, err) = cilrun(&[junk.to_str().unwrap(), "--dump"]);
    assert_eq!(code, 1);
    assert!(err.contains("malformed"), "{err}");
    let (code, _, err) = cilrun(&["--bogus"]);
    assert_eq!(code, 2);
    assert!(err.contains("usage"), "{err}");
    let _ = std::fs::remove_dir_all(&tmp);
}

/// A new user's program, compiled with plain `mcs` against mono's own
/// mscorlib, runs with no `--lib`: references to `mscorlib` bind to ours.
#[test]
fn plain_mcs_program_runs_without_lib() {
    let mcs = cil_compat::toolchain::find_tool("mcs").expect("mcs (mono-mcs)");
    let tmp = std::env::temp_dir().join(format!("cilrun-plain-{}", std::process::id()));
    std::fs::create_dir_all(&tmp).unwrap();
    let src = tmp.join("t.cs");
    std::fs::write(
        &src,
        "public struct P { public byte A, B, C; }\n\
         public static class T {\n\
           public static int test_6_struct() { P p = new P(); p.A = 1; p.B = 2; p.C = 3; P q = p; return q.A + q.B + q.C; }\n\
           public static int test_5_array_length() { System.Array a = new P[5]; return a.Length; }\n\
           public static int test_0_div() { int z = 0; return 1 / z; }\n\
         }\n",
    )
    .unwrap();
    let dll = tmp.join("t.dll");
    let st = Command::new(mcs)
        .arg("-target:library")
        .arg(format!("-out:{}", dll.display()))
        .arg(&src)
        .status()
        .unwrap();
    assert!(st.success(), "mcs failed");
    let (code, out, err) = cilrun(&[dll.to_str().unwrap(), "--invoke-all", "test_*"]);
    assert!(out.contains("T::test_6_struct = 6"), "{out}{err}");
    assert!(out.contains("T::test_5_array_length = 5"), "{out}{err}");
    assert!(out.contains("T::test_0_div ! divide-by-zero"), "{out}{err}");
    assert_eq!(code, 1, "a line with `!` makes the exit status 1");
    let _ = std::fs::remove_dir_all(&tmp);
}

/// `--lib` must name a directory; a PE file without CLI metadata (a native
/// DLL) or a non-PE file is "not a .NET assembly", not a format error; a
/// generic class's type parameter is named as in C#.
#[test]
fn a_new_users_mistakes_get_plain_answers() {
    let dep = common::dependent();
    let (code, _, err) = cilrun(&[dep.to_str().unwrap(), "--lib", "/nonexistent", "--dump"]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("--lib /nonexistent: no such directory"),
        "{err}"
    );

    let tmp = std::env::temp_dir().join(format!("cilrun-native-{}", std::process::id()));
    std::fs::create_dir_all(&tmp).unwrap();
    // The same DLL with its CLI header directory (data directory 14) zeroed:
    // what a native PE looks like to the loader.
    let mut bytes = std::fs::read(&dep).unwrap();
    let pe = u32::from_le_bytes(bytes[0x3c..0x40].try_into().unwrap()) as usize;
    let opt = pe + 24;
    let dirs = if bytes[opt..opt + 2] == [0x0b, 0x02] {
        opt + 112
    } else {
        opt + 96
    };
    bytes[dirs + 14 * 8..dirs + 15 * 8].fill(0);
    let native = tmp.join("native.dll");
    std::fs::write(&native, &bytes).unwrap();
    let (code, _, err) = cilrun(&[native.to_str().unwrap(), "--dump"]);
    assert_eq!(code, 1);
    assert!(
        err.contains("not a .NET assembly (a native PE file"),
        "{err}"
    );
    let text = tmp.join("notes.txt");
    std::fs::write(&text, "hello").unwrap();
    let (_, _, err) = cilrun(&[text.to_str().unwrap(), "--dump"]);
    assert!(err.contains("not a .NET assembly (not a PE file"), "{err}");

    let mcs = cil_compat::toolchain::find_tool("mcs").expect("mcs (mono-mcs)");
    let src = tmp.join("g.cs");
    std::fs::write(
        &src,
        "namespace Ns { public class Box<TItem> { public TItem V; public TItem Get() { return V; } } }\n",
    )
    .unwrap();
    let dll = tmp.join("g.dll");
    let st = Command::new(mcs)
        .arg("-target:library")
        .arg(format!("-out:{}", dll.display()))
        .arg(&src)
        .status()
        .unwrap();
    assert!(st.success(), "mcs failed");
    let (code, out, err) = cilrun(&[dll.to_str().unwrap(), "--disasm", "Ns.Box`1::Get"]);
    assert_eq!(code, 1);
    assert!(
        out.contains("type parameter TItem of generic class Ns.Box<TItem>"),
        "{out}"
    );
    assert!(!out.contains("!0") && !err.contains("!0"), "{out}{err}");
    let _ = std::fs::remove_dir_all(&tmp);
}

/// A method whose signature names a type our corlib lacks does not sink its
/// assembly: every other method runs, and that one reports what is missing
/// (mono's own mscorlib has `System.Runtime.Serialization.SerializationInfo`).
#[test]
fn a_member_naming_a_missing_type_fails_alone() {
    let mcs = cil_compat::toolchain::find_tool("mcs").expect("mcs (mono-mcs)");
    let tmp = std::env::temp_dir().join(format!("cilrun-missing-{}", std::process::id()));
    std::fs::create_dir_all(&tmp).unwrap();
    let src = tmp.join("m.cs");
    std::fs::write(
        &src,
        "using System.Runtime.Serialization;\n\
         public delegate int D(int x);\n\
         public static class T {\n\
           static int Twice(int x) { return 2 * x; }\n\
           static int Uses(SerializationInfo i) { return 1; }\n\
           public static int test_8_delegate() { D d = Twice; return d(4); }\n\
           public static int test_1_missing() { return Uses(null); }\n\
         }\n",
    )
    .unwrap();
    let dll = tmp.join("m.dll");
    let st = Command::new(mcs)
        .arg("-target:library")
        .arg(format!("-out:{}", dll.display()))
        .arg(&src)
        .status()
        .unwrap();
    assert!(st.success(), "mcs failed");
    let (_, out, err) = cilrun(&[dll.to_str().unwrap(), "--invoke-all", "test_*"]);
    assert!(out.contains("T::test_8_delegate = 8"), "{out}{err}");
    let line = out
        .lines()
        .find(|l| l.starts_with("T::test_1_missing "))
        .unwrap_or_else(|| panic!("no line for test_1_missing: {out}{err}"));
    assert!(
        line.contains(" ! ") && line.contains("SerializationInfo"),
        "{line}"
    );
    let _ = std::fs::remove_dir_all(&tmp);
}

/// `--disasm` of a method with handlers ends with its region table: one line
/// per clause, IL and code ranges, and the exception slot of a catch.
#[test]
fn disasm_shows_exception_regions() {
    let mcs = cil_compat::toolchain::find_tool("mcs").expect("mcs (mono-mcs)");
    let tmp = std::env::temp_dir().join(format!("cilrun-eh-{}", std::process::id()));
    std::fs::create_dir_all(&tmp).unwrap();
    let src = tmp.join("e.cs");
    std::fs::write(
        &src,
        "public static class E {\n\
           static int Zero() { return 0; }\n\
           public static int test_7_regions() {\n\
             int r = 0;\n\
             try { try { r = 1 / Zero(); } finally { r += 3; } }\n\
             catch (System.DivideByZeroException) { r += 4; }\n\
             return r;\n\
           }\n\
         }\n",
    )
    .unwrap();
    let dll = tmp.join("e.dll");
    let st = Command::new(mcs)
        .arg("-target:library")
        .arg(format!("-out:{}", dll.display()))
        .arg(&src)
        .status()
        .unwrap();
    assert!(st.success(), "mcs failed");
    let (code, out, err) = cilrun(&[dll.to_str().unwrap(), "--disasm", "E::test_7_regions"]);
    assert_eq!(code, 0, "{out}{err}");
    let table = out
        .split_once("; exception-handling regions")
        .map(|(_, t)| t)
        .unwrap_or_else(|| panic!("no region table:\n{out}"));
    let lines: Vec<&str> = table.lines().skip(1).filter(|l| !l.is_empty()).collect();
    assert_eq!(lines.len(), 2, "{table}");
    assert!(lines[0].starts_with(";   0: finally: try IL_"), "{table}");
    assert!(lines[1].starts_with(";   1: catch 0x"), "{table}");
    assert!(lines[1].contains(", exception in [rbp-0x"), "{table}");
    let (code, out, err) = cilrun(&[dll.to_str().unwrap(), "--invoke-all", "test_*"]);
    assert!(out.contains("E::test_7_regions = 7"), "{out}{err}");
    assert_eq!(code, 0);
    let _ = std::fs::remove_dir_all(&tmp);
}

/// `--disasm` takes the globs `--invoke-all` takes, names call targets and
/// fields, and shows a method it cannot compile as IL with the offset where
/// compilation stopped (exit status 1).
#[test]
fn disasm_takes_globs_names_targets_and_shows_refused_il() {
    let mcs = cil_compat::toolchain::find_tool("mcs").expect("mcs (mono-mcs)");
    let tmp = std::env::temp_dir().join(format!("cilrun-disasm-{}", std::process::id()));
    std::fs::create_dir_all(&tmp).unwrap();
    let src = tmp.join("d.cs");
    std::fs::write(
        &src,
        "namespace Ns {\n\
           public class Counter { public int N; public virtual int Next() { return ++N; } }\n\
           public static class T {\n\
             public static int test_calls() { var c = new Counter(); c.Next(); return c.Next(); }\n\
             public static int test_plain() { return 7; }\n\
             public static unsafe int uses_refused() { try { byte* b = stackalloc byte[4]; b[0] = 9; return b[0]; } catch { return 0; } }\n\
           }\n\
         }\n",
    )
    .unwrap();
    let dll = tmp.join("d.dll");
    let st = Command::new(mcs)
        .arg("-target:library")
        .arg("-unsafe")
        .arg(format!("-out:{}", dll.display()))
        .arg(&src)
        .status()
        .unwrap();
    assert!(st.success(), "mcs failed");
    let (code, out, err) = cilrun(&[dll.to_str().unwrap(), "--disasm", "test_*"]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("; Ns.T::test_calls"), "{out}");
    assert!(out.contains("; Ns.T::test_plain"), "{out}");
    assert!(out.contains("callvirt Ns.Counter::Next"), "{out}");
    assert!(out.contains("newobj Ns.Counter::.ctor"), "{out}");
    assert!(
        !out.contains("0x0a0000") && !out.contains("0x060000"),
        "{out}"
    );
    let (code, out, _) = cilrun(&[dll.to_str().unwrap(), "--disasm", "Ns.Counter::*"]);
    assert_eq!(code, 0);
    assert!(out.contains("stfld Ns.Counter::N"), "{out}");
    // A method the JIT refuses (`localloc` in a method with a catch handler):
    // its IL, the offset marked, exit status 1 and the method named on stderr.
    let (code, out, err) = cilrun(&[dll.to_str().unwrap(), "--disasm", "uses_*"]);
    assert_eq!(code, 1, "{out}{err}");
    assert!(
        out.contains("; Ns.T::uses_refused — not compiled: "),
        "{out}"
    );
    assert!(out.contains("<-- compilation stopped here"), "{out}");
    assert!(out.contains("localloc"), "{out}");
    assert!(err.contains("not compiled: Ns.T::uses_refused"), "{err}");
    let (code, _, err) = cilrun(&[dll.to_str().unwrap(), "--disasm", "nothing_*"]);
    assert_eq!(code, 1);
    assert!(err.contains("no method matches"), "{err}");
    let _ = std::fs::remove_dir_all(&tmp);
}

/// `cilrun ... --dump | head`: the closed pipe ends cilrun quietly, no panic.
#[test]
fn a_closed_stdout_is_no_panic() {
    let dep = common::dependent();
    let lib = common::corlib();
    let libdir = lib.parent().unwrap().to_str().unwrap().to_string();
    let mut child = Command::new(env!("CARGO_BIN_EXE_cilrun"))
        .args([dep.to_str().unwrap(), "--lib", &libdir, "--dump"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take()); // the reader is gone before the first line
    let out = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!err.contains("panicked"), "{err}");
    assert_eq!(out.status.code(), Some(0), "{err}");
}
