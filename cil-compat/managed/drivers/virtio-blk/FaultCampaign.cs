//! Fault-injection campaign: compiled only with `-define:FAULT_CAMPAIGN` (plus a
//! generated `CampaignConfig.cs`, see `ci/src/faults.rs`). Unlike
//! `FaultInjection.cs` (one fault at one request), this build faults again and
//! again in one boot: the first time at request `Every`, then every `Every`
//! requests (or, with a non-zero `Seed`, after a pseudo-random gap of
//! `Every/2 .. 3*Every/2` requests), with the kind rotating through the
//! enabled set (or drawn at random with the seed). Requests are counted in a
//! static field, so the count runs on across the fresh driver instances the
//! kernel starts after each fault (the engine and its statics stay).
//!
//! Every fault is real: the driver executes the bad operation.
//! - Runtime errors and CPU exceptions (null dereference, index out of range,
//!   division by zero, invalid cast, #GP on a wild pointer, #PF through a null
//!   pointer, stack overflow) are raised in the request path before anything
//!   of the request reaches the device.
//! - Device-level faults happen in `Submit`, after the request's descriptors
//!   are in the ring: a wrong value written to a device register instead of
//!   the kick (legacy: a queue that does not exist in QueueNotify; modern:
//!   device_status without DRIVER_OK); the
//!   notification left out (the request is never completed); the head
//!   descriptor's buffer address corrupted. After the first two the driver
//!   waits for a completion that never comes, until its bound
//!   (`CampaignConfig.TimeoutNs`): the kernel's watchdog takes over. The
//!   third would make QEMU complete the request with status OK without
//!   carrying out what was submitted (the header it reads is not the
//!   driver's), silently losing writes; the kernel's DMA guard
//!   (`cil-compat/src/hosting/dma_guard.rs`) refuses the notification
//!   instead, so the device never sees the chain and the fault is contained
//!   like the others.
//!
//! Each injection logs `fault-campaign: inject <kind> #<n> at request <r>`
//! first; the kernel's containment and recovery lines follow, which is how
//! `cargo xtask faults` attributes them.
//!
//! The generated file is:
//!     static class CampaignConfig { public const int Every = E; public const uint Seed = S;
//!         public const int KindMask = M; public const ulong TimeoutNs = T; }
//! where bit k-1 of M enables kind k.
#if FAULT_CAMPAIGN
using Ddk;

namespace VirtioBlk
{
    /// Campaign fault kinds. Mirrored by `CampaignKind` in ci/src/faults.rs.
    public enum CampaignKind
    {
        None = 0,
        NullDeref = 1,
        IndexOutOfRange = 2,
        DivideByZero = 3,
        InvalidCast = 4,
        WildPointer = 5,
        NullPointer = 6,
        StackOverflow = 7,
        WrongRegister = 8,
        LostRequest = 9,
        CorruptDescriptor = 10,
    }

    static unsafe class FaultCampaign
    {
        const int KindCount = 10;

        /// Requests seen by every instance of the driver in this engine.
        static uint s_requests;
        /// The request number of the next injection (0: not planned yet).
        static uint s_next;
        /// Injections so far.
        static uint s_injected;
        /// Last kind used (rotation) and the PRNG state (random mode).
        static int s_lastKind;
        static ulong s_rng;
        /// A device-level kind armed for the next Submit of this request.
        static CampaignKind s_armed;

        public static uint s_sink;

        sealed class Victim
        {
            public uint Field = 1;
        }

        static ulong Next()
        {
            if (s_rng == 0) s_rng = 0x9E3779B97F4A7C15UL ^ CampaignConfig.Seed;
            ulong x = s_rng;
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            s_rng = x;
            return x;
        }

        static bool Enabled(int kind)
        {
            return (CampaignConfig.KindMask & (1 << (kind - 1))) != 0;
        }

        static CampaignKind PickKind()
        {
            if (CampaignConfig.Seed != 0)
            {
                int enabled = 0;
                for (int k = 1; k <= KindCount; k++) if (Enabled(k)) enabled++;
                if (enabled == 0) return CampaignKind.None;
                int pick = (int)(Next() % (ulong)enabled);
                for (int k = 1; k <= KindCount; k++)
                {
                    if (!Enabled(k)) continue;
                    if (pick == 0) return (CampaignKind)k;
                    pick--;
                }
                return CampaignKind.None;
            }
            for (int i = 1; i <= KindCount; i++)
            {
                int k = (s_lastKind + i - 1) % KindCount + 1;
                if (Enabled(k))
                {
                    s_lastKind = k;
                    return (CampaignKind)k;
                }
            }
            return CampaignKind.None;
        }

        static uint Gap()
        {
            uint every = (uint)CampaignConfig.Every;
            if (CampaignConfig.Seed == 0 || every < 2) return every;
            return every / 2 + (uint)(Next() % (ulong)every) + 1;
        }

        public static string Name(CampaignKind k)
        {
            switch (k)
            {
                case CampaignKind.NullDeref: return "null-deref";
                case CampaignKind.IndexOutOfRange: return "index-out-of-range";
                case CampaignKind.DivideByZero: return "divide-by-zero";
                case CampaignKind.InvalidCast: return "invalid-cast";
                case CampaignKind.WildPointer: return "wild-pointer";
                case CampaignKind.NullPointer: return "null-pointer";
                case CampaignKind.StackOverflow: return "stack-overflow";
                case CampaignKind.WrongRegister: return "wrong-register";
                case CampaignKind.LostRequest: return "lost-request";
                case CampaignKind.CorruptDescriptor: return "corrupt-descriptor";
            }
            return "none";
        }

        /// Called by Read, Write and Flush first thing.
        public static void BeforeRequest()
        {
            s_armed = CampaignKind.None;
            s_noKick = false;
            s_requests++;
            if (s_next == 0) s_next = (uint)CampaignConfig.Every;
            if (s_requests != s_next) return;
            s_next = s_requests + Gap();
            CampaignKind kind = PickKind();
            if (kind == CampaignKind.None) return;
            s_injected++;
            LogLine line = new LogLine();
            line.Append("fault-campaign: inject ");
            line.Append(Name(kind));
            line.Append(" #");
            line.AppendDec(s_injected);
            line.Append(" at request ");
            line.AppendDec(s_requests);
            line.Emit(LogLevel.Warn);
            uint request = s_requests;
            switch (kind)
            {
                case CampaignKind.NullDeref:
                    s_sink = Nobody(request).Field;
                    break;
                case CampaignKind.IndexOutOfRange:
                    uint[] a = new uint[(request & 7) + 1];
                    a[(request & 7) + 1] = 1;
                    s_sink = a[0];
                    break;
                case CampaignKind.DivideByZero:
                    int zero = (int)(request - s_requests);
                    s_sink = (uint)(1000 / zero);
                    break;
                case CampaignKind.InvalidCast:
                    object o = new Victim();
                    VirtioBlkDevice d = (VirtioBlkDevice)o;
                    s_sink = d.Recoveries;
                    break;
                case CampaignKind.WildPointer:
                    *(byte*)0x8000000000000000UL = 0xAA;
                    break;
                case CampaignKind.NullPointer:
                    *(uint*)(ulong)(0x10 + request - request) = 0xDEAD;
                    break;
                case CampaignKind.StackOverflow:
                    s_sink = Recurse(request);
                    break;
                default:
                    // Device-level: done in Submit, once the request is in the ring.
                    s_armed = kind;
                    return;
            }
            Log.Error("fault-campaign: the fault did not fault; carrying on");
        }

        /// A kick was withheld or replaced for the request in flight.
        static bool s_noKick;

        /// Called by Submit when its request completed. A device may still
        /// pick up a request that was never kicked (QEMU re-checks the ring
        /// while it finishes earlier work): then the fault had no effect, and
        /// the log says so (the campaign counts it as not faulted).
        public static void Completed()
        {
            if (!s_noKick) return;
            s_noKick = false;
            Log.Error("fault-campaign: the fault did not fault (the device completed the request without a kick); carrying on");
        }

        /// Called by Submit after the chain `head` is published in `q`. Returns
        /// true when it took the place of the notification.
        public static bool AfterAdd(SplitQueue q, VirtioTransport t, ushort head)
        {
            CampaignKind k = s_armed;
            s_armed = CampaignKind.None;
            s_noKick = k == CampaignKind.WrongRegister || k == CampaignKind.LostRequest;
            switch (k)
            {
                case CampaignKind.WrongRegister:
                    // Instead of the kick, a wrong value in a device register.
                    // Legacy: queue 0x5A in QueueNotify (no such queue, the
                    // device ignores it). Modern (the queue is the notify
                    // address, not the value written): device_status with
                    // DRIVER_OK dropped (ACKNOWLEDGE|DRIVER|FEATURES_OK),
                    // which stops the device (§2.1, §4.1.4.3).
                    if (t.IsLegacy) t.NotifyValue(0x5A);
                    else t.WriteStatus(0x0B);
                    return true;
                case CampaignKind.LostRequest:
                    return true;
                case CampaignKind.CorruptDescriptor:
                    // An address far outside guest memory (but canonical and
                    // page-aligned): the device cannot map the request header.
                    q.CorruptDescriptorAddress(head, 0x0000FFFFFFFFF000UL);
                    return false;
            }
            return false;
        }

        static Victim Nobody(uint request)
        {
            return request == 0 ? new Victim() : null;
        }

        static uint Recurse(uint depth)
        {
            return Recurse(depth + 1) + depth;
        }
    }
}
#endif
