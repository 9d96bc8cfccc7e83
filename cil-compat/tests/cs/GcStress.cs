// GcStress.cs: the managed workload of tests/gc_stress.rs. A ring of small
// trees is the live set (about 1.2 MB); every round verifies the tree it is about
// to replace, builds a new one and throws away a burst of short-lived arrays
// and strings, so the program allocates far more than the heap limit while its
// live data stays bounded. Every check is exact: a tree that lost or mixed up a
// node makes Run return a negative round number.
using System;

namespace GcStress
{
    public class Node
    {
        public int V;
        public Node L, R;
        public int[] Data;
        public string Tag;
    }

    public static class Work
    {
        static Node[] ring;
        static object held;

        static Node Build(int depth, int seed)
        {
            Node n = new Node();
            n.V = seed;
            n.Data = new int[4];
            n.Data[seed & 3] = seed;
            if ((seed & 7) == 0) n.Tag = "t" + seed;
            if (depth > 0)
            {
                n.L = Build(depth - 1, seed * 2 + 1);
                n.R = Build(depth - 1, seed * 2 + 2);
            }
            return n;
        }

        static bool Verify(Node n, int depth, int seed)
        {
            if (n == null || n.V != seed || n.Data.Length != 4 || n.Data[seed & 3] != seed)
                return false;
            if ((seed & 7) == 0 && n.Tag != "t" + seed) return false;
            if ((seed & 7) != 0 && n.Tag != null) return false;
            if (depth == 0) return n.L == null && n.R == null;
            return Verify(n.L, depth - 1, seed * 2 + 1) && Verify(n.R, depth - 1, seed * 2 + 2);
        }

        // Rounds of work; returns the number of trees verified, or -round on
        // the first corrupted one.
        public static long Run(int rounds)
        {
            const int Depth = 5;
            ring = new Node[200];
            int[] seeds = new int[ring.Length];
            long verified = 0;
            for (int round = 1; round <= rounds; round++)
            {
                int slot = round % ring.Length;
                if (ring[slot] != null)
                {
                    if (!Verify(ring[slot], Depth, seeds[slot])) return -round;
                    verified++;
                }
                seeds[slot] = round & 0xFFFF;
                ring[slot] = Build(Depth, seeds[slot]);
                int junk = 0;
                for (int k = 0; k < 12; k++)
                {
                    int[] a = new int[24 + k];
                    a[k] = k;
                    junk += a[k];
                }
                string s = "r" + round;
                junk += s.Length;
                if (junk < 0) return -1;
                if (round % 5000 == 0) GC.Collect();
            }
            for (int i = 0; i < ring.Length; i++)
            {
                if (ring[i] != null && !Verify(ring[i], Depth, seeds[i])) return -1000000 - i;
            }
            return verified;
        }

        public static long RunDefault() { return Run(30000); }

        // Drops the live set, so a host-side collection can shrink the heap.
        public static int Release() { ring = null; held = null; return 0; }

        // An object only the host will hold (through a handle).
        public static Node MakeHeld()
        {
            Node n = Build(3, 77);
            return n;
        }

        public static long RunSmall() { return Run(3000); }

        // Allocates until the heap limit is reached while keeping everything.
        public static int Hoard()
        {
            object[] keep = new object[1 << 17];
            held = keep;
            for (int i = 0; i < keep.Length; i++) keep[i] = new int[256];
            return keep.Length;
        }

        // Hoards until the heap is full and catches the OutOfMemoryException;
        // once the hoard is dropped, allocation works again. 1 when both hold.
        public static int HoardThenRecover()
        {
            object[] keep = new object[1 << 17];
            int n = 0;
            try
            {
                for (; n < keep.Length; n++) keep[n] = new int[256];
                return -1;
            }
            catch (OutOfMemoryException e)
            {
                if (n == 0 || e.StackTrace == null) return -2;
            }
            keep = null;
            held = null;
            GC.Collect();
            int[] again = new int[256];
            again[255] = 7;
            return again[255] == 7 ? 1 : -3;
        }

        // One request larger than the whole heap, caught; 2.
        public static int TooLargeIsCaught()
        {
            try { long[] a = new long[1 << 28]; return a.Length; }
            catch (OutOfMemoryException) { return 2; }
        }
    }
}
