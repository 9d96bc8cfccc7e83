//! Test harness: a fake runtime (`FakeHost`) behind the JIT-EE interface, an IL
//! builder, executable memory from mmap, and a fork-based runner for methods that
//! are expected to hit a runtime error.
#![allow(dead_code, clippy::type_complexity)]

use jit::decoder::op;
use jit::host::*;
use jit::{compile, CompiledMethod, JitError, MethodInput};
use std::collections::HashMap;
use std::sync::Mutex;

// ---------------------------------------------------------------- IL builder

/// Builds IL byte sequences with symbolic labels.
#[derive(Default)]
pub struct Il {
    pub bytes: Vec<u8>,
    labels: HashMap<&'static str, usize>,
    fixups: Vec<(usize, usize, &'static str, bool)>, // (pos of operand, end of instr, label, short)
}

impl Il {
    pub fn new() -> Self {
        Self::default()
    }
    fn opc(&mut self, o: u16) {
        if o >= 0xFE00 {
            self.bytes.push(0xFE);
            self.bytes.push(o as u8);
        } else {
            self.bytes.push(o as u8);
        }
    }
    pub fn op(mut self, o: u16) -> Self {
        self.opc(o);
        self
    }
    pub fn u8(mut self, o: u16, v: u8) -> Self {
        self.opc(o);
        self.bytes.push(v);
        self
    }
    pub fn u16(mut self, o: u16, v: u16) -> Self {
        self.opc(o);
        self.bytes.extend_from_slice(&v.to_le_bytes());
        self
    }
    pub fn i4(mut self, v: i32) -> Self {
        self.opc(op::LDC_I4);
        self.bytes.extend_from_slice(&v.to_le_bytes());
        self
    }
    pub fn i8(mut self, v: i64) -> Self {
        self.opc(op::LDC_I8);
        self.bytes.extend_from_slice(&v.to_le_bytes());
        self
    }
    pub fn r8(mut self, v: f64) -> Self {
        self.opc(op::LDC_R8);
        self.bytes.extend_from_slice(&v.to_le_bytes());
        self
    }
    pub fn r4(mut self, v: f32) -> Self {
        self.opc(op::LDC_R4);
        self.bytes.extend_from_slice(&v.to_le_bytes());
        self
    }
    pub fn tok(mut self, o: u16, t: u32) -> Self {
        self.opc(o);
        self.bytes.extend_from_slice(&t.to_le_bytes());
        self
    }
    pub fn ldarg(self, n: u16) -> Self {
        self.u16(op::LDARG, n)
    }
    pub fn starg(self, n: u16) -> Self {
        self.u16(op::STARG, n)
    }
    pub fn ldloc(self, n: u16) -> Self {
        self.u16(op::LDLOC, n)
    }
    pub fn stloc(self, n: u16) -> Self {
        self.u16(op::STLOC, n)
    }
    pub fn ldloca(self, n: u16) -> Self {
        self.u16(op::LDLOCA, n)
    }
    pub fn ldarga(self, n: u16) -> Self {
        self.u16(op::LDARGA, n)
    }
    pub fn label(mut self, l: &'static str) -> Self {
        self.labels.insert(l, self.bytes.len());
        self
    }
    /// A long-form branch (`br`, `beq`, ...) to a label.
    pub fn br(mut self, o: u16, l: &'static str) -> Self {
        self.opc(o);
        let pos = self.bytes.len();
        self.bytes.extend_from_slice(&[0; 4]);
        self.fixups.push((pos, pos + 4, l, false));
        self
    }
    pub fn switch(mut self, ls: &[&'static str]) -> Self {
        self.opc(op::SWITCH);
        self.bytes
            .extend_from_slice(&(ls.len() as u32).to_le_bytes());
        let end = self.bytes.len() + 4 * ls.len();
        for l in ls {
            let pos = self.bytes.len();
            self.bytes.extend_from_slice(&[0; 4]);
            self.fixups.push((pos, end, l, false));
        }
        self
    }
    /// `i = i + 1; if (i < n) goto top;`: the end of a counted loop.
    pub fn next_round(self, i: u16, n: i32, top: &'static str) -> Self {
        self.ldloc(i)
            .i4(1)
            .op(op::ADD)
            .stloc(i)
            .ldloc(i)
            .i4(n)
            .br(op::BLT, top)
    }
    pub fn ret(self) -> Self {
        self.op(op::RET)
    }
    pub fn build(mut self) -> Vec<u8> {
        for (pos, end, l, _) in std::mem::take(&mut self.fixups) {
            let t = *self.labels.get(l).unwrap_or_else(|| panic!("label {l}"));
            let rel = t as i64 - end as i64;
            self.bytes[pos..pos + 4].copy_from_slice(&(rel as i32).to_le_bytes());
        }
        self.bytes
    }
}

// ------------------------------------------------------------ executable memory

struct ExecMem {
    base: usize,
    used: usize,
    size: usize,
}

static EXEC: Mutex<Option<ExecMem>> = Mutex::new(None);

/// Copies code into RWX memory and returns its address.
pub fn install(code: &[u8]) -> u64 {
    let mut g = EXEC.lock().unwrap();
    if g.is_none() {
        let size = 256 << 20;
        // SAFETY: anonymous private mapping with no address hint; checked below.
        let p = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                size,
                libc::PROT_READ | libc::PROT_WRITE | libc::PROT_EXEC,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
                -1,
                0,
            )
        };
        assert_ne!(p, libc::MAP_FAILED, "mmap RWX failed");
        *g = Some(ExecMem {
            base: p as usize,
            used: 0,
            size,
        });
    }
    let m = g.as_mut().unwrap();
    let at = (m.used + 15) & !15;
    assert!(at + code.len() <= m.size, "exec memory exhausted");
    // SAFETY: [base+at, base+at+len) lies inside our RWX mapping and is unused.
    unsafe { std::ptr::copy_nonoverlapping(code.as_ptr(), (m.base + at) as *mut u8, code.len()) };
    m.used = at + code.len();
    (m.base + at) as u64
}

// ---------------------------------------------------------------- fake runtime

/// A fake MethodTable: what objects of the fake heap point to.
#[repr(C)]
pub struct FakeMt {
    pub base_size: u64,
    pub elem_size: u64,
    pub parent: u64,
    pub id: u64,
    /// Virtual slots start at byte offset 32.
    pub vtable: [u64; 8],
}
pub const VTABLE_OFFSET: i32 = 32;

pub fn new_mt(base_size: u64, elem_size: u64, parent: u64) -> u64 {
    Box::leak(Box::new(FakeMt {
        base_size,
        elem_size,
        parent,
        id: 0,
        vtable: [0; 8],
    })) as *mut FakeMt as u64
}

pub const LAYOUT: ObjectLayout = ObjectLayout {
    method_table_offset: 0,
    array_length_offset: 8,
    array_data_offset: 16,
    box_data_offset: 8,
};

static IFACES: Mutex<Option<HashMap<(u64, u64), Vec<u64>>>> = Mutex::new(None);

/// Registers interface `iface`'s implementation cells for class `mt`.
pub fn impl_interface(mt: u64, iface: u64, cells: Vec<u64>) {
    IFACES
        .lock()
        .unwrap()
        .get_or_insert_with(HashMap::new)
        .insert((mt, iface), cells);
}

extern "C" fn h_new_object(mt: u64) -> u64 {
    // SAFETY: mt is a FakeMt created by new_mt and never freed.
    let size = unsafe { (*(mt as *const FakeMt)).base_size }.max(16) as usize;
    let mem = vec![0u64; size.div_ceil(8)].leak();
    mem[0] = mt;
    mem.as_mut_ptr() as u64
}

extern "C" fn h_new_array(mt: u64, len: i64) -> u64 {
    // SAFETY: as above.
    let elem = unsafe { (*(mt as *const FakeMt)).elem_size } as usize;
    let bytes = 16 + elem * len as usize;
    let mem = vec![0u64; bytes.div_ceil(8) + 1].leak();
    mem[0] = mt;
    mem[1] = len as u64;
    mem.as_mut_ptr() as u64
}

extern "C" fn h_fail(code: u32, _method: u64, il: u32) -> ! {
    eprintln!("runtime error {code} at IL_{il:04x}");
    // SAFETY: _exit never returns; the code tells the forked parent what happened.
    unsafe { libc::_exit(100 + code as i32) }
}

extern "C" fn h_is_instance(obj: u64, mt: u64) -> u64 {
    if obj == 0 {
        return 0;
    }
    // SAFETY: obj is a fake-heap object whose first word is its FakeMt.
    let mut m = unsafe { *(obj as *const u64) };
    while m != 0 {
        if m == mt {
            return obj;
        }
        // SAFETY: FakeMt chain built by the tests.
        m = unsafe { (*(m as *const FakeMt)).parent };
    }
    0
}

/// Class-init record: flag byte and the `.cctor` cell.
#[repr(C)]
pub struct CctorRec {
    pub flag: u8,
    pub cell: u64,
}

extern "C" fn h_class_init(handle: u64) {
    // SAFETY: handle is a leaked CctorRec built by the tests.
    let rec = unsafe { &mut *(handle as *mut CctorRec) };
    if rec.flag != 0 {
        rec.flag = 0;
        // SAFETY: the cell holds the address of compiled code `fn()`.
        let f: extern "C" fn() = unsafe { std::mem::transmute(*(rec.cell as *const u64)) };
        f();
    }
}

extern "C" fn h_iface_lookup(obj: u64, iface: u64, slot: u32) -> u64 {
    // SAFETY: obj is a fake-heap object.
    let mt = unsafe { *(obj as *const u64) };
    let g = IFACES.lock().unwrap();
    let cells = &g.as_ref().expect("interfaces")[&(mt, iface)];
    // SAFETY: cells hold code addresses.
    unsafe { *(cells[slot as usize] as *const u64) }
}

/// Calls of `h_iface_lookup_cached` so far (all threads).
pub static CACHED_LOOKUPS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

extern "C" fn h_iface_lookup_cached(obj: u64, iface: u64, slot: u32, cell: u64) -> u64 {
    CACHED_LOOKUPS.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    let code = h_iface_lookup(obj, iface, slot);
    // SAFETY: obj is a fake-heap object; cell is a leaked pair from
    // `FakeHost::dispatch_cell`. Every answer of this host is final.
    unsafe {
        let cell = cell as *mut u64;
        *cell.add(1) = code;
        *cell = *(obj as *const u64);
    }
    code
}

/// Calls of `h_is_instance_cached` so far (all threads).
pub static CACHED_TYPE_CHECKS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

extern "C" fn h_is_instance_cached(obj: u64, mt: u64, cell: u64) -> u64 {
    CACHED_TYPE_CHECKS.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    let r = h_is_instance(obj, mt);
    if r != 0 {
        // SAFETY: obj is a fake-heap object; cell is a leaked pair from
        // `FakeHost::dispatch_cell`.
        unsafe { *(cell as *mut u64) = *(obj as *const u64) };
    }
    r
}

extern "C" fn h_throw(_obj: u64, _method: u64, il: u32) -> ! {
    eprintln!("exception thrown at IL_{il:04x}");
    // SAFETY: _exit never returns.
    unsafe { libc::_exit(100 + 6) }
}

extern "C" fn h_store_check(_arr: u64, _obj: u64) -> u64 {
    1
}

extern "C" fn h_frem(a: u64, b: u64) -> u64 {
    h_frem_f(f64::from_bits(a), f64::from_bits(b)).to_bits()
}

fn h_frem_f(a: f64, b: f64) -> f64 {
    a % b
}

/// Method declaration for the fake host.
#[derive(Clone)]
pub struct Def {
    pub name: String,
    pub args: Vec<JitType>,
    pub locals: Vec<JitType>,
    pub ret: JitType,
    pub il: Vec<u8>,
    pub has_this: bool,
    pub this_type: JitType,
}

#[derive(Default)]
pub struct FakeHost {
    pub methods: HashMap<u32, CallInfo>,
    pub fields: HashMap<u32, FieldInfo>,
    pub types: HashMap<u32, TypeInfo>,
    pub strings: HashMap<u32, u64>,
    pub sigs: HashMap<u32, MethodSig>,
    pub constrained: HashMap<(u32, u32), Constrained>,
    pub defs: Vec<(u32, Def, u64)>,
    /// Shared generic code: run-time lookup keys by (token, kind), and the
    /// hidden context's local (`JitHost::context_local`).
    pub lookups: HashMap<(u32, LookupKind), u32>,
    pub context_local: Option<u16>,
    /// Whether interface call sites get dispatch cells
    /// (`JitHost::dispatch_cell`, filled by `h_iface_lookup_cached`).
    pub dispatch_cells: bool,
}

impl JitHost for FakeHost {
    fn object_layout(&self) -> ObjectLayout {
        LAYOUT
    }
    fn helper(&self, h: Helper) -> u64 {
        match h {
            Helper::NewObject => h_new_object as *const () as usize as u64,
            Helper::NewArray => h_new_array as *const () as usize as u64,
            Helper::Fail => h_fail as *const () as usize as u64,
            Helper::IsInstance => h_is_instance as *const () as usize as u64,
            Helper::ClassInit => h_class_init as *const () as usize as u64,
            Helper::InterfaceLookup => h_iface_lookup as *const () as usize as u64,
            Helper::InterfaceLookupCached => h_iface_lookup_cached as *const () as usize as u64,
            Helper::IsInstanceCached => h_is_instance_cached as *const () as usize as u64,
            Helper::FRem => h_frem as *const () as usize as u64,
            Helper::Throw => h_throw as *const () as usize as u64,
            Helper::ArrayStoreCheck => h_store_check as *const () as usize as u64,
            _ => 0,
        }
    }
    fn method(&mut self, token: u32, _virt: bool) -> Result<CallInfo, HostError> {
        self.methods
            .get(&token)
            .cloned()
            .ok_or_else(|| HostError::Unresolved(format!("unknown method token 0x{token:08x}")))
    }
    fn constrained(&mut self, t: u32, m: u32) -> Result<Constrained, HostError> {
        self.constrained
            .get(&(t, m))
            .cloned()
            .ok_or_else(|| "no constrained entry".into())
    }
    fn signature(&mut self, token: u32) -> Result<MethodSig, HostError> {
        self.sigs
            .get(&token)
            .cloned()
            .ok_or_else(|| "unknown sig".into())
    }
    fn field(&mut self, token: u32) -> Result<FieldInfo, HostError> {
        self.fields
            .get(&token)
            .copied()
            .ok_or_else(|| HostError::Unresolved(format!("unknown field token 0x{token:08x}")))
    }
    fn type_info(&mut self, token: u32) -> Result<TypeInfo, HostError> {
        self.types
            .get(&token)
            .copied()
            .ok_or_else(|| HostError::Unresolved(format!("unknown type token 0x{token:08x}")))
    }
    fn shared_lookup(&mut self, token: u32, kind: LookupKind) -> Result<Option<u32>, HostError> {
        Ok(self.lookups.get(&(token, kind)).copied())
    }
    fn context_local(&self) -> Option<u16> {
        self.context_local
    }
    fn dispatch_cell(&mut self) -> Option<u64> {
        self.dispatch_cells
            .then(|| Box::leak(Box::new([0u64; 2])).as_ptr() as u64)
    }
    fn string_literal(&mut self, token: u32) -> Result<u64, HostError> {
        self.strings
            .get(&token)
            .copied()
            .ok_or_else(|| "unknown string".into())
    }
    fn token_handle(&mut self, token: u32) -> Result<u64, HostError> {
        Ok(token as u64 * 16)
    }
}

pub fn sig(args: &[JitType], ret: JitType) -> MethodSig {
    MethodSig {
        has_this: false,
        this_type: JitType::Obj,
        params: args.to_vec().into(),
        ret,
        conv: CallConv::Managed,
    }
}

pub fn prim_type(t: JitType) -> TypeInfo {
    let elem = t.size().max(1) as u64;
    TypeInfo {
        ty: t,
        is_value_type: !matches!(t, JitType::Obj),
        handle: new_mt(8 + elem, 0, 0),
        array_handle: new_mt(16, elem, 0),
    }
}

pub fn struct_ty(size: u32, align: u32) -> JitType {
    let handle = new_mt(8 + size as u64, 0, 0);
    JitType::Struct(StructLayout {
        size,
        align,
        handle,
    })
}

pub fn struct_info(t: JitType) -> TypeInfo {
    let (handle, size) = match t {
        JitType::Struct(s) => (s.handle, s.size as u64),
        _ => (new_mt(16, 0, 0), 8),
    };
    TypeInfo {
        ty: t,
        is_value_type: t.is_struct(),
        handle,
        array_handle: new_mt(16, size, 0),
    }
}

impl FakeHost {
    pub fn new() -> Self {
        Self::default()
    }

    /// Declares a static method; callers reach it through a patchable cell.
    pub fn def(&mut self, tok: u32, def: Def) -> u64 {
        let cell = Box::leak(Box::new(0u64)) as *mut u64 as u64;
        let s = MethodSig {
            has_this: def.has_this,
            this_type: def.this_type,
            params: def.args[def.has_this as usize..].to_vec().into(),
            ret: def.ret,
            conv: CallConv::Managed,
        };
        self.methods.insert(
            tok,
            CallInfo {
                sig: s,
                target: CallTarget::Indirect(cell),
                callee: tok as u64,
                owner: None,
            },
        );
        self.defs.push((tok, def, cell));
        cell
    }

    /// Compiles every declared method and fills the cells.
    pub fn build(&mut self) -> Result<HashMap<u32, (u64, CompiledMethod)>, JitError> {
        let defs = self.defs.clone();
        let mut out = HashMap::new();
        for (tok, d, cell) in defs {
            let m = MethodInput {
                name: &d.name,
                handle: tok as u64,
                il: &d.il,
                args: d.args.clone(),
                locals: d.locals.clone(),
                ret: d.ret,
                init_locals: true,
                eh: vec![],
            };
            let c = compile(self, &m)?;
            let addr = install(&c.code);
            // SAFETY: cell is a leaked u64 owned by this host.
            unsafe { *(cell as *mut u64) = addr };
            out.insert(tok, (addr, c));
        }
        Ok(out)
    }
}

pub fn def(name: &str, args: &[JitType], locals: &[JitType], ret: JitType, il: Vec<u8>) -> Def {
    Def {
        name: name.into(),
        args: args.to_vec(),
        locals: locals.to_vec(),
        ret,
        il,
        has_this: false,
        this_type: JitType::Obj,
    }
}

/// Calls compiled code with up to 6 integer arguments.
pub fn call_i(addr: u64, a: &[i64]) -> i64 {
    let mut v = [0i64; 6];
    v[..a.len()].copy_from_slice(a);
    // SAFETY: addr is JIT output following SysV; unused args are ignored.
    let f: extern "C" fn(i64, i64, i64, i64, i64, i64) -> i64 =
        unsafe { std::mem::transmute(addr) };
    f(v[0], v[1], v[2], v[3], v[4], v[5])
}

pub fn call_f(addr: u64, a: &[f64]) -> f64 {
    let mut v = [0f64; 4];
    v[..a.len()].copy_from_slice(a);
    // SAFETY: addr is JIT output taking doubles in xmm0..3.
    let f: extern "C" fn(f64, f64, f64, f64) -> f64 = unsafe { std::mem::transmute(addr) };
    f(v[0], v[1], v[2], v[3])
}

/// Runs `f` in a forked child; returns Ok(value) or Err(fail code).
pub fn in_child(f: impl FnOnce() -> i64) -> Result<i64, i32> {
    let mut fds = [0i32; 2];
    // SAFETY: plain pipe/fork/waitpid; the child only runs `f` and exits.
    unsafe {
        assert_eq!(libc::pipe(fds.as_mut_ptr()), 0);
        let pid = libc::fork();
        assert!(pid >= 0);
        if pid == 0 {
            libc::close(fds[0]);
            let v = f();
            let b = v.to_le_bytes();
            libc::write(fds[1], b.as_ptr() as *const libc::c_void, 8);
            libc::_exit(0);
        }
        libc::close(fds[1]);
        let mut b = [0u8; 8];
        let n = libc::read(fds[0], b.as_mut_ptr() as *mut libc::c_void, 8);
        libc::close(fds[0]);
        let mut status = 0;
        libc::waitpid(pid, &mut status, 0);
        if n == 8 {
            Ok(i64::from_le_bytes(b))
        } else if libc::WIFEXITED(status) && libc::WEXITSTATUS(status) >= 100 {
            Err(libc::WEXITSTATUS(status) - 100)
        } else {
            Err(-1)
        }
    }
}

/// One-method convenience: compile `il` with the given signature and return its address.
pub fn jit1(args: &[JitType], locals: &[JitType], ret: JitType, il: Vec<u8>) -> u64 {
    let mut h = FakeHost::new();
    h.def(1, def("T::m", args, locals, ret, il));
    let built = h.build().expect("compile");
    built[&1].0
}

/// Compile with a prepared host, returning address of method `tok`.
pub fn build(h: &mut FakeHost, tok: u32) -> u64 {
    let built = h.build().unwrap_or_else(|e| panic!("compile: {e}"));
    built[&tok].0
}
