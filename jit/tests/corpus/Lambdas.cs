// Lambdas.cs: delegates as mcs lowers C# (issue 12, item 2): lambdas (static
// methods, cached in a static field), closures (display classes, captured
// variables shared and updated), multicast delegates (Delegate.Combine/Remove,
// += and -=, the last target's result), field-like events (add/remove through
// Interlocked.CompareExchange<T>), the corlib's Action/Func/Predicate.
// Parameterless lambdas always capture here: a static parameterless one would be
// a method without an expectation.
using System;

namespace Corpus
{
    public class Ticker
    {
        public int N;
        public void Add(int k) { N += k; }
        public virtual int Scale(int x) { return x * 2; }
        public event EventHandler Ticked;
        public void Fire() { EventHandler h = Ticked; if (h != null) h(this, EventArgs.Empty); }
    }

    public class Ticker3 : Ticker
    {
        public override int Scale(int x) { return x * 3; }
    }

    public static class Lambdas
    {
        static int log;
        static void One(int d) { log = log * 10 + 1; }
        static void Two(int d) { log = log * 10 + 2; }
        static int Apply(Func<int, int> f, int x) { return f(x); }
        static Func<int, int> Adder(int k) { return x => x + k; }

        [Expect("8")] public static int ClosureSeesLaterWrite() { int k = 5; Func<int, int> f = x => x + k; k = 7; return f(1); }
        [Expect("12")] public static int ClosureWritesBack() { int k = 5; Action<int> a = d => k += d; a(3); a(4); return k; }
        [Expect("42")] public static int StaticLambda() { Func<int, int, int> f = (x, y) => x * y; return f(6, 7); }
        [Expect("1")] public static bool StaticLambdaIsCached() { Func<int, int> a = null, b = null; for (int i = 0; i < 2; i++) { Func<int, int> f = x => x; if (i == 0) a = f; else b = f; } return (object)a == (object)b; }
        [Expect("103")] public static int ReturnedClosure() { Func<int, int> f = Adder(100); return f(3); }
        [Expect("20")] public static int PassedLambda() { return Apply(x => x * 4, 5); }
        [Expect("6")] public static int NestedClosures() { int a = 1; Func<int, int> f = x => { int b = 2; Func<int, int> g = y => y + a + b; return g(x); }; return f(3); }
        [Expect("6")] public static int LoopClosures() { int sum = 0; Func<int>[] fs = new Func<int>[4]; for (int i = 0; i < 4; i++) { int j = i; fs[i] = () => j + sum; } int t = 0; for (int i = 0; i < 4; i++) t += fs[i](); return t + sum; }
        [Expect("1")] public static int PredicateLambda() { Predicate<int> p = x => x > 3; return p(5) ? 1 : 0; }
        [Expect("-1")] public static int ComparisonLambda() { Comparison<int> c = (x, y) => x < y ? -1 : (x > y ? 1 : 0); return c(1, 2); }

        [Expect("121")] public static int MulticastOrder() { log = 0; Action<int> a = One; a += Two; a += One; a(0); return log; }
        [Expect("12")] public static int RemoveLastOccurrence() { log = 0; Action<int> a = One; a += Two; a += One; a -= One; a(0); return log; }
        [Expect("210")] public static int RemoveFromMiddle() { log = 0; Action<int> a = Two; a += One; a += Two; a -= (Action<int>)Delegate.Combine(new Action<int>(One), new Action<int>(Two)); a += One; a(0); return log * 10 + (a.GetInvocationList().Length - 2); }
        [Expect("1")] public static bool RemoveOnlyGivesNull() { Action<int> a = One; a -= One; return a == null; }
        [Expect("1")] public static bool RemoveMissingKeepsSource() { Action<int> a = One; Action<int> b = a - Two; return (object)a == (object)b; }
        [Expect("6")] public static int InstanceMulticast() { Ticker t = new Ticker(); Action<int> a = t.Add; a += t.Add; a(3); return t.N; }
        [Expect("2")] public static int LastResultWins() { int one = 1; Func<int> f = () => one; f += () => one + 1; return f(); }
        [Expect("3")] public static int InvocationListLength() { Action<int> a = One; a += Two; a += a; return a.GetInvocationList().Length - 1; }
        [Expect("1")] public static bool EqualDelegates() { Action<int> a = One, b = One; return a == b; }
        [Expect("0")] public static bool UnequalDelegates() { Action<int> a = One, b = Two; return a == b; }
        [Expect("1")] public static bool EqualMulticast() { Action<int> a = One, b = One; a += Two; b += Two; return a.Equals(b); }
        [Expect("15")] public static int VirtualTargetMulticast() { Ticker t = new Ticker3(); Func<int, int> f = t.Scale; f += t.Scale; return f(5); }

        [Expect("21")] public static int FieldLikeEvent() { Ticker t = new Ticker(); int hits = 0; EventHandler h = (s, e) => hits++; t.Ticked += h; t.Ticked += (s, e) => hits += 10; t.Fire(); t.Ticked -= h; t.Fire(); return hits; }
        [Expect("1")] public static bool EventSenderIsSource() { Ticker t = new Ticker(); object seen = null; t.Ticked += (s, e) => seen = s; t.Fire(); return seen == t; }
        [Expect("0")] public static int EventWithNoHandlers() { Ticker t = new Ticker(); t.Fire(); return t.N; }
    }
}
