// Collections.cs: System.Collections.Generic from the corlib (issue 12, item 6):
// List<T> over ints, strings and structs, Dictionary<TKey,TValue> with growth and
// removal, KeyValuePair, IEnumerable<T>/IEnumerator<T> by hand, comparers. No
// foreach and no try: those need exception handling (foreach over a List<T>
// disposes its enumerator in a finally block).
using System;
using System.Collections.Generic;

namespace Corpus
{
    public struct CPoint
    {
        public int X, Y;
        public CPoint(int x, int y) { X = x; Y = y; }
    }

    public class Version2 : IComparable<Version2>
    {
        public int Major, Minor;
        public Version2(int a, int b) { Major = a; Minor = b; }
        public int CompareTo(Version2 o) { return Major != o.Major ? Major - o.Major : Minor - o.Minor; }
    }

    public static class Collections
    {
        [Expect("1001099")] public static int ListOfInt() { List<int> l = new List<int>(); for (int i = 0; i < 100; i++) l.Add(i); l.RemoveAt(0); l.Insert(0, 1000); return l.Count * 10000 + l[0] + l[99]; }
        [Expect("1101")] public static int ListContainsRemove() { List<int> l = new List<int>(); l.Add(5); l.Add(7); return (l.Contains(7) ? 1 : 0) + (l.Contains(8) ? 10 : 0) + (l.Remove(5) ? 100 : 0) + l.Count * 1000; }
        [Expect("32")] public static int ListOfStruct() { List<CPoint> l = new List<CPoint>(); l.Add(new CPoint(1, 2)); l.Add(new CPoint(3, 4)); return l[1].X * 10 + l[0].Y; }
        [Expect("1")] public static bool ListOfString() { List<string> l = new List<string>(); l.Add("x"); l.Add("yy"); return l.IndexOf("yy") == 1 && l[0] == "x"; }
        [Expect("321")] public static int ListSortComparison() { List<int> l = new List<int>(); l.Add(3); l.Add(1); l.Add(2); l.Sort((a, b) => b - a); return l[0] * 100 + l[1] * 10 + l[2]; }
        [Expect("123")] public static int ListSortDefault() { List<int> l = new List<int>(); l.Add(3); l.Add(1); l.Add(2); l.Sort(); return l[0] * 100 + l[1] * 10 + l[2]; }
        [Expect("21")] public static int ListSortIComparableT() { List<Version2> l = new List<Version2>(); l.Add(new Version2(2, 1)); l.Add(new Version2(1, 9)); l.Sort(); return l[1].Major * 10 + l[1].Minor; }
        [Expect("3")] public static int ListToArrayReverse() { List<int> l = new List<int>(); l.Add(1); l.Add(2); l.Add(3); l.Reverse(); return l.ToArray()[0]; }
        [Expect("4")] public static int ListFindIndex() { List<int> l = new List<int>(); for (int i = 0; i < 10; i++) l.Add(i * i); return l.FindIndex(x => x > 10); }
        [Expect("6")] public static int ListForEachMethod() { List<int> l = new List<int>(); l.Add(1); l.Add(2); l.Add(3); int s = 0; l.ForEach(x => s += x); return s; }
        [Expect("0")] public static int ListClear() { List<string> l = new List<string>(); l.Add("a"); l.Clear(); return l.Count; }
        [Expect("3")] public static int EnumeratorByHand() { List<int> l = new List<int>(); l.Add(1); l.Add(2); IEnumerator<int> e = ((IEnumerable<int>)l).GetEnumerator(); int s = 0; while (e.MoveNext()) s += e.Current; return s; }
        [Expect("30322")] public static int DictionaryBasics() { Dictionary<string, int> d = new Dictionary<string, int>(); d["one"] = 1; d["two"] = 2; d.Add("three", 3); d["two"] = 22; int v; return d["two"] + (d.TryGetValue("three", out v) ? v * 100 : 0) + (d.ContainsKey("four") ? 1000 : 0) + d.Count * 10000; }
        [Expect("999499499")] public static int DictionaryGrowsAndRemoves() { Dictionary<int, long> d = new Dictionary<int, long>(); for (int i = 0; i < 1000; i++) d[i * 7] = i; d.Remove(7); long s = 0; for (int i = 0; i < 1000; i++) { long v; if (d.TryGetValue(i * 7, out v)) s += v; } return (int)s + d.Count * 1000000; }
        [Expect("2")] public static int DictionaryReusesFreedSlots() { Dictionary<int, int> d = new Dictionary<int, int>(); d[1] = 1; d[2] = 2; d.Remove(1); d[3] = 3; return d.Count; }
        [Expect("1")] public static bool DictionaryContainsValue() { Dictionary<int, string> d = new Dictionary<int, string>(); d[1] = "a"; return d.ContainsValue("a") && !d.ContainsValue("b"); }
        [Expect("4")] public static int KeyValuePairFields() { KeyValuePair<int, string> p = new KeyValuePair<int, string>(3, "x"); return p.Key + p.Value.Length; }
        [Expect("1")] public static int DefaultEqualityComparer() { return (EqualityComparer<int>.Default.Equals(3, 3) ? 1 : 0) + (EqualityComparer<string>.Default.Equals("a", "b") ? 10 : 0); }
        [Expect("-1")] public static int DefaultComparer() { return Math.Sign(Comparer<long>.Default.Compare(1L, 2L)); }
    }
}
