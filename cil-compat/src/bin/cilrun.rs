//! `cilrun`: host CLI that loads CIL assemblies with the loader and inspects them.
//!
//! ```text
//! cilrun ASSEMBLY [--lib DIR]... --dump
//! ```
//! Flags are dispatched through [`COMMANDS`]: each entry names a flag, whether it
//! takes a value, and the function that runs it on the loaded [`Session`]. The
//! execution engine adds `--invoke-all PATTERN` and `--disasm METHOD` there.

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
pub const COMMANDS: &[CommandSpec] = &[CommandSpec {
    flag: "--dump",
    takes_value: false,
    help: "print assemblies, types (size, field offsets, MethodTable facts) and methods",
    run: cmd_dump,
}];

fn cmd_dump(s: &mut Session, _: Option<&str>) -> Result<u8, String> {
    let mut out = String::new();
    for a in s.ts.assemblies() {
        cil_compat::dump::dump_assembly(&s.ts, a, &mut out);
    }
    cil_compat::dump::dump_constructed(&s.ts, &mut out);
    print!("{out}");
    Ok(0)
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
    let mut ts = TypeSystem::new();
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
