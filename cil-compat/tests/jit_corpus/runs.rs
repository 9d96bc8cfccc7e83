//! Running an assembly through `cilrun --invoke-all` (our JIT) and through mono
//! with the corpus runner, each with a timeout, results cached per test process.

use super::*;

/// What one runtime printed for one assembly.
pub(super) struct Run {
    pub(super) results: Outcomes,
    /// Exit status and stderr tail, shown when methods are missing.
    pub(super) note: String,
}

pub(super) fn run_with_timeout(mut cmd: Command) -> Result<Run, String> {
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

pub(super) fn cilrun() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_cilrun"))
}

/// True once `cilrun --help` lists `--invoke-all`.
pub(super) fn cilrun_can_invoke() -> bool {
    static C: OnceLock<bool> = OnceLock::new();
    *C.get_or_init(|| {
        Command::new(cilrun())
            .arg("--help")
            .output()
            .map(|o| String::from_utf8_lossy(&o.stdout).contains("--invoke-all"))
            .unwrap_or(false)
    })
}

pub(super) fn run_jit(dll: &Path) -> Result<Run, String> {
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
pub(super) fn mono_available() -> bool {
    let found = toolchain::find_tool("mono").is_ok();
    assert!(
        found || std::env::var_os("XTASK_REQUIRE_TOOLS").is_none(),
        "mono is required here (XTASK_REQUIRE_TOOLS is set) but was not found"
    );
    found
}

pub(super) fn runner_exe() -> &'static Path {
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

pub(super) fn run_mono(dll: &Path, mode: &[&str]) -> Result<Run, String> {
    run_mono_with(&[], dll, mode)
}

pub(super) fn run_mono_with(flags: &[&str], dll: &Path, mode: &[&str]) -> Result<Run, String> {
    let mono = toolchain::find_tool("mono").map_err(|e| e.to_string())?;
    let mut c = Command::new(mono);
    c.args(flags).arg(runner_exe()).arg(dll).args(mode);
    run_with_timeout(c)
}

/// Runs of each runtime over each assembly, once per test process: concurrent
/// family tests wait for the one run instead of starting their own.
pub(super) fn cached(runtime: &'static str, dll: &Path) -> &'static Run {
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
