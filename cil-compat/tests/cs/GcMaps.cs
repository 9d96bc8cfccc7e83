// GcMaps.cs: the managed side of tests/gc_maps.rs. Each scenario keeps an
// object reachable from exactly one place in a JIT frame (a reference local,
// a spilled evaluation-stack entry, a struct local's field, a callee-saved
// register), forces collections while churning the heap so a freed object's
// memory is reused, and returns 1 only if the object is intact. Dead() leaves
// stale references in dead stack slots and measures what survives.
using System;

namespace GcMaps
{
    public class Node
    {
        public int V;
        public Node Next;
        public string Tag;

        public Node Copy()
        {
            return (Node)MemberwiseClone();
        }
    }

    public struct Holder
    {
        public int K;
        public Node N;
        public string S;
    }

    public static class Scenarios
    {
        static object sink;

        static Node Make(int v)
        {
            Node n = new Node();
            n.V = v;
            n.Tag = "n" + v;
            return n;
        }

        static bool Intact(Node n, int v)
        {
            return n != null && n.V == v && n.Tag == "n" + v;
        }

        // Collects, then fills the heap with look-alike garbage that would
        // overwrite anything the collection wrongly freed. Its own loop
        // variables live in callee-saved registers, which its prologue saves.
        static int Churn()
        {
            GC.Collect();
            int acc = 0;
            for (int i = 0; i < 3000; i++)
            {
                Node g = new Node();
                g.V = -i;
                g.Tag = "junk";
                acc += g.V;
                sink = g;
            }
            sink = null;
            GC.Collect();
            return acc < 0 ? 1 : 0;
        }

        // (a) A reference local (kept in a callee-saved register by the
        // register allocator, so also (d)): Churn saves and restores it.
        public static int RefLocal()
        {
            Node n = Make(11);
            int k = Churn();
            return Intact(n, 11) ? k : -1;
        }

        // (a') A reference local in the frame: a method with a handler keeps
        // its locals in their frame slots.
        public static int FrameLocal()
        {
            Node n = Make(12);
            int k = 0;
            try
            {
                k = Churn();
            }
            finally
            {
                sink = null;
            }
            return Intact(n, 12) ? k : -1;
        }

        static int Sum8(Node a, Node b, Node c, Node d, Node e, Node f, Node g, int k)
        {
            bool ok = Intact(a, 1) && Intact(b, 2) && Intact(c, 3) && Intact(d, 4)
                && Intact(e, 5) && Intact(f, 6) && Intact(g, 7);
            return ok ? k : -1;
        }

        // (b) Evaluation-stack entries live across a call: seven references
        // are on the stack when Churn runs, more than the callee-saved
        // registers can hold, so some wait in their homes in the frame.
        public static int Spilled()
        {
            return Sum8(Make(1), Make(2), Make(3), Make(4), Make(5), Make(6), Make(7), Churn());
        }

        // (c) The reference fields of a struct local.
        public static int StructField()
        {
            Holder h;
            h.K = 3;
            h.N = Make(13);
            h.S = "s" + h.K;
            int k = Churn();
            return Intact(h.N, 13) && h.S == "s3" && h.K == 3 ? k : -1;
        }

        // (d) A callee-saved register up the chain: the caller's local is in a
        // register, and two JIT frames (Middle, Churn) sit between it and the
        // collection.
        static int Middle(int depth)
        {
            int s = 0;
            for (int i = 0; i < depth; i++) s += i;
            return Churn() + (s & 0);
        }

        public static int Register()
        {
            Node n = Make(14);
            Node m = n;
            int k = Middle(5);
            return Intact(n, 14) && m == n ? k : -1;
        }

        // Internal calls that allocate (MemberwiseClone, Array.GetValue's box,
        // Array.Copy boxing into object[]) while references wait in the frame;
        // the test runs it with a collection before every allocation.
        public static int Natives()
        {
            Node n = Make(15);
            Node c = n.Copy();
            int[] xs = new int[] { 1, 2, 3 };
            object o = ((Array)xs).GetValue(1);
            object[] objs = new object[3];
            Array.Copy(xs, objs, 3);
            int k = Churn();
            return Intact(n, 15) && Intact(c, 15) && c != n && (int)o == 2 && (int)objs[2] == 3 ? k : -1;
        }

        static int Use(byte[] a, byte[] b, byte[] c, byte[] d, byte[] e, byte[] f, byte[] g, int k)
        {
            return a.Length + b.Length + c.Length + d.Length + e.Length + f.Length + g.Length + k;
        }

        static int One()
        {
            return 1;
        }

        // Seven 256 KiB arrays travel on the evaluation stack (some in their
        // homes) into Use, and are garbage once it returns; their addresses
        // stay in the dead homes. Returns the bytes still allocated after a
        // forced collection made from this same frame.
        public static long Dead()
        {
            int n = Use(new byte[1 << 18], new byte[1 << 18], new byte[1 << 18], new byte[1 << 18],
                new byte[1 << 18], new byte[1 << 18], new byte[1 << 18], One());
            long live = GC.GetTotalMemory(true);
            return n == 7 * (1 << 18) + 1 ? live : -1;
        }
    }
}
