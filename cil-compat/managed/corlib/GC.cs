// System.GC: the managed face of the runtime's non-moving mark-sweep collector
// (cil-compat/src/gc.rs, bound in cil-compat/src/exec/gc.rs). One generation:
// every collection is a full one, so `generation` arguments are accepted and
// ignored, and MaxGeneration is 0.
namespace System
{
    using System.Runtime.CompilerServices;

    public static class GC
    {
        public static int MaxGeneration { get { return 0; } }

        // Collects now (a no-op when the runtime cannot scan the caller's stack).
        [MethodImpl(MethodImplOptions.InternalCall)]
        public static extern void Collect();

        public static void Collect(int generation) { Collect(); }

        // Bytes held by allocated objects, after a collection if asked.
        [MethodImpl(MethodImplOptions.InternalCall)]
        public static extern long GetTotalMemory(bool forceFullCollection);

        [MethodImpl(MethodImplOptions.InternalCall)]
        public static extern int CollectionCount(int generation);

        // Ours (not in .NET): bytes the heap has reserved from the system.
        [MethodImpl(MethodImplOptions.InternalCall)]
        public static extern long GetHeapReserved();

        public static void KeepAlive(object obj) { }

        public static void SuppressFinalize(object obj) { }

        public static void WaitForPendingFinalizers() { }
    }
}
