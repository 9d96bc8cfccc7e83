//! Fault injection: compiled only with `-define:FAULT_INJECT` (plus a generated
//! `FaultConfig.cs`, see `ci/src/managed.rs`), so that boot tests can check the
//! kernel contains a fault raised by JIT code in the middle of block I/O: the driver
//! faults on purpose at its N-th block request (read, write and flush counted
//! together, per device object, 1-based), in the request path, before anything of
//! that request reaches the device. One kind, `CorruptWrite`, does not fault at
//! all: it is a quietly broken driver, for tests that compare what drivers leave
//! on the disk (`cargo xtask matrix`). Normal builds contain none of this file.
//!
//! The generated file is, for request N and kind K (a `FaultKind` value):
//!     static class FaultConfig { public const int AtRequest = N; public const int Kind = K; }
#if FAULT_INJECT
using Ddk;

namespace VirtioBlk
{
    /// How the driver faults. Mirrored by `FaultKind` in ci/src/managed.rs: keep
    /// the numbers in step.
    public enum FaultKind
    {
        /// Read a field through a null object reference: the JIT's null check, or a
        /// page fault on the null guard.
        NullDeref = 1,
        /// Store one past the end of an array (the JIT's bounds check).
        IndexOutOfRange = 2,
        /// Integer division by a zero computed at run time (mcs cannot fold it).
        DivideByZero = 3,
        /// `castclass` of an object to a class it is not.
        InvalidCast = 4,
        /// A store through a non-canonical address: #GP, no page-table walk.
        WildPointer = 5,
        /// Unbounded recursion until the stack guard is hit.
        StackOverflow = 6,
        /// A call to a method whose IL the JIT refuses (`stackalloc` in a
        /// method with an exception handler); methods compile on first call,
        /// so the refusal comes here.
        JitRejected = 7,
        /// A store through a raw pointer into page 0: the null guard's page
        /// fault, raised by JIT code (not a JIT null check).
        NullPointer = 8,
        /// No fault: in the first write at or after request N, one byte of the
        /// data that reaches the disk is inverted (the caller's buffer is left alone) and the
        /// request completes as if nothing happened.
        CorruptWrite = 9,
        /// `throw` of a managed exception, caught after a `finally` ran, then
        /// a second one (NotSupportedException) that nothing in the driver
        /// catches: it escapes the driver's entry point.
        Throw = 10,
    }

    static unsafe class FaultInjection
    {
        /// Debug marker emitted just before the fault: this | kind.
        public const uint MarkerFaultInjected = 0x4D42FA00;

        sealed class Victim
        {
            public uint Field = 1;
        }

        /// Loads land here so mcs keeps the faulting instruction (public: no
        /// "never used" warning).
        public static uint s_sink;

        /// Called by Read, Write and Flush with the device's request number.
        public static void BeforeRequest(uint request, bool isWrite)
        {
            if (request != (uint)FaultConfig.AtRequest) return;
            FaultKind kind = (FaultKind)FaultConfig.Kind;
            if (kind == FaultKind.CorruptWrite)
            {
                // The write itself is corrupted in VirtioBlkDevice.Write (Corrupt).
                if (!isWrite)
                {
                    LogLine skip = new LogLine();
                    skip.Append("virtio-blk: FAULT_INJECT: request ");
                    skip.AppendDec(request);
                    skip.Append(" is not a write; the next write is corrupted instead");
                    skip.Emit(LogLevel.Warn);
                }
                return;
            }
            LogLine line = new LogLine();
            line.Append("virtio-blk: FAULT_INJECT: faulting at request ");
            line.AppendDec(request);
            line.Append(" (kind ");
            line.AppendDec((ulong)FaultConfig.Kind);
            line.Append(")");
            line.Emit(LogLevel.Error);
            Log.Marker(MarkerFaultInjected | (uint)FaultConfig.Kind);
            switch (kind)
            {
                case FaultKind.NullDeref:
                    s_sink = Nobody(request).Field;
                    break;
                case FaultKind.IndexOutOfRange:
                    uint[] a = new uint[request];
                    a[request] = 1;
                    s_sink = a[0];
                    break;
                case FaultKind.DivideByZero:
                    // Zero exactly here, but only the run time knows.
                    int zero = (int)request - FaultConfig.AtRequest;
                    s_sink = (uint)(1000 / zero);
                    break;
                case FaultKind.InvalidCast:
                    object o = new Victim();
                    VirtioBlkDevice d = (VirtioBlkDevice)o;
                    s_sink = d.Recoveries;
                    break;
                case FaultKind.WildPointer:
                    // Bit 63 set, bits 62..47 clear: non-canonical.
                    *(byte*)0x8000000000000000UL = 0xAA;
                    break;
                case FaultKind.StackOverflow:
                    s_sink = Recurse(request);
                    break;
                case FaultKind.JitRejected:
                    s_sink = Guarded(request);
                    break;
                case FaultKind.Throw:
                    s_sink = Thrower(request);
                    break;
                case FaultKind.NullPointer:
                    // An address mcs cannot fold: 0x10 for every request.
                    *(uint*)(ulong)(0x10 + request - request) = 0xDEAD;
                    break;
            }
            Log.Error("virtio-blk: FAULT_INJECT: the fault did not fault; carrying on");
        }

        /// Set once CorruptWrite has corrupted its write.
        static bool s_corrupted;

        /// Whether write request `request` is the one CorruptWrite corrupts:
        /// the first write at or after request N (so the variant still
        /// corrupts exactly one write when request N happens to be a read).
        public static bool CorruptsWrite(uint request)
        {
            if (FaultConfig.Kind != (int)FaultKind.CorruptWrite || s_corrupted) return false;
            if (request < (uint)FaultConfig.AtRequest) return false;
            s_corrupted = true;
            return true;
        }

        /// Inverts the byte at `data` (the first byte of write request `request`,
        /// on its way to block `lba`) and says so: the log line is the only trace.
        public static void Corrupt(uint request, ulong lba, uint blockSize, byte* data)
        {
            byte was = *data;
            *data = (byte)(was ^ 0xFF);
            LogLine line = new LogLine();
            line.Append("virtio-blk: FAULT_INJECT: corrupting write request ");
            line.AppendDec(request);
            line.Append(": byte 0 of block ");
            line.AppendDec(lba);
            line.Append(" (disk offset ");
            line.AppendDec(lba * blockSize);
            line.Append(") written as ");
            line.AppendHex(*data, 2);
            line.Append(" instead of ");
            line.AppendHex(was, 2);
            line.Emit(LogLevel.Error);
            Log.Marker(MarkerFaultInjected | (uint)FaultConfig.Kind);
        }

        /// Null for every request number (they start at 1), which mcs cannot know.
        static Victim Nobody(uint request)
        {
            return request == 0 ? new Victim() : null;
        }

        /// IL the JIT does not compile: `localloc` in a method with a
        /// try/catch region (a catch handler resumes at the method's fixed
        /// frame depth, which would lose the block).
        static uint Guarded(uint request)
        {
            try
            {
                byte* b = stackalloc byte[16];
                b[0] = (byte)request;
                return 1000 / (uint)(b[0] + 1);
            }
            catch
            {
                return 0;
            }
        }

        /// Catches a page fault on the null guard as a NullReferenceException,
        /// then throws two frames down; the exception passes a `finally` (run in the
        /// second pass) to the `catch` here, which throws another exception
        /// that nothing in the driver catches (a handler that does not match
        /// is passed over).
        static uint Thrower(uint request)
        {
            try
            {
                // The null guard's page fault, caught as a managed exception.
                *(uint*)(ulong)(0x10 + request - request) = 0xDEAD;
            }
            catch (System.NullReferenceException)
            {
                Log.Error("virtio-blk: FAULT_INJECT: caught NullReferenceException from a null-page fault");
            }
            try
            {
                try
                {
                    return Inner(request);
                }
                catch (System.InvalidOperationException)
                {
                    Log.Error("virtio-blk: FAULT_INJECT: caught; throwing NotSupportedException");
                    throw new System.NotSupportedException("FAULT_INJECT: thrown on purpose");
                }
            }
            catch (System.ArgumentException)
            {
                return 0;
            }
        }

        static uint Inner(uint request)
        {
            try
            {
                throw new System.InvalidOperationException("FAULT_INJECT: first exception");
            }
            finally
            {
                Log.Error("virtio-blk: FAULT_INJECT: finally ran on the way out");
            }
        }

        /// Never returns: each frame adds to the result after the call, so it is
        /// not a tail call either.
        static uint Recurse(uint depth)
        {
            return Recurse(depth + 1) + depth;
        }
    }
}
#endif
