// CollectionsGeneric.cs: System.Collections.Generic as a driver author uses it
// (issue 12, item 6): foreach over List/Dictionary/Queue/Stack/HashSet, Keys and
// Values, yield-return iterators, IEquatable<T> user structs as keys, custom
// IComparer<T>/IEqualityComparer<T>, EqualityComparer<T>/Comparer<T>.Default, and
// the exceptions .NET throws: modified during foreach, empty Pop/Dequeue/Peek,
// missing key, duplicate key. HashSet<T> is in System.Core.dll under mono, so its
// methods are skipped on the mono side (jit/tests/mono-runner/mono-known-bugs.txt).
using System;
using System.Collections;
using System.Collections.Generic;

namespace Corpus
{
    // Equal when the Id matches; Tag is ignored (so IEquatable must be used).
    public struct DevKey : IEquatable<DevKey>
    {
        public int Id;
        public int Tag;
        public DevKey(int id, int tag) { Id = id; Tag = tag; }
        public bool Equals(DevKey o) { CollectionsGeneric.EqualsCalls++; return Id == o.Id; }
        public override int GetHashCode() { return Id * 31; }
    }

    public struct Prio : IComparable<Prio>
    {
        public int P;
        public Prio(int p) { P = p; }
        public int CompareTo(Prio o) { return P.CompareTo(o.P); }
    }

    public sealed class Descending : IComparer<int>
    {
        public int Compare(int x, int y) { return y.CompareTo(x); }
    }

    public sealed class ModTen : IEqualityComparer<int>
    {
        public bool Equals(int x, int y) { return x % 10 == y % 10; }
        public int GetHashCode(int x) { return x % 10; }
    }

    public sealed class CgNode
    {
        public string Name;
        public CgNode(string n) { Name = n; }
    }

    public static class CollectionsGeneric
    {
        public static int EqualsCalls;

        static IEnumerable<int> Range(int from, int n)
        {
            for (int i = 0; i < n; i++) yield return from + i;
        }

        static IEnumerable<T> Twice<T>(IEnumerable<T> src)
        {
            foreach (T x in src) { yield return x; yield return x; }
        }

        static IEnumerable<int> WithFinally(List<int> log)
        {
            try { yield return 1; yield return 2; yield return 3; }
            finally { log.Add(99); }
        }

        static IEnumerable<int> StopsEarly(int n)
        {
            for (int i = 0; ; i++)
            {
                if (i == n) yield break;
                yield return i;
            }
        }

        static T Max<T>(IEnumerable<T> src) where T : IComparable<T>
        {
            bool any = false;
            T best = default(T);
            foreach (T x in src) if (!any || x.CompareTo(best) > 0) { best = x; any = true; }
            return best;
        }

        static int Sum(IEnumerable<int> e) { int s = 0; foreach (int x in e) s += x; return s; }

        static int CountOf<T>(ICollection<T> c) { return c.Count; }

        // ---- List<T>
        [Expect("4950")] public static int ListForeach() { List<int> l = new List<int>(); for (int i = 0; i < 100; i++) l.Add(i); int s = 0; foreach (int x in l) s += x; return s; }
        [Expect("1")] public static int ListModifiedDuringForeach() { List<int> l = new List<int>(); l.Add(1); l.Add(2); try { foreach (int x in l) l.Add(x); } catch (InvalidOperationException) { return 1; } return 0; }
        [Expect("2")] public static int ListSetDuringForeachThrows() { List<int> l = new List<int>(); l.Add(1); l.Add(2); int n = 0; try { foreach (int x in l) { n++; l[0] = 5; } } catch (InvalidOperationException) { return n + 1; } return 0; }
        [Expect("3")] public static int ListForeachNoChangeAfterEnd() { List<int> l = new List<int>(); l.Add(1); l.Add(2); foreach (int x in l) { } l.Add(3); return l.Count; }
        [Expect("20003")] public static int ListInsertIndexOf() { List<string> l = new List<string>(); l.Add("a"); l.Add("c"); l.Insert(1, "b"); l.Insert(0, "z"); return l.IndexOf("b") * 10000 + l.IndexOf("z") * 100 + l.IndexOf("c") + (l.IndexOf("q") + 1); }
        [Expect("9531")] public static int ListSortCustomComparer() { List<int> l = new List<int>(); l.Add(3); l.Add(9); l.Add(1); l.Add(5); l.Sort(new Descending()); return l[0] * 1000 + l[1] * 100 + l[2] * 10 + l[3]; }
        [Expect("137")] public static int ListSortStructIComparable() { List<Prio> l = new List<Prio>(); l.Add(new Prio(7)); l.Add(new Prio(1)); l.Add(new Prio(3)); l.Sort(); return l[0].P * 100 + l[1].P * 10 + l[2].P; }
        [Expect("2")] public static int ListBinarySearch() { List<int> l = new List<int>(); l.Add(10); l.Add(20); l.Add(30); return l.BinarySearch(30) + (l.BinarySearch(25) == ~2 ? 0 : 100); }
        [Expect("505")] public static int ListRemoveAll() { List<int> l = new List<int>(); for (int i = 0; i < 10; i++) l.Add(i); int r = l.RemoveAll(x => x % 2 == 1); return r * 100 + l.Count; }
        [Expect("6")] public static int ListConvertAll() { List<int> l = new List<int>(); l.Add(1); l.Add(22); l.Add(333); List<string> s = l.ConvertAll(x => x.ToString()); return s[0].Length + s[1].Length + s[2].Length; }
        [Expect("15")] public static int ListFromIterator() { List<int> l = new List<int>(Range(1, 5)); return l[0] + l[1] + l[2] + l[3] + l[4]; }
        [Expect("4")] public static int ListAddRangeSelf() { List<int> l = new List<int>(); l.Add(1); l.Add(2); l.AddRange(l); return l.Count; }
        [Expect("3")] public static int ListAsICollection() { ICollection<int> c = new List<int>(); c.Add(1); c.Add(2); c.Add(3); return CountOf(c); }
        [Expect("1")] public static int ListIndexerOutOfRange() { List<int> l = new List<int>(); l.Add(1); try { return l[1]; } catch (ArgumentOutOfRangeException) { return 1; } }
        [Expect("30")] public static int ListToArrayCopy() { List<int> l = new List<int>(); l.Add(10); l.Add(20); int[] a = l.ToArray(); l.Clear(); return a[0] + a[1] + l.Count; }
        [Expect("7")] public static int ListStructIEquatableContains() { List<DevKey> l = new List<DevKey>(); l.Add(new DevKey(3, 1)); l.Add(new DevKey(7, 1)); return l.Contains(new DevKey(7, 999)) ? l[l.IndexOf(new DevKey(7, 0))].Id : -1; }
        [Expect("1")] public static bool ListTrueForAllExists() { List<int> l = new List<int>(); l.Add(2); l.Add(4); return l.TrueForAll(x => x % 2 == 0) && l.Exists(x => x == 4) && !l.Exists(x => x == 5); }
        [Expect("9")] public static int ListMaxGenericConstraint() { List<int> l = new List<int>(); l.Add(4); l.Add(9); l.Add(2); return Max(l); }

        // ---- Dictionary<TKey,TValue>
        [Expect("6060")] public static int DictForeachPairs() { Dictionary<int, int> d = new Dictionary<int, int>(); d[1] = 10; d[2] = 20; d[3] = 30; int s = 0; foreach (KeyValuePair<int, int> p in d) s += p.Key * 1000 + p.Value; return s; }
        [Expect("615")] public static int DictKeysValues() { Dictionary<string, int> d = new Dictionary<string, int>(); d["a"] = 1; d["bb"] = 2; d["ccc"] = 3; int k = 0; foreach (string s in d.Keys) k += s.Length; int v = 0; foreach (int x in d.Values) v += x; return k * 100 + v * 2 + d.Keys.Count - d.Values.Count + 3; }
        [Expect("1")] public static int DictMissingKeyThrows() { Dictionary<string, int> d = new Dictionary<string, int>(); d["a"] = 1; try { return d["b"]; } catch (KeyNotFoundException) { return 1; } }
        [Expect("1")] public static int DictDuplicateAddThrows() { Dictionary<int, int> d = new Dictionary<int, int>(); d.Add(1, 1); try { d.Add(1, 2); } catch (ArgumentException) { return d[1]; } return 0; }
        [Expect("1")] public static int DictAddDuringForeachThrows() { Dictionary<int, int> d = new Dictionary<int, int>(); d[1] = 1; d[2] = 2; try { foreach (KeyValuePair<int, int> p in d) d[p.Key + 10] = 0; } catch (InvalidOperationException) { return 1; } return 0; }
        [Expect("1")] public static int DictRemoveDuringKeysForeachThrows() { Dictionary<int, int> d = new Dictionary<int, int>(); d[1] = 1; d[2] = 2; try { foreach (int k in d.Keys) d.Remove(k); } catch (InvalidOperationException) { return 1; } return 0; }
        [Expect("1")] public static int DictNullKeyThrows() { Dictionary<string, int> d = new Dictionary<string, int>(); try { d[null] = 1; } catch (ArgumentNullException) { return 1; } return 0; }
        [Expect("202")] public static int DictStructKeyIEquatable() { Dictionary<DevKey, string> d = new Dictionary<DevKey, string>(); d[new DevKey(5, 1)] = "x"; d[new DevKey(5, 2)] = "yy"; d[new DevKey(6, 1)] = "z"; return d.Count * 100 + d[new DevKey(5, 77)].Length; }
        [Expect("1")] public static int DictStructKeyCallsIEquatable() { EqualsCalls = 0; Dictionary<DevKey, int> d = new Dictionary<DevKey, int>(); d[new DevKey(1, 0)] = 1; int v; d.TryGetValue(new DevKey(1, 5), out v); return EqualsCalls > 0 ? v : -1; }
        [Expect("2")] public static int DictCustomComparer() { Dictionary<int, int> d = new Dictionary<int, int>(new ModTen()); d[3] = 1; d[13] = 2; return d.Count + d[23] - 1; }
        [Expect("5")] public static int DictRemoveThenEnumerate() { Dictionary<int, int> d = new Dictionary<int, int>(); for (int i = 0; i < 5; i++) d[i] = i; d.Remove(0); d.Remove(2); d.Remove(3); int s = 0; foreach (KeyValuePair<int, int> p in d) s += p.Value * 1; return s - 2 + d.Count; }
        [Expect("4")] public static int DictAsIDictionary() { IDictionary<string, int> d = new Dictionary<string, int>(); d.Add("k", 4); int v; return d.TryGetValue("k", out v) && d.ContainsKey("k") && d.Keys.Count == 1 ? v : 0; }
        [Expect("1")] public static bool KeyValuePairToString() { return new KeyValuePair<int, string>(7, "x").ToString() == "[7, x]"; }

        // ---- Queue<T> / Stack<T>
        [Expect("123")] public static int QueueFifo() { Queue<int> q = new Queue<int>(); q.Enqueue(1); q.Enqueue(2); q.Enqueue(3); return q.Dequeue() * 100 + q.Dequeue() * 10 + q.Dequeue(); }
        [Expect("5050")] public static int QueueWrapAroundGrow() { Queue<int> q = new Queue<int>(); int s = 0; for (int i = 1; i <= 100; i++) { q.Enqueue(i); if (i % 3 == 0) s += q.Dequeue(); } while (q.Count > 0) s += q.Dequeue(); return s; }
        [Expect("1")] public static int QueueDequeueEmptyThrows() { Queue<string> q = new Queue<string>(); q.Enqueue("a"); q.Dequeue(); try { q.Dequeue(); } catch (InvalidOperationException) { return 1; } return 0; }
        [Expect("1")] public static int QueuePeekEmptyThrows() { Queue<int> q = new Queue<int>(); try { q.Peek(); } catch (InvalidOperationException) { return 1; } return 0; }
        [Expect("234")] public static int QueueForeachOrder() { Queue<int> q = new Queue<int>(); for (int i = 1; i <= 4; i++) q.Enqueue(i); q.Dequeue(); int r = 0; foreach (int x in q) r = r * 10 + x; return r; }
        [Expect("1")] public static int QueueModifiedDuringForeach() { Queue<int> q = new Queue<int>(); q.Enqueue(1); try { foreach (int x in q) q.Enqueue(x); } catch (InvalidOperationException) { return 1; } return 0; }
        [Expect("11")] public static int QueueContainsPeek() { Queue<string> q = new Queue<string>(); q.Enqueue("p"); q.Enqueue("q"); return (q.Contains("q") ? 10 : 0) + (q.Peek() == "p" ? 1 : 0); }
        [Expect("321")] public static int StackLifo() { Stack<int> s = new Stack<int>(); s.Push(1); s.Push(2); s.Push(3); return s.Pop() * 100 + s.Pop() * 10 + s.Pop(); }
        [Expect("1")] public static int StackPopEmptyThrows() { Stack<int> s = new Stack<int>(); try { s.Pop(); } catch (InvalidOperationException) { return 1; } return 0; }
        [Expect("1")] public static int StackPeekEmptyThrows() { Stack<CgNode> s = new Stack<CgNode>(); s.Push(new CgNode("a")); s.Pop(); try { s.Peek(); } catch (InvalidOperationException) { return 1; } return 0; }
        [Expect("4321")] public static int StackForeachTopFirst() { Stack<int> s = new Stack<int>(); for (int i = 1; i <= 4; i++) s.Push(i); int r = 0; foreach (int x in s) r = r * 10 + x; return r; }
        [Expect("31")] public static int StackToArrayTopFirst() { Stack<int> s = new Stack<int>(); s.Push(1); s.Push(2); s.Push(3); int[] a = s.ToArray(); return a[0] * 10 + a[2]; }
        [Expect("1")] public static int StackModifiedDuringForeach() { Stack<int> s = new Stack<int>(); s.Push(1); try { foreach (int x in s) s.Pop(); } catch (InvalidOperationException) { return 1; } return 0; }
        [Expect("1")] public static bool StackOfStrings() { Stack<string> s = new Stack<string>(); s.Push("c"); s.Push("b"); s.Push("a"); string r = ""; while (s.Count > 0) r += s.Pop(); return r == "abc"; }

        // ---- HashSet<T> (skipped on mono: System.Core.dll there)
        [Expect("11")] public static int HashSetAddContains() { HashSet<int> h = new HashSet<int>(); bool a = h.Add(4); bool b = h.Add(4); return h.Count * 10 + (a && !b && h.Contains(4) && !h.Contains(5) ? 1 : 0); }
        [Expect("5")] public static int HashSetUnionWith() { HashSet<int> h = new HashSet<int>(); h.Add(1); h.Add(2); h.Add(3); List<int> o = new List<int>(); o.Add(3); o.Add(4); o.Add(5); h.UnionWith(o); return h.Count; }
        [Expect("33")] public static int HashSetIntersectWith() { HashSet<int> h = new HashSet<int>(Range(1, 5)); h.IntersectWith(Range(3, 10)); int s = 0; foreach (int x in h) s += x; return h.Count * 10 + s - 9; }
        [Expect("3")] public static int HashSetExceptWith() { HashSet<int> h = new HashSet<int>(Range(1, 5)); h.ExceptWith(Range(2, 2)); return h.Count; }
        [Expect("1")] public static int HashSetRemove() { HashSet<string> h = new HashSet<string>(); h.Add("a"); h.Add("b"); return h.Remove("a") && !h.Remove("a") && !h.Contains("a") ? h.Count : -1; }
        [Expect("1")] public static int HashSetModifiedDuringForeach() { HashSet<int> h = new HashSet<int>(); h.Add(1); h.Add(2); try { foreach (int x in h) h.Add(x + 100); } catch (InvalidOperationException) { return 1; } return 0; }
        [Expect("2")] public static int HashSetStructIEquatable() { HashSet<DevKey> h = new HashSet<DevKey>(); h.Add(new DevKey(1, 1)); h.Add(new DevKey(1, 2)); h.Add(new DevKey(2, 1)); return h.Count; }
        [Expect("1000")] public static int HashSetManyGrowAndRemove() { HashSet<int> h = new HashSet<int>(); for (int i = 0; i < 2000; i++) h.Add(i); for (int i = 0; i < 2000; i += 2) h.Remove(i); return h.Count; }
        [Expect("1")] public static bool HashSetSubsetSuperset() { HashSet<int> a = new HashSet<int>(Range(1, 3)); HashSet<int> b = new HashSet<int>(Range(0, 5)); return a.IsSubsetOf(b) && b.IsSupersetOf(a) && !b.IsSubsetOf(a) && a.Overlaps(b) && !a.SetEquals(b); }
        [Expect("3")] public static int HashSetCustomComparer() { HashSet<int> h = new HashSet<int>(new ModTen()); h.Add(1); h.Add(11); h.Add(2); h.Add(3); h.Add(21); return h.Count; }

        // ---- iterators and IEnumerable<T>
        [Expect("15")] public static int YieldRange() { return Sum(Range(1, 5)); }
        [Expect("12")] public static int YieldGenericTwice() { List<string> l = new List<string>(); l.Add("ab"); l.Add("cdef"); int n = 0; foreach (string s in Twice(l)) n += s.Length; return n; }
        [Expect("399")] public static int YieldFinallyRunsOnBreak() { List<int> log = new List<int>(); int s = 0; foreach (int x in WithFinally(log)) { s += x; if (x == 2) break; } return s * 100 + log[0] + log.Count - 1; }
        [Expect("10")] public static int YieldBreak() { return Sum(StopsEarly(5)); }
        [Expect("2")] public static int YieldEnumeratorByHand() { IEnumerator<int> e = Range(7, 2).GetEnumerator(); int n = 0; while (e.MoveNext()) n++; e.Dispose(); return n; }
        [Expect("9")] public static int YieldNonGenericView() { IEnumerable e = Range(4, 2); int s = 0; foreach (object o in e) s += (int)o; return s; }
        [Expect("30")] public static int IterateTwiceGetsFreshEnumerator() { IEnumerable<int> r = Range(1, 4); return Sum(r) * 3; }
        [Expect("8")] public static int MaxOverIterator() { return Max(Range(-3, 12)); }

        // ---- comparers
        [Expect("1")] public static bool EqualityComparerUsesIEquatable() { return EqualityComparer<DevKey>.Default.Equals(new DevKey(4, 1), new DevKey(4, 2)); }
        [Expect("1")] public static bool EqualityComparerString() { string a = "ab"; string b = new System.Text.StringBuilder().Append("a").Append("b").ToString(); return EqualityComparer<string>.Default.Equals(a, b) && EqualityComparer<string>.Default.GetHashCode(a) == b.GetHashCode(); }
        [Expect("1")] public static bool EqualityComparerNulls() { EqualityComparer<CgNode> c = EqualityComparer<CgNode>.Default; CgNode n = new CgNode("x"); return c.Equals(null, null) && !c.Equals(n, null) && !c.Equals(null, n) && c.Equals(n, n) && !c.Equals(n, new CgNode("x")); }
        [Expect("-1")] public static int ComparerStructIComparable() { return Comparer<Prio>.Default.Compare(new Prio(1), new Prio(2)); }
        [Expect("1")] public static int ComparerNullsFirst() { return Comparer<string>.Default.Compare("a", null); }
        [Expect("321")] public static int ComparerCreate() { List<int> l = new List<int>(); l.Add(1); l.Add(3); l.Add(2); l.Sort(Comparer<int>.Create((a, b) => b - a)); return l[0] * 100 + l[1] * 10 + l[2]; }
    }
}
