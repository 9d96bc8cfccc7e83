// Exceptions.cs: exception handling (ECMA-335 §I.12.4.2; throw, rethrow, leave,
// endfinally, endfilter): try/catch by class hierarchy, filters (catch … when),
// finally and fault (via foreach/using), nested and sequential regions, handlers in
// loops, exceptions crossing several frames, every finally run on the way out;
// runtime errors as catchable exceptions; Exception's message, inner exception and
// stack trace; the constructs that lower to handlers (using, lock, foreach, checked).
using System;
using System.Collections;
using System.Threading;

namespace Corpus
{
    public class CodeException : Exception
    {
        public int Code;
        public CodeException(int code) : base("code") { Code = code; }
        public CodeException(int code, Exception inner) : base("code", inner) { Code = code; }
    }

    public class OtherException : CodeException
    {
        public OtherException(int code) : base(code) { }
    }

    public class Tracker : IDisposable
    {
        public static int Disposed;
        public static int Log;
        int id;
        public Tracker(int id) { this.id = id; }
        public void Dispose() { Disposed++; Log = Log * 10 + id; }
    }

    // Types whose static constructors throw (explicit .cctors: run at first
    // access, not beforefieldinit, so mono and we run them at the same point).
    public static class InitThrows
    {
        public static int X;
        static InitThrows() { X = 1; throw new InvalidOperationException("init"); }
    }

    public static class InitThrowsAgain
    {
        public static int X;
        static InitThrowsAgain() { X = 1; throw new ArgumentException("again"); }
    }

    public static class InitLog { public static int Value; }

    public static class InitThrowsAfterFinally
    {
        public static int X;
        static InitThrowsAfterFinally() { try { throw new CodeException(5); } finally { InitLog.Value = 7; } }
    }

    public static class InitThrowsDeep
    {
        public static int X;
        static int Deeper(int n) { if (n == 0) throw new CodeException(9); return Deeper(n - 1) + 1; }
        static InitThrowsDeep() { X = Deeper(5); }
    }

    public static class InitCaughtInside
    {
        public static int X;
        static InitCaughtInside() { try { throw new CodeException(3); } catch (CodeException e) { X = e.Code; } }
    }

    public class Range : IEnumerable
    {
        int n;
        public Range(int n) { this.n = n; }
        public IEnumerator GetEnumerator() { return new Walker(n); }
    }

    public class Walker : IEnumerator, IDisposable
    {
        public static int Disposed;
        int n, cur;
        public Walker(int n) { this.n = n; cur = -1; }
        public object Current { get { if (cur == 3 && n == 99) throw new CodeException(3); return cur; } }
        public bool MoveNext() { cur++; return cur < n; }
        public void Reset() { cur = -1; }
        public void Dispose() { Disposed++; }
    }

    public static class ExHelpers
    {
        public static int Trace;
        public static int Throw(int code) { if (code != 0) throw new CodeException(code); return 0; }
        public static int ThrowOther(int code) { throw new OtherException(code); }
        public static int Depth(int n, int code) { return n == 0 ? Throw(code) : Depth(n - 1, code) + 1; }
        public static int FinallyChain(int n, int code)
        {
            try { return n == 0 ? Throw(code) : FinallyChain(n - 1, code); }
            finally { Trace = Trace * 10 + n; }
        }
        public static int Rethrower(int code)
        {
            try { return Throw(code); }
            catch (CodeException) { Trace += 1; throw; }
        }
        public static bool Note(int v) { Trace = Trace * 10 + v; return v > 1; }
        public static int Zero(int k) { return k - k; }
        public static object Null(int k) { return k == 0 ? null : new object(); }
        public static int[] Array3(int n) { return new int[n]; }
        public static int Index(int i) { return i; }
        public static unsafe int Deref(int* p) { return *p; }
        public static bool Boom(int x) { if (x > 0) throw new CodeException(99); return true; }
        public static bool BoomWithFinally(int x)
        {
            try { if (x > 0) throw new CodeException(5); return true; }
            finally { Trace = 2; }
        }
        public static bool CatchesInside(int x)
        {
            try { Throw(x); return false; }
            catch (CodeException) { return true; }
        }
        public static int F12(int v) { try { return v; } finally { Trace = 1; } }
        public static void Inner1342(int code)
        {
            ExHelpers.Trace = 1;
            try { Throw(code); }
            finally { Trace = Trace * 10 + 4; }
        }
        public static int CheckArg(string s)
        {
            if (s == null) throw new ArgumentNullException("s");
            if (s.Length == 0) throw new ArgumentException("empty", "s");
            return s.Length;
        }
    }

    public static class Exceptions
    {
        [Expect("7")] public static int CatchExact() { try { return ExHelpers.Throw(7); } catch (CodeException e) { return e.Code; } }
        [Expect("8")] public static int CatchBase() { try { return ExHelpers.Throw(8); } catch (Exception e) { return ((CodeException)e).Code; } }
        [Expect("2")] public static int CatchOrderPicksFirstMatch()
        {
            try { ExHelpers.ThrowOther(5); return 0; }
            catch (OtherException) { return 2; }
            catch (CodeException) { return 3; }
        }
        [Expect("3")] public static int CatchSkipsUnrelated()
        {
            try { try { ExHelpers.Throw(3); return 0; } catch (InvalidOperationException) { return 1; } }
            catch (CodeException e) { return e.Code; }
        }
        [Expect("11")] public static int NoThrowSkipsHandler() { int r = 10; try { r += 1; } catch (Exception) { r = 0; } return r; }
        [Expect("5")] public static int FinallyOnNormalExit() { int r = 1; try { r = 4; } finally { r++; } return r; }
        [Expect("12")] public static int FinallyOnReturn() { ExHelpers.Trace = 0; try { return ExHelpers.F12(12); } finally { } }
        [Expect("1")] public static int FinallyRunsBeforeReturnValueSeen() { ExHelpers.Trace = 0; ExHelpers.F12(12); return ExHelpers.Trace; }
        [Expect("102")] public static int FinallyOnException()
        {
            int r = 0;
            try { try { ExHelpers.Throw(1); } finally { r += 100; } }
            catch (CodeException) { r += 2; }
            return r;
        }
        [Expect("1234")] public static int FinallyInEveryFrame()
        {
            ExHelpers.Trace = 0;
            try { ExHelpers.FinallyChain(4, 9); } catch (CodeException) { }
            return ExHelpers.Trace;
        }
        [Expect("9")] public static int AcrossTwentyFrames() { try { return ExHelpers.Depth(20, 9); } catch (CodeException e) { return e.Code; } }
        [Expect("4321")] public static int NestedFinallyOrder()
        {
            ExHelpers.Trace = 0;
            try
            {
                try
                {
                    try { ExHelpers.Throw(1); }
                    finally { ExHelpers.Trace = ExHelpers.Trace * 10 + 4; }
                }
                finally { ExHelpers.Trace = ExHelpers.Trace * 10 + 3; }
            }
            catch (CodeException) { ExHelpers.Trace = ExHelpers.Trace * 10 + 2; }
            finally { ExHelpers.Trace = ExHelpers.Trace * 10 + 1; }
            return ExHelpers.Trace;
        }
        [Expect("21")] public static int SequentialRegions()
        {
            int r = 0;
            try { ExHelpers.Throw(1); } catch (CodeException e) { r += e.Code; }
            try { ExHelpers.Throw(20); } catch (CodeException e) { r += e.Code; }
            return r;
        }
        [Expect("45")] public static int HandlerInLoop()
        {
            int s = 0;
            for (int i = 0; i < 10; i++)
            {
                try { ExHelpers.Throw(i); } catch (CodeException e) { s += e.Code; }
            }
            return s;
        }
        [Expect("189")] public static int LoopWithFinallyAndBreak()
        {
            int s = 0;
            for (int i = 1; i < 100; i++)
            {
                try
                {
                    if (i == 6) break;
                    if (i % 2 == 0) continue;
                    s += i;
                }
                finally { s += 30; }
            }
            return s;
        }
        [Expect("13")] public static int ThrowInCatchCaughtOutside()
        {
            try
            {
                try { ExHelpers.Throw(1); }
                catch (CodeException e) { throw new CodeException(e.Code + 12); }
            }
            catch (CodeException e) { return e.Code; }
            return 0;
        }
        [Expect("2")] public static int ThrowInFinallyReplaces()
        {
            try
            {
                try { ExHelpers.Throw(1); }
                finally { ExHelpers.Throw(2); }
            }
            catch (CodeException e) { return e.Code; }
            return 0;
        }
        [Expect("6")] public static int RethrowKeepsObject()
        {
            ExHelpers.Trace = 0;
            try { ExHelpers.Rethrower(5); return 0; }
            catch (CodeException e) { return e.Code + ExHelpers.Trace; }
        }
        [Expect("1")] public static int RethrowSameInstance()
        {
            CodeException first = null;
            try
            {
                try { ExHelpers.Throw(1); }
                catch (CodeException e) { first = e; throw; }
            }
            catch (CodeException e) { return e == first ? 1 : 0; }
            return 2;
        }
        [Expect("5")] public static int FilterAccepts()
        {
            try { ExHelpers.Throw(5); return 0; }
            catch (CodeException e) when (e.Code == 4) { return 4; }
            catch (CodeException e) when (e.Code == 5) { return 5; }
        }
        [Expect("9")] public static int FilterRejectsAll()
        {
            try
            {
                try { ExHelpers.Throw(9); return 0; }
                catch (CodeException e) when (e.Code == 1) { return 1; }
            }
            catch (CodeException e) { return e.Code; }
        }
        [Expect("1342")] public static int FiltersRunBeforeFinally()
        {
            // First pass (filters, outer frame) before the second (finally, inner).
            ExHelpers.Trace = 0;
            try { ExHelpers.Inner1342(1); }
            catch (CodeException) when (ExHelpers.Note(3)) { ExHelpers.Trace = ExHelpers.Trace * 10 + 2; }
            return ExHelpers.Trace;
        }
        [Expect("3")] public static int FilterSeesLocals()
        {
            int want = 3;
            try { ExHelpers.Throw(3); return 0; }
            catch (CodeException e) when (e.Code == want) { return want; }
        }
        // An exception escaping a filter replaces the one being dispatched (mono's
        // behaviour, our oracle; CoreCLR would treat the filter as false).
        [Expect("3")] public static int FilterThatThrowsPropagates()
        {
            try
            {
                try { ExHelpers.Throw(1); return 0; }
                catch (CodeException) when (ExHelpers.Boom(1)) { return 1; }
            }
            catch (CodeException e) { return e.Code == 1 ? 2 : 3; }
        }
        [Expect("52")] public static int FilterThatThrowsRunsItsFinally()
        {
            ExHelpers.Trace = 0;
            try
            {
                try { ExHelpers.Throw(1); return 0; }
                catch (CodeException) when (ExHelpers.BoomWithFinally(1)) { return 1; }
            }
            catch (CodeException e) { return e.Code * 10 + ExHelpers.Trace; }
        }
        [Expect("3")] public static int FilterCatchingInsideIsTrue()
        {
            try { ExHelpers.Throw(1); return 0; }
            catch (CodeException) when (ExHelpers.CatchesInside(4)) { return 3; }
        }
        [Expect("200")] public static int FilterThrowingThenLaterThrowsWork()
        {
            int r = 0;
            for (int i = 0; i < 2; i++)
            {
                try { try { ExHelpers.Throw(1); } catch (CodeException) when (ExHelpers.Boom(1)) { r += 100; } }
                catch (CodeException e) { r += e.Code; }
            }
            try { ExHelpers.Throw(2); } catch (CodeException e) when (e.Code == 2) { r += 2; }
            return r;
        }
        [Expect("1")] public static int CatchNullReference() { try { return ExHelpers.Null(0).GetHashCode(); } catch (NullReferenceException) { return 1; } }
        [Expect("2")] public static int CatchIndexOutOfRange() { try { return ExHelpers.Array3(3)[ExHelpers.Index(3)]; } catch (IndexOutOfRangeException) { return 2; } }
        [Expect("3")] public static int CatchDivideByZero() { try { return 5 / ExHelpers.Zero(0); } catch (DivideByZeroException) { return 3; } }
        [Expect("4")] public static int CatchDivideByZeroAsArithmetic() { try { return 5 % ExHelpers.Zero(0); } catch (ArithmeticException) { return 4; } }
        [Expect("5")] public static int CatchOverflowAdd() { int m = int.MaxValue; try { return checked(m + ExHelpers.Index(1)); } catch (OverflowException) { return 5; } }
        [Expect("6")] public static int CatchOverflowConv() { long big = 1L << 40; try { return checked((int)big); } catch (OverflowException) { return 6; } }
        [Expect("7")] public static int CatchOverflowMulInCheckedBlock()
        {
            int a = 1 << 20, b = 1 << 12;
            try { checked { int c = a * b; return c; } } catch (OverflowException) { return 7; }
        }
        [Expect("8")] public static int UncheckedBlockWraps() { int a = int.MaxValue; unchecked { return a + 9 == int.MinValue + 8 ? 8 : 0; } }
        [Expect("9")] public static int CatchInvalidCast() { object o = "s"; try { return ((CodeException)o).Code; } catch (InvalidCastException) { return 9; } }
        [Expect("10")] public static int CatchInvalidUnbox() { object o = "s"; try { return (int)o; } catch (InvalidCastException) { return 10; } }
        [Expect("11")] public static int CatchArrayTypeMismatch() { object[] a = new string[1]; try { a[0] = 1; return 0; } catch (ArrayTypeMismatchException) { return 11; } }
        [Expect("12")] public static int CatchRuntimeErrorAsSystemException() { try { return ExHelpers.Array3(3)[-1]; } catch (SystemException) { return 12; } }
        [Expect("13")] public static int CatchThrowNull() { try { throw null; } catch (NullReferenceException) { return 13; } }
        [Expect("1")] public static int ArgumentNull() { try { return ExHelpers.CheckArg(null); } catch (ArgumentNullException e) { return e.ParamName == "s" ? 1 : 0; } }
        [Expect("2")] public static int ArgumentNullIsArgument() { try { return ExHelpers.CheckArg(null); } catch (ArgumentException) { return 2; } }
        [Expect("3")] public static int ArgumentMessage() { try { return ExHelpers.CheckArg(""); } catch (ArgumentException e) { return e.Message.Length > 0 && e.ParamName == "s" ? 3 : 0; } }
        [Expect("4")] public static int ArgumentOutOfRange() { try { throw new ArgumentOutOfRangeException("x"); } catch (ArgumentException e) { return e.ParamName == "x" ? 4 : 0; } }
        [Expect("4")] public static int MessageOfCustom() { try { ExHelpers.Throw(1); return 0; } catch (Exception e) { return e.Message.Length; } }
        [Expect("1")] public static int MessageOfInvalidOperation() { try { throw new InvalidOperationException("bad"); } catch (Exception e) { return e.Message == "bad" ? 1 : 0; } }
        [Expect("7")] public static int InnerException()
        {
            try
            {
                try { ExHelpers.Throw(7); }
                catch (CodeException e) { throw new CodeException(1, e); }
            }
            catch (CodeException e) { return ((CodeException)e.InnerException).Code; }
            return 0;
        }
        [Expect("1")] public static int StackTraceIsSet()
        {
            try { ExHelpers.Depth(3, 1); return 0; }
            catch (Exception e) { return e.StackTrace != null && e.StackTrace.Length > 0 ? 1 : 0; }
        }
        [Expect("1")] public static int StackTraceNullBeforeThrow() { return new CodeException(1).StackTrace == null ? 1 : 0; }
        [Expect("12")] public static int ValueSurvivesInLocals()
        {
            long a = 5; double d = 1.5; int r = 0;
            try { a += 2; ExHelpers.Throw(1); }
            catch (CodeException) { r = (int)(a + d * 2 + 2); }
            return r;
        }
        [Expect("3")] public static int CatchInsideDeepCallee() { return CatchHere(3); }
        static int CatchHere(int n) { try { return ExHelpers.Depth(n, n); } catch (CodeException e) { return e.Code; } }
        [Expect("14")] public static unsafe int CatchNullPageFault() { try { return ExHelpers.Deref((int*)0); } catch (NullReferenceException) { return 14; } }
        [Expect("15")] public static unsafe int NullPageFaultRunsFinally()
        {
            int r = 0;
            try { try { return ExHelpers.Deref((int*)8); } finally { r = 10; } }
            catch (NullReferenceException) { return r + 5; }
        }
        [Expect("16")] public static unsafe int NullPageFaultFilter() { try { return ExHelpers.Deref((int*)0); } catch (Exception e) when (e is NullReferenceException) { return 16; } }
        [ExpectError("null-reference")] public static unsafe int NullPageFaultUncaught() { try { return ExHelpers.Deref((int*)0); } catch (InvalidCastException) { return 0; } }
        [ExpectError("exception Corpus.CodeException")] public static int UncaughtCustom() { return ExHelpers.Throw(3); }
        [ExpectError("null-reference")] public static int UncaughtNullReference() { return ExHelpers.Null(0).GetHashCode(); }
        [ExpectError("divide-by-zero")] public static int UncaughtAfterFinally() { int r = 0; try { r = 1 / ExHelpers.Zero(0); } finally { r = 2; } return r; }
        [ExpectError("index-out-of-range")] public static int UncaughtPastFilter()
        {
            try { return ExHelpers.Array3(3)[5]; }
            catch (Exception e) when (e is CodeException) { return 1; }
        }

        // ---- the constructs that lower to handlers ----
        [Expect("1")] public static int UsingDisposes() { Tracker.Disposed = 0; using (new Tracker(1)) { } return Tracker.Disposed; }
        [Expect("1")] public static int UsingDisposesOnThrow()
        {
            Tracker.Disposed = 0;
            try { using (new Tracker(1)) { ExHelpers.Throw(1); } } catch (CodeException) { }
            return Tracker.Disposed;
        }
        [Expect("21")] public static int UsingNestedOrder()
        {
            Tracker.Log = 0;
            using (new Tracker(1)) using (new Tracker(2)) { }
            return Tracker.Log;
        }
        [Expect("0")] public static int UsingNull() { using (Tracker t = null) { } return 0; }
        [Expect("6")] public static int ForeachArray() { int s = 0; foreach (int x in new int[] { 1, 2, 3 }) s += x; return s; }
        [Expect("4")] public static int ForeachStringArray() { int s = 0; foreach (string x in new string[] { "a", "bcd" }) s += x.Length; return s; }
        [Expect("10")] public static int ForeachEnumerable() { int s = 0; foreach (object o in new Range(5)) s += (int)o; return s; }
        [Expect("1")] public static int ForeachDisposesEnumerator() { Walker.Disposed = 0; foreach (object o in new Range(2)) { } return Walker.Disposed; }
        [Expect("1")] public static int ForeachBreakDisposes() { Walker.Disposed = 0; foreach (object o in new Range(9)) { if ((int)o == 2) break; } return Walker.Disposed; }
        [Expect("16")] public static int ForeachThrowDisposes()
        {
            Walker.Disposed = 0;
            int s = 0;
            try { foreach (object o in new Range(99)) s += (int)o; } catch (CodeException e) { s += e.Code + 10 * Walker.Disposed; }
            return s;
        }
        [Expect("3")] public static int LockRunsBody() { object o = new object(); int r = 0; lock (o) { r = 3; } return r; }
        [Expect("2")] public static int LockReleasedOnThrow()
        {
            object o = new object();
            try { lock (o) { ExHelpers.Throw(1); } } catch (CodeException) { }
            lock (o) { }
            return Monitor.IsEntered(o) ? 0 : 2;
        }
        [Expect("1")] public static int LockIsEnteredInside() { object o = new object(); lock (o) { return Monitor.IsEntered(o) ? 1 : 0; } }
        [Expect("1")] public static int LockReentrant() { object o = new object(); lock (o) { lock (o) { } return Monitor.IsEntered(o) ? 1 : 0; } }
        [Expect("1")] public static int MonitorExitWithoutEnter() { try { Monitor.Exit(new object()); return 0; } catch (SynchronizationLockException) { return 1; } }
        [Expect("1")] public static int TypeInitWrapsWhatTheCctorThrew() { try { return InitThrows.X; } catch (TypeInitializationException e) { return e.InnerException is InvalidOperationException ? 1 : 2; } }
        [Expect("12")] public static int TypeInitFailsOnEveryAccess() { int n = 0; Exception first = null; for (int i = 0; i < 2; i++) { try { n += InitThrowsAgain.X; } catch (TypeInitializationException e) { n += 1; if (first == null) first = e; else if (first == e) n += 10; } } return n; }
        [Expect("7")] public static int TypeInitRunsTheCctorsFinally() { try { return InitThrowsAfterFinally.X; } catch (TypeInitializationException) { return InitLog.Value; } }
        [Expect("9")] public static int TypeInitAcrossFrames() { try { return InitThrowsDeep.X; } catch (TypeInitializationException e) { CodeException c = e.InnerException as CodeException; return c == null ? -1 : c.Code; } }
        [Expect("3")] public static int CctorCatchingItsOwnException() { return InitCaughtInside.X; }
        [Expect("1")] public static int TypeInitCaughtAsException() { try { return InitThrows.X + 10; } catch (Exception e) { return e is TypeInitializationException ? 1 : 2; } }
        [Expect("1")] public static int MonitorEnterNull() { try { Monitor.Enter(null); return 0; } catch (ArgumentNullException) { return 1; } }
    }
}
