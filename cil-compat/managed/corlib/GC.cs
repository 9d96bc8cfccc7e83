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

namespace System.Runtime.InteropServices
{
    using System.Runtime.CompilerServices;

    public enum GCHandleType { Weak = 0, WeakTrackResurrection = 1, Normal = 2, Pinned = 3 }

    // A handle the runtime's heap keeps as a GC root until Free (bound in
    // cil-compat/src/exec/gc.rs). Objects never move, so every handle pins;
    // weak handles are strong here.
    public struct GCHandle
    {
        IntPtr handle;

        [MethodImpl(MethodImplOptions.InternalCall)]
        static extern IntPtr InternalAlloc(object value, int type);
        [MethodImpl(MethodImplOptions.InternalCall)]
        static extern object InternalGet(IntPtr handle);
        [MethodImpl(MethodImplOptions.InternalCall)]
        static extern void InternalSet(IntPtr handle, object value);
        [MethodImpl(MethodImplOptions.InternalCall)]
        static extern void InternalFree(IntPtr handle);
        [MethodImpl(MethodImplOptions.InternalCall)]
        static extern IntPtr InternalAddrOfPinnedObject(IntPtr handle);

        public static GCHandle Alloc(object value) { return Alloc(value, GCHandleType.Normal); }

        public static GCHandle Alloc(object value, GCHandleType type)
        {
            GCHandle h;
            h.handle = InternalAlloc(value, (int)type);
            return h;
        }

        public bool IsAllocated { get { return handle != IntPtr.Zero; } }

        public object Target
        {
            get { return InternalGet(handle); }
            set { InternalSet(handle, value); }
        }

        public IntPtr AddrOfPinnedObject() { return InternalAddrOfPinnedObject(handle); }

        public void Free()
        {
            InternalFree(handle);
            handle = IntPtr.Zero;
        }

        public static IntPtr ToIntPtr(GCHandle value) { return value.handle; }

        public static GCHandle FromIntPtr(IntPtr value)
        {
            GCHandle h;
            h.handle = value;
            return h;
        }

        public static explicit operator IntPtr(GCHandle value) { return value.handle; }
        public static explicit operator GCHandle(IntPtr value) { return FromIntPtr(value); }
    }
}
