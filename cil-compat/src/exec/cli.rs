//! Host-side execution (`std` feature, Linux): executable memory from `mmap`,
//! `cilrun --invoke-all` (one forked child per method, so a crash or runtime error
//! in one method cannot lose the others' lines), `--disasm`, and the JIT benchmark.
//!
//! Why fork: an exception no managed handler takes (a runtime error, a `throw`)
//! must not return into the faulting method, so the child reports
//! (`Engine::on_fail` prints the `!` line) and exits; segfaults and timeouts are
//! seen by the parent as a signal.

use std::io::Write;
use std::string::{String, ToString};
use std::time::Instant;
use std::vec::Vec;

use super::{jit_type, CodeMemory, Engine, EngineError, Failure, RetVal};
use crate::metadata::sig::Prim;
use crate::types::{AsmId, MethodId, TypeKind, TypeSystem};

/// RWX memory in 4 MiB mmap chunks (host only; the kernel supplies W^X pages).
pub struct MmapMemory {
    chunk: usize,
    used: usize,
    size: usize,
}

impl MmapMemory {
    pub fn new() -> MmapMemory {
        MmapMemory {
            chunk: 0,
            used: 0,
            size: 0,
        }
    }
}

impl Default for MmapMemory {
    fn default() -> Self {
        Self::new()
    }
}

impl CodeMemory for MmapMemory {
    fn install(&mut self, code: &[u8]) -> Result<u64, EngineError> {
        let at = (self.used + 15) & !15;
        if self.chunk == 0 || at + code.len() > self.size {
            let size = (code.len() + 15).max(4 << 20);
            // SAFETY: anonymous private mapping, no address hint; result checked.
            let p = unsafe {
                libc::mmap(
                    core::ptr::null_mut(),
                    size,
                    libc::PROT_READ | libc::PROT_WRITE | libc::PROT_EXEC,
                    libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
                    -1,
                    0,
                )
            };
            if p == libc::MAP_FAILED {
                return Err(EngineError::CodeSpace(
                    "mmap of executable memory failed".into(),
                ));
            }
            self.chunk = p as usize;
            self.used = 0;
            self.size = size;
            return self.install(code);
        }
        // SAFETY: [chunk+at, chunk+at+len) is inside our mapping and unused.
        unsafe {
            core::ptr::copy_nonoverlapping(code.as_ptr(), (self.chunk + at) as *mut u8, code.len())
        };
        self.used = at + code.len();
        Ok((self.chunk + at) as u64)
    }
}

/// A new active engine with mmap'd code memory.
///
/// `CILRUN_GC_STRESS=N` collects before every N-th allocation (see
/// [`super::gc::GcState::stress`]); `CILRUN_HEAP_LIMIT=BYTES` bounds the heap;
/// `CILRUN_GC_CONSERVATIVE=1` scans JIT frames conservatively instead of with
/// their stack maps.
pub fn engine(ts: TypeSystem) -> Box<Engine> {
    let mut e = Box::new(Engine::new(ts, Box::new(MmapMemory::new())));
    e.clock = Some(monotonic_ns);
    if let Some(n) = std::env::var("CILRUN_GC_STRESS")
        .ok()
        .and_then(|v| v.parse().ok())
    {
        e.gc.stress = n;
    }
    e.gc.conservative_stack =
        std::env::var("CILRUN_GC_CONSERVATIVE").is_ok_and(|v| !v.is_empty() && v != "0");
    if let Some(n) = std::env::var("CILRUN_HEAP_LIMIT")
        .ok()
        .and_then(|v| v.parse().ok())
    {
        e.ts.heap_mut().set_limit(n);
    }
    e.activate();
    e
}

/// Nanoseconds since the first call (the engine's clock on the host).
pub fn monotonic_ns() -> u64 {
    static START: std::sync::OnceLock<std::time::Instant> = std::sync::OnceLock::new();
    START
        .get_or_init(std::time::Instant::now)
        .elapsed()
        .as_nanos() as u64
}

/// Print collector figures after each `--invoke-all` method (`--gc-stats`).
pub static GC_STATS: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// One line of collector figures (`cilrun --gc-stats`, the stress test).
pub fn gc_stats_line(e: &Engine) -> String {
    let h = e.ts.heap();
    let s = h.stats();
    format!(
        "gc: {} collections, pause total {:.3} ms max {:.3} ms; allocated {} KiB total, \
         live {} KiB after last, heap {} KiB now (peak {} KiB, limit {} KiB), {} chunks released; \
         stack: {} JIT frames by stack map, {} precise roots, {} KiB scanned conservatively",
        s.collections,
        s.total_pause_ns as f64 / 1e6,
        s.max_pause_ns as f64 / 1e6,
        s.total_allocated / 1024,
        s.live_after_last / 1024,
        h.bytes_reserved() / 1024,
        s.peak_reserved / 1024,
        h.limit() / 1024,
        s.chunks_released,
        e.gc.totals.jit_frames,
        e.gc.totals.precise_roots,
        e.gc.totals.conservative_bytes / 1024,
    )
}

/// `*`/`?` glob match.
pub fn glob(pat: &str, s: &str) -> bool {
    fn go(p: &[char], s: &[char]) -> bool {
        match (p.first(), s.first()) {
            (None, None) => true,
            (Some('*'), _) => go(&p[1..], s) || (!s.is_empty() && go(p, &s[1..])),
            (Some('?'), Some(_)) => go(&p[1..], &s[1..]),
            (Some(a), Some(b)) if a == b => go(&p[1..], &s[1..]),
            _ => false,
        }
    }
    let (p, s): (Vec<char>, Vec<char>) = (pat.chars().collect(), s.chars().collect());
    go(&p, &s)
}

/// Static, parameterless, non-generic methods of `asm` matching `pattern` (on the
/// method name, or on `Ns.Type::Method` when the pattern contains `::`), in
/// MethodDef order.
pub fn matching_methods(ts: &TypeSystem, asm: AsmId, pattern: &str) -> Vec<MethodId> {
    let mut out = Vec::new();
    for &t in ts.types_of(asm) {
        for &m in &ts.info(t).methods {
            let d = ts.method(m);
            if !d.is_static()
                || !d.sig.params.is_empty()
                || d.sig.generic_params != 0
                || d.name.starts_with('.')
            {
                continue;
            }
            let full = format!("{}::{}", ts.type_name(t), d.name);
            let hit = if pattern.contains("::") {
                glob(pattern, &full)
            } else {
                glob(pattern, &d.name)
            };
            if hit {
                out.push(m);
            }
        }
    }
    out.sort_by_key(|m| ts.method(*m).token.0);
    out
}

/// Formats a returned value by the method's declared return type (corpus README).
pub fn format_result(ts: &TypeSystem, m: MethodId, r: RetVal) -> Result<String, String> {
    let ret = ts.method(m).sig.ret;
    let info = ts.info(ret);
    let prim = match info.kind {
        TypeKind::Primitive(p) => Some(p),
        TypeKind::Enum => match jit_type(ts, ret) {
            Ok(jit::host::JitType::I4) => Some(Prim::I4),
            Ok(jit::host::JitType::U1) => Some(Prim::U1),
            Ok(jit::host::JitType::I8) => Some(Prim::I8),
            _ => None,
        },
        _ => None,
    };
    let v = match r {
        RetVal::Int(v) => v,
        RetVal::F32(f) => return Ok(format!("{f}")),
        RetVal::F64(f) => return Ok(format!("{f}")),
        RetVal::Void => return Ok("void".into()),
    };
    Ok(match prim {
        Some(Prim::Boolean) => format!("{}", (v as u8 != 0) as u8),
        Some(Prim::Char) | Some(Prim::U2) => format!("{}", v as u16),
        Some(Prim::I1) => format!("{}", v as i8),
        Some(Prim::U1) => format!("{}", v as u8),
        Some(Prim::I2) => format!("{}", v as i16),
        Some(Prim::I4) => format!("{}", v as i32),
        Some(Prim::U4) => format!("{}", v as u32),
        Some(Prim::I8) | Some(Prim::I) => format!("{}", v as i64),
        Some(Prim::U8) | Some(Prim::U) => format!("{v}"),
        _ => return Err(format!("unsupported-return {}", ts.type_name(ret))),
    })
}

/// SIGSEGV in the child: a fault in the first 64 KiB is a null dereference through
/// a pointer (the CLI's NullReferenceException, as CoreCLR and mono report it).
extern "C" fn on_segv(_sig: i32, info: *mut libc::siginfo_t, ctx: *mut libc::c_void) {
    // SAFETY: the kernel passes a valid siginfo for SA_SIGINFO handlers.
    let addr = unsafe { (*info).si_addr() } as usize;
    // SAFETY: a valid ucontext_t for SA_SIGINFO handlers; only this thread's
    // saved registers are read and rewritten.
    unsafe {
        let g = &mut (*(ctx as *mut libc::ucontext_t)).uc_mcontext.gregs;
        let reg = |r: i32| g[r as usize] as u64;
        if let Some((rip, rsp, rdi)) = super::null_fault::null_fault_resume(
            addr as u64,
            reg(libc::REG_RIP),
            reg(libc::REG_RSP),
            reg(libc::REG_RBP),
        ) {
            // A managed handler may catch it: raise NullReferenceException.
            g[libc::REG_RIP as usize] = rip as i64;
            g[libc::REG_RSP as usize] = rsp as i64;
            g[libc::REG_RDI as usize] = rdi as i64;
            return;
        }
    }
    let msg: &[u8] = if addr < 0x1_0000 {
        b"! null-reference\n"
    } else {
        b"! crash (segfault)\n"
    };
    // SAFETY: async-signal-safe write and _exit.
    unsafe {
        libc::write(1, msg.as_ptr() as *const libc::c_void, msg.len());
        libc::_exit(1);
    }
}

fn install_segv_handler() {
    // SAFETY: a plain sigaction with an extern "C" SA_SIGINFO handler.
    unsafe {
        let mut sa: libc::sigaction = core::mem::zeroed();
        sa.sa_sigaction = on_segv as *const () as usize;
        sa.sa_flags = libc::SA_SIGINFO;
        libc::sigaction(libc::SIGSEGV, &sa, core::ptr::null_mut());
    }
}

fn child_fail(f: &Failure) -> ! {
    let mut o = std::io::stdout().lock();
    let _ = writeln!(o, "! {}", f.kind);
    let _ = o.flush();
    // SAFETY: immediate process exit in the forked child.
    unsafe { libc::_exit(1) }
}

/// Runs one method in a forked child; returns the text after the method name
/// (`= value` or `! kind`).
fn run_forked(e: &mut Engine, m: MethodId, timeout_s: u32) -> String {
    let mut fds = [0i32; 2];
    // SAFETY: pipe/fork/waitpid/_exit on Linux; the child only runs JIT code of the
    // engine and writes one line to the pipe.
    unsafe {
        if libc::pipe(fds.as_mut_ptr()) != 0 {
            return "! internal pipe failed".into();
        }
        let _ = std::io::stdout().flush();
        let pid = libc::fork();
        if pid < 0 {
            return "! internal fork failed".into();
        }
        if pid == 0 {
            libc::close(fds[0]);
            libc::dup2(fds[1], 1);
            libc::alarm(timeout_s);
            install_segv_handler();
            e.on_fail = child_fail;
            let line = match e.call_static0(m) {
                Ok(r) => match format_result(&e.ts, m, r) {
                    Ok(v) => format!("= {v}"),
                    Err(k) => format!("! {k}"),
                },
                Err(msg) => format!("! jit-error {msg}"),
            };
            if GC_STATS.load(std::sync::atomic::Ordering::Relaxed)
                || std::env::var_os("CILRUN_GC_STATS").is_some()
            {
                eprintln!("{}: {}", e.method_name(m), gc_stats_line(e));
            }
            let mut o = std::io::stdout().lock();
            let _ = writeln!(o, "{line}");
            let _ = o.flush();
            libc::_exit(0);
        }
        libc::close(fds[1]);
        let mut buf = Vec::new();
        let mut tmp = [0u8; 4096];
        loop {
            let n = libc::read(fds[0], tmp.as_mut_ptr() as *mut libc::c_void, tmp.len());
            if n <= 0 {
                break;
            }
            buf.extend_from_slice(&tmp[..n as usize]);
        }
        libc::close(fds[0]);
        let mut status = 0;
        libc::waitpid(pid, &mut status, 0);
        let text = String::from_utf8_lossy(&buf);
        if let Some(l) = text
            .lines()
            .rev()
            .find(|l| l.starts_with("= ") || l.starts_with("! "))
        {
            return l.to_string();
        }
        if libc::WIFSIGNALED(status) {
            let sig = libc::WTERMSIG(status);
            if sig == libc::SIGALRM {
                return format!("! timeout after {timeout_s} s");
            }
            return format!("! crash (signal {sig})");
        }
        format!("! crash (exit status {})", libc::WEXITSTATUS(status))
    }
}

/// `--invoke-all`: one line per matching method, `Name = value` / `Name ! kind`.
pub fn invoke_all(e: &mut Engine, asm: AsmId, pattern: &str) -> Vec<String> {
    let ms = matching_methods(&e.ts, asm, pattern);
    let mut lines = Vec::with_capacity(ms.len());
    for m in ms {
        let r = run_forked(e, m, 20);
        lines.push(format!("{} {r}", e.method_name(m)));
    }
    lines
}

/// Finds a method by `Ns.Type::Method` or bare method name (first match).
pub fn find_method(ts: &TypeSystem, asm: AsmId, name: &str) -> Option<MethodId> {
    for &t in ts.types_of(asm) {
        for &m in &ts.info(t).methods {
            let d = ts.method(m);
            let full = format!("{}::{}", ts.type_name(t), d.name);
            if full == name || d.name == name {
                return Some(m);
            }
        }
    }
    None
}

/// Every method of `asm` whose name (or `Ns.Type::Method`, when the
/// pattern has `::`) matches the glob, as for `--invoke-all` but of any
/// kind (instance, with parameters), in token order.
pub fn methods_matching(ts: &TypeSystem, asm: AsmId, pattern: &str) -> Vec<MethodId> {
    let mut out = Vec::new();
    for &t in ts.types_of(asm) {
        for &m in &ts.info(t).methods {
            let d = ts.method(m);
            let full = format!("{}::{}", ts.type_name(t), d.name);
            let hit = if pattern.contains("::") {
                glob(pattern, &full)
            } else {
                glob(pattern, &d.name)
            };
            if hit {
                out.push(m);
            }
        }
    }
    out.sort_by_key(|m| ts.method(*m).token.0);
    out
}

/// The names of the method and field tokens in `m`'s IL: `Ns.Type::Method`,
/// `Ns.Type::field` (tokens that do not resolve stay hex).
fn token_names(e: &mut Engine, m: MethodId) -> std::collections::BTreeMap<u32, String> {
    use crate::metadata::{TableId, Token};
    let mut names = std::collections::BTreeMap::new();
    let il = match e.ts.method_body(m) {
        Ok(Some(b)) => b.code.to_vec(),
        _ => return names,
    };
    let Ok(instrs) = jit::decoder::decode_all(&il) else {
        return names;
    };
    for i in instrs {
        let jit::decoder::Operand::Token(t) = i.operand else {
            continue;
        };
        let tok = Token(t);
        let name = match tok.table() {
            Some(TableId::MethodDef | TableId::MemberRef | TableId::MethodSpec) => {
                match e.ts.resolve_method_in(m, tok) {
                    Ok(callee) => {
                        let d = e.ts.method(callee);
                        let owner = super::csnames::type_name_in(&e.ts, d.owner, Some(m));
                        Some(format!("{owner}::{}", d.name))
                    }
                    Err(_) if tok.table() == Some(TableId::MemberRef) => {
                        e.ts.resolve_field_in(m, tok)
                            .ok()
                            .map(|f| field_name(&e.ts, f, m))
                    }
                    Err(_) => None,
                }
            }
            Some(TableId::Field) => {
                e.ts.resolve_field_in(m, tok)
                    .ok()
                    .map(|f| field_name(&e.ts, f, m))
            }
            Some(TableId::TypeDef | TableId::TypeRef | TableId::TypeSpec) => {
                e.ts.resolve_type_in(m, tok)
                    .ok()
                    .map(|ty| super::csnames::type_name_in(&e.ts, ty, Some(m)))
            }
            _ => None,
        };
        if let Some(n) = name {
            names.insert(t, n);
        }
    }
    names
}

fn field_name(ts: &TypeSystem, f: crate::types::FieldId, ctx: MethodId) -> String {
    let d = ts.field(f);
    let owner = super::csnames::type_name_in(ts, d.owner, Some(ctx));
    format!("{owner}::{}", d.name)
}

/// The IL offset a compile error names (`at IL_002a`), if any.
fn stopped_at(err: &str) -> Option<u32> {
    let at = err.find("at IL_")? + "at IL_".len();
    let hex: String = err[at..]
        .chars()
        .take_while(|c| c.is_ascii_hexdigit())
        .collect();
    u32::from_str_radix(&hex, 16).ok()
}

/// `--disasm`: for every method matching the glob (as `--invoke-all`
/// matches, any kind of method), the IL and generated x86-64 side by side,
/// call targets and fields named; a method the JIT refuses gets its IL with
/// the offset where compilation stopped. Returns the listing and the names
/// of the methods that could not be compiled; Err when nothing matches.
pub fn disasm(e: &mut Engine, asm: AsmId, pattern: &str) -> Result<(String, Vec<String>), String> {
    let mut ms = methods_matching(&e.ts, asm, pattern);
    if ms.is_empty() {
        // The old spelling: a bare name or `Ns.Type::Method`, first match.
        ms.extend(find_method(&e.ts, asm, pattern));
    }
    if ms.is_empty() {
        return Err(format!("no method matches `{pattern}`"));
    }
    let mut s = String::new();
    let mut failed = Vec::new();
    for m in ms {
        let names = token_names(e, m);
        let name_of = |t: u32| names.get(&t).cloned();
        let il = match e.ts.method_body(m) {
            Ok(Some(b)) => b.code.to_vec(),
            _ => Vec::new(),
        };
        match e.compile(m).map_err(|e| e.to_string()).and_then(|_| {
            e.compiled_code(m)
                .ok_or_else(|| "no IL body (internal call or abstract)".to_string())
                .map(|(c, shared)| {
                    // Shared generic code (`exec/shared.rs`) says whose body it is.
                    let sharing = match shared {
                        Some(canon) => format!(" (shared code of {})", e.method_name(canon)),
                        None if e.is_shared_body(m) => " (shared code)".to_string(),
                        None => String::new(),
                    };
                    let body_il = e.compiled_il(shared.unwrap_or(m));
                    let listed = jit::CompiledMethod {
                        code: e.code_bytes(c).to_vec(),
                        call_sites: Vec::new(),
                        il_map: c.il_map.clone(),
                        frame_size: c.frame_size,
                        eh: c.eh.clone(),
                        stack_maps: c.stack_maps.clone(),
                    };
                    format!(
                        "; {}{sharing} — {} IL bytes → {} code bytes, frame {}\n{}",
                        e.method_name(m),
                        body_il.len(),
                        c.len,
                        c.frame_size,
                        jit::disasm::listing_named(&body_il, &listed, &name_of)
                    )
                })
        }) {
            Ok(text) => s.push_str(&text),
            Err(err) => {
                s.push_str(&format!("; {} — not compiled: {err}\n", e.method_name(m)));
                if !il.is_empty() {
                    s.push_str(&jit::disasm::il_listing(&il, &name_of, stopped_at(&err)));
                }
                failed.push(e.method_name(m));
            }
        }
        s.push('\n');
    }
    Ok((s, failed))
}

/// Compile-throughput figures.
#[derive(Clone, Debug, Default)]
pub struct CompileFigures {
    pub methods: u64,
    pub failed: u64,
    pub il_bytes: u64,
    pub code_bytes: u64,
    pub seconds: f64,
}

impl CompileFigures {
    pub fn methods_per_s(&self) -> f64 {
        self.methods as f64 / self.seconds.max(1e-9)
    }
    pub fn il_bytes_per_s(&self) -> f64 {
        self.il_bytes as f64 / self.seconds.max(1e-9)
    }
    pub fn us_per_method(&self) -> f64 {
        1e6 * self.seconds / (self.methods.max(1) as f64)
    }
}

/// Compiles every non-generic method with an IL body in `asms` and times it.
pub fn compile_all(e: &mut Engine, asms: &[AsmId]) -> CompileFigures {
    let mut todo = Vec::new();
    for &a in asms {
        for &t in e.ts.types_of(a) {
            if e.ts.info(t).generic_params != 0 {
                continue;
            }
            for &m in &e.ts.info(t).methods {
                let d = e.ts.method(m);
                if d.rva != 0 && d.sig.generic_params == 0 {
                    todo.push(m);
                }
            }
        }
    }
    let before = e.stats;
    let mut failed = 0;
    let t0 = Instant::now();
    for m in &todo {
        if e.compile(*m).is_err() {
            failed += 1;
        }
    }
    let seconds = t0.elapsed().as_secs_f64();
    CompileFigures {
        methods: e.stats.methods - before.methods,
        failed,
        il_bytes: e.stats.il_bytes - before.il_bytes,
        code_bytes: e.stats.code_bytes - before.code_bytes,
        seconds,
    }
}

/// Times one static parameterless method (compiled first, so only execution is
/// measured); returns (raw result, seconds).
pub fn time_method(e: &mut Engine, m: MethodId) -> Result<(RetVal, f64), String> {
    e.compile(m).map_err(|e| e.to_string())?;
    let t0 = Instant::now();
    // SAFETY: the engine is active and `m` is static and parameterless (callers
    // find it with `matching_methods`).
    let r = unsafe { e.call_static0(m) }.map_err(|e| e.to_string())?;
    Ok((r, t0.elapsed().as_secs_f64()))
}

/// The JIT benchmark behind `cargo xtask bench jit`: compile throughput over
/// `compile_asms`, and the kernels `BenchFib30`, `BenchSieve`, `BenchCrc32` of
/// `bench_asm` (median of `runs` after an untimed warm-up run). Prints nothing;
/// the caller formats.
pub fn bench_jit(
    e: &mut Engine,
    compile_asms: &[AsmId],
    bench_asm: Option<AsmId>,
    runs: usize,
) -> (CompileFigures, Vec<(String, String, f64)>) {
    let figures = compile_all(e, compile_asms);
    let mut kernels = Vec::new();
    if let Some(a) = bench_asm {
        for name in ["BenchFib30", "BenchSieve", "BenchCrc32"] {
            let Some(m) = matching_methods(&e.ts, a, name).into_iter().next() else {
                continue;
            };
            let mut times = Vec::new();
            let mut result = String::new();
            // An untimed warm-up run first, like mono's: the callees the JIT
            // compiles on first call are compiled before the timed runs.
            if let Err(msg) = time_method(e, m) {
                kernels.push((name.to_string(), format!("! {msg}"), f64::NAN));
                continue;
            }
            for _ in 0..runs.max(1) {
                match time_method(e, m) {
                    Ok((r, s)) => {
                        result = format_result(&e.ts, m, r).unwrap_or_default();
                        times.push(s);
                    }
                    Err(msg) => {
                        result = format!("! {msg}");
                        break;
                    }
                }
            }
            times.sort_by(|a, b| a.partial_cmp(b).unwrap_or(core::cmp::Ordering::Equal));
            let med = times.get(times.len() / 2).copied().unwrap_or(f64::NAN);
            kernels.push((name.to_string(), result, med));
        }
    }
    (figures, kernels)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::toolchain;

    /// Compiles what `cargo xtask bench jit` compiles and nothing else (for
    /// profilers: `valgrind --tool=callgrind <test binary> compile_only --ignored`).
    #[test]
    #[ignore = "profiling aid: prints figures, asserts nothing about speed"]
    fn compile_only() {
        let root = toolchain::workspace_root();
        let corlib = toolchain::corlib().expect("corlib");
        let corpus_src: Vec<_> =
            toolchain::cs_files(&root.join("jit/tests/corpus")).expect("corpus");
        let corpus =
            toolchain::build_library("jit_corpus_all", &corpus_src, &[]).expect("corpus dll");
        let mut ts = TypeSystem::new();
        let dirs = vec![corlib.parent().unwrap().to_path_buf()];
        let c = crate::host::load_with_deps(&mut ts, &corpus, &dirs).expect("load corpus");
        let lib = ts.corlib().expect("corlib loaded");
        let mut e = engine(ts);
        let fig = compile_all(&mut e, &[lib, c]);
        println!(
            "compile: {} methods ({} failed), {} IL bytes -> {} code bytes, {:.1} us/method",
            fig.methods,
            fig.failed,
            fig.il_bytes,
            fig.code_bytes,
            fig.us_per_method()
        );
    }

    /// Figures for `cargo xtask bench jit`, runnable on its own:
    /// `cargo test -p cil-compat --features std --release --lib exec::cli::tests::bench_figures -- --ignored --nocapture`
    #[test]
    #[ignore = "benchmark: prints figures, asserts nothing about speed"]
    fn bench_figures() {
        let root = toolchain::workspace_root();
        let corlib = toolchain::corlib().expect("corlib");
        let bench_src = root.join("jit/tests/corpus/bench/Bench.cs");
        let bench = toolchain::build_library("jit_bench", &[bench_src], &[]).expect("Bench.dll");
        let corpus_src: Vec<_> =
            toolchain::cs_files(&root.join("jit/tests/corpus")).expect("corpus");
        let corpus =
            toolchain::build_library("jit_corpus_all", &corpus_src, &[]).expect("corpus dll");
        let mut ts = TypeSystem::new();
        let dirs = vec![corlib.parent().unwrap().to_path_buf()];
        let b = crate::host::load_with_deps(&mut ts, &bench, &dirs).expect("load bench");
        let c = crate::host::load_with_deps(&mut ts, &corpus, &dirs).expect("load corpus");
        let lib = ts.corlib().expect("corlib loaded");
        let mut e = engine(ts);
        let (fig, kernels) = bench_jit(&mut e, &[lib, c], Some(b), 5);
        println!(
            "compile: {} methods ({} failed), {} IL bytes -> {} code bytes in {:.2} ms: {:.0} methods/s, {:.0} IL bytes/s, {:.1} us/method",
            fig.methods,
            fig.failed,
            fig.il_bytes,
            fig.code_bytes,
            fig.seconds * 1e3,
            fig.methods_per_s(),
            fig.il_bytes_per_s(),
            fig.us_per_method()
        );
        for (name, result, s) in kernels {
            println!("{name}: {result} in {:.2} ms (median of 5)", s * 1e3);
        }
    }
}
