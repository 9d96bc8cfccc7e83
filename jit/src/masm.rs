//! The `MacroAssembler` trait: the ISA-neutral instruction vocabulary `CodeGen`
//! speaks (Winch's `masm.rs` shape). Methods are "three-operand" in spirit
//! (`dst = dst op src`, the x86 two-address form), sized by `OperandSize`.
//! It owns the vocabulary's types (register handles, `Address`, sizes,
//! conditions) and names no ISA module: a backend (`isa::x64`) implements the
//! trait and gives the handles their registers.

use crate::host::{CallConv, JitType};
use crate::JitErrorKind;
use alloc::vec::Vec;

/// A general-purpose register, by its hardware number in the ISA's encoding
/// (x86-64: the ModRM number, 0 = rax … 15 = r15; named in `isa::x64::regs`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Gpr(pub u8);

/// A floating-point/vector register, by its hardware number (x86-64: xmm0–xmm15).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Xmm(pub u8);

/// A memory operand: `[base + index*scale + disp]`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Address {
    pub base: Gpr,
    pub index: Option<(Gpr, u8)>,
    pub disp: i32,
}

impl Address {
    /// `[base + disp]`
    pub fn offset(base: Gpr, disp: i32) -> Self {
        Address {
            base,
            index: None,
            disp,
        }
    }
    /// `[base + index*scale + disp]`
    pub fn indexed(base: Gpr, index: Gpr, scale: u8, disp: i32) -> Self {
        Address {
            base,
            index: Some((index, scale)),
            disp,
        }
    }
    /// The same address `delta` bytes further.
    pub fn plus(self, delta: i32) -> Self {
        Address {
            disp: self.disp.wrapping_add(delta),
            ..self
        }
    }
}

/// Width of an integer operation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OperandSize {
    S8,
    S16,
    S32,
    S64,
}

impl OperandSize {
    /// Size in bytes.
    pub fn bytes(self) -> u32 {
        match self {
            OperandSize::S8 => 1,
            OperandSize::S16 => 2,
            OperandSize::S32 => 4,
            OperandSize::S64 => 8,
        }
    }
}

/// Sign or zero extension of a narrower value into a register.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Extend {
    I8,
    U8,
    I16,
    U16,
    I32,
    U32,
}

/// Two-operand integer ALU operations.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AluOp {
    Add,
    Sub,
    And,
    Or,
    Xor,
    Cmp,
    Test,
}

/// Shift kinds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ShiftKind {
    Shl,
    Sar,
    Shr,
}

/// Integer division and remainder ([`MacroAssembler::div`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DivKind {
    /// Signed quotient.
    SDiv,
    /// Unsigned quotient.
    UDiv,
    /// Signed remainder.
    SRem,
    /// Unsigned remainder.
    URem,
}

impl DivKind {
    /// Signed division (`MIN / -1` can overflow).
    pub fn signed(self) -> bool {
        matches!(self, DivKind::SDiv | DivKind::SRem)
    }
}

/// The registers the block operations ([`MacroAssembler::copy_bytes`],
/// [`MacroAssembler::fill_bytes`]) take their operands in: fixed by the ISA's
/// instructions, so codegen loads operands straight into them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BlockRegs {
    /// Destination address.
    pub dst: Gpr,
    /// Source address (copy).
    pub src: Gpr,
    /// Byte count (a 64-bit value).
    pub len: Gpr,
    /// Fill byte, in the low 8 bits (fill).
    pub fill: Gpr,
}

/// Scalar double-precision operations.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FloatOp {
    Add,
    Sub,
    Mul,
    Div,
}

/// Condition codes (after `cmp a, b`: `L` means a < b signed, `B` unsigned).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cond {
    E,
    Ne,
    L,
    Le,
    G,
    Ge,
    B,
    Be,
    A,
    Ae,
    O,
    S,
    P,
    Np,
}

impl Cond {
    /// The opposite condition.
    pub fn invert(self) -> Cond {
        match self {
            Cond::E => Cond::Ne,
            Cond::Ne => Cond::E,
            Cond::L => Cond::Ge,
            Cond::Ge => Cond::L,
            Cond::G => Cond::Le,
            Cond::Le => Cond::G,
            Cond::B => Cond::Ae,
            Cond::Ae => Cond::B,
            Cond::A => Cond::Be,
            Cond::Be => Cond::A,
            Cond::P => Cond::Np,
            Cond::Np => Cond::P,
            // No inverse used for O/S: callers only test them directly.
            Cond::O => Cond::O,
            Cond::S => Cond::S,
        }
    }
}

/// A code label (forward or backward branch target).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Label(pub u32);

/// Result alias for assembler calls.
pub type MResult<T = ()> = Result<T, JitErrorKind>;

/// What the frame needs, known only after the body is generated.
#[derive(Clone, Debug)]
pub struct FrameInfo {
    /// Bytes to reserve below the saved rbp (multiple of 16), the save
    /// slots included.
    pub frame_size: u32,
    /// Callee-saved registers used, with the rbp-relative slot each is saved in.
    pub saved: SavedRegs,
    /// SP may differ from FP - `frame_size` where an epilogue runs (the body
    /// moved it for good, `localloc`; or the runtime resumes the method with
    /// SP it sets, exception handlers): epilogues restore SP from FP.
    pub sp_moved: bool,
}

/// The callee-saved registers a method uses with their save slots (inline:
/// at most the ABI's callee-saved set).
pub type SavedRegs = smallvec::SmallVec<[(Gpr, i32); 6]>;

/// An assembler's buffers, kept between compiles (see `crate::scratch`): code
/// bytes, label offsets, rel32 fixups, marks and the finished mark offsets.
#[derive(Default)]
pub struct CodeBuffers {
    pub buf: Vec<u8>,
    /// The finished method's code (prologue + body), handed back by the host
    /// once installed ([`crate::Scratch::reclaim`]).
    pub out: Vec<u8>,
    pub labels: Vec<u32>,
    pub fixups: Vec<(u32, u32)>,
    pub marks: Vec<u32>,
    pub mark_offsets: Vec<u32>,
}

/// Takes a reused buffer out of `slot`: emptied, capacity kept, and room for
/// at least `want` items (see `crate::scratch`).
pub fn reuse<T>(slot: &mut Vec<T>, want: usize) -> Vec<T> {
    let mut v = core::mem::take(slot);
    v.clear();
    v.reserve(want);
    v
}

/// Machine code of a method with positions of interest.
#[derive(Clone, Debug)]
pub struct Assembled {
    pub code: Vec<u8>,
    /// Byte offset of each marked instruction (by mark index, see `mark`).
    pub mark_offsets: Vec<u32>,
}

// ---------------------------------------------------------------------------
// The ABI facts code generation needs, provided by the ISA (`MacroAssembler::Abi`)
// ---------------------------------------------------------------------------

/// Where one argument travels.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ArgLoc {
    Gpr(Gpr),
    /// A native-convention struct of 9–16 bytes.
    Gpr2(Gpr, Gpr),
    Xmm(Xmm),
    /// Byte offset in the outgoing area (from the stack pointer at the call;
    /// the callee finds it above its return address).
    Stack(u32),
    /// 16-byte native struct in memory.
    Stack2(u32),
}

/// How an argument is classified.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ArgClass {
    Int,
    Float,
    /// Native struct in two integer registers.
    IntPair,
}

/// The locations of all arguments of a call and the outgoing stack size.
#[derive(Clone, Debug)]
pub struct CallLayout {
    /// Inline up to eight: a call's layout is built on every call site.
    pub args: smallvec::SmallVec<[ArgLoc; 8]>,
    /// Outgoing stack bytes, rounded up to 16.
    pub stack_bytes: u32,
}

/// Where a method finds one of its own arguments.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ArgHome {
    /// The value is at this frame-pointer-relative offset.
    Direct(i32),
    /// A pointer to the (struct) value is at this frame-pointer-relative offset.
    Indirect(i32),
}

/// The fixed part of a method's frame (offsets relative to the frame pointer).
#[derive(Clone, Debug)]
pub struct Frame {
    /// (Inline vectors here and below: a frame is built for every method.)
    pub args: smallvec::SmallVec<[ArgHome; 8]>,
    /// Incoming location of each argument (for homing in the prologue).
    pub arg_locs: smallvec::SmallVec<[ArgLoc; 8]>,
    /// Home slot of the hidden return-buffer pointer.
    pub retbuf: Option<i32>,
    /// Home slot of each local.
    pub locals: smallvec::SmallVec<[i32; 16]>,
    /// [locals_lo, locals_hi) is zeroed in the prologue.
    pub locals_lo: i32,
    pub locals_hi: i32,
    /// The evaluation stack starts below this offset.
    pub eval_base: i32,
}

/// The calling convention and frame layout of an ISA, as code generation
/// sees them (Winch's `ABI` trait); `isa::x64::abi` has the x86-64 one.
///
/// Code generation names no register of its own: every fixed register it
/// uses is one of these roles (or a [`MacroAssembler`] operand register).
/// `RET`, `RET2` and `SCRATCH` are in no allocatable pool and `RET` carries
/// no argument, so codegen also uses them as temporaries between values (and
/// `RET` for a call's target); the argument registers are free temporaries
/// once the value stack is spilled.
pub trait Abi {
    /// Integer argument registers, in order.
    const ARG_GPRS: &'static [Gpr];
    /// Integer (and reference) result register.
    const RET: Gpr;
    /// Second integer result register (the high half of a 9–16 byte struct).
    const RET2: Gpr;
    /// Float result register, also the first float argument.
    const FLOAT_RET: Xmm;
    /// Stack pointer.
    const SP: Gpr;
    /// Frame pointer: the base of every frame slot (`Frame` offsets).
    const FP: Gpr;
    /// Integer scratch register: never allocated, clobbered freely between
    /// values (constants, copies, compares).
    const SCRATCH: Gpr;
    /// Float scratch register: never allocated.
    const FLOAT_SCRATCH: Xmm;
    /// The hidden generic context of shared code that has no `this` to find
    /// its instantiation through (`JitHost::context_local`): set by the
    /// caller (an instantiating stub) just before the jump to the body, read
    /// once by the prologue. No argument register, not preserved by calls.
    const CONTEXT: Gpr;
    /// Callee-saved registers the JIT may allocate, in save-slot order.
    const CALLEE_SAVED: &'static [Gpr];
    /// Registers values may live in, in allocation order.
    const GPR_POOL: &'static [Gpr];
    /// Float registers values may live in, in allocation order.
    const XMM_POOL: &'static [Xmm];
    /// Classification of a parameter type under a convention.
    fn classify(ty: &JitType, conv: CallConv) -> ArgClass;
    /// Assigns argument locations in order.
    fn layout(classes: &[ArgClass]) -> CallLayout;
    /// Lays out the frame of a managed-convention method.
    fn frame(args: &[JitType], locals: &[JitType], ret: &JitType) -> Frame;
    /// Frame-pointer-relative slot where `CALLEE_SAVED[i]` is saved.
    fn save_slot(i: usize) -> i32;
}

/// The instruction vocabulary the code generator emits.
pub trait MacroAssembler {
    /// The ISA's calling convention and frame layout.
    type Abi: Abi;
    fn new_label(&mut self) -> Label;
    fn bind(&mut self, label: Label) -> MResult;
    fn jmp(&mut self, label: Label) -> MResult;
    fn jcc(&mut self, cond: Cond, label: Label) -> MResult;
    /// Records the position of the next instruction; returns a mark index whose
    /// byte offset `Assembled::mark_offsets` reports.
    fn mark(&mut self) -> MResult<usize>;

    fn mov_rr(&mut self, dst: Gpr, src: Gpr, size: OperandSize) -> MResult;
    fn mov_ri(&mut self, dst: Gpr, imm: i64, size: OperandSize) -> MResult;
    /// `mov dst, imm64` always in the 10-byte form, so the host can patch it.
    /// Returns the mark of the instruction (the immediate is at byte +2).
    fn mov_ri64_patchable(&mut self, dst: Gpr, imm: u64) -> MResult<usize>;
    /// Load 4 (zero-extending) or 8 bytes.
    fn load(&mut self, dst: Gpr, src: Address, size: OperandSize) -> MResult;
    fn load_ext(&mut self, dst: Gpr, src: Address, ext: Extend) -> MResult;
    fn store(&mut self, dst: Address, src: Gpr, size: OperandSize) -> MResult;
    fn store_imm(&mut self, dst: Address, imm: i32, size: OperandSize) -> MResult;
    fn lea(&mut self, dst: Gpr, src: Address) -> MResult;
    fn alu_rr(&mut self, op: AluOp, dst: Gpr, src: Gpr, size: OperandSize) -> MResult;
    fn alu_ri(&mut self, op: AluOp, dst: Gpr, imm: i32, size: OperandSize) -> MResult;
    fn alu_mi(&mut self, op: AluOp, dst: Address, imm: i32, size: OperandSize) -> MResult;
    fn imul_rr(&mut self, dst: Gpr, src: Gpr, size: OperandSize) -> MResult;
    fn imul_rri(&mut self, dst: Gpr, src: Gpr, imm: i32, size: OperandSize) -> MResult;
    /// `dst = dst / divisor` (or `dst % divisor`), the 64-bit `dst` divided at
    /// `size`; the divisor is non-zero (the caller checked). A signed
    /// division jumps to `overflow` for `MIN / -1` (the CLI raises
    /// OverflowException where the hardware may fault). Clobbers the ISA's
    /// fixed division registers, which are never allocated (x86-64: rax, rdx;
    /// `dst` and `divisor` are neither).
    fn div(
        &mut self,
        kind: DivKind,
        dst: Gpr,
        divisor: Gpr,
        size: OperandSize,
        overflow: Option<Label>,
    ) -> MResult;
    /// `dst = dst * src` unsigned at `size`, jumping to `overflow` when the
    /// product does not fit. Clobbers what [`MacroAssembler::div`] does.
    fn umul_checked(&mut self, dst: Gpr, src: Gpr, size: OperandSize, overflow: Label) -> MResult;
    /// Where [`MacroAssembler::shift`] wants its count (x86-64: rcx); a count
    /// loaded there needs no move.
    const SHIFT_COUNT: Gpr;
    /// `dst = dst <kind> count` (the count masked to the width by the
    /// hardware, as ECMA-335 leaves it unspecified beyond the width).
    fn shift(&mut self, kind: ShiftKind, dst: Gpr, count: Gpr, size: OperandSize) -> MResult;
    fn shift_ri(&mut self, kind: ShiftKind, dst: Gpr, amount: u8, size: OperandSize) -> MResult;
    fn neg(&mut self, dst: Gpr, size: OperandSize) -> MResult;
    fn not(&mut self, dst: Gpr, size: OperandSize) -> MResult;
    fn extend(&mut self, dst: Gpr, src: Gpr, ext: Extend) -> MResult;
    /// `dst = cond ? 1 : 0` (32-bit result).
    fn setcc(&mut self, cond: Cond, dst: Gpr) -> MResult;
    fn call_reg(&mut self, target: Gpr) -> MResult;
    /// `call label` (rel32): enters a `finally` compiled in the same body.
    fn call_label(&mut self, label: Label) -> MResult;
    /// `call` to the start of the method being assembled (its prologue, which
    /// `finish` prepends): a direct self-recursive call, resolved in `finish`.
    fn call_entry(&mut self) -> MResult;
    /// `ret`.
    fn ret(&mut self) -> MResult;
    fn call_mem(&mut self, target: Address) -> MResult;
    /// Calls the absolute address `target` through a patchable immediate
    /// (loaded into `Abi::RET`, which carries no argument); returns the mark
    /// of the immediate's instruction (the immediate is at byte +2) so the
    /// host may repoint the call.
    fn call_patchable(&mut self, target: u64) -> MResult<usize>;
    /// Calls through the code pointer stored at `cell` (a patchable
    /// immediate, as for [`MacroAssembler::call_patchable`]); returns its mark.
    fn call_cell_patchable(&mut self, cell: u64) -> MResult<usize>;
    /// Where the block operations take their operands.
    const BLOCK: BlockRegs;
    /// Copies `BLOCK.len` bytes from `[BLOCK.src]` to `[BLOCK.dst]`
    /// (clobbers all three).
    fn copy_bytes(&mut self) -> MResult;
    /// Fills `BLOCK.len` bytes at `[BLOCK.dst]` with the low byte of
    /// `BLOCK.fill` (clobbers `dst` and `len`).
    fn fill_bytes(&mut self) -> MResult;
    /// The epilogue for `frame` (restores, frame teardown, return): the
    /// shared one, emitted once the frame is known.
    fn epilogue(&mut self, frame: &FrameInfo) -> MResult;
    /// Room for a whole epilogue at a `ret` that is not the method's last
    /// instruction, so that it returns without a jump to the shared
    /// epilogue; `finish` writes the epilogue there once the frame is known
    /// (its size, the callee-saved registers in use).
    fn epilogue_slot(&mut self) -> MResult;

    fn fload(&mut self, dst: Xmm, src: Address, single: bool) -> MResult;
    fn fstore(&mut self, dst: Address, src: Xmm, single: bool) -> MResult;
    fn fmov(&mut self, dst: Xmm, src: Xmm) -> MResult;
    fn fop(&mut self, op: FloatOp, dst: Xmm, src: Xmm) -> MResult;
    /// `ucomisd a, b`.
    fn fcmp(&mut self, a: Xmm, b: Xmm) -> MResult;
    fn cvt_i2f(&mut self, dst: Xmm, src: Gpr, size: OperandSize) -> MResult;
    /// Signed integer to float32, rounded once (cvtsi2ss), then widened to float64.
    fn cvt_i2f_single(&mut self, dst: Xmm, src: Gpr, size: OperandSize) -> MResult;
    /// Truncating conversion.
    fn cvt_f2i(&mut self, dst: Gpr, src: Xmm, size: OperandSize) -> MResult;
    /// Round a double to single precision and back.
    fn fround_single(&mut self, x: Xmm) -> MResult;
    /// To double from single in place (after a 32-bit move).
    fn movq_xr(&mut self, dst: Xmm, src: Gpr) -> MResult;
    fn movq_rx(&mut self, dst: Gpr, src: Xmm) -> MResult;
    fn fxor(&mut self, dst: Xmm, src: Xmm) -> MResult;
    /// Double → single precision in place (for passing/returning float32).
    fn narrow_to_single(&mut self, x: Xmm) -> MResult;
    /// Single → double precision in place (float32 received).
    fn widen_from_single(&mut self, x: Xmm) -> MResult;
    /// Stores the low 4 (single) or 8 bytes of `src` unchanged.
    fn fstore_raw(&mut self, dst: Address, src: Xmm, single: bool) -> MResult;

    /// The lowest FP-relative offset any instruction emitted so far
    /// addresses (0: none below FP), or `None` when one addressed the frame
    /// through an index register (no bound known). What the frame must
    /// reserve below the saved FP, with the save slots and the slots the
    /// stack maps name.
    fn frame_low(&self) -> Option<i32>;

    /// Assembles: a prologue for `frame`, then the body.
    fn finish(self, frame: &FrameInfo) -> MResult<Assembled>;
}
