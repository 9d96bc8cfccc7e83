//! `cilrun`: host CLI that loads CIL assemblies with the loader and inspects them.
//!
//! ```text
//! cilrun ASSEMBLY [--lib DIR]... --dump
//! cilrun ASSEMBLY [--lib DIR]... --invoke-all PATTERN
//! cilrun ASSEMBLY [--lib DIR]... --disasm PATTERN
//! cilrun ASSEMBLY [--lib DIR]... --gc-stats PATTERN
//! ```
//! Without a `--lib` directory holding `mscorlib.dll`, our corlib is built (when
//! out of date) and used, so programs compiled with plain `mcs` run as they are.
//! Flags are dispatched through [`COMMANDS`]: each entry names a flag, whether it
//! takes a value, and the function that runs it on the loaded [`Session`]. The
//! execution engine adds `--invoke-all PATTERN` and `--disasm PATTERN` there.

use std::path::PathBuf;
use std::process::ExitCode;

use cil_compat::types::{AsmId, TypeSystem};

/// What every command gets: the loaded type system and the main assembly.
pub struct Session {
    /// All loaded assemblies.
    pub ts: TypeSystem,
    /// The assembly named on the command line.
    pub main: AsmId,
    /// Library directories given with `--lib`.
    pub lib_dirs: Vec<PathBuf>,
}

/// One command-line action.
pub struct CommandSpec {
    /// The flag, e.g. `--dump`.
    pub flag: &'static str,
    /// True if the flag takes a value (`--invoke-all PATTERN`).
    pub takes_value: bool,
    /// One-line help.
    pub help: &'static str,
    /// Runs the command; returns the process exit status.
    pub run: fn(&mut Session, Option<&str>) -> Result<u8, String>,
}

/// All commands. Add new ones here (one entry each).
pub const COMMANDS: &[CommandSpec] = &[
    CommandSpec {
        flag: "--dump",
        takes_value: false,
        help: "print assemblies, types (size, field offsets, MethodTable facts) and methods",
        run: cmd_dump,
    },
    CommandSpec {
        flag: "--invoke-all",
        takes_value: true,
        help: "JIT and call every static parameterless method matching the glob \
               (on the name, or on Ns.Type::Method with `::`); one line each: \
               `Ns.Type::M = value` or `Ns.Type::M ! error` (each in its own child process)",
        run: cmd_invoke_all,
    },
    CommandSpec {
        flag: "--gc-stats",
        takes_value: true,
        help: "as --invoke-all, and print each method's garbage-collector figures \
               (collections, pause total/max, bytes allocated, live, heap reserved) \
               to stderr; CILRUN_GC_STRESS=N collects before every N-th allocation, \
               CILRUN_HEAP_LIMIT=BYTES bounds the heap",
        run: cmd_gc_stats,
    },
    CommandSpec {
        flag: "--disasm",
        takes_value: true,
        help: "print the IL and generated x86-64 of every method matching the glob (as \
               --invoke-all: on the name, or on Ns.Type::Method with `::`), call targets \
               named; a method the JIT refuses is shown as IL with the offset where it stopped",
        run: cmd_disasm,
    },
];

/// Runs `f` with an active execution engine over the session's type system.
fn with_engine<T>(s: &mut Session, f: impl FnOnce(&mut cil_compat::exec::Engine, AsmId) -> T) -> T {
    let ts = std::mem::take(&mut s.ts);
    let mut e = cil_compat::exec::cli::engine(ts);
    let r = f(&mut e, s.main);
    s.ts = std::mem::take(&mut e.ts);
    r
}

fn cmd_invoke_all(s: &mut Session, pattern: Option<&str>) -> Result<u8, String> {
    let pattern = pattern.unwrap_or("*");
    let lines = with_engine(s, |e, main| {
        cil_compat::exec::cli::invoke_all(e, main, pattern)
    });
    if lines.is_empty() {
        return Err(format!(
            "no static parameterless method matches `{pattern}`"
        ));
    }
    let failed = lines.iter().any(|l| l.contains(" ! "));
    for l in &lines {
        emit(&format!("{l}\n"));
    }
    Ok(failed as u8)
}

fn cmd_gc_stats(s: &mut Session, pattern: Option<&str>) -> Result<u8, String> {
    cil_compat::exec::cli::GC_STATS.store(true, std::sync::atomic::Ordering::Relaxed);
    cmd_invoke_all(s, pattern)
}

fn cmd_disasm(s: &mut Session, name: Option<&str>) -> Result<u8, String> {
    let name = name.unwrap_or_default();
    let (text, failed) = with_engine(s, |e, main| cil_compat::exec::cli::disasm(e, main, name))?;
    emit(&text);
    if failed.is_empty() {
        Ok(0)
    } else {
        Err(format!("not compiled: {}", failed.join(", ")))
    }
}

fn cmd_dump(s: &mut Session, _: Option<&str>) -> Result<u8, String> {
    let mut out = String::new();
    for a in s.ts.assemblies() {
        cil_compat::dump::dump_assembly(&s.ts, a, &mut out);
    }
    cil_compat::dump::dump_constructed(&s.ts, &mut out);
    emit(&out);
    Ok(0)
}

/// Writes to stdout; a reader that went away (`cilrun ... | head`) ends the
/// program quietly instead of a panic on the broken pipe.
fn emit(text: &str) {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    if let Err(e) = out.write_all(text.as_bytes()).and_then(|_| out.flush()) {
        if e.kind() == std::io::ErrorKind::BrokenPipe {
            std::process::exit(0);
        }
        eprintln!("cilrun: stdout: {e}");
        std::process::exit(1);
    }
}

fn usage() -> String {
    let mut u = String::from("usage: cilrun ASSEMBLY [--lib DIR]... COMMAND\ncommands:\n");
    for c in COMMANDS {
        u.push_str(&format!(
            "  {}{}  {}\n",
            c.flag,
            if c.takes_value { " VALUE" } else { "" },
            c.help
        ));
    }
    u
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut assembly = None;
    let mut lib_dirs = Vec::new();
    let mut actions: Vec<(&CommandSpec, Option<String>)> = Vec::new();
    let mut i = 0;
    while i < args.len() {
        let a = &args[i];
        if a == "--lib" {
            let Some(d) = args.get(i + 1) else {
                eprintln!("--lib needs a directory\n{}", usage());
                return ExitCode::from(2);
            };
            lib_dirs.push(PathBuf::from(d));
            i += 2;
            continue;
        }
        if a == "-h" || a == "--help" {
            print!("{}", usage());
            return ExitCode::SUCCESS;
        }
        if let Some(c) = COMMANDS.iter().find(|c| c.flag == a) {
            let v = if c.takes_value {
                let Some(v) = args.get(i + 1) else {
                    eprintln!("{} needs a value\n{}", c.flag, usage());
                    return ExitCode::from(2);
                };
                i += 1;
                Some(v.clone())
            } else {
                None
            };
            actions.push((c, v));
        } else if a.starts_with('-') {
            eprintln!("unknown option {a}\n{}", usage());
            return ExitCode::from(2);
        } else if assembly.is_none() {
            assembly = Some(PathBuf::from(a));
        } else {
            eprintln!("more than one assembly given\n{}", usage());
            return ExitCode::from(2);
        }
        i += 1;
    }
    let Some(path) = assembly else {
        eprint!("{}", usage());
        return ExitCode::from(2);
    };
    for d in &lib_dirs {
        if !d.is_dir() {
            let what = if d.exists() {
                "not a directory"
            } else {
                "no such directory"
            };
            eprintln!("cilrun: --lib {}: {what}", d.display());
            return ExitCode::from(2);
        }
    }
    // Our corlib is the default library: without a --lib that holds an
    // mscorlib.dll, build ours (skipped when up to date) and search it, so
    // `cilrun prog.dll …` works on a program compiled with plain `mcs`.
    let mut ts = TypeSystem::new();
    if !lib_dirs.iter().any(|d| d.join("mscorlib.dll").is_file()) {
        let loaded = cil_compat::toolchain::corlib().and_then(|p| {
            let bytes = std::fs::read(&p)
                .map_err(|e| cil_compat::Error::Toolchain(format!("read {}: {e}", p.display())))?;
            ts.load(bytes)
        });
        if let Err(e) = loaded {
            eprintln!("cilrun: our corlib is not available ({e}); pass --lib DIR");
        }
    }
    let main = match cil_compat::host::load_with_deps(&mut ts, &path, &lib_dirs) {
        Ok(m) => m,
        Err(e) => {
            eprintln!("cilrun: {}: {e}", path.display());
            return ExitCode::from(1);
        }
    };
    let mut session = Session { ts, main, lib_dirs };
    if actions.is_empty() {
        actions.push((&COMMANDS[0], None));
    }
    let mut status = 0u8;
    for (c, v) in actions {
        match (c.run)(&mut session, v.as_deref()) {
            Ok(s) => status = status.max(s),
            Err(e) => {
                eprintln!("cilrun: {}: {e}", c.flag);
                status = status.max(1);
            }
        }
    }
    ExitCode::from(status)
}
