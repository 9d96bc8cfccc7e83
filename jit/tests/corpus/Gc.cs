// Gc.cs: the garbage collector under managed workloads. Each method allocates
// far more than the heap's initial budget (so collections run on their own) and
// calls GC.Collect(), then checks that everything still reachable is intact:
// objects held only by statics, only by locals or registers across calls that
// allocate, only by locals of deep recursion, only inside exception handlers,
// only through a managed pointer (ref to an array element or field); linked
// structures, arrays of references, arrays of structs holding references,
// boxed values, strings, delegates and collections; objects held only by a
// GCHandle, and a pinned array written through its address.
using System;
using System.Collections.Generic;
using System.Runtime.InteropServices;

namespace Corpus
{
    public class GcNode
    {
        public int Value;
        public GcNode Next;
        public object Payload;
        public GcNode(int v, GcNode next) { Value = v; Next = next; }
    }

    public struct GcPair
    {
        public string Name;
        public int Id;
        public GcNode Node;
    }

    public class GcCarrier : Exception
    {
        public GcNode Held;
        public GcCarrier(GcNode n) : base("carrier") { Held = n; }
    }

    public static class GcHelpers
    {
        public static GcNode Root;
        public static string[] Names;
        public static GcPair PairStatic;

        // Allocates about `n` * 120 bytes of garbage; returns a checksum that
        // depends on every object having been written and read back.
        public static int Churn(int n)
        {
            int s = 0;
            for (int i = 0; i < n; i++)
            {
                GcNode a = new GcNode(i, null);
                int[] b = new int[8];
                b[i & 7] = i;
                a.Payload = b;
                s += a.Value + ((int[])a.Payload)[i & 7];
                s &= 0xFFFFFF;
            }
            return s;
        }

        public static GcNode BuildList(int n)
        {
            GcNode head = null;
            for (int i = 0; i < n; i++) head = new GcNode(i, head);
            return head;
        }

        public static long SumList(GcNode n)
        {
            long s = 0;
            while (n != null) { s += n.Value; n = n.Next; }
            return s;
        }

        public static int Recurse(int depth)
        {
            GcNode mine = new GcNode(depth, null);
            string tag = "d" + depth;
            if (depth == 0)
            {
                Churn(50000);
                GC.Collect();
                Churn(50000);
                return mine.Value + tag.Length;
            }
            int below = Recurse(depth - 1);
            return below + mine.Value + tag.Length;
        }

        public static void FillLater(ref int slot, int v)
        {
            Churn(60000);
            GC.Collect();
            slot = v;
        }

        public static int ReadLater(int[] arr, ref int slot)
        {
            Churn(60000);
            GC.Collect();
            return slot + arr.Length;
        }

        public static GcNode Throwing(int v)
        {
            throw new GcCarrier(new GcNode(v, new GcNode(v + 1, null)));
        }
    }

    public static class Gc
    {
        [Expect("1199999")]
        public static int ShortLivedObjects()
        {
            int last = 0;
            for (int i = 0; i < 1200000; i++)
            {
                GcNode n = new GcNode(i, null);
                last = n.Value;
            }
            GC.Collect();
            return last;
        }

        [Expect("199990000")]
        public static long ListSurvivesChurn()
        {
            GcNode list = GcHelpers.BuildList(20000);
            GcHelpers.Churn(200000);
            GC.Collect();
            GcHelpers.Churn(200000);
            return GcHelpers.SumList(list);
        }

        [Expect("49995000")]
        public static long HeldOnlyByStatic()
        {
            GcHelpers.Root = GcHelpers.BuildList(10000);
            GcHelpers.Churn(300000);
            GC.Collect();
            long s = GcHelpers.SumList(GcHelpers.Root);
            GcHelpers.Root = null;
            return s;
        }

        [Expect("100011")]
        public static int StaticStringArray()
        {
            GcHelpers.Names = new string[1000];
            for (int i = 0; i < 1000; i++) GcHelpers.Names[i] = "n" + i;
            GcHelpers.Churn(300000);
            GC.Collect();
            int r = (GcHelpers.Names[0] == "n0" ? 1 : 0) + (GcHelpers.Names[999] == "n999" ? 10 : 0) + GcHelpers.Names.Length * 100;
            GcHelpers.Names = null;
            return r;
        }

        [Expect("100711")]
        public static int StaticStructWithRefs()
        {
            GcPair p;
            p.Name = "pa" + "ir";
            p.Id = 7;
            p.Node = new GcNode(11, null);
            GcHelpers.PairStatic = p;
            GcHelpers.Churn(300000);
            GC.Collect();
            return (GcHelpers.PairStatic.Name == "pair" ? 100000 : 0) + GcHelpers.PairStatic.Id * 100 + GcHelpers.PairStatic.Node.Value;
        }

        [Expect("31024")]
        public static int LocalsAcrossAllocatingCalls()
        {
            GcNode a = new GcNode(1, null);
            GcNode b = new GcNode(2, a);
            string s = "hel" + "lo".ToString();
            int[] arr = new int[] { 4, 5 };
            int c = GcHelpers.Churn(100000);
            GC.Collect();
            c = GcHelpers.Churn(100000) + c;
            int links = b.Next.Next == null ? b.Next.Value + 1 : -1;
            return (a.Value + b.Value) * 10000 + (s == "hello" ? 1000 : 0) + links * 10 + arr[0];
        }

        [Expect("5")]
        public static int ValuesOnEvalStackAcrossCalls()
        {
            // `new GcNode(2, null)` is on the evaluation stack while Churn runs.
            return Pick(new GcNode(2, null), GcHelpers.Churn(200000), new GcNode(3, null));
        }

        static int Pick(GcNode x, int ignored, GcNode y) { return x.Value + y.Value; }

        [Expect("20794")]
        public static int DeepRecursion()
        {
            // 200 frames, each with its own object and string, collected at the bottom.
            return GcHelpers.Recurse(200);
        }

        [Expect("85")]
        public static int InsideCatchHandler()
        {
            try
            {
                GcHelpers.Throwing(42);
                return -1;
            }
            catch (GcCarrier e)
            {
                GcHelpers.Churn(200000);
                GC.Collect();
                return e.Held.Value + e.Held.Next.Value;
            }
        }

        [Expect("919")]
        public static int InsideFinally()
        {
            GcNode kept = new GcNode(9, null);
            int seen = 0;
            try
            {
                kept.Next = new GcNode(10, null);
            }
            finally
            {
                GcHelpers.Churn(200000);
                GC.Collect();
                seen = kept.Value + kept.Next.Value;
            }
            return kept.Value * 100 + seen;
        }

        [Expect("4210")]
        public static int OnlyThroughManagedPointer()
        {
            // The array is reachable only through the ref while FillLater runs.
            int[] arr = new int[10];
            GcHelpers.FillLater(ref arr[3], 42);
            return arr[3] * 100 + arr.Length;
        }

        [Expect("17")]
        public static int ManagedPointerIntoTemporary()
        {
            GcNode n = new GcNode(7, null);
            return GcHelpers.ReadLater(new int[10], ref n.Value);
        }

        [Expect("4995001000")]
        public static long ArrayOfStructsWithRefs()
        {
            GcPair[] ps = new GcPair[1000];
            for (int i = 0; i < ps.Length; i++)
            {
                ps[i].Id = i;
                ps[i].Node = new GcNode(i, null);
                ps[i].Name = "p" + i;
            }
            GcHelpers.Churn(300000);
            GC.Collect();
            long s = 0;
            int names = 0;
            for (int i = 0; i < ps.Length; i++)
            {
                s += ps[i].Node.Value;
                if (ps[i].Name == "p" + ps[i].Id) names++;
            }
            return s * 10000 + names;
        }

        [Expect("1247500500")]
        public static long BoxedValuesInObjectArray()
        {
            object[] boxes = new object[1000];
            for (int i = 0; i < boxes.Length; i++)
                boxes[i] = (i % 2 == 0) ? (object)(i * 5) : (object)("s" + i);
            GcHelpers.Churn(300000);
            GC.Collect();
            long s = 0;
            int strings = 0;
            foreach (object o in boxes)
            {
                if (o is int) s += (int)o;
                else if (((string)o).StartsWith("s")) strings++;
            }
            return s * 1000 + strings;
        }

        [Expect("400030")]
        public static int StringChurn()
        {
            string keep = "";
            for (int i = 0; i < 10; i++) keep += "abc";
            int total = 0;
            for (int i = 0; i < 40000; i++)
            {
                string t = "x" + i + "y" + keep;
                if (t.EndsWith(keep)) total++;
            }
            GC.Collect();
            return total * 10 + keep.Length - (keep == "abcabcabcabcabcabcabcabcabcabc" ? 0 : 1);
        }

        [Expect("124975005000")]
        public static long CollectionsSurvive()
        {
            List<GcNode> list = new List<GcNode>();
            Dictionary<int, string> map = new Dictionary<int, string>();
            for (int i = 0; i < 5000; i++)
            {
                list.Add(new GcNode(i, null));
                map[i] = "v" + i;
                GcHelpers.Churn(40);
            }
            GC.Collect();
            long s = 0;
            int ok = 0;
            for (int i = 0; i < list.Count; i++)
            {
                s += list[i].Value;
                if (map[i] == "v" + i) ok++;
            }
            return s * 10000 + ok;
        }

        [Expect("30")]
        public static int DelegatesSurvive()
        {
            int[] box = new int[] { 10 };
            Func<int, int> add = x => x + box[0];
            GcHelpers.Churn(300000);
            GC.Collect();
            return add(20);
        }

        [Expect("495099")]
        public static long MultiDimArrayOfObjects()
        {
            GcNode[,] grid = new GcNode[10, 10];
            for (int i = 0; i < 10; i++)
                for (int j = 0; j < 10; j++)
                    grid[i, j] = new GcNode(i * 10 + j, null);
            GcHelpers.Churn(300000);
            GC.Collect();
            long s = 0;
            foreach (GcNode n in grid) s += n.Value;
            return s * 100 + grid[9, 9].Value;
        }

        [Expect("10000")]
        public static int LongChainMarkedWithoutRecursion()
        {
            // A 200,000-node chain: marking must not recurse per link.
            GcNode head = GcHelpers.BuildList(200000);
            GC.Collect();
            int n = 0;
            for (GcNode p = head; p != null; p = p.Next) if (p.Value % 20 == 0) n++;
            return n;
        }

        [Expect("1000")]
        public static int HeldOnlyByGCHandle()
        {
            GCHandle h = HandleToList(1000);
            GcHelpers.Churn(300000);
            GC.Collect();
            int c = 0;
            for (GcNode n = (GcNode)h.Target; n != null; n = n.Next) c++;
            h.Free();
            return c;
        }

        static GCHandle HandleToList(int n) { return GCHandle.Alloc(GcHelpers.BuildList(n)); }

        [Expect("42")]
        public static unsafe int PinnedArrayWrittenThroughItsAddress()
        {
            GCHandle h = PinnedArray(16);
            IntPtr p = h.AddrOfPinnedObject();
            GcHelpers.Churn(300000);
            GC.Collect();
            ((int*)p)[3] = 42;
            int[] back = (int[])h.Target;
            h.Free();
            return back[3] + back.Length - 16;
        }

        static GCHandle PinnedArray(int n) { return GCHandle.Alloc(new int[n], GCHandleType.Pinned); }

        [Expect("1000")]
        public static int LargeArraysComeAndGo()
        {
            // 1000 arrays of 400 KB (big enough for a chunk of their own): 400 MB.
            int ok = 0;
            for (int i = 0; i < 1000; i++)
            {
                int[] big = new int[100000];
                big[99999] = i;
                if (big[99999] == i && big[0] == 0) ok++;
            }
            return ok;
        }
    }
}
