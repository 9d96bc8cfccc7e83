//! The typed abstract evaluation stack (ECMA-335 §III.1.1 stack types, §III.1.7.5
//! merge rules). Every entry knows its stack type and where its value is right
//! now; constants, locals and arguments stay unmaterialised until used. Each depth
//! also owns a deterministic frame "home", so stacks agree at control-flow merges.

use crate::host::{JitType, StructLayout};
use crate::masm::{Gpr, Xmm};
use alloc::vec::Vec;

/// ECMA-335 evaluation stack types.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StackTy {
    I32,
    I64,
    /// `native int` (also unmanaged pointers).
    NInt,
    /// `F` (kept as float64).
    F,
    /// `F` holding a float32 value (kept as float64, exactly representable in
    /// single precision). Arithmetic on two of these rounds each result to single
    /// precision, as mono's float32 mode does (ECMA-335 §III.1.1.1 allows the wider
    /// internal type; §I.12.1.3 lets an implementation use the narrower one).
    F32,
    /// Object reference.
    Obj,
    /// Managed pointer.
    ByRef,
    /// A value type with its layout.
    Value(StructLayout),
}

impl StackTy {
    /// The stack type a value of `t` becomes when loaded (§III.1.1.1).
    pub fn of(t: &JitType) -> Option<StackTy> {
        Some(match t {
            JitType::Void => return None,
            JitType::Bool
            | JitType::Char
            | JitType::I1
            | JitType::U1
            | JitType::I2
            | JitType::U2
            | JitType::I4
            | JitType::U4 => StackTy::I32,
            JitType::I8 | JitType::U8 => StackTy::I64,
            JitType::I | JitType::U | JitType::Ptr => StackTy::NInt,
            JitType::R4 => StackTy::F32,
            JitType::R8 => StackTy::F,
            JitType::Obj => StackTy::Obj,
            JitType::ByRef => StackTy::ByRef,
            JitType::Struct(s) => StackTy::Value(*s),
        })
    }
    /// Bytes of the home slot.
    pub fn slot_size(&self) -> u32 {
        match self {
            StackTy::Value(s) => (s.size.max(1) + 7) & !7,
            _ => 8,
        }
    }
    /// Integer-like (can live in a GPR).
    pub fn is_gpr(&self) -> bool {
        !matches!(self, StackTy::F | StackTy::F32 | StackTy::Value(_))
    }
    /// The `F` stack type (either precision).
    pub fn is_float(&self) -> bool {
        matches!(self, StackTy::F | StackTy::F32)
    }
    /// The type at a merge of `self` and `o` (which must merge): float32 only when
    /// every incoming value is.
    pub fn merge(&self, o: &StackTy) -> StackTy {
        match (self, o) {
            (StackTy::F32, StackTy::F) | (StackTy::F, StackTy::F32) => StackTy::F,
            _ => *self,
        }
    }
    /// Same shape at a merge point.
    pub fn merges_with(&self, o: &StackTy) -> bool {
        match (self, o) {
            (StackTy::Value(a), StackTy::Value(b)) => a.size == b.size,
            (a, b) if a.is_float() || b.is_float() => a.is_float() && b.is_float(),
            // int32/native int and references/pointers mix freely in practice.
            (a, b) => a == b || (a.is_gpr() && b.is_gpr()),
        }
    }
}

/// Where a stack value currently is.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Loc {
    /// Integer constant (int32 values sign-extended).
    Const(i64),
    /// float64 constant.
    ConstF(f64),
    /// The current value of local n (never used for address-taken locals).
    Local(u16),
    /// The current value of argument n (never used for address-taken args).
    Arg(u16),
    Reg(Gpr),
    Xmm(Xmm),
    /// In this entry's home slot.
    Home,
}

/// One evaluation-stack entry.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Val {
    pub ty: StackTy,
    pub loc: Loc,
    /// Frame-pointer-relative offset of this depth's home slot.
    pub home: i32,
}

/// The evaluation stack with home-slot accounting.
#[derive(Clone, Debug)]
pub struct ValueStack {
    pub vals: Vec<Val>,
    base: i32,
    depth: u32,
    temps: u32,
    max: u32,
    /// Deepest extent (depth + temps) reached by the current instruction.
    inst_max: u32,
}

impl ValueStack {
    pub fn new(base: i32) -> Self {
        Self::with_vec(base, Vec::new())
    }
    /// An empty stack whose entries live in `vals` (emptied; a reused buffer).
    pub fn with_vec(base: i32, mut vals: Vec<Val>) -> Self {
        vals.clear();
        ValueStack {
            vals,
            base,
            depth: 0,
            temps: 0,
            max: 0,
            inst_max: 0,
        }
    }
    pub fn len(&self) -> usize {
        self.vals.len()
    }
    pub fn is_empty(&self) -> bool {
        self.vals.is_empty()
    }
    /// Pushes a value; its home is the next slot below the current depth.
    pub fn push(&mut self, ty: StackTy, loc: Loc) -> Val {
        self.depth += ty.slot_size();
        self.max = self.max.max(self.depth + self.temps);
        self.inst_max = self.inst_max.max(self.depth + self.temps);
        let v = Val {
            ty,
            loc,
            home: self.base - self.depth as i32,
        };
        self.vals.push(v);
        v
    }
    pub fn pop(&mut self) -> Option<Val> {
        let v = self.vals.pop()?;
        self.depth -= v.ty.slot_size();
        Some(v)
    }
    pub fn peek(&self, n: usize) -> Option<&Val> {
        self.vals.len().checked_sub(n + 1).map(|i| &self.vals[i])
    }
    /// A scratch slot below everything currently on the stack, valid until
    /// `end_instruction`.
    pub fn temp(&mut self, size: u32) -> i32 {
        self.temps += (size.max(1) + 7) & !7;
        self.max = self.max.max(self.depth + self.temps);
        self.inst_max = self.inst_max.max(self.depth + self.temps);
        self.base - (self.depth + self.temps) as i32
    }
    pub fn end_instruction(&mut self) {
        self.temps = 0;
        self.inst_max = self.depth;
    }
    /// Frame-pointer-relative `[lo, hi)` below the live entries' homes that the current
    /// instruction used: homes of the operands it popped and its temporaries
    /// (a lowering may still read them after a call it makes).
    pub fn scratch_range(&self) -> (i32, i32) {
        let used = self.inst_max.max(self.depth);
        (self.base - used as i32, self.base - self.depth as i32)
    }
    /// Deepest extent used, in bytes below `base`.
    pub fn max_bytes(&self) -> u32 {
        self.max
    }
    /// Replaces the stack by the given types, all in their homes (a merge point).
    pub fn reset_to(&mut self, tys: &[StackTy]) {
        self.vals.clear();
        self.depth = 0;
        for t in tys {
            self.push(*t, Loc::Home);
        }
        self.inst_max = self.depth;
    }
    pub fn types(&self) -> Vec<StackTy> {
        self.vals.iter().map(|v| v.ty).collect()
    }
}
