// beyond.cs: test_N_name programs that use more than the JIT issue covers (exception
// handling, generics, IDisposable/using, foreach over IEnumerable, string building)
// next to plain ones. Under mono every test returns N. Under cilrun each method must
// still get its own line, either `= N` or a clear `! error`: an unsupported feature
// (or a crash) in one method must not lose the lines of the others.
using System;
using System.Collections;

class Pair<T> { public T First, Second; public Pair(T a, T b) { First = a; Second = b; } }

class Countdown : IEnumerable
{
    int from;
    public Countdown(int from) { this.from = from; }
    public IEnumerator GetEnumerator() { return new Enumerator(from); }
    class Enumerator : IEnumerator
    {
        int cur, start;
        public Enumerator(int start) { this.start = start; cur = start + 1; }
        public object Current { get { return cur; } }
        public bool MoveNext() { cur--; return cur > 0; }
        public void Reset() { cur = start + 1; }
    }
}

class Resource : IDisposable
{
    public static int Disposed;
    public void Dispose() { Disposed++; }
}

class Beyond
{
    static int Main(string[] args) { return 0; }

    static T Pick<T>(bool first, T a, T b) { return first ? a : b; }
    static int Thrower(int x) { if (x > 0) throw new InvalidOperationException(); return x; }

    public static int test_1_plain_before() { return 1; }
    public static int test_3_try_catch() { try { return Thrower(1); } catch (InvalidOperationException) { return 3; } }
    public static int test_5_try_finally()
    {
        int r = 0;
        try { r = 4; } finally { r++; }
        return r;
    }
    public static int test_7_catch_runtime_error()
    {
        int[] a = new int[1];
        int i = 5;
        try { return a[i]; } catch (IndexOutOfRangeException) { return 7; }
    }
    public static int test_9_generic_class() { Pair<int> p = new Pair<int>(4, 5); return p.First + p.Second; }
    public static int test_11_generic_method() { return Pick(false, 3, 11); }
    public static int test_2_generic_reference() { Pair<string> p = new Pair<string>("a", "bc"); return p.Second.Length; }
    public static int test_1_using()
    {
        Resource.Disposed = 0;
        using (Resource r = new Resource()) { }
        return Resource.Disposed;
    }
    public static int test_15_foreach_enumerable()
    {
        int s = 0;
        foreach (object o in new Countdown(5)) s += (int)o;
        return s;
    }
    public static int test_6_string_concat() { string s = "abc" + "def"; return s.Length; }
    public static int test_4_plain_middle() { return 4; }
    public static int test_2_plain_after() { return 2; }
}
