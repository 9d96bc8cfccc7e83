// System.Threading.Monitor for `lock` (C# lowers `lock (o) { … }` to
// Monitor.Enter(o, ref taken) … finally { if (taken) Monitor.Exit(o); }).
// The runtime runs one thread on one CPU, so entering always succeeds; what is
// tracked is ownership and recursion (ECMA-335 §I.12.6.4 / the BCL contract):
// Exit without a matching Enter throws SynchronizationLockException.
namespace System.Threading
{
    public class SynchronizationLockException : SystemException
    {
        public SynchronizationLockException() { }
        public SynchronizationLockException(string message) : base(message) { }
    }

    public static class Monitor
    {
        sealed class Held
        {
            public object Obj;
            public int Count;
            public Held Next;
        }

        // The objects currently entered, most recent first (a handful at most).
        static Held held;

        static Held Find(object obj)
        {
            for (Held h = held; h != null; h = h.Next)
                if (h.Obj == obj) return h;
            return null;
        }

        public static void Enter(object obj)
        {
            if (obj == null) throw new ArgumentNullException("obj");
            Held h = Find(obj);
            if (h == null)
            {
                h = new Held();
                h.Obj = obj;
                h.Next = held;
                held = h;
            }
            h.Count++;
        }

        public static void Enter(object obj, ref bool lockTaken)
        {
            if (lockTaken) throw new ArgumentException("Argument must be initialized to false", "lockTaken");
            Enter(obj);
            lockTaken = true;
        }

        public static bool TryEnter(object obj)
        {
            Enter(obj);
            return true;
        }

        public static void Exit(object obj)
        {
            if (obj == null) throw new ArgumentNullException("obj");
            Held h = Find(obj);
            if (h == null)
                throw new SynchronizationLockException("Object synchronization method was called from an unsynchronized block of code.");
            h.Count--;
            if (h.Count > 0) return;
            if (held == h) { held = h.Next; return; }
            for (Held p = held; p != null; p = p.Next)
                if (p.Next == h) { p.Next = h.Next; return; }
        }

        public static bool IsEntered(object obj)
        {
            if (obj == null) throw new ArgumentNullException("obj");
            return Find(obj) != null;
        }
    }
}
