// collections.cs: test_N_name programs over generics and System.Collections.Generic
// as an application written for another runtime would use them: generic classes,
// structs, interfaces and virtual methods, constraints, nested generic types,
// explicit interface implementations, static fields per instantiation, iterators,
// List/Dictionary/Queue/Stack/HashSet, comparers and the exceptions they throw.
using System;
using System.Collections;
using System.Collections.Generic;

interface IShape { int Area(); }
struct Sq : IShape, IEquatable<Sq>, IComparable<Sq>
{
    public int Side;
    public Sq(int s) { Side = s; }
    public int Area() { return Side * Side; }
    public bool Equals(Sq o) { return Side == o.Side; }
    public override int GetHashCode() { return Side; }
    public int CompareTo(Sq o) { return Side - o.Side; }
}

class Pair<A, B>
{
    public A First; public B Second;
    public Pair(A a, B b) { First = a; Second = b; }
    public Pair<B, A> Swap() { return new Pair<B, A>(Second, First); }
}

class Counter<T> { public static int Made; public Counter() { Made++; } }

class Outer<T>
{
    public class Inner<U> { public T t; public U u; public Inner(T t, U u) { this.t = t; this.u = u; } }
    public Inner<int> Make(T t) { return new Inner<int>(t, 7); }
}

abstract class Visitor { public abstract T Visit<T>(T x); }
class Doubler : Visitor
{
    public override T Visit<T>(T x) { Box<T> b = new Box<T>(x); return b.Value; }
}
class Box<T> { public T Value; public Box(T v) { Value = v; } }

interface IStore<T> { void Put(T x); T Take(); int Size { get; } }
class StackStore<T> : IStore<T>
{
    Stack<T> s = new Stack<T>();
    void IStore<T>.Put(T x) { s.Push(x); }
    T IStore<T>.Take() { return s.Pop(); }
    int IStore<T>.Size { get { return s.Count; } }
}
class QueueStore<T> : IStore<T>
{
    Queue<T> q = new Queue<T>();
    public void Put(T x) { q.Enqueue(x); }
    public T Take() { return q.Dequeue(); }
    public int Size { get { return q.Count; } }
}

class ByLength : IComparer<string> { public int Compare(string a, string b) { return a.Length - b.Length; } }

class Tree<T> : IEnumerable<T> where T : IComparable<T>
{
    class N { public T V; public N L, R; public N(T v) { V = v; } }
    N root;
    int count;
    public int Count { get { return count; } }
    public void Add(T v)
    {
        count++;
        if (root == null) { root = new N(v); return; }
        N n = root;
        while (true)
        {
            if (v.CompareTo(n.V) < 0) { if (n.L == null) { n.L = new N(v); return; } n = n.L; }
            else { if (n.R == null) { n.R = new N(v); return; } n = n.R; }
        }
    }
    public IEnumerator<T> GetEnumerator()
    {
        Stack<N> st = new Stack<N>();
        N cur = root;
        while (cur != null || st.Count > 0)
        {
            while (cur != null) { st.Push(cur); cur = cur.L; }
            cur = st.Pop();
            yield return cur.V;
            cur = cur.R;
        }
    }
    IEnumerator IEnumerable.GetEnumerator() { return GetEnumerator(); }
}

class CollectionTests
{
    static int Main(string[] args) { return test_10_list_sum() == 10 ? 0 : 1; }

    static IEnumerable<int> Evens(int max) { for (int i = 0; i <= max; i += 2) yield return i; }
    static IEnumerable<U> Map<T, U>(IEnumerable<T> src, Func<T, U> f) { foreach (T x in src) yield return f(x); }
    static IEnumerable<T> Where<T>(IEnumerable<T> src, Predicate<T> p) { foreach (T x in src) if (p(x)) yield return x; }
    static int Total(IEnumerable<int> e) { int s = 0; foreach (int x in e) s += x; return s; }
    static T Min<T>(IEnumerable<T> e) where T : IComparable<T>
    {
        IEnumerator<T> it = e.GetEnumerator();
        if (!it.MoveNext()) throw new InvalidOperationException("empty");
        T m = it.Current;
        while (it.MoveNext()) if (it.Current.CompareTo(m) < 0) m = it.Current;
        return m;
    }
    static int AreaOf<T>(T s) where T : IShape { return s.Area(); }
    static bool Same<T>(T a, T b) { return EqualityComparer<T>.Default.Equals(a, b); }
    static int SizeOf<T>(T c) where T : ICollection<int> { return c.Count; }
    static int Drain<T>(IStore<T> s) { int n = 0; while (s.Size > 0) { s.Take(); n++; } return n; }

    public static int test_10_list_sum() { List<int> l = new List<int>(); for (int i = 1; i <= 4; i++) l.Add(i); int s = 0; foreach (int x in l) s += x; return s; }
    public static int test_3_list_remove_insert() { List<int> l = new List<int>(new int[] { 1, 2, 3 }); l.Remove(2); l.Insert(0, 9); return l.Count + (l[0] == 9 && l[2] == 3 ? 0 : 100); }
    public static int test_4_list_sort_by_length() { List<string> l = new List<string>(); l.Add("dddd"); l.Add("a"); l.Add("cc"); l.Sort(new ByLength()); return l[2].Length; }
    public static int test_1_list_sort_lambda() { List<int> l = new List<int>(); l.Add(3); l.Add(1); l.Add(2); l.Sort((a, b) => a.CompareTo(b)); return l[0]; }
    public static int test_2_list_index_of_struct() { List<Sq> l = new List<Sq>(); l.Add(new Sq(1)); l.Add(new Sq(2)); l.Add(new Sq(3)); return l.IndexOf(new Sq(3)); }
    public static int test_5_list_enumerator_invalidated() { List<int> l = new List<int>(); l.Add(1); try { foreach (int x in l) l.Remove(x); } catch (InvalidOperationException) { return 5; } return 0; }
    public static int test_6_list_find_all() { List<int> l = new List<int>(); for (int i = 0; i < 12; i++) l.Add(i); return l.FindAll(x => x % 2 == 0).Count; }
    public static int test_7_list_of_lists() { List<List<int>> ll = new List<List<int>>(); for (int i = 0; i < 3; i++) { ll.Add(new List<int>()); for (int j = 0; j <= i; j++) ll[i].Add(j); } return ll[0].Count + ll[1].Count + ll[2].Count + 1; }
    public static int test_42_list_to_array() { List<int> l = new List<int>(); l.Add(40); l.Add(2); int[] a = l.ToArray(); return a[0] + a[1]; }
    public static int test_8_dict_word_count() { Dictionary<string, int> d = new Dictionary<string, int>(); string[] w = { "a", "b", "a", "c", "a", "b" }; foreach (string s in w) { int n; d.TryGetValue(s, out n); d[s] = n + 1; } return d["a"] * 2 + d["b"]; }
    public static int test_6_dict_foreach() { Dictionary<int, string> d = new Dictionary<int, string>(); d[1] = "x"; d[2] = "yy"; d[3] = "zzz"; int s = 0; foreach (KeyValuePair<int, string> kv in d) s += kv.Value.Length; return s; }
    public static int test_18_dict_keys_values() { Dictionary<int, int> d = new Dictionary<int, int>(); for (int i = 1; i <= 3; i++) d.Add(i, i * i); int k = 0; foreach (int x in d.Keys) k += x; int v = 0; foreach (int x in d.Values) v += x; return k + v - 2; }
    public static int test_9_dict_missing_key() { Dictionary<string, int> d = new Dictionary<string, int>(); try { return d["nope"]; } catch (KeyNotFoundException) { return 9; } }
    public static int test_2_dict_struct_key() { Dictionary<Sq, int> d = new Dictionary<Sq, int>(); d[new Sq(2)] = 1; d[new Sq(2)] = 2; return d[new Sq(2)] * d.Count; }
    public static int test_11_dict_contains_remove() { Dictionary<string, string> d = new Dictionary<string, string>(); d["k"] = "v"; bool a = d.ContainsKey("k"); d.Remove("k"); return (a ? 10 : 0) + (d.ContainsKey("k") ? 100 : 1); }
    public static int test_3_dict_of_lists() { Dictionary<int, List<string>> d = new Dictionary<int, List<string>>(); string[] w = { "a", "bb", "c", "dd", "eee" }; foreach (string s in w) { List<string> l; if (!d.TryGetValue(s.Length, out l)) { l = new List<string>(); d[s.Length] = l; } l.Add(s); } return d.Count; }
    public static int test_6_queue_bfs()
    {
        List<int>[] adj = new List<int>[6];
        for (int i = 0; i < 6; i++) adj[i] = new List<int>();
        adj[0].Add(1); adj[0].Add(2); adj[1].Add(3); adj[2].Add(4); adj[4].Add(5);
        bool[] seen = new bool[6]; Queue<int> q = new Queue<int>(); q.Enqueue(0); seen[0] = true; int visited = 0;
        while (q.Count > 0) { int n = q.Dequeue(); visited++; foreach (int m in adj[n]) if (!seen[m]) { seen[m] = true; q.Enqueue(m); } }
        return visited;
    }
    public static int test_1_queue_empty_throws() { Queue<int> q = new Queue<int>(); try { q.Dequeue(); } catch (InvalidOperationException) { return 1; } return 0; }
    public static int test_4_stack_balanced()
    {
        string s = "(([]){})"; Stack<char> st = new Stack<char>(); int depth = 0;
        for (int i = 0; i < s.Length; i++)
        {
            char c = s[i];
            if (c == '(' || c == '[' || c == '{') { st.Push(c); if (st.Count > depth) depth = st.Count; }
            else { char o = st.Pop(); if ((c == ')' && o != '(') || (c == ']' && o != '[') || (c == '}' && o != '{')) return -1; }
        }
        return st.Count == 0 ? depth + 1 : -2;
    }
    public static int test_1_stack_empty_pop() { Stack<string> st = new Stack<string>(); try { st.Pop(); } catch (InvalidOperationException) { return 1; } return 0; }
    public static int test_3_hashset_dedupe() { HashSet<int> h = new HashSet<int>(new int[] { 1, 2, 2, 3, 3, 3 }); return h.Count; }
    public static int test_1_hashset_set_ops() { HashSet<int> a = new HashSet<int>(new int[] { 1, 2, 3, 4 }); a.IntersectWith(new int[] { 2, 3, 5 }); a.UnionWith(new int[] { 9 }); a.ExceptWith(new int[] { 9, 3 }); return a.Count + (a.Contains(2) ? 0 : 100); }
    public static int test_30_iterator_evens() { return Total(Evens(10)); }
    public static int test_9_iterator_chain() { return Total(Map(Where(Evens(6), x => x > 0), x => x / 2)) + 3; }
    public static int test_5_iterator_strings() { int n = 0; foreach (string s in Map(Evens(4), x => x.ToString())) n += s.Length; return n + 2; }
    public static int test_15_tree_inorder() { Tree<int> t = new Tree<int>(); int[] v = { 5, 3, 8, 1, 4 }; foreach (int x in v) t.Add(x); int r = 0, prev = -1; foreach (int x in t) { if (x < prev) return -1; prev = x; r += x; } return r - 6; }
    public static int test_1_min_generic() { List<Sq> l = new List<Sq>(); l.Add(new Sq(3)); l.Add(new Sq(1)); l.Add(new Sq(2)); return Min(l).Side; }
    public static int test_16_constrained_interface_call() { return AreaOf(new Sq(4)); }
    public static int test_1_equality_comparer_struct() { return Same(new Sq(5), new Sq(5)) && !Same(new Sq(5), new Sq(6)) ? 1 : 0; }
    public static int test_1_equality_comparer_string() { return Same("abc", "ab" + "c".ToString()) ? 1 : 0; }
    public static int test_1_comparer_default() { return Comparer<Sq>.Default.Compare(new Sq(9), new Sq(2)) > 0 ? 1 : 0; }
    public static int test_7_generic_pair_swap() { Pair<string, int> p = new Pair<string, int>("x", 7); return p.Swap().First; }
    public static int test_3_static_per_instantiation() { Counter<int>.Made = 0; Counter<string>.Made = 0; new Counter<int>(); new Counter<int>(); new Counter<string>(); return Counter<int>.Made + Counter<string>.Made; }
    public static int test_12_nested_generic() { Outer<string>.Inner<int> i = new Outer<string>().Make("hello"); return i.t.Length + i.u; }
    public static int test_5_generic_virtual_method() { Visitor v = new Doubler(); return v.Visit(3) + v.Visit("ab").Length; }
    public static int test_3_explicit_interface_impl() { IStore<int> s = new StackStore<int>(); s.Put(1); s.Put(2); s.Put(3); return Drain(s); }
    public static int test_21_store_order() { IStore<int> a = new StackStore<int>(); IStore<int> b = new QueueStore<int>(); for (int i = 1; i <= 2; i++) { a.Put(i); b.Put(i); } return a.Take() * 10 + b.Take(); }
    public static int test_0_interface_constraint() { return SizeOf(new List<int>()); }
    public static int test_4_ilist_interface() { IList<int> l = new List<int>(); l.Add(1); l.Add(2); l.Insert(0, 4); return l[0]; }
    public static int test_2_kvp_list() { List<KeyValuePair<string, int>> l = new List<KeyValuePair<string, int>>(); l.Add(new KeyValuePair<string, int>("a", 1)); l.Add(new KeyValuePair<string, int>("b", 2)); return l[1].Value; }
    public static int test_3_nullable_in_list() { List<int?> l = new List<int?>(); l.Add(1); l.Add(null); l.Add(2); int s = 0; foreach (int? x in l) if (x.HasValue) s += x.Value; return s; }
    public static int test_6_enumerator_dispose_in_finally() { int s = 0; using (IEnumerator<int> e = Evens(4).GetEnumerator()) { while (e.MoveNext()) s += e.Current; } return s; }
}
